"""The problems list: every error and warning of the live analysis, with icons. Clicking one selects
its node and asks the window to centre it (signal `node_activated`)."""
from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QListView, QVBoxLayout, QWidget

from studio.core.problems import ERROR, WARNING, Problem

from . import icons
from .theme import color

NODE_ROLE = Qt.ItemDataRole.UserRole + 1


class ProblemsModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.problems: list = []

    def set_problems(self, problems) -> None:
        """Show these problems: nothing happens when they are the same as shown, the changed rows
        are announced when there are as many as before, else the model is reset."""
        problems = list(problems)
        old = self.problems
        if problems == old:
            return
        if len(problems) == len(old) and problems:
            self.problems = problems
            changed = [r for r, (a, b) in enumerate(zip(problems, old)) if a != b]
            self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], 0))
            return
        self.beginResetModel()
        self.problems = problems
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else max(1, len(self.problems))

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if not self.problems:
            if role == Qt.ItemDataRole.DisplayRole:
                return "No problems: every shape fits and the graph is ready to train."
            if role == Qt.ItemDataRole.DecorationRole:
                return icons.icon("ok", "#5fc4a0")
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor(color("dim"))
            return None
        p = self.problems[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return p.message
        if role == Qt.ItemDataRole.DecorationRole:
            return icons.icon("error", color("error")) if p.is_error else icons.icon("warning", color("warning"))
        if role == NODE_ROLE:
            return p.node_id
        return None

    def flags(self, index):
        if not self.problems:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class ProblemsPanel(QWidget):
    node_activated = Signal(str)  # a problem's node was clicked: select and centre it
    counts_changed = Signal(int, int)  # errors, warnings

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("problems")
        self.document = document
        self.model = ProblemsModel(self)
        self._shown = None
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setUniformItemSizes(True)
        self.view.setIconSize(QSize(16, 16))
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self._training: list[Problem] = []  # what stops a run besides the graph (set by the training panel)
        self._library: list[Problem] = []  # block library files that were skipped (set by the palette)
        self.view.clicked.connect(self._activate)
        self.view.activated.connect(self._activate)
        document.analysis_changed.connect(self.set_analysis)
        self.set_analysis(document.analysis)

    def set_analysis(self, analysis) -> None:
        if analysis is self._shown:  # asked again for the same analysis (a theme change): repaint all
            self.model.dataChanged.emit(self.model.index(0, 0), self.model.index(self.model.rowCount() - 1, 0))
        self._shown = analysis
        problems = list(analysis.problems) + self._training + self._library
        self.model.set_problems(problems)
        errors = sum(1 for p in problems if p.is_error)
        self.counts_changed.emit(errors, len(problems) - errors)

    def set_training_problems(self, lines: list[str]) -> None:
        """What the training pre-flight found beyond the graph (no dataset, a dataset that does not
        fit): listed with the graph's problems, so the list never says "ready to train" beside a
        Train button that is off."""
        training = [Problem(ERROR, f"Training: {line}") for line in lines]
        if training != self._training:
            self._training = training
            if self._shown is not None:
                self._shown, shown = None, self._shown
                self.set_analysis(shown)

    def set_library_problems(self, lines: list[str]) -> None:
        """Block library files the palette skipped (broken, hostile, too new): warnings that name
        the file, so a person learns why a block they saved is not offered."""
        library = [Problem(WARNING, line) for line in lines]
        if library != self._library:
            self._library = library
            if self._shown is not None:
                self._shown, shown = None, self._shown
                self.set_analysis(shown)

    def row_of(self, node_id: str) -> int:
        return next((i for i, p in enumerate(self.model.problems) if p.node_id == node_id), -1)

    def _activate(self, index: QModelIndex) -> None:
        node_id = index.data(NODE_ROLE)
        if node_id and node_id.split(".")[0] in self.document.graph:  # (a dotted path: inside a block)
            self.document.set_selection([node_id])
            self.node_activated.emit(node_id)
