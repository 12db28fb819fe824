"""Files the tools read and write: UTF-8 text read with positioned errors, atomic writes (a reader
sees the old file or the new one, never half of either) and a lock between processes that write the
same files."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InvictusError, Location, Problem

fcntl: Any
msvcrt: Any
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
    import msvcrt


def read_utf8(
    path: Path,
    *,
    file: str,
    error: Callable[[list[Problem]], InvictusError] = InvictusError,
    what: str = "the file",
    hint: str = "save it as UTF-8",
) -> str:
    """The text of a UTF-8 file (a leading byte-order mark dropped, as spreadsheets write one).

    Raises ``error`` with one problem: ``file-not-readable`` (what the system said), or ``encoding``
    pointing at the line and column of the first byte that is not UTF-8 (``file`` names the file in
    it). The bytes themselves are never quoted: they may be a victim's data.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error([Problem("file-not-readable", f"cannot read {what}: {exc.strerror or type(exc).__name__}", "check the path", Location(file))]) from None
    # the mark is cut off by hand: the utf-8-sig codec counts error offsets from after it
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = body.rfind(b"\n", 0, exc.start) + 1
        line = body.count(b"\n", 0, exc.start) + 1
        column = len(body[line_start : exc.start].decode("utf-8")) + 1
        raise error([Problem("encoding", f"{what} is not valid UTF-8", hint, Location(file, line, column))]) from None


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    Killed at any moment, the write leaves the old file whole, at worst beside a hidden
    ``.name.*.tmp`` file. The new file keeps the old one's permissions (a new file gets the usual
    ones, umask applied), and the folder is synced after the rename so that it survives a power cut.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = None
        handle, temporary = _create_temporary(target)
        try:
            with os.fdopen(handle, "wb") as stream:
                if mode is not None and hasattr(os, "fchmod"):
                    os.fchmod(stream.fileno(), mode)
                stream.write(payload)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise write_error(target, exc) from None
    _sync_folder(target.parent)


_WRITE_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or write somewhere else",
    errno.EDQUOT: "the disk quota is used up: free some space, or write somewhere else",
    errno.EROFS: "the file system is read-only: write somewhere else",
    errno.EACCES: "you may not write there: write somewhere else, or change the folder's permissions",
    errno.EPERM: "you may not write there: write somewhere else, or change the folder's permissions",
    errno.EISDIR: "this is a folder: give the name of a file in it",
    errno.ENOTDIR: "a part of the path is a file, not a folder: give a path inside a folder",
}


def write_error(target: Path, exc: OSError) -> InvictusError:
    """The error for a file that could not be written: what the system said, and what to do."""
    return InvictusError(
        [
            Problem(
                "cannot-write",
                f"cannot write the file: {exc.strerror or type(exc).__name__}",
                _WRITE_HINTS.get(exc.errno or 0, "check the path and the free space"),
                Location(str(target)),
            )
        ]
    )


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new hidden file beside ``target``, created with mode 0o666 less the umask (unlike mkstemp's 0o600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    while True:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike[str], timeout: float = 300.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) while the block runs; other processes
    wait for it, up to ``timeout`` seconds. The lock is released when the process ends, however it ends."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(descriptor):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{target} is held by another process")
            time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(descriptor)
    finally:
        os.close(descriptor)


def _try_lock(descriptor: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock(descriptor: int) -> None:
    if fcntl is not None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    else:  # pragma: no cover - Windows
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)
