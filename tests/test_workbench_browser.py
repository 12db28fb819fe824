"""The workbench in headless Chromium (the system browser) with Playwright: the round a policy officer makes.

With INVICTUS_UPDATE_SCREENSHOTS=1 it also writes the README's screenshots to docs/img/; otherwise
it changes no tracked file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_service_browser import CHROMIUM, CHROMIUM_ARGS, _free_port
from .test_workbench import make_folder

pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="no Chromium (install Debian's chromium)")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "img"


@pytest.fixture(scope="module")
def workbench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real workbench process on loopback, as `invictus-rules workbench` starts it, on a copy of nl with a draft."""
    folder, _ = make_folder(tmp_path_factory.mktemp("workbench"))
    port = _free_port()
    log_path = folder.parent / "workbench.log"
    with log_path.open("wb") as server_log:
        process = subprocess.Popen([sys.executable, "-m", "invictus_rules", "workbench", "--rulesets", str(folder), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=server_log)
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=1):
                        break
                except (OSError, urllib.error.URLError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the workbench did not start: " + log_path.read_text(errors="replace")) from None
                    time.sleep(0.2)
            yield url, folder
        finally:
            process.terminate()
            process.wait(10)


def _shoot(page: object, name: str) -> None:
    if os.environ.get("INVICTUS_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))  # type: ignore[attr-defined]


def _edit(page: object, old: str, new: str) -> None:
    """Select ``old`` in the editor and type ``new`` over it, as a person would."""
    found = page.evaluate(  # type: ignore[attr-defined]
        "(old) => { const s = document.getElementById('source'); const at = s.value.indexOf(old); s.focus(); s.setSelectionRange(at, at + old.length); return at; }", old
    )
    assert found >= 0, old
    page.keyboard.insert_text(new)  # type: ignore[attr-defined]


def test_edit_a_draft_try_a_case_save_it_as_a_test_and_run_the_tests(workbench: tuple[str, Path]) -> None:
    """Introduce an error, see it at its line, fix it, fill a case, see both results, save it as a test, run the tests, see the diff."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    assert CHROMIUM is not None, "Chromium is required in CI"
    url, folder = workbench
    draft = folder / "nl" / "2026.3.yaml"
    text = draft.read_text(encoding="utf-8")
    line = text.splitlines().index("        when: strangulation") + 1
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            page.goto(url)
            page.wait_for_selector("#file-state:has-text('draft')")
            assert page.input_value("#version") == "nl/2026.3.yaml"

            # 1. an error, typed into the editor, is shown at its line with the fix
            _edit(page, "        when: strangulation\n", "        when: strangulaton\n")
            page.wait_for_selector(f"#gutter div.error[data-line='{line}']")
            problem = page.locator(f"#problems li.error[data-line='{line}']")
            assert "unknown-question" in problem.inner_text() and "Fix:" in problem.inner_text() and "strangulation" in problem.inner_text()
            problem.click()  # goes to the line
            page.evaluate(f"document.getElementById('gutter').scrollTop = {(line - 8) * 20}; document.getElementById('source').scrollTop = {(line - 8) * 20}")
            _shoot(page, "workbench-problem.png")

            # 2. fixed, with a change of policy (the police referral becomes immediate), and saved
            edited = text.replace('service: politie\n    when: level(dv_risk) == "high"\n    priority: urgent', 'service: politie\n    when: level(dv_risk) == "high"\n    priority: immediate', 1)
            assert edited != text
            _edit(page, "        when: strangulaton\n", "        when: strangulation\n")
            _edit(page, 'service: politie\n    when: level(dv_risk) == "high"\n    priority: urgent', 'service: politie\n    when: level(dv_risk) == "high"\n    priority: immediate')
            page.click("#save")
            page.wait_for_selector("#save-state:has-text('Saved')")
            page.wait_for_function("!document.querySelector('#problems li.error') && !document.querySelector('#gutter div.error')")
            assert draft.read_text(encoding="utf-8") == edited

            # 3. a case from the questionnaire, with a declined answer; both results side by side
            page.select_option("#language", "en")
            page.check("#field-safe_to_talk input[name='q-safe_to_talk'][value='true']")
            page.check("#field-in_immediate_danger input[name='q-in_immediate_danger'][value='false']")
            page.check("#field-safe_contact_channels input[value='phone']")
            page.check("#field-crime_type input[value='domestic_violence']")
            page.check("#field-offender_relationship input[value='partner']")
            page.wait_for_selector("#field-strangulation", state="visible")
            page.check("#field-lives_with_offender input[name='q-lives_with_offender'][value='true']")
            page.check("#field-strangulation input[name='q-strangulation'][value='true']")
            page.check("#field-children_in_household input[name='state-children_in_household'][value='declined']")
            page.click("#assess")
            page.wait_for_selector("#result-in-force h3")
            assert "nl@2026.3" in page.inner_text("#result-draft h3") and "nl@2026.2" in page.inner_text("#result-in-force h3")
            for side in ("#result-draft", "#result-in-force"):
                changed = page.locator(f"{side} li.changed[data-key='referral:politie']")
                assert changed.count() == 1
            assert "immediate" in page.inner_text("#result-draft li[data-key='referral:politie']")
            assert "urgent" in page.inner_text("#result-in-force li[data-key='referral:politie']")
            assert "difference" in page.inner_text("#difference-summary")
            _shoot(page, "workbench-case.png")

            # 4. saved as a test, pinned to the draft
            page.fill("#test-name", "Strangulation makes the police referral immediate")
            page.click("#save-test")
            page.wait_for_selector("#saved-test-path")
            written = folder / "nl" / "tests" / "2026_3_strangulation_makes_the_police_referral_immediate.yaml"
            assert written.is_file() and "ruleset: nl@2026.3" in written.read_text(encoding="utf-8")
            assert "children_in_household: {status: declined}" in written.read_text(encoding="utf-8")

            # 5. the country's tests, and the coverage of the draft
            page.click("#tab-tests")
            page.click("#run-tests")
            page.wait_for_selector("#test-summary")
            # the saved case passes; a test pinned to the draft that expects the old priority (a test
            # carried forward by new-version) fails, and says why
            for failure in page.locator("#failures li").all_inner_texts():
                assert "priorities.politie: expected urgent, got immediate" in failure and written.name not in failure
            assert "Coverage of nl@2026.3" in page.inner_text("#coverage-summary")  # at least the case just saved names the draft
            _shoot(page, "workbench-tests.png")

            # 6. the semantic diff against the version in force
            page.click("#tab-diff")
            page.click("#run-diff")
            page.wait_for_selector("#diff-result table")
            assert "dv_high_risk_to_police" in page.inner_text("#diff-result")
            _shoot(page, "workbench-diff.png")
            assert page.inner_text("#error") == ""
        finally:
            browser.close()


def test_a_published_version_opens_read_only(workbench: tuple[str, Path]) -> None:
    """Tab indents a draft with spaces (Esc then Tab leaves); a published version opens read-only, with Save disabled."""
    playwright_sync = pytest.importorskip("playwright.sync_api")
    assert CHROMIUM is not None
    url, _ = workbench
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#file-state:has-text('draft')")
            page.evaluate("() => { const s = document.getElementById('source'); s.focus(); s.setSelectionRange(0, 0); }")
            page.keyboard.press("Tab")
            assert page.input_value("#source").startswith("  # yaml-language-server")
            page.keyboard.press("Escape")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") != "source"
            page.select_option("#version", "nl/2026.2.yaml")
            page.wait_for_selector("#file-state:has-text('read-only')")
            assert page.get_attribute("#source", "readonly") is not None and page.is_disabled("#save")
        finally:
            browser.close()
