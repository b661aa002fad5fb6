"""Atomic file writes: a temp file in the same folder, fsync, then os.replace. A crash at any moment
leaves either the old file or the new one, never half of one.

A process killed mid-write leaves its temp file (`.NAME.XXXX.tmp`, hidden) behind; the next
successful write of the same file removes such leftovers once they are old enough that no other
writer can still be filling them."""
from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temp path beside `path`; when the block ends without error, the temp file replaces
    `path`. On error the temp file is removed and `path` is untouched."""
    target = Path(path)
    if target.is_symlink():  # write through the link: replacing the link itself would cut it
        target = target.resolve()
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(target)  # mkstemp makes the file 0600; the result keeps the old file's mode
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp_path, mode)  # after writing: a read-only mode must not stop the writer
        os.replace(tmp_path, target)
        _fsync_dir(folder)
        _sweep_leftovers(folder, target.name)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Let `writer` write the temp file (e.g. torch.save or an exporter), then swap it in."""
    with atomic_path(path) as tmp:
        writer(tmp)


STALE_TEMP_S = 15 * 60  # a temp file untouched this long belongs to a writer that died


def _sweep_leftovers(folder: Path, name: str) -> None:
    """Remove the temp files of earlier writes of `name` that were killed mid-write."""
    cutoff = time.time() - STALE_TEMP_S
    for leftover in folder.glob(f".{glob.escape(name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.is_file() and leftover.stat().st_mtime < cutoff:
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
