"""The inspector's block part. For a block instance: its definition (renamable, with how many blocks
use it), Open, Make unique, `repeat`, and the first copy's overrides of the exposed params (the
exposed params themselves are the panel's ordinary param fields: an instance's values are its
params). Every change is one command."""
from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from studio.core.graph import GraphError

from .. import block_commands, block_model
from .editors import editor_for

MAX_REPEAT = 10_000  # a spin box bound, not a model limit: the analysis reports what cannot be built


class BlockSection(QWidget):
    def __init__(self, panel) -> None:
        super().__init__(panel.body)
        self.panel = panel
        self.document = panel.document
        self.node_id: str | None = None
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 4, 0, 4)
        v.setSpacing(4)
        title = QLabel("BLOCK")
        title.setObjectName("sectionTitle")
        v.addWidget(title)
        row = QHBoxLayout()
        row.addWidget(QLabel("Definition"))
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("blockName")
        self.name_edit.setToolTip("The definition's name (the class name in generated code). Renaming it "
                                  "renames it for every block that uses it.")
        row.addWidget(self.name_edit, 1)
        v.addLayout(row)
        self.name_error = QLabel("")
        self.name_error.setObjectName("fieldError")
        self.name_error.setWordWrap(True)
        self.name_error.hide()
        v.addWidget(self.name_error)
        self.users = QLabel("")
        self.users.setObjectName("subtle")
        self.users.setWordWrap(True)
        v.addWidget(self.users)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show the inside of the block (double-click the card does the same)")
        self.unique_button = QPushButton("Make unique")
        self.unique_button.setToolTip("Give this block its own copy of the definition")
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.unique_button)
        buttons.addStretch(1)
        v.addLayout(buttons)
        rep = QHBoxLayout()
        rep.addWidget(QLabel("repeat"))
        self.repeat = QSpinBox()
        self.repeat.setObjectName("blockRepeat")
        self.repeat.setRange(1, MAX_REPEAT)
        self.repeat.setKeyboardTracking(False)
        self.repeat.setToolTip("How many copies are chained in → out (like nn.Sequential)")
        rep.addWidget(self.repeat, 1)
        v.addLayout(rep)
        self.first_title = QLabel("FIRST COPY OVERRIDES")
        self.first_title.setObjectName("sectionTitle")
        v.addWidget(self.first_title)
        self.first_host = QWidget()
        self.first_form = QGridLayout(self.first_host)
        self.first_form.setContentsMargins(0, 0, 0, 0)
        self.first_form.setColumnStretch(2, 1)
        self.first_form.setHorizontalSpacing(4)  # a param's name and its field in a 1024 px window's dock
        v.addWidget(self.first_host)
        self.first_rows: dict = {}
        self._first_key = None
        self.name_edit.editingFinished.connect(self._rename)
        self.open_button.clicked.connect(self._open)
        self.unique_button.clicked.connect(self._make_unique)
        self.repeat.valueChanged.connect(self._set_repeat)

    # ---- showing ------------------------------------------------------------------------------
    def show_for(self, node) -> None:
        root = self.document.root.graph
        bdef = block_model.definition_of(root, node) if block_model.is_block(node) else None
        self.setVisible(bdef is not None)
        self.node_id = node.id if bdef is not None else None
        if bdef is None:
            return
        if not self.name_edit.hasFocus():
            self.name_edit.setText(bdef.name)
        n = len(block_model.instances(root, bdef.name))
        self.users.setText(f"{n} blocks use {bdef.name}: editing it changes all of them." if n > 1
                           else f"Only this block uses {bdef.name}.")
        self.unique_button.setEnabled(n > 1)
        self.repeat.blockSignals(True)
        self.repeat.setValue(block_model.repeat_of(node))
        self.repeat.blockSignals(False)
        self._show_first(node, bdef)

    def _show_first(self, node, bdef) -> None:
        params = block_model.exposed(bdef)
        repeated = block_model.repeat_of(node) > 1 and bool(params)
        self.first_title.setVisible(repeated)
        self.first_host.setVisible(repeated)
        key = (bdef.name, tuple(p.name for p in params), id(bdef))
        if key != self._first_key:
            self._first_key = key
            while self.first_form.count():
                w = self.first_form.takeAt(0).widget()
                if w is not None:
                    w.setParent(None)
                    w.deleteLater()
            self.first_rows = {}
            for i, p in enumerate(params):
                check = QCheckBox(p.name)
                check.setObjectName(f"first_on_{p.name}")
                check.setToolTip(f"Give the first copy its own {p.name}")
                editor = editor_for(p, self.first_host)
                editor.setObjectName(f"first_{p.name}")
                self.first_form.addWidget(check, i, 0)
                self.first_form.addWidget(editor, i, 2)
                self.first_rows[p.name] = (check, editor)
                check.toggled.connect(lambda on, n=p.name: self._set_first(n, on))
                editor.edited.connect(lambda value, n=p.name: self._set_first(n, True, value))
        first = block_model.first_of(node)
        values = block_model.param_values(node, bdef)
        for name, (check, editor) in self.first_rows.items():
            check.blockSignals(True)
            check.setChecked(name in first)
            check.blockSignals(False)
            editor.set_value(first.get(name, values.get(name)))
            editor.setEnabled(name in first)

    # ---- editing ------------------------------------------------------------------------------
    def _node(self):
        return self.document.graph.nodes.get(self.node_id) if self.node_id else None

    def _push(self, command) -> bool:
        reason = block_commands.push_checked(self.document, command)
        if reason:
            self.name_error.setText(reason)
            self.name_error.show()
            node = self._node()
            if node is not None:
                self.show_for(node)  # the fields back to what the block has
        return reason is None

    def _rename(self) -> None:
        node = self._node()
        if node is None:
            return
        new, old = self.name_edit.text().strip(), node.block
        if new == old:
            self.name_error.hide()
            return
        root = self.document.root.graph
        try:
            from studio.core.blocks import check_block_name

            check_block_name(new, root.blocks)
            if new in root.blocks:
                raise GraphError(f"a block definition named '{new}' already exists; names must be unique")
        except GraphError as exc:
            self.name_error.setText(str(exc))
            self.name_error.show()
            return
        self.name_error.hide()
        self._push(block_commands.RenameDefinition(root, old, new))

    def _open(self) -> None:
        if self.node_id:
            self.document.open_block(self.node_id)

    def _make_unique(self) -> None:
        node = self._node()
        if node is None:
            return
        from ..canvas.block_actions import free_name

        root = self.document.root.graph
        self._push(block_commands.MakeUnique(root, self.document.graph, node.id,
                                             free_name(root.blocks, f"{node.block}_{node.id}")))

    def _set_repeat(self, value: int) -> None:
        node = self._node()
        if node is not None and value != block_model.repeat_of(node):
            self._push(block_commands.SetInstance(self.document.root.graph, self.document.graph, node.id,
                                                  f"Set {node.id} repeat to {value}", repeat=value))

    def _set_first(self, name: str, on: bool, value=None) -> None:
        node = self._node()
        if node is None:
            return
        bdef = block_model.definition_of(self.document.root.graph, node)
        first = block_model.first_of(node)
        if on:
            param = bdef.param(name) if bdef is not None else None
            if value is None:
                value = first.get(name, block_model.param_values(node, bdef).get(name))
            if param is not None:
                try:
                    value = param.coerce(value)
                except ValueError as exc:
                    self.name_error.setText(str(exc))
                    self.name_error.show()
                    return
            first[name] = value
        else:
            first.pop(name, None)
        new = first or None
        if new != node.first:
            self._push(block_commands.SetInstance(self.document.root.graph, self.document.graph, node.id,
                                                  f"Set {node.id} first-copy {name}", first=new))
        else:
            self.show_for(node)
