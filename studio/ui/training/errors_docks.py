"""Fills the 'Where it errs' and 'Classes' docks of the training UI and feeds them from the session
(the trainer's ErrorsEvent, ReportEvent and ProjectionEvent, nothing else). A click on a
misclassified sample comes out as `WhereErrs.sample_chosen(split, index)`, which the Try it dock
shows (with its Why) when it is there."""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from .errors_view import ErrorsView
from .projection_view import ProjectionView


REDRAW_MS = 400  # at most ~2 redraws a second of each view while a run goes (a table read at 15 Hz is noise)


class Throttle(QObject):
    """Calls `fn(value)` at once (or `delay_ms` later), then at most every `interval_ms` with the newest
    value given since; `flush()` applies what waits (the run's end). Values that wait are replaced,
    never queued."""

    def __init__(self, fn, interval_ms: int, parent=None, delay_ms: int = 0) -> None:
        super().__init__(parent)
        self.fn = fn
        self._interval, self._delay = interval_ms, delay_ms
        self._pending, self._has = None, False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)

    def __call__(self, value) -> None:
        self._pending, self._has = value, True
        if not self._timer.isActive():
            if self._delay:
                self._timer.start(self._delay)
            else:
                self._fire()

    def _fire(self) -> None:
        if self._has:
            value, self._pending, self._has = self._pending, None, False
            self.fn(value)
            self._timer.start(self._interval)

    def flush(self) -> None:
        self._timer.stop()
        self._fire()
        self._timer.stop()

    def drop(self) -> None:
        self._timer.stop()
        self._pending, self._has = None, False


class WhereErrs(QObject):
    sample_chosen = Signal(str, int)  # (split, index) of the misclassified sample clicked

    def __init__(self, ui) -> None:
        super().__init__(ui)
        self.errors = ErrorsView()
        self.classes = ProjectionView()
        for name, view in (("errors", self.errors), ("classes", self.classes)):
            ui.window.add_dock(name, ui.docks[name].windowTitle(), view)
        s = ui.session
        # each view redraws at a bounded rate; the projection keeps every epoch's points at once
        # (its slider steps through them) and redraws the newest at that rate
        # an epoch's three events come together: each view draws in a frame of its own (a third of
        # the interval apart), not all in one (20-40 ms of GUI work in one frame with all shown)
        self._errors = Throttle(self.errors.show_errors, REDRAW_MS, self)
        self._report = Throttle(self.errors.show_report, REDRAW_MS, self, delay_ms=REDRAW_MS // 3)
        self._projection = Throttle(lambda _f: self.classes.show_newest(), REDRAW_MS, self,
                                    delay_ms=2 * REDRAW_MS // 3)
        s.started.connect(lambda _e: self.clear())
        s.report.connect(self._report)
        s.errors.connect(self._errors)
        s.projection.connect(self._on_projections)
        s.ended.connect(lambda _end: self.flush())
        self.errors.sample_chosen.connect(self.sample_chosen)

    def _on_projections(self, events: list) -> None:
        self.classes.keep(events)
        self._projection(True)

    def flush(self) -> None:
        for t in (self._report, self._errors, self._projection):
            t.flush()

    def clear(self) -> None:
        for t in (self._report, self._errors, self._projection):
            t.drop()
        self.errors.clear()
        self.classes.clear()

    def set_theme(self) -> None:
        from .plot_style import restyle

        for view in (self.errors, self.classes):
            restyle(view)
        if self.errors.last is not None:
            self.errors.show_errors(self.errors.last)
        if self.errors.confusion_event is not None:
            self.errors.show_report(self.errors.confusion_event)
        if self.classes.frames:
            self.classes.show_frame(self.classes.slider.value())


def install_where_errs(ui) -> WhereErrs:
    """The docks, with a click on a misclassified sample trying it in the Try it dock (its Why at once)."""
    where = WhereErrs(ui)
    tryit = getattr(ui, "tryit", None)
    if tryit is not None:
        def chosen(split: str, index: int) -> None:
            ui.docks["tryit"].raise_()
            tryit.show_sample(split, index)

        where.sample_chosen.connect(chosen)
    return where
