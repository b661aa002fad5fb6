"""One run per run folder: a lock file `RUNDIR/.netstudio-run.lock` held while a run writes there.

The lock is an exclusive flock on that file, so the kernel drops it the moment the holder dies
(SIGKILL, a crash, power loss): a killed run's lock is stale by construction and the next run
takes it over. The file also records who holds it (pid, host, boot id, start time), which names
the holder when a second run is refused. Where flock is not available (some network file systems,
Windows) the record alone decides: a lock whose pid is not alive, or that was written in an
earlier boot of this machine, is stale and taken over."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
from pathlib import Path

from .errors import TrainingError

LOCK_NAME = ".netstudio-run.lock"

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def boot_id() -> str:
    """This boot of this machine (Linux: the kernel's random boot id; elsewhere the boot time)."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        pass
    try:
        import psutil

        return str(int(psutil.boot_time()))
    except Exception:  # noqa: BLE001 - no psutil: the pid check alone
        return ""


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    except OSError:
        return False
    return True


def read_holder(path: Path) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def holder_alive(record: dict) -> bool:
    """From the record alone: written in this boot, on this host, by a process still running."""
    if not isinstance(record.get("pid"), int):
        return False
    if record.get("host") not in (None, socket.gethostname()):
        return True  # another machine's process: cannot be checked from here, so assume it runs
    if record.get("boot") and record.get("boot") != boot_id():
        return False
    return pid_alive(record["pid"])


def _describe(record: dict) -> str:
    pid = record.get("pid", "?")
    host = record.get("host")
    started = record.get("started")
    when = f", started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))}" if isinstance(
        started, (int, float)) else ""
    where = f" on {host}" if host and host != socket.gethostname() else ""
    return f"pid {pid}{where}{when}"


class RunLock:
    """Held from acquire() to release(); a second RunLock on the same folder raises TrainingError."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.fd: int | None = None
        self.took_over: dict | None = None  # the stale holder's record, when one was taken over
        self.created: list[Path] = []  # folders made for this run: removed again if it writes nothing

    def acquire(self) -> "RunLock":
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
            try:
                locked = self._flock(fd)
                if locked and not _same_file(fd, self.path):
                    continue  # the holder removed the file as we opened it: lock the new one
                previous = read_holder(self.path)
                if not locked and previous and holder_alive(previous) and previous.get("pid") != os.getpid():
                    raise self._busy(previous)
                self.took_over = previous or None
                self._write_record(fd)
                self.fd, fd = fd, None
                return self
            finally:
                if fd is not None:
                    os.close(fd)

    def _flock(self, fd: int) -> bool:
        """True when flock holds the file for us; False where flock is not supported (the record
        decides). Raises TrainingError when another live process holds it."""
        if fcntl is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            raise self._busy(read_holder(self.path)) from None
        except OSError as exc:
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                return False
            raise

    def _busy(self, record: dict) -> TrainingError:
        return TrainingError(f"{self.folder}: another training run is writing there ({_describe(record)}); "
                             "wait for it to end, stop it, or pick another --out folder")

    def _write_record(self, fd: int) -> None:
        record = {"pid": os.getpid(), "host": socket.gethostname(), "boot": boot_id(), "started": time.time()}
        data = (json.dumps(record) + "\n").encode()
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, data)

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        with contextlib.suppress(OSError):
            if _same_file(fd, self.path):
                self.path.unlink()  # while still locked, so no one locks a file about to vanish
        os.close(fd)

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
