"""The inspector's "Shares weights of" field: a choice of the nodes whose weights the selected node
may use (studio/core/sharing.py: of its type with the same params and input shapes, or an
Embedding a Linear may tie its weight to), or its own weights. A choice is one undoable SetShares."""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from studio.core.sharing import compatible

OWN = "its own weights"


class SetShares(QUndoCommand):
    def __init__(self, graph, node_id: str, other: str | None) -> None:
        super().__init__(f"{node_id} shares {other}" if other else f"{node_id} uses its own weights")
        self.graph, self.node_id, self.new = graph, node_id, other
        self.old = graph.node(node_id).shares

    def redo(self) -> None:
        self.graph.set_shares(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.set_shares(self.node_id, self.old)


class SharesField(QWidget):
    """Shown for a node that has weights another node could lend it (or that already shares)."""

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(2)
        title = QLabel("SHARES WEIGHTS OF")
        title.setObjectName("sectionTitle")
        self.combo = QComboBox()
        self.combo.setObjectName("shares")
        self.combo.setToolTip("Use the weights of another node: one layer called at both places (a siamese "
                              "encoder), or a Linear whose weight is an Embedding's table (a tied language model).")
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        for w in (title, self.combo, self.error):
            layout.addWidget(w)
        self.combo.activated.connect(self._chosen)
        self.hide()

    def show_for(self, node_id: str | None) -> None:
        graph, analysis = self.document.graph, self.document.analysis
        self.node_id = node_id if node_id in graph else None
        if self.node_id is None:
            self.hide()
            return
        current = graph.node(node_id).shares
        choices = compatible(graph, analysis.nodes, node_id)
        if current and current not in choices:
            choices.append(current)  # kept as the file says, with the analyzer's reason below
        if not choices:
            self.hide()
            return
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(OWN, None)
        for other in choices:
            self.combo.addItem(other, other)
        self.combo.setCurrentIndex(self.combo.findData(current) if current else 0)
        self.combo.blockSignals(False)
        problem = next((p.message for p in analysis.problems_for(node_id) if p.field == "shares"), None)
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))
        self.show()

    def _chosen(self, index: int) -> None:
        if self.node_id is None:
            return
        other = self.combo.itemData(index)
        if other != self.document.graph.node(self.node_id).shares:
            self.document.push(SetShares(self.document.graph, self.node_id, other))
