"""Python's cyclic garbage collector runs on the GUI thread only.

Left automatic, a collection starts in whichever thread happens to allocate: the training thread, a
pre-flight or warm-up thread. If the cycles it frees hold Qt objects (a closed window's widgets, a
document's undo stack), their C++ destructors then run on that thread: Qt aborts ("widget destroyed
outside the GUI thread") or crashes in QUndoStack::clear(). pyqtgraph's GarbageCollector turns the
automatic collector off and collects on a GUI-thread timer with the same generation thresholds."""
from __future__ import annotations

INTERVAL_S = 0.1  # short: each young-generation collection stays small (no stall to see)

_collector = None


def collect_on_gui_thread() -> None:
    """Install once per process, after the QApplication exists (idempotent)."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=INTERVAL_S)


def installed() -> bool:
    return _collector is not None
