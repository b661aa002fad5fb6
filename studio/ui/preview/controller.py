"""The live preview while designing: after every edit, one sample of the project's dataset runs
through the graph on a worker thread (studio.training.preview) and each card shows its node's output.

One request is in flight at a time. Edits that come while it runs only mark the preview due; when it
ends, the newest graph is sent (newest wins, and the last edit is always previewed: a due preview is
deferred, never dropped). A result that a newer edit has overtaken is not shown. Nothing happens on
the GUI thread at edit time but a flag and a timer start; the graph is copied when the timer fires.

Off (the default), nothing is connected and no thread exists: an edit costs nothing more."""
from __future__ import annotations

import copy

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from ..canvas.preview_paint import PreviewFace
from ..settings import app_settings

SETTING = "preview/live"
NO_PREVIEW = "no preview"
PREPARING = "preparing…"  # the first result of a session (torch's layers, the dataset): the status bar says so
COMPUTING = "computing…"
DEBOUNCE_MS = 15  # coalesces the edits of one gesture (a spin box held down, a drag of many nodes)


class LivePreview(QObject):
    updated = Signal(object)  # the PreviewResult just shown on the cards
    _request = Signal(object)  # to the worker (queued: it lives on the preview thread)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.enabled = False
        self.sample = 0
        self.seed = 0
        self.checkpoint = None  # a run's weights file, or None: random seeded weights
        self.last_result = None
        self.requests = 0  # sent to the worker (for the benchmark and the tests)
        self._thread: QThread | None = None
        self._worker = None
        self._busy = False
        self._due = False
        self._sent_trail: tuple = ()
        self._notes: dict[str, PreviewFace] = {}  # a card's face while it has no thumbnail, per note
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._submit)

    # ---- what the window sees ----------------------------------------------------------------------
    @property
    def canvas_document(self):
        return getattr(self.window.canvas, "document", None)

    @property
    def scene(self):
        return getattr(self.window.canvas, "canvas_scene", None)

    def set_enabled(self, on: bool, remember: bool = True) -> None:
        on = bool(on)
        if on == self.enabled:
            return
        self.enabled = on
        level, root = self.canvas_document, self.window.document
        signals = [(level.analysis_changed, self._on_change), (level.level_changed, self._on_level),
                   (root.training_changed, self._on_change), (root.locked_changed, self._on_locked)]
        if on:
            refit = self._shows_whole_graph()  # the cards grow: keep them all in view
            self._start_thread()
            for signal, slot in signals:
                signal.connect(slot)
            self.schedule()
            # the cards grow now, with what is coming in their strip: the first result's wait (the
            # imports, the dataset) is seen at once, and the result itself changes no card's size
            self._show_faces({}, note=PREPARING if self.last_result is None else COMPUTING)
            if refit and hasattr(self.window, "fit_to_graph"):
                self.window.fit_to_graph()
        else:
            for signal, slot in signals:
                signal.disconnect(slot)
            self._timer.stop()
            self._due = False
            self._stop_thread()
            self.last_result = None
            self._show_faces({}, clear=True)
        if remember and getattr(self.window, "use_settings", False):
            app_settings().setValue(SETTING, on)

    def set_sample(self, index: int) -> None:
        if index != self.sample:
            self.sample = max(0, int(index))
            self.schedule()

    def set_checkpoint(self, path) -> None:
        if path != self.checkpoint:
            self.checkpoint = path
            self.schedule()

    def schedule(self) -> None:
        """Preview the graph as it is once the worker is free (and the edits of this moment are in)."""
        if not self.enabled:
            return
        self._due = True
        if not self._busy:
            self._timer.start()

    @property
    def pending(self) -> bool:
        """A preview is due or running."""
        return self._due or self._busy

    def shutdown(self) -> None:
        if self.enabled:
            self.set_enabled(False, remember=False)
        self._stop_thread()

    # ---- the thread --------------------------------------------------------------------------------
    def _start_thread(self) -> None:
        from .worker import PreviewWorker

        self._thread = QThread(self)
        self._thread.setObjectName("live preview")
        self._worker = PreviewWorker()
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start(QThread.Priority.LowPriority)

    def _stop_thread(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._request.disconnect(self._worker.run)
            self._worker.done.disconnect(self._on_done)
            thread.quit()
            thread.wait()  # at most the end of the run in flight
            thread.deleteLater()
        self._worker = None
        self._busy = False

    # ---- requests and results ----------------------------------------------------------------------
    def _on_change(self, *_args) -> None:
        self.schedule()

    def _on_level(self) -> None:
        self._show_faces({}, note=COMPUTING)  # the new level's cards wait for their own result
        self.schedule()

    def _on_locked(self, locked: bool) -> None:
        if not locked:
            self.schedule()  # (while a run trains, nothing is edited: nothing is due)

    def _submit(self) -> None:
        if not self.enabled or self._busy or not self._due or self._thread is None:
            return
        if self.window.document.locked:
            return  # the training run has the CPU; _on_locked sends it when the run ends
        from studio.training.preview import PreviewRequest

        self._due = False
        self._busy = True
        self._show_waiting()
        doc = self.window.document
        project = doc.project
        trail = tuple(getattr(self.canvas_document, "trail", ()))
        self._sent_trail = trail
        self.requests += 1
        self._request.emit(PreviewRequest(
            graph=doc.graph.copy(), training=copy.deepcopy(project.training),
            base_dir=project.path.parent if project.path is not None else None, sample=self.sample,
            seed=self.seed, checkpoint=self.checkpoint, revision=self.requests, trail=trail))

    def _on_done(self, result, faces: dict) -> None:
        self._busy = False
        if not self.enabled:
            return
        trail = tuple(getattr(self.canvas_document, "trail", ()))
        if self._due or trail != self._sent_trail:
            self._timer.start()  # overtaken by a newer edit: show that one instead
            return
        self.last_result = result
        self._show_faces(faces)
        self.updated.emit(result)

    def _note_face(self, note: str) -> PreviewFace:
        face = self._notes.get(note)
        if face is None:
            face = self._notes[note] = PreviewFace(None, note)
        return face

    def _show_waiting(self) -> None:
        """Cards without a strip (a file just opened, a node just added) take theirs now, saying
        that their preview is on its way: they grow once, before the result, not when it comes."""
        scene = self.scene
        if scene is None:
            return
        face = self._note_face(PREPARING if self.last_result is None else COMPUTING)
        for item in scene.nodes.values():
            if item.preview is None:
                item.set_preview(face)
        scene.reroute_resized()

    def _shows_whole_graph(self) -> bool:
        """Whether the canvas shows every card now (then it is fitted again once they have grown)."""
        view, scene = self.window.canvas, self.scene
        if scene is None or not scene.nodes or not view.isVisible():
            return False
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        cards = None
        for item in scene.nodes.values():
            r = item.sceneBoundingRect()
            cards = r if cards is None else cards.united(r)
        return shown.contains(cards)

    def _show_faces(self, faces: dict, clear: bool = False, note: str = NO_PREVIEW) -> None:
        """Each card's face from `faces`, `note` on the others (no strip at all with `clear`)."""
        scene = self.scene
        if scene is None:
            return
        if clear:
            for item in scene.nodes.values():
                item.set_preview(None)
        else:
            empty = self._note_face(note)
            for node_id, item in scene.nodes.items():
                item.set_preview(faces.get(node_id, empty))
        scene.reroute_resized()  # the cards grew (shrank): the wires between rows take clear lanes
