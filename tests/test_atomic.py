"""Nothing lost: a write killed midway leaves the old file whole, and published rulesets match the
manifest, so that an edit in place is caught by ``invictus-rules verify``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from invictus_rules import InvictusError
from invictus_rules.load import list_countries, list_versions, read_document, shipped_rulesets_dir
from invictus_rules.tools import files
from invictus_rules.tools.files import write_atomic
from invictus_rules.tools.manifest import MANIFEST_FORMAT, record

OLD = json.dumps({"format": MANIFEST_FORMAT, "published": {"xx/2026.1.yaml": "0" * 64}}, indent=2).encode()
NEW_SIZE = 8 * 1024 * 1024

# Writes NEW_SIZE bytes through write_atomic, 64 KiB at a time with a pause after each chunk, saying
# "writing" after the first one, so that the parent can kill it in the middle of the write.
SLOW_WRITER = r"""
import os, sys, time
from invictus_rules.tools import files

real_fdopen = os.fdopen

class Slow:
    def __init__(self, stream):
        self.stream = stream
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.stream.__exit__(*exc)
    def __getattr__(self, name):
        return getattr(self.stream, name)
    def write(self, data):
        view = memoryview(data)
        for start in range(0, len(view), 65536):
            self.stream.write(view[start:start + 65536])
            self.stream.flush()
            if start == 0:
                print("writing", flush=True)
            time.sleep(0.005)
        return len(view)

files.os.fdopen = lambda *args, **kwargs: Slow(real_fdopen(*args, **kwargs))
files.write_atomic(sys.argv[1], b"N" * int(sys.argv[2]))
print("done", flush=True)
"""


def _start_slow_writer(target: Path) -> subprocess.Popen[str]:
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(target), str(NEW_SIZE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    if writer.stdout.readline().strip() != "writing":
        pytest.fail(f"the writer did not start: {writer.communicate()[1]}")
    return writer


def test_write_killed_midway_leaves_the_old_file_whole(tmp_path: Path):
    """SIGKILL in the middle of write_atomic: the target still holds the old bytes, and what is left of
    the new ones is a hidden .tmp file that no ruleset or manifest lookup would pick up."""
    target = tmp_path / "manifest.json"
    target.write_bytes(OLD)
    writer = _start_slow_writer(target)
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    assert target.read_bytes() == OLD
    assert json.loads(target.read_text())["format"] == MANIFEST_FORMAT
    leftovers = [path for path in tmp_path.iterdir() if path != target]
    assert len(leftovers) == 1, leftovers
    [partial] = leftovers
    assert partial.name.startswith(".manifest.json.") and partial.suffix == ".tmp"
    assert 0 < partial.stat().st_size < NEW_SIZE


def test_a_reader_sees_the_old_file_or_the_new_one_never_half(tmp_path: Path):
    """While a slow write runs to its end, every read of the target gives the old or the new bytes."""
    target = tmp_path / "manifest.json"
    target.write_bytes(OLD)
    writer = _start_slow_writer(target)
    seen: set[int] = set()
    while writer.poll() is None:
        data = target.read_bytes()
        assert data == OLD or data == b"N" * NEW_SIZE, f"a reader saw {len(data)} bytes"
        seen.add(len(data))
    output, errors = writer.communicate(timeout=30)
    assert writer.returncode == 0 and output.strip() == "done", errors
    assert target.read_bytes() == b"N" * NEW_SIZE
    assert [path.name for path in tmp_path.iterdir()] == ["manifest.json"]
    assert len(OLD) in seen


def test_a_failed_write_removes_its_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A write that fails (a full disk) leaves the old file and nothing else."""
    target = tmp_path / "manifest.json"
    target.write_bytes(OLD)

    def full_disk(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(InvictusError) as info:
        write_atomic(target, "new")
    assert info.value.problems[0].code == "cannot-write"
    assert target.read_bytes() == OLD
    assert [path.name for path in tmp_path.iterdir()] == ["manifest.json"]


def test_the_new_file_keeps_the_old_ones_permissions(tmp_path: Path):
    """Replacing a file keeps its mode; a new file gets the usual 0o666 less the umask, not 0o600."""
    target = tmp_path / "manifest.json"
    target.write_bytes(OLD)
    target.chmod(0o664)
    write_atomic(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o664
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "fresh.json", "{}")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "fresh.json").stat().st_mode) == 0o644


def test_the_rename_is_synced_to_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """After the rename the folder itself is fsynced, so a power cut cannot undo the write."""
    synced: list[bool] = []
    real_fsync = os.fsync

    def spy(descriptor: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(descriptor).st_mode))
        real_fsync(descriptor)

    monkeypatch.setattr(files.os, "fsync", spy)
    write_atomic(tmp_path / "a.json", "{}")
    assert synced == [False, True]


def test_concurrent_writers_leave_one_whole_file(tmp_path: Path):
    """Eight threads writing the same file at once leave exactly one writer's bytes and no temporary files."""
    target = tmp_path / "manifest.json"
    payloads = [bytes([65 + i]) * 200_000 for i in range(8)]
    threads = [threading.Thread(target=write_atomic, args=(target, payload)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_bytes() in payloads
    assert [path.name for path in tmp_path.iterdir()] == ["manifest.json"]


# -- the manifest ----------------------------------------------------------------------------------


def _published(folder: Path) -> list[Path]:
    return [info.path for country in list_countries(folder) for info in list_versions(country, folder) if info.status == "published"]


def test_every_published_ruleset_matches_the_shipped_manifest(cli):
    """invictus-rules verify passes on the shipped rulesets: no published version was edited in place."""
    folder = shipped_rulesets_dir()
    if not (folder / "manifest.json").is_file():
        pytest.skip("no rulesets/manifest.json yet: the copy test below still checks verify")
    result = cli("verify")
    assert result.code == 0, result.err
    assert result.out.startswith("ok: every published ruleset")


@pytest.fixture
def published_copy(tmp_path: Path) -> Path:
    """A copy of the shipped rulesets with a manifest recorded afresh for every published version."""
    folder = tmp_path / "rulesets"
    shutil.copytree(shipped_rulesets_dir(), folder, ignore=shutil.ignore_patterns("manifest.json", "tests"))
    for path in _published(folder):
        _, _, digest = read_document(path.read_bytes(), str(path))
        record(path, digest, folder)
    return folder


def test_verify_passes_on_a_freshly_recorded_copy(cli, published_copy):
    """After record() of every published version, verify reports nothing, and a comment changes nothing."""
    assert _published(published_copy), "the copy has published versions to check"
    assert cli("verify", "--rulesets", str(published_copy)).code == 0
    path = _published(published_copy)[0]
    path.write_text("# a new comment\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("verify", "--rulesets", str(published_copy))
    assert result.code == 0, result.err


def test_editing_a_published_ruleset_fails_verify_and_says_to_make_a_new_version(cli, published_copy):
    """Changing one published file in place makes verify fail, naming the file and the fix."""
    path = _published(published_copy)[0]
    text = path.read_text(encoding="utf-8")
    edited = text.replace("priority: standard", "priority: urgent", 1)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    result = cli("verify", "--rulesets", str(published_copy))
    assert result.code == 1
    assert "error[published-changed]" in result.err
    assert path.relative_to(published_copy).as_posix() in result.err
    assert "new version" in result.err and "invictus-rules new-version" in result.err
    payload = json.loads(cli("verify", "--rulesets", str(published_copy), "--format", "json").out)
    assert [problem["code"] for problem in payload["problems"]] == ["published-changed"]
