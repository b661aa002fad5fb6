"""`bench ui --views`: the issue-18 views all shown while the model trains, for the A/B of bench ui.
Try it, Where it errs (gallery, per-class table, confusion matrix) and Classes are floated out of
their tabs so each paints; Try it tries the project's untrained model with Why set to Grad-CAM, and a
timer draws a stroke on its canvas every STROKE_MS (mouse events to the canvas's handlers) as a person
drawing while the run goes."""
from __future__ import annotations

VIEWS = ("tryit", "errors", "classes")
STROKE_MS = 250  # a new stroke (and so a prediction and a Grad-CAM) four times a second
MOVES = 6  # mouse moves per stroke


class ShownViews:
    def __init__(self, window, ui) -> None:
        from PySide6.QtCore import QTimer

        from studio.training.explain import Subject

        self.ui, self.tryit = ui, ui.tryit
        import os

        only = os.environ.get("NETSTUDIO_BENCH_VIEWS")  # a comma list of VIEWS to show (finding a cost)
        for i, name in enumerate(VIEWS if not only else [v for v in VIEWS if v in only.split(",")]):
            dock = ui.docks[name]
            dock.setFloating(True)
            dock.resize(720, 520)
            dock.move(40 + 60 * i, 40 + 40 * i)
            dock.show()
            dock.raise_()
        self.tryit.set_subject(Subject.from_project(window.document.project), "bench: the untrained model")
        self.tryit.why.setCurrentIndex(self.tryit.why.findData("gradcam"))
        self.answers, self.strokes = 0, 0
        self.why_ms: list[float] = []
        self.tryit.answered.connect(self._answered)
        self.timer = QTimer()
        self.timer.setInterval(STROKE_MS)
        self.timer.timeout.connect(self.stroke)
        self.draws = not only or "tryit" in only.split(",")

    def _answered(self) -> None:
        self.answers += 1
        if "why" in self.tryit.last_ms:
            self.why_ms.append(self.tryit.last_ms["why"])

    def stroke(self) -> None:
        """One stroke across the canvas, a different column each time (press, moves, release)."""
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent

        canvas = self.tryit.canvas
        if not canvas.isEnabled():
            return  # the run ended and Try it is taking its model
        r = canvas._target()
        x = r.left() + r.width() * (0.2 + 0.6 * ((self.strokes * 0.37) % 1))
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

        def send(kind, y, button, buttons) -> None:
            p = QPointF(x, r.top() + r.height() * y)
            event = QMouseEvent(kind, p, canvas.mapToGlobal(p), button, buttons, Qt.KeyboardModifier.NoModifier)
            {QEvent.Type.MouseButtonPress: canvas.mousePressEvent, QEvent.Type.MouseMove: canvas.mouseMoveEvent,
             QEvent.Type.MouseButtonRelease: canvas.mouseReleaseEvent}[kind](event)

        send(QEvent.Type.MouseButtonPress, 0.15, left, left)
        for k in range(1, MOVES + 1):
            send(QEvent.Type.MouseMove, 0.15 + 0.7 * k / MOVES, none, left)
        send(QEvent.Type.MouseButtonRelease, 0.85, left, none)
        self.strokes += 1

    def start(self) -> None:
        if self.draws:
            self.timer.start()

    def stop(self) -> dict:
        import statistics

        self.timer.stop()
        where = self.ui.where_errs
        return {"strokes": self.strokes, "answers": self.answers,
                "why_ms_median": round(statistics.median(self.why_ms), 1) if self.why_ms else None,
                "gallery_samples": where.errors.gallery.count(), "projection_frames": len(where.classes.frames)}
