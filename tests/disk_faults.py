"""Disk faults for the write tests (not a test module): a real full disk (a small tmpfs, where this
machine lets the tests mount one) and a deterministic one (every write of an atomic save goes to
/dev/full, so the kernel itself answers ENOSPC), plus the odd files a path can name."""
from __future__ import annotations

import builtins
import contextlib
import io
import os
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_tmpfs(parent: Path, size: str = "64k"):
    """A tmpfs of `size` mounted at parent/disk; skips the test where mounting is not allowed."""
    mount = parent / f"disk-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a small file system to fill")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'not root'}); "
                    "the /dev/full cases cover a full disk instead")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@contextlib.contextmanager
def readonly_tmpfs(parent: Path, files: dict[str, bytes] = {}):  # noqa: B006 - read only
    """A read-only tmpfs holding `files` (skips where mounting is not allowed)."""
    with small_tmpfs(parent, "1m") as mount:
        for name, data in files.items():
            (mount / name).write_bytes(data)
        done = subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot remount the tmpfs read-only ({done.stderr.strip()})")
        yield mount


def fill(folder: Path) -> None:
    """Fill the file system of `folder` to the last byte."""
    with open(folder / "ballast", "wb", buffering=0) as fh:  # unbuffered: nothing left to flush at close
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)


def writes_go_to_dev_full(monkeypatch) -> None:
    """Every temp file of an atomic save (`.NAME.XXXX.tmp`) opened for writing is /dev/full instead:
    the write fails with the kernel's own ENOSPC, every time. Other files open as usual."""
    real = builtins.open

    def full_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wa+") and Path(str(file)).name.endswith(".tmp"):
            return real("/dev/full", mode.replace("x", "w"), *args, **kwargs)
        return real(file, mode, *args, **kwargs)

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    monkeypatch.setattr(builtins, "open", full_open)
    monkeypatch.setattr(io, "open", full_open)  # pathlib's write_text / write_bytes


def make_fifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    os.mkfifo(path)
    return path


def make_null_device(path: Path) -> Path:
    """A character device like /dev/null (same major/minor), made in a test folder."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    return path


def is_kind(path: Path, test) -> bool:
    return test(os.lstat(path).st_mode)
