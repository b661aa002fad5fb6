"""Undoable block edits: each QUndoCommand wraps one model operation of the core (studio.core's
blocks editing) and is one undo step that restores exactly what was there.

Commands that edit inside a definition find its graph by the definition's name each time they run
(`InDefinition`): an undo of the group that made a definition and its redo make a new inner graph,
and the edits made inside it must land in that one."""
from __future__ import annotations

import copy
from contextlib import ExitStack

from PySide6.QtGui import QUndoCommand

from studio.core.graph import GraphError

from . import block_model
from .commands import LOCKED, Macro


def _held(*graphs):
    stack = ExitStack()
    for graph in {id(g): g for g in graphs if g is not None}.values():
        stack.enter_context(graph.edit())
    return stack


def _rebind(command, graph) -> None:
    if isinstance(command, Macro):
        for part in command.commands:
            _rebind(part, graph)
    elif hasattr(command, "graph"):
        command.graph = graph


class BlockCommand(QUndoCommand):
    """A command that finds the graphs it edits itself (CanvasDocument.push leaves it as it is).

    The core refuses an edit it cannot make (GraphError: a repeated block to ungroup, a name taken)
    before it changes anything. A refusal inside QUndoStack.push would be lost in Qt and the
    command kept; `push_checked` applies the command first and pushes it only when it worked."""

    _applied = False  # applied by push_checked: the stack's first redo has nothing to do

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.apply()

    def apply(self) -> None:
        raise NotImplementedError


def push_checked(document, command: BlockCommand) -> str | None:
    """Apply `command` and push it onto `document`'s stack; the reason when it is refused (the
    document locked, or the core's GraphError), with nothing changed and nothing pushed."""
    if document.locked:
        return LOCKED
    try:
        command.apply()
    except GraphError as exc:
        return str(exc)
    command._applied = True
    document.push(command)
    return None


class InDefinition(BlockCommand):
    """An ordinary canvas command (AddNode, SetParam, ...) made inside the definition `name`."""

    def __init__(self, root, name: str, command: QUndoCommand) -> None:
        super().__init__(f"{command.text()} in {name}")
        self.root, self.name, self.command = root, name, command

    def _graph(self):
        return self.root.blocks[self.name].graph

    def apply(self) -> None:
        graph = self._graph()
        _rebind(self.command, graph)
        with _held(graph):
            self.command.redo()

    def undo(self) -> None:
        graph = self._graph()
        _rebind(self.command, graph)
        with _held(graph):
            self.command.undo()


class _GraphRef:
    """The root graph, or a definition's inner graph by its name (see the module doc)."""

    def __init__(self, root, graph) -> None:
        self.root = root
        self.name = None if graph is root else next(
            (d.name for d in root.blocks.definitions() if d.graph is graph), None)
        if graph is not root and self.name is None:
            raise ValueError("the graph is neither the root nor a definition's")

    def get(self):
        return self.root if self.name is None else self.root.blocks[self.name].graph


class Group(BlockCommand):
    """The selection becomes one block instance of a new definition `name`."""

    def __init__(self, root, graph, node_ids, name: str) -> None:
        super().__init__(f"Group {len(node_ids)} nodes into {name}")
        self.root, self.where, self.ids, self.name = root, _GraphRef(root, graph), list(node_ids), name
        self.instance_id: str | None = None

    def apply(self) -> None:
        graph = self.where.get()
        with _held(self.root, graph):
            self.before = block_model.snapshot(graph)
            self.instance_id = block_model.group(graph, self.ids, self.name)

    def undo(self) -> None:
        graph = self.where.get()
        with _held(self.root, graph):
            block_model.restore(graph, self.before)
            block_model.remove_definition(self.root, self.name)


class Ungroup(BlockCommand):
    """A block instance becomes its inner nodes again; its definition goes too when nothing else
    uses it (undo brings both back)."""

    def __init__(self, root, graph, instance_id: str) -> None:
        super().__init__(f"Ungroup {instance_id}")
        self.root, self.where, self.instance_id = root, _GraphRef(root, graph), instance_id
        self.undo_record = None

    def apply(self) -> None:
        graph = self.where.get()
        with _held(self.root, graph):
            self.undo_record = block_model.ungroup_for_undo(self.root, graph, self.instance_id)

    def undo(self) -> None:
        graph = self.where.get()
        with _held(self.root, graph):
            block_model.undo_ungroup(self.root, graph, self.undo_record)


