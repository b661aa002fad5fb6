"""The window's helper threads (the dataset check, the stats warm-up, embeddings, exports), started
and waited for in one place.

They are daemon threads, so a stuck one never keeps the application open. But a daemon thread still
inside a torch call when Python finalizes aborts the whole process: its return into Python finds the
interpreter gone and unwinds through a C++ frame ("terminate called without an active exception",
exit 134, or a segfault). Closing the window within a few seconds of the start did that, and so did
a test file that ended while the dataset check was importing. So the exit waits for them (`shutdown`,
called after the event loop and again at interpreter exit), and `stopping` tells work that can end
early (the import warm-up) to stop."""
from __future__ import annotations

import atexit
import threading
import time

EXIT_WAIT_S = 30.0  # the longest the exit waits for helpers (the stats warm-up's import takes seconds)

stopping = threading.Event()  # set when the exit starts waiting: optional work ends early
_live: list[threading.Thread] = []
_lock = threading.Lock()


def start(target, name: str) -> threading.Thread:
    """Run `target()` on a daemon thread called `name` that the exit waits for."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    with _lock:
        _live[:] = [t for t in _live if t.is_alive()]
        _live.append(thread)
    thread.start()
    return thread


def wait(timeout: float = EXIT_WAIT_S) -> list[str]:
    """Wait, all together at most `timeout` seconds, for the helpers still running; the names of
    those that are still running after it."""
    deadline = time.monotonic() + timeout
    with _lock:
        threads = list(_live)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]


def shutdown(timeout: float = EXIT_WAIT_S) -> list[str]:
    """The exit: optional work stops early, the rest is waited for (`wait`)."""
    stopping.set()
    return wait(timeout)


def running() -> list[str]:
    with _lock:
        return [t.name for t in _live if t.is_alive()]


atexit.register(shutdown)  # after Python has joined its own (non-daemon) threads, before it finalizes
