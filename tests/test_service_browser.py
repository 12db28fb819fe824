"""The reference interview page at /ui, driven in headless Chromium (the system browser) with Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="no Chromium (install Debian's chromium)")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real service process on loopback, as `invictus-rules serve` starts it."""
    port = _free_port()
    folder = tmp_path_factory.mktemp("service")
    server_log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "invictus_rules", "serve", "--port", str(port), "--database", f"sqlite:///{folder / 'records.sqlite3'}"],
        stdout=subprocess.DEVNULL,
        stderr=server_log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/v1/health", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the service did not start: " + (folder / "server.log").read_text(errors="replace")) from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        server_log.close()


def test_a_whole_interview_in_the_browser(service: str, tmp_path: Path) -> None:
    """Pick a country, answer, see a gated question appear, decline one, switch language, and get the assessment."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    assert CHROMIUM is not None, "Chromium is required in CI"
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(service + "/ui")
            page.wait_for_selector("#field-safe_to_talk")
            page.select_option("#country", "nl")
            page.wait_for_function("document.querySelector('#language').value === 'nl'")
            page.select_option("#language", "en")
            page.wait_for_selector("#field-safe_to_talk legend:has-text('Is it safe for you to talk right now?')")

            assert page.is_hidden("#field-strangulation")  # asked only in domestic violence and stalking cases
            page.check("#field-safe_to_talk input[name='q-safe_to_talk'][value='true']")
            page.check("#field-in_immediate_danger input[value='false']")
            page.check("#field-crime_type input[value='domestic_violence']")
            page.wait_for_selector("#field-strangulation", state="visible")
            page.check("#field-strangulation input[name='q-strangulation'][value='true']")
            page.check("#field-children_in_household input[name='state-children_in_household'][value='declined']")

            page.select_option("#language", "nl")  # answers survive a change of language
            page.wait_for_selector("#field-safe_to_talk legend:has-text('Kunt u op dit moment veilig praten?')")
            assert page.is_checked("#field-strangulation input[name='q-strangulation'][value='true']")
            page.wait_for_selector("#status[data-status='in_progress']")

            page.click("#assess")
            page.wait_for_selector("#result h2")
            result = page.inner_text("#result")
            assert "Veilig Thuis" in result and "Hoog" in result
            assert page.is_hidden("#safety")
            assert page.inner_text("#error") == ""

            page.check("#field-safe_to_talk input[name='q-safe_to_talk'][value='false']")  # now it is not safe
            page.click("#assess")
            page.wait_for_selector("#safety", state="visible")
            assert "112" in page.inner_text("#safety")
            deferred = page.inner_text("#result")
            assert "not_safe_to_talk" in deferred
            page.screenshot(path=str(tmp_path / "interview.png"), full_page=True)
        finally:
            browser.close()