class MakeUnique(BlockCommand):
    """One instance gets its own copy of its definition (named `new_name`)."""

    def __init__(self, root, graph, instance_id: str, new_name: str) -> None:
        super().__init__(f"Make {instance_id} unique ({new_name})")
        self.root, self.where, self.instance_id, self.new_name = root, _GraphRef(root, graph), instance_id, new_name
        self.old_name = graph.node(instance_id).block

    def apply(self) -> None:
        graph = self.where.get()
        with _held(self.root, graph):
            block_model.make_unique(graph, self.instance_id, self.new_name)

    def undo(self) -> None:
        graph = self.where.get()
        with _held(self.root, graph):
            graph.set_instance(self.instance_id, block=self.old_name)
            block_model.remove_definition(self.root, self.new_name)


class RenameDefinition(BlockCommand):
    def __init__(self, root, old: str, new: str) -> None:
        super().__init__(f"Rename block {old} → {new}")
        self.root, self.old, self.new = root, old, new

    def apply(self) -> None:
        with _held(self.root):
            self.root.blocks.rename(self.old, self.new)

    def undo(self) -> None:
        with _held(self.root):
            self.root.blocks.rename(self.new, self.old)


class SetExposedParams(BlockCommand):
    """Replace a definition's exposed params (expose an inner param, drop one)."""

    def __init__(self, root, name: str, params, text: str | None = None) -> None:
        super().__init__(text or f"Change the params of {name}")
        self.root, self.name, self.new = root, name, tuple(params)
        self.old = None

    def apply(self) -> None:  # (checked by the core as a file's params are)
        self.old = block_model.set_exposed_params(self.root, self.name, self.new)

    def undo(self) -> None:
        block_model.set_exposed_params(self.root, self.name, self.old)


class SetInstance(BlockCommand):
    """Set a block instance's `repeat` and/or `first` overrides."""

    def __init__(self, root, graph, instance_id: str, text: str | None = None, **fields) -> None:
        super().__init__(text or f"Set {instance_id}." + "/".join(fields))
        self.root, self.where, self.instance_id = root, _GraphRef(root, graph), instance_id
        self.new = copy.deepcopy(fields)
        self.old: dict | None = None

    def apply(self) -> None:
        graph = self.where.get()
        with _held(graph):
            self.old = graph.set_instance(self.instance_id, **self.new)

    def undo(self) -> None:
        graph = self.where.get()
        with _held(graph):
            graph.set_instance(self.instance_id, **self.old)


class AddDefinitions(BlockCommand):
    """Copy definitions (from the library) into the project: {name: definition record}, in order
    (a definition after the ones it uses). Undo removes them."""

    def __init__(self, root, records: dict, text: str = "Add block definitions") -> None:
        super().__init__(text)
        self.root, self.records = root, dict(records)

    def apply(self) -> None:
        with _held(self.root):
            for name, rec in self.records.items():
                block_model.add_definition(self.root, name, copy.deepcopy(rec))

    def undo(self) -> None:
        with _held(self.root):
            for name in reversed(list(self.records)):
                block_model.remove_definition(self.root, name)


class RenameInDefinition(BlockCommand):
    """Rename a node inside definition `name`: the exposed params that target it follow, and when it
    is one of the block's ports (a BlockInput or BlockOutput), so do the wires into and out of every
    instance that name that port."""

    def __init__(self, root, name: str, old: str, new: str) -> None:
        kind = root.blocks[name].graph.node(old).type
        what = "port" if kind in (block_model.INPUT_TYPE, block_model.OUTPUT_TYPE) else "node"
        super().__init__(f"Rename {what} {name}.{old} → {new}")
        self.root, self.name, self.old, self.new = root, name, old, new

    def apply(self) -> None:
        self._rename(self.old, self.new)

    def undo(self) -> None:
        self._rename(self.new, self.old)

    def _rename(self, old: str, new: str) -> None:
        from dataclasses import replace

        bdef = self.root.blocks[self.name]
        inner = bdef.graph
        is_input = inner.node(old).type == block_model.INPUT_TYPE
        is_port = is_input or inner.node(old).type == block_model.OUTPUT_TYPE
        users = block_model.instances(self.root, self.name) if is_port else []
        with _held(self.root, inner, *(g for g, _ in users)):
            for graph, iid in users:
                for edge in graph.edges:
                    port = edge.target_port if is_input else edge.source_port
                    if port == old and (edge.target if is_input else edge.source) == iid:
                        index = graph.disconnect(edge)
                        graph.connect(edge.source, edge.target, edge.source_port if is_input else new,
                                      new if is_input else edge.target_port, index=index)
            inner.rename_node(old, new)
            params = tuple(replace(p, targets=tuple(replace(t, node=new) if t.node == old else t for t in p.targets))
                           for p in bdef.params)
            if params != bdef.params:
                self.root.blocks.set_params(self.name, params)
