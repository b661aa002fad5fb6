"""The inspector's fine-tuning part (docs/finetune.md): "Frozen" (no gradients: the optimizer leaves its
weights out; a block instance: everything inside) and the learning-rate multiplier (a factor on the
run's learning rate for its weights, 1 by default). Each change is one undoable SetTuning."""
from __future__ import annotations

import math

from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from studio.core.graph import GraphError, check_lr_mult
from studio.core.stats import node_stats


class SetTuning(QUndoCommand):
    """Set `frozen` and/or `lr_mult` of one node or several (one edit: one analysis)."""

    def __init__(self, graph, node_ids: str | list[str], **fields) -> None:
        ids = [node_ids] if isinstance(node_ids, str) else list(node_ids)
        words = {"frozen": "Freeze" if fields.get("frozen") else "Unfreeze"}.get(next(iter(fields)), "Set lr_mult of")
        super().__init__(f"{words} {', '.join(ids)}")
        self.graph, self.ids, self.new = graph, ids, fields
        self.old = {n: {name: getattr(graph.node(n), name) for name in fields} for n in ids}

    def redo(self) -> None:
        with self.graph.edit():
            for n in self.ids:
                self.graph.set_tuning(n, **self.new)

    def undo(self) -> None:
        with self.graph.edit():
            for n in self.ids:
                self.graph.set_tuning(n, **self.old[n])


def parse_lr_mult(text: str, node_id: str) -> float:
    """The multiplier typed in the field, or GraphError naming the node and the field."""
    try:
        value = float(text.strip().lstrip("×x*"))
    except ValueError:
        value = math.nan
    return check_lr_mult(value if math.isfinite(value) else text, node_id)


def tunable(document, node) -> bool:
    """Whether freezing means something for `node`: it has weights (or is a block, or is already tuned)."""
    if node.frozen or node.lr_mult != 1.0 or node.type == "Block":
        return True
    info = document.analysis.nodes.get(node.id)
    stats = node_stats(info) if info is not None and info.spec is not None and info.params is not None else None
    return bool(stats and stats.params) or node.type.startswith("BatchNorm")


class TuningSection(QWidget):
    """Shown for a node with weights (or a block instance, or one already frozen or at another rate)."""

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id: str | None = None
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 6, 0, 0)
        v.setSpacing(3)
        title = QLabel("FINE-TUNING")
        title.setObjectName("sectionTitle")
        self.frozen = QCheckBox("Frozen")
        self.frozen.setObjectName("frozen")
        note = QLabel("Keeps its weights as they are")  # below, wrapping: one line was wider than a
        note.setObjectName("subtle")                    # 1024 px window's inspector
        note.setWordWrap(True)
        self.frozen.setToolTip("No gradients for this layer's weights (a block: for everything inside it); "
                               "the optimizer leaves them out. Frozen BatchNorm keeps its running statistics "
                               "unless training.frozen_batchnorm is \"train\".")
        row = QHBoxLayout()
        label = QLabel("Learning rate ×")
        self.lr_mult = QLineEdit()
        self.lr_mult.setObjectName("lr_mult")
        self.lr_mult.setToolTip("A factor on the run's learning rate for this layer's weights (1: the same; "
                                "0.1: ten times slower, as for a pretrained backbone). Press Enter to apply.")
        row.addWidget(label)
        row.addWidget(self.lr_mult, 1)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        v.addWidget(title)
        v.addWidget(self.frozen)
        v.addWidget(note)
        v.addLayout(row)
        v.addWidget(self.error)
        self.frozen.toggled.connect(self._frozen_toggled)
        self.lr_mult.editingFinished.connect(self._lr_edited)
        self.hide()

    def show_for(self, node_id: str | None) -> None:
        graph = self.document.graph
        self.node_id = node_id if node_id in graph else None
        if self.node_id is None or not self._applies(graph.node(node_id)):
            self.hide()
            return
        node = graph.node(node_id)
        self.frozen.blockSignals(True)
        self.frozen.setChecked(node.frozen)
        self.frozen.blockSignals(False)
        if not self.lr_mult.hasFocus() or self.error.isHidden():
            self.lr_mult.setText(f"{node.lr_mult:g}")
            self.error.hide()
        self.lr_mult.setEnabled(not node.frozen)  # a frozen layer does not learn at any rate
        self.show()

    def _applies(self, node) -> bool:
        return tunable(self.document, node)

    def _frozen_toggled(self, on: bool) -> None:
        if self.node_id is not None and on != self.document.graph.node(self.node_id).frozen:
            self.document.push(SetTuning(self.document.graph, self.node_id, frozen=on))

    def _lr_edited(self) -> None:
        if self.node_id is None:
            return
        try:
            value = parse_lr_mult(self.lr_mult.text(), self.node_id)
        except GraphError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.error.hide()
        if value != self.document.graph.node(self.node_id).lr_mult:
            self.document.push(SetTuning(self.document.graph, self.node_id, lr_mult=value))
