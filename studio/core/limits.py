"""Upper bounds on what a file a person opens may hold, derived from the machine and from PyTorch
rather than typed by hand, and a reader that opens only regular files of a sane size.

- MAX_INDEX: torch counts and indexes elements with int64, and Python's sizes are `sys.maxsize`; a
  size, count or index beyond it can never be built (on 64-bit both are 2**63 - 1).
- MAX_EXACT_COUNT: a count that takes part in float arithmetic (a scheduler's T_max, step_size)
  must be exact as a float: 2**53 (the float's mantissa), beyond which `float(n)` rounds.
- memory_bytes(): the machine's physical memory, which arrays read into memory must fit in.
"""
from __future__ import annotations

import math
import os
import stat
import sys
from pathlib import Path

MAX_INDEX = sys.maxsize
MAX_EXACT_COUNT = 2 ** sys.float_info.mant_dig


class FileRefused(ValueError):
    """A path that is not a regular file of a sane size; each layer re-raises it as its own error.
    `reason` is the message without the path."""

    def __init__(self, path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def memory_bytes() -> int:
    """Physical memory of this machine (what arrays held in memory must fit in)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: no bound better than the address space
        return MAX_INDEX


def fmt_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def fmt_int(v: int) -> str:
    """A huge int in a one-line message (10**400 has 401 digits)."""
    text = str(v)
    return text if len(text) <= 24 else f"{text[:6]}... (a {len(text)}-digit number)"


def fmt_value(v) -> str:
    """Any value a file gave, short enough for a one-line message."""
    return fmt_int(v) if isinstance(v, int) and not isinstance(v, bool) else repr(v)[:60]


def is_finite_number(v) -> bool:
    """A JSON number that fits a float and is finite (math.isfinite raises on ints past 1e308)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    if isinstance(v, int):
        return abs(v) <= sys.float_info.max
    return math.isfinite(v)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of `path`, refused at once (FileRefused, naming the path) unless it is a regular
    file of at most `max_bytes`. It is opened non-blocking and checked on the open descriptor, so a
    FIFO never blocks the open and a path swapped for a device after a check is still refused."""
    fd = _open_checked(path, max_bytes, what)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew after the check
        raise FileRefused(path, f"grew past {fmt_bytes(max_bytes)} while it was read; too large for a {what}")
    return data


def check_regular_file(path: str | os.PathLike, max_bytes: int, what: str = "file") -> int:
    """The size of `path`, or FileRefused as read_regular_file would refuse it; for readers that take
    a path (torch.load, np.load, Pillow)."""
    fd = _open_checked(path, max_bytes, what)
    try:
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def _open_checked(path, max_bytes: int, what: str) -> int:
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileRefused(path, "no such file") from None
    except IsADirectoryError:
        raise FileRefused(path, f"is a folder, not a {what}") from None
    except OSError as exc:
        raise FileRefused(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(path, f"is {_kind(st.st_mode)}, not a {what}; choose a regular file")
        if st.st_size > max_bytes:
            raise FileRefused(path, f"is {fmt_bytes(st.st_size)}, too large for a {what} "
                              f"(the limit is {fmt_bytes(max_bytes)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
