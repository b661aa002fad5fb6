"""Fills the 'Where it errs' and 'Classes' docks of the training UI and feeds them from the session
(the trainer's ErrorsEvent, ReportEvent and ProjectionEvent, nothing else). A click on a
misclassified sample comes out as `WhereErrs.sample_chosen(split, index)` for whoever shows a
chosen sample (Try it, Why)."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from .errors_view import ErrorsView
from .projection_view import ProjectionView


class WhereErrs(QObject):
    sample_chosen = Signal(str, int)  # (split, index) of the misclassified sample clicked

    def __init__(self, ui) -> None:
        super().__init__(ui)
        self.errors = ErrorsView()
        self.classes = ProjectionView()
        for name, view in (("errors", self.errors), ("classes", self.classes)):
            ui.window.add_dock(name, ui.docks[name].windowTitle(), view)
        s = ui.session
        s.started.connect(lambda _e: self.clear())
        s.report.connect(self.errors.show_report)
        s.errors.connect(self.errors.show_errors)
        s.projection.connect(self.classes.add_projections)
        self.errors.sample_chosen.connect(self.sample_chosen)

    def clear(self) -> None:
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
    return WhereErrs(ui)
