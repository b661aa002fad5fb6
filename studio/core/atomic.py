"""Atomic file writes: a temp file in the same folder, fsync, then os.replace. A crash at any moment
leaves either the old file or the new one, never half of one.

Only regular files are written: a path that names a folder, a FIFO, a device or a socket is refused
(NotRegularFileError) before anything is written, and checked again just before the swap, since
os.replace would put a plain file in place of /dev/null. Missing folders on the way are created,
but only below an existing folder: never through a file.

A process killed mid-write leaves its temp file (`.NAME.HOST-PID.XXXX.tmp`, hidden) behind; the next
successful write of the same file removes it at once when that process no longer runs on this host,
else once it is old enough that no other writer can still be filling it."""
from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import socket
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator


class NotRegularFileError(OSError):
    """The path names something other than a regular file, or lies under a file. An OSError, so
    every handler of write errors catches it; `strerror` is the sentence for people."""


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((word for test, word in _KINDS if test(mode)), "not a regular file")


def check_target(path: str | os.PathLike) -> Path:
    """The file a write to `path` replaces (a symlink is followed: replacing the link would cut it).
    Raises NotRegularFileError when that is not a regular file, or when a folder on the way is a file."""
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        mode = None  # a file on the way: named below
    if mode is not None and _kind(mode):
        kind = _kind(mode)
        code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
        raise NotRegularFileError(code, f"is {kind}, not a regular file; NetStudio only writes regular files, "
                                        "so give a file name", str(target))
    ancestor = _first_existing(target.parent if str(target.parent) else Path("."))
    if not ancestor.is_dir():
        raise NotRegularFileError(errno.ENOTDIR, f"{ancestor} is a file, not a folder, so nothing can be "
                                                 "written under it", str(target))
    return target


def _first_existing(folder: Path) -> Path:
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temp path beside `path`; when the block ends without error, the temp file replaces
    `path`. On error the temp file is removed and `path` is untouched. Raises NotRegularFileError
    for a path that is not (or cannot become) a regular file."""
    target = check_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    created = make_folders(folder)
    mode = _mode_for(target)  # mkstemp makes the file 0600; the result keeps the old file's mode
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{_HOST}-{os.getpid()}.", suffix=".tmp", dir=folder)
    except BaseException:
        remove_empty(created)
        raise
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp_path, mode)  # after writing: a read-only mode must not stop the writer
        check_target(target)  # again: a FIFO or device may have been put there while we wrote
        os.replace(tmp_path, target)
        _fsync_dir(folder)
        _sweep_leftovers(folder, target.name)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        remove_empty(created)
        raise


def make_folders(folder: Path) -> list[Path]:
    """mkdir -p; returns the folders it created, deepest first (to undo a failed write)."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for f in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another writer made it meanwhile
            f.mkdir()
    return missing


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed write created, deepest first, while they are empty."""
    for f in folders:
        try:
            f.rmdir()
        except OSError:
            return


def atomic_write_bytes(path: str | os.PathLike, data) -> None:
    """Write `data` (bytes, or any buffer such as BytesIO.getbuffer()) with Python's own file
    calls, so a full disk or a read-only file system is an OSError naming the cause."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Let `writer` write the temp file (e.g. an exporter), then swap it in. Prefer serialising to
    memory and atomic_write_bytes for torch: its own writer turns a full disk into a RuntimeError
    (or aborts the process, for torch.jit.save)."""
    with atomic_path(path) as tmp:
        writer(tmp)


def reason(exc: OSError) -> str:
    """The cause of a failed write in words ("No space left on device"), without the errno."""
    return exc.strerror or str(exc)


STALE_TEMP_S = 15 * 60  # a temp file untouched this long belongs to a writer that died


def _writer_gone(leftover: Path, name: str) -> bool:
    """True when the temp file's writer was a process of this host that no longer runs (killed
    mid-write); False when it may still be writing, or ran on another host (a shared folder)."""
    tag = leftover.name[len(name) + 2:].split(".", 1)[0]
    host, _, pid = tag.partition("-")
    if host != _HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, under another user
        return False
    return False


def _sweep_leftovers(folder: Path, name: str) -> None:
    """Remove the temp files of earlier writes of `name` that were killed mid-write: at once when
    their writer is a dead process of this host, else once they are STALE_TEMP_S old."""
    cutoff = time.time() - STALE_TEMP_S
    for leftover in folder.glob(f".{glob.escape(name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.is_file() and (_writer_gone(leftover, name) or leftover.stat().st_mtime < cutoff):
                leftover.unlink()


def _mode_for(target: Path) -> int:
    """The permission bits the written file gets: those of the file it replaces, else 0666 & ~umask
    (what open() would give a new file)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask can only be read by setting it)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# temp files name their writer (this host, as a short hash, and the pid; read at each write: a
# forked child has its own): a later save removes those of writers that died at once
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]
