"""Cycles are collected on the GUI thread only (studio.ui.gc_thread): a cycle holding a Qt object
must never be freed by a collection that a worker thread's allocations happened to start."""
from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from studio.ui.app import _application
from studio.ui.gc_thread import installed


def test_a_cycle_made_garbage_is_freed_on_the_gui_thread_while_a_worker_allocates(qtbot):
    _application()
    assert installed() and not gc.isenabled()
    freed_on: list[str] = []

    class Holder:
        pass

    holder = Holder()
    holder.me = holder  # a cycle: only the collector frees it
    holder.qt = QObject()
    weakref.finalize(holder, lambda: freed_on.append(threading.current_thread().name))
    del holder

    kept: list = []

    def allocate() -> None:  # enough new container objects to start several automatic collections
        kept.extend([i] for i in range(200_000))

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(freed_on), timeout=5000)
    assert freed_on == [threading.main_thread().name]
    kept.clear()
