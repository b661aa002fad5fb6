"""The live preview's worker: a QObject on its own QThread that runs the Qt-free PreviewEngine for
one request at a time and hands back the result with each card's face (its QImage made here, off
the GUI thread). A face whose thumbnail did not change is the very same object as last time, so the
card it goes to is not repainted."""
from __future__ import annotations

import sys
import time

from PySide6.QtCore import QObject, Signal, Slot

from ..canvas.preview_paint import PreviewFace


class PreviewWorker(QObject):
    done = Signal(object, object)  # PreviewResult, {node id: PreviewFace}

    def __init__(self) -> None:
        super().__init__()
        self.engine = None  # made on the worker thread, at the first request (it imports torch)
        self._faces: dict[int, tuple[object, PreviewFace]] = {}  # id(thumb) -> (thumb, its face)
        self._yielded = False

    @Slot(object)
    def run(self, request) -> None:
        from ..training.worker import SWITCH_INTERVAL_S, _yield_to_the_gui

        # as while training: the GIL changes hands every 1 ms, so an edit coming back from Qt into
        # Python waits at most that long for the preview (bench editor --preview: 5 ms cost edits ~30 ms)
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, SWITCH_INTERVAL_S))
        try:
            t0 = time.perf_counter()
            if self.engine is None:
                from studio.training.preview import PreviewEngine

                self.engine = PreviewEngine()
            imported = (time.perf_counter() - t0) * 1e3
            result = self.engine.run(request)
        finally:
            sys.setswitchinterval(switch)
        if imported >= 1:
            result.phases = {"import": imported, **result.phases}
            result.ms += imported
        if not self._yielded:
            # the first run (the imports, the dataset, torch's first kernels) at the GUI's own
            # priority: a person waits for it, and on a loaded machine a lower one made it 10-25 s.
            # Then the thread's own nice value, for good (it cannot be raised again): the window
            # gets a busy core first while edits are previewed
            self._yielded = True
            _yield_to_the_gui()
        faces, kept = {}, {}
        for node_id, thumb in result.thumbs.items():
            old = self._faces.get(id(thumb))
            face = old[1] if old is not None and old[0] is thumb else PreviewFace(thumb)
            faces[node_id] = face
            kept[id(thumb)] = (thumb, face)
        self._faces = kept
        self.done.emit(result, faces)
