"""The live preview's controls: its toggle (View menu and toolbar) and, while it is on, a small
chooser in the toolbar: which sample (previous / index / next), which weights (random seeded, or a
trained run's), and what is shown (the sample, or why there is no preview)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QSpinBox, QToolButton, QWidget

from ..settings import app_settings, data_dir
from .controller import SETTING, LivePreview

RANDOM = "Random weights"


class WeightsBox(QComboBox):
    """Random seeded weights, or the best (else last) weights of one of the project's runs; the runs
    are listed when the box opens, so a run that just ended is there."""

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent)
        self.window = window
        self.setToolTip("The weights the preview uses: random (seeded, the same between edits) or a "
                        "trained run's (every layer whose shapes still match)")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.fill()

    def runs(self) -> list[tuple[str, Path]]:
        from ..training import runs

        project = self.window.document.project
        try:
            records = runs.list_runs(runs.runs_root(project.path, project.name, data_dir()))
        except OSError:
            return []
        found = []
        for rec in reversed(records):  # newest first
            weights = runs.newest_weights([rec])
            if weights is not None:
                found.append((f"{rec.name} ({weights.name})", weights))
        return found

    def fill(self) -> None:
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem(RANDOM, None)
        for label, path in self.runs():
            self.addItem(label, path)
        index = self.findData(current) if current is not None else 0
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)

    def showPopup(self) -> None:
        self.fill()
        super().showPopup()


class PreviewChooser(QWidget):
    def __init__(self, window, preview: LivePreview, parent=None) -> None:
        super().__init__(parent)
        self.preview = preview
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 0, 6, 0)
        lay.setSpacing(3)
        self.prev = QToolButton(self)
        self.prev.setText("‹")
        self.prev.setToolTip("Previous sample")
        self.index = QSpinBox(self)
        self.index.setPrefix("sample ")
        self.index.setRange(0, 0)
        self.index.setToolTip("Which sample of the dataset flows through the graph (validation split)")
        self.next = QToolButton(self)
        self.next.setText("›")
        self.next.setToolTip("Next sample")
        self.weights = WeightsBox(window, self)
        self.window = window
        self._said = ""
        for w in (self.prev, self.index, self.next, self.weights):
            lay.addWidget(w)
        self.prev.clicked.connect(lambda: self.index.stepBy(-1))
        self.next.clicked.connect(lambda: self.index.stepBy(1))
        self.index.valueChanged.connect(preview.set_sample)
        self.weights.currentIndexChanged.connect(lambda _i: preview.set_checkpoint(self.weights.currentData()))
        preview.updated.connect(self._on_result)

    def _on_toggled(self, on: bool) -> None:
        if on and self.preview.last_result is None:
            self._say("Live preview: preparing (the first one loads torch's layers and the dataset)…")

    def _say(self, text: str) -> None:
        """What the preview shows, in the status bar (the toolbar stays narrow enough for 1024 px)."""
        if hasattr(self.window, "show_status"):
            self.window.show_status(text)

    def _on_result(self, result) -> None:
        if result.sample_count:
            self.index.blockSignals(True)
            self.index.setRange(0, result.sample_count - 1)
            self.index.setValue(result.sample_index)
            self.index.blockSignals(False)
        text = f"Live preview: {result.note or result.sample_text}; {result.weights_text}"
        self.index.setToolTip(f"{text} (computed in {result.ms:.0f} ms)")
        if text != self._said:
            self._said = text
            self._say(text)


def install_live_preview(window) -> LivePreview:
    """The preview, its toggle (View menu, toolbar) and its chooser, on a window just attached."""
    preview = LivePreview(window)
    action = QAction("Live &Preview", window)
    action.setCheckable(True)
    action.setShortcut("Ctrl+Shift+L")
    action.setStatusTip("Show every node's output for one sample on its card, updated after each edit")
    action.setToolTip("Live Preview (Ctrl+Shift+L): each card shows its output for one sample")
    preview.action = action
    view_menu = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View"), None)
    if view_menu is not None:
        first = view_menu.actions()[0] if view_menu.actions() else None
        view_menu.insertAction(first, action)
        view_menu.insertSeparator(first)
    toolbar = getattr(window, "toolbar", None)
    chooser = PreviewChooser(window, preview)
    preview.chooser = chooser
    if toolbar is not None:
        acts = toolbar.actions()
        theme = getattr(getattr(window, "actions_", None), "toggle_theme", None)
        at = acts.index(theme) - 1 if theme in acts and acts.index(theme) > 0 else None
        before = acts[at] if at is not None else None  # the spacer that pushes the theme toggle right
        if before is None:
            toolbar.addSeparator()
            toolbar.addAction(action)
            chooser_action = toolbar.addWidget(chooser)
        else:
            toolbar.insertSeparator(before)
            toolbar.insertAction(before, action)
            chooser_action = toolbar.insertWidget(before, chooser)
        chooser_action.setVisible(False)
        action.toggled.connect(chooser_action.setVisible)
    action.toggled.connect(preview.set_enabled)
    action.toggled.connect(chooser._on_toggled)
    if getattr(window, "use_settings", False) and _truthy(app_settings().value(SETTING, False)):
        action.setChecked(True)
    return preview


def _truthy(value) -> bool:
    return value is True or str(value).lower() in ("true", "1")
