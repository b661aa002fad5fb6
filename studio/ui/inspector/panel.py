"""The inspector panel: for the one selected node, its id (renamable), type, doc, input and output
shapes, parameter count and FLOPs, and a typed editor per param.

Edits are checked before anything is pushed: the text must read as a value (editors.parse_text), the
value must fit the param (Param.coerce) and the params together (NodeSpec.resolve_params); a refused
value stays in its field with the reason underneath. A valid edit is one undoable SetParam."""
from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QScrollArea,
                               QSizePolicy, QStackedWidget, QVBoxLayout, QWidget)

from studio.core.graph import GraphError, GraphEventKind, check_node_id
from studio.core.spec import ParamError
from studio.core.summary import human

from .. import icons, stats_service
from ..block_commands import RenameInDefinition
from ..block_model import BLOCK_TYPE
from ..canvas_document import canvas_document
from ..commands import RenameNode, SetParam, RESET
from .block_section import BlockSection
from .expose import expose_menu
from ..wheel import guard_wheel
from .editors import ParamEditor, editor_for
from .shares import SharesField
from .tuning import TuningSection

_MISSING = object()


def _label(text: str = "", name: str | None = None, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def breakable(text: str, longest: int = 24) -> str:
    """`text` with places to break inside words longer than `longest` characters (after "(", "_",
    ...): a formula in a layer's doc ("x + Dropout(SelfAttention(LayerNorm(x)))") would otherwise
    make a wrapped label as wide as itself, wider than a narrow dock."""
    return re.sub(r"\S{%d,}" % longest, lambda m: re.sub(r"([(\[_/.,])(?=\S)", "\\1\u200b", m.group()), text)


def _form_key(node, document):
    """What the param form is made for: the type, and for a block instance its definition's params
    (exposing one more rebuilds the form)."""
    if node.type != BLOCK_TYPE:
        return node.type
    bdef = document.root.graph.blocks.get(node.block)
    return (node.type, node.block, tuple(p.name for p in bdef.params) if bdef is not None else ())


class _FieldRow:
    def __init__(self, editor: ParamEditor, label: QLabel, error: QLabel) -> None:
        self.editor, self.label, self.error = editor, label, error
        self.pending: str | None = None  # a refused value's reason, shown until the field is fixed


class InspectorPanel(QWidget):
    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.document = document = canvas_document(document)  # the level the canvas shows
        self.node_id: str | None = None
        self._type: str | None = None
        self.rows: dict[str, _FieldRow] = {}

        self.stack = QStackedWidget(self)
        self.empty = _label("Select a node to see and edit its settings.", "empty", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.stack.addWidget(self.empty)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget()
        scroll.setWidget(self.body)
        self.stack.addWidget(scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        v = QVBoxLayout(self.body)
        v.setContentsMargins(10, 10, 10, 12)  # (a block's first-copy form fits 250 px: a 1024 px window)
        v.setSpacing(6)
        head = QHBoxLayout()
        self.icon = QLabel()
        self.icon.setFixedSize(24, 24)
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("nodeId")
        self.id_edit.setToolTip("The node id: it names the layer in the generated PyTorch code. "
                                "Edit it and press Enter to rename.")
        head.addWidget(self.icon)
        head.addWidget(self.id_edit, 1)
        v.addLayout(head)
        self.id_error = _label("", "fieldError", wrap=True)
        self.id_error.hide()
        v.addWidget(self.id_error)
        self.type_label = _label("", "subtle", wrap=True)  # "TransformerEncoderLayer  ·  attention"
        v.addWidget(self.type_label)
        self.doc_label = _label("", "doc", wrap=True)
        v.addWidget(self.doc_label)
        self.node_error = _label("", "fieldError", wrap=True)
        self.node_error.hide()
        v.addWidget(self.node_error)
        self.block_section = BlockSection(self)
        self.block_section.hide()
        v.addWidget(self.block_section)

        v.addWidget(_label("SHAPES", "sectionTitle"))
        self.shapes = QGridLayout()
        self.shapes.setHorizontalSpacing(12)
        self.shapes.setVerticalSpacing(3)
        self._shape_rows: list[tuple[QLabel, QLabel]] = []
        v.addLayout(self.shapes)

        v.addWidget(_label("PARAMETERS", "sectionTitle"))
        self.no_params = _label("This layer has no settings.", "subtle")
        v.addWidget(self.no_params)
        self.form_host = QWidget()
        self.form = QGridLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setHorizontalSpacing(10)
        self.form.setVerticalSpacing(2)
        self.form.setColumnStretch(1, 1)
        v.addWidget(self.form_host)
        self.shares = SharesField(document)  # whose weights the node uses (sharing, tying)
        v.addWidget(self.shares)
        self.tuning = TuningSection(document)  # frozen, learning-rate multiplier (fine-tuning)
        v.addWidget(self.tuning)
        v.addStretch(1)

        self.id_edit.editingFinished.connect(self._rename)
        document.selection_changed.connect(self._on_selection)
        document.analysis_changed.connect(lambda _a: self.refresh())
        document.graph_changed.connect(self._on_graph_event)
        document.locked_changed.connect(self._on_locked)
        stats_service.service().ready.connect(self.refresh)
        self._on_locked(document.locked)
        self._on_selection(document.selection)

    # ---- binding ------------------------------------------------------------------------------
    def _on_selection(self, ids) -> None:
        self.show_node(ids[0] if len(ids) == 1 else None, count=len(ids))

    def show_node(self, node_id: str | None, count: int = 1) -> None:
        graph = self.document.graph
        if node_id is None or node_id not in graph:
            self.node_id = self._type = None
            self.empty.setText(f"{count} nodes selected. Select one node to edit its settings."
                               if count > 1 else "Select a node to see and edit its settings.")
            self.stack.setCurrentIndex(0)
            return
        node = graph.node(node_id)
        kind = _form_key(node, self.document)
        if node_id != self.node_id or kind != self._type:
            self.node_id, self._type = node_id, kind
            self._build_form()
        self.stack.setCurrentIndex(1)
        self.refresh()

    def _build_form(self) -> None:
        self.rows = {}  # first: removing a focused field finishes its edit, which refreshes the panel
        while self.form.count():
            w = self.form.takeAt(0).widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        info = self.document.analysis.nodes.get(self.node_id)
        spec = info.spec if info else None
        self.id_error.hide()
        if spec is None:
            self.no_params.setText("Unknown layer type: its settings cannot be edited.")
            self.no_params.show()
            return
        self.no_params.setText("This layer has no settings.")
        self.no_params.setVisible(not spec.params)
        for i, param in enumerate(spec.params):
            label = QLabel(param.name)
            label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            label.customContextMenuRequested.connect(
                lambda pos, n=param.name, w=label: expose_menu(self, self.node_id, n, w, pos))
            label.setToolTip(f"<b>{param.name}</b> ({param.kind}"
                             + (f", {param.describe_range()}" if param.describe_range() else "")
                             + f")<br>{param.doc}")
            editor = editor_for(param, self.form_host)
            editor.setToolTip(label.toolTip())
            editor.setObjectName(f"param_{param.name}")
            error = _label("", "fieldError", wrap=True)
            error.hide()
            self.form.addWidget(label, 2 * i, 0, Qt.AlignmentFlag.AlignVCenter)
            self.form.addWidget(editor, 2 * i, 1)
            self.form.addWidget(error, 2 * i + 1, 1)
            row = self.rows[param.name] = _FieldRow(editor, label, error)
            editor.edited.connect(lambda value, n=param.name, r=row, i=self.node_id: self._on_edited(i, n, value, r))
            editor.invalid.connect(lambda reason, r=row: self._refuse(r, reason))
        guard_wheel(self.form_host)  # the wheel scrolls the inspector; it changes only the focused field

    # ---- display ------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.node_id is None:
            return
        graph, analysis = self.document.graph, self.document.analysis
        if self.node_id not in graph:
            self.show_node(None)
            return
        node = graph.node(self.node_id)
        if _form_key(node, self.document) != self._type:  # a block whose definition's params changed
            self._type = _form_key(node, self.document)
            self._build_form()
        info = analysis.nodes.get(self.node_id)
        spec = info.spec if info else None
        category = spec.category if spec else "shape"
        self.icon.setPixmap(icons.category_icon(category).pixmap(22, 22))
        if not self.id_edit.hasFocus() or self.id_edit.text() == self.node_id:
            self.id_edit.setText(self.node_id)
        kind = node.type
        if node.type == BLOCK_TYPE:  # a block: its definition (and how many copies) is what it is
            kind = f"{node.block} ×{node.repeat}" if node.repeat > 1 else str(node.block)
        self.type_label.setText(f"{kind}  ·  {category}" if spec else f"{kind}  ·  unknown type")
        self.doc_label.setText(breakable(spec.doc) if spec else "")
        self.node_error.setText(info.error or "" if info else "")
        self.node_error.setVisible(bool(info and info.error))
        self.block_section.show_for(node)
        self._show_shapes(info)
        self.shares.show_for(self.node_id)
        self.tuning.show_for(self.node_id)
        field_problems = {p.field: p.message for p in analysis.problems_for(self.node_id) if p.field}
        for name, row in self.rows.items():
            value = node.params.get(name, _MISSING)
            if value is _MISSING:
                value = (info.params or {}).get(name, row.editor.param.default) if info else row.editor.param.default
            if row.pending is None:
                row.editor.set_value(value)
                self._show_error(row, field_problems.get(name))

    def _show_shapes(self, info) -> None:
        rows: list[tuple[str, str]] = []
        if info is not None and info.spec is not None:
            spec = info.spec
            if spec.inputs:
                ins = [str(t) for t in info.inputs if t is not None]  # None: an unwired optional port
                rows.append(("Input" if len(ins) <= 1 else "Inputs", "\n".join(ins) if ins else "—"))
            outs = info.outputs or []
            for i, port in enumerate(spec.outputs):
                label = "Output" if len(spec.outputs) == 1 else f"Output {port.name}"
                text = "?" if i >= len(outs) else "—" if outs[i] is None else str(outs[i])  # —: not produced
                rows.append((label, text))
            stats = stats_service.stats_for(info)
            if stats is stats_service.PENDING:
                rows += [("Parameters", "…"), ("FLOPs", "…")]
            elif stats is not None:
                rows.append(("Parameters", f"{stats.params:,}"))
                rows.append(("FLOPs", human(stats.flops)))
        while len(self._shape_rows) < len(rows):  # label pairs are reused, never rebuilt
            key, val = _label("", "subtle"), _label("", "shape")
            val.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            r = len(self._shape_rows)
            self.shapes.addWidget(key, r, 0, Qt.AlignmentFlag.AlignTop)
            self.shapes.addWidget(val, r, 1)
            self._shape_rows.append((key, val))
        for r, (key, val) in enumerate(self._shape_rows):
            used = r < len(rows)
            if used:
                key.setText(rows[r][0])
                val.setText(rows[r][1])
            key.setVisible(used)
            val.setVisible(used)

    def shape_text(self) -> dict[str, str]:
        """What the shapes section shows, by row name (for tests and the status bar)."""
        return {k.text(): v.text() for k, v in self._shape_rows if not k.isHidden()}

    def _show_error(self, row: _FieldRow, message: str | None) -> None:
        row.error.setText(message or "")
        row.error.setVisible(bool(message))
        row.editor.set_invalid(bool(message))

    def _refuse(self, row: _FieldRow, reason: str) -> None:
        if not any(row is r for r in self.rows.values()):
            return  # a field of the node shown before
        row.pending = reason
        self._show_error(row, reason)

    # ---- editing ------------------------------------------------------------------------------
    def _on_edited(self, node_id: str, name: str, value, row: _FieldRow) -> None:
        """An editor's value. It may come from a field of the node shown before (a focused field
        finishes its edit as the selection moves on): that still applies to its own node if valid."""
        current_row = self.rows.get(name) is row and node_id == self.node_id
        graph = self.document.graph
        if node_id not in graph:
            return
        node = graph.node(node_id)
        info = self.document.analysis.nodes.get(node_id)
        if info is None or info.spec is None:
            return
        spec = info.spec
        param = spec.param(name)
        if param is None:  # a block param no longer exposed (its field finished editing as it went)
            return
        try:
            value = param.coerce(value)
            given = {}
            for k, v in node.params.items():  # other params, leaving out ones already refused
                other = spec.param(k)
                if k == name or other is None:
                    continue
                try:
                    given[k] = other.coerce(v)
                except ParamError:
                    pass
            given[name] = value
            spec.resolve_params(given)
        except ParamError as exc:
            if current_row:
                self._refuse(row, str(exc))
            return
        if current_row:
            row.pending = None
            self._show_error(row, None)
        current = node.params.get(name, _MISSING)
        if current is _MISSING and info.params is not None and info.params.get(name) == value:
            return
        if current == value:
            return
        if value is None and spec.param(name).default is None:
            value = RESET  # clearing an optional param that defaults to "not set": drop it from the file
        if not self.document.push(SetParam(graph, node_id, name, value)):
            self.refresh()

    def _rename(self) -> None:
        if self.node_id is None:
            return
        new = self.id_edit.text().strip()
        if new == self.node_id:
            self.id_error.hide()
            return
        try:
            check_node_id(new, self.document.graph)  # the suggested id is free in this graph
            if new in self.document.graph:
                raise GraphError(f"a node with id '{new}' already exists; ids must be unique")
        except GraphError as exc:
            self.id_error.setText(str(exc))
            self.id_error.show()
            return
        self.id_error.hide()
        definition = self.document.definition  # inside a block: its params' targets and ports follow
        self.document.push(RenameInDefinition(self.document.root.graph, definition.name, self.node_id, new)
                           if definition is not None else RenameNode(self.document.graph, self.node_id, new))

    def _on_graph_event(self, event) -> None:
        if event.kind == GraphEventKind.NODE_RENAMED and event.node_id == self.node_id:
            self.node_id = event.name
            self.id_edit.setText(event.name)
        elif event.kind in (GraphEventKind.NODE_REMOVED, GraphEventKind.RESET) and self.node_id not in self.document.graph:
            self.show_node(None)

    def _on_locked(self, locked: bool) -> None:
        self.body.setEnabled(not locked)
        self.body.setToolTip("Editing is locked while a run trains." if locked else "")

