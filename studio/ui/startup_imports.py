"""torch, the training modules built on it, pyqtgraph and the training UI's own modules, imported on
a helper thread after the first frame.

The training UI needs them when it is built (the dataset list, the devices, the settings' choices).
Imported there, on the GUI thread, they froze the window for about 3 s just after it showed the
graph: clicks and keys waited unanswered. On a helper thread the window stays live while they load
(the thread shares the GIL: the GUI thread gets its turns), and the training UI is built once they
are in. pyqtgraph and the training UI's modules (about 0.7 s of the training UI's build, measured
with cProfile) are imported there too: importing creates no Qt object (pyqtgraph makes none until a
plot is built, ours only QSize values), so the GUI thread then only builds the widgets."""
from __future__ import annotations

import importlib
import time

from PySide6.QtCore import QCoreApplication, QObject, Signal

from . import background

MODULES = ("torch", "studio.training.config", "studio.training.datasets", "pyqtgraph", "studio.ui.training.install")


class _Relay(QObject):
    done = Signal(float)  # seconds the imports took


class _Receiver(QObject):
    """A child of the window: if the window is gone before the imports end, Qt drops the call."""

    def __init__(self, parent, callback) -> None:
        super().__init__(parent)
        self.callback = callback

    def fire(self, seconds: float) -> None:
        self.callback(seconds)


def import_then(window, callback) -> None:
    """Import MODULES on a helper thread, then call `callback(seconds)` on the GUI thread. An
    import that fails is left for the GUI thread's own import, which reports it where it is used."""
    relay = _Relay(QCoreApplication.instance())  # owned by the application: it outlives the window
    relay.done.connect(_Receiver(window, callback).fire)

    def work() -> None:
        start = time.perf_counter()
        for name in MODULES:
            if background.stopping.is_set():  # the application is exiting
                return
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - imported again where used, which says what is wrong
                pass
        try:
            relay.done.emit(time.perf_counter() - start)
            relay.deleteLater()
        except RuntimeError:  # the application is gone (interpreter exit)
            pass

    background.start(work, "netstudio-imports")
