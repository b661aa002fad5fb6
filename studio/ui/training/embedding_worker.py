"""Computes the Classes view's t-SNE / UMAP maps (studio/training/embedding.py) on a thread of its own:
they take seconds, and the GUI thread must not wait. One computation at a time; a request made while
one runs replaces any request still waiting (the newest epoch shown wins)."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from .. import background


class EmbeddingWorker(QObject):
    done = Signal(int, str, int, object, str)  # generation, method, epoch, points [N, 2] or None, error

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._waiting = None  # (generation, method, epoch, features, init)
        self._running = False

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running or self._waiting is not None

    def request(self, generation: int, method: str, epoch: int, features, init=None) -> None:
        with self._lock:
            self._waiting = (generation, method, epoch, features, init)
            if self._running:
                return
            self._running = True
        background.start(self._run, "netstudio-embedding")

    def _run(self) -> None:
        from studio.training.embedding import embed

        while True:
            with self._lock:
                job, self._waiting = self._waiting, None
                if job is None:
                    self._running = False
                    return
            generation, method, epoch, features, init = job
            try:
                points, error = embed(features, method, init=init), ""
            except Exception as exc:  # noqa: BLE001 - a library's failure is shown, not raised
                points, error = None, f"{type(exc).__name__}: {exc}"
            self.done.emit(generation, method, epoch, points, error)
