"""The tools' file helpers: atomic writes that explain a refusal, and an exclusive lock that times out."""

from __future__ import annotations

import threading

import pytest

from invictus_rules import InvictusError
from invictus_rules.tools.files import exclusive_lock, write_atomic


def test_writing_onto_a_folder_is_refused_with_a_hint(tmp_path):
    """A folder given as the output file is a cannot-write error that says it is a folder; the folder is untouched."""
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(InvictusError) as info:
        write_atomic(folder, "text")
    (problem,) = info.value.problems
    assert problem.code == "cannot-write" and "this is a folder" in problem.hint
    assert problem.location.file == str(folder)
    assert list(folder.iterdir()) == []


def test_writing_below_a_file_is_refused_with_a_hint(tmp_path):
    """A path whose folder is a file is refused as not a folder, leaving the file as it was."""
    blocker = tmp_path / "file"
    blocker.write_text("kept", encoding="utf-8")
    with pytest.raises(InvictusError) as info:
        write_atomic(blocker / "sub" / "inner.txt", b"data")
    assert "a part of the path is a file" in info.value.problems[0].hint
    assert blocker.read_text(encoding="utf-8") == "kept"


def test_a_rewrite_keeps_the_files_permissions(tmp_path):
    """Replacing a file keeps its mode and leaves no temporary file behind."""
    target = tmp_path / "kept.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]


def test_a_held_lock_times_out(tmp_path):
    """While one holder has the lock, another waiting longer than its timeout gets a TimeoutError naming the file."""
    lock = tmp_path / "locks" / "publish.lock"
    with exclusive_lock(lock), pytest.raises(TimeoutError, match="held by another process"), exclusive_lock(lock, timeout=0.1):
        raise AssertionError("entered a lock another holder has")
    with exclusive_lock(lock, timeout=0.1):
        pass


def test_a_waiting_holder_gets_the_lock_once_it_is_released(tmp_path):
    """A second holder waits, then runs as soon as the first releases the lock."""
    lock = tmp_path / "publish.lock"
    order: list[str] = []
    released = threading.Event()

    def second() -> None:
        with exclusive_lock(lock, timeout=10):
            order.append("second")

    with exclusive_lock(lock):
        thread = threading.Thread(target=second)
        thread.start()
        released.wait(0.2)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
