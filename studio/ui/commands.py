"""Every edit of the graph is a QUndoCommand that calls only the core graph API; the scene redraws
itself from the graph's events, so undo works for everything because nothing bypasses these."""
from __future__ import annotations

import copy
import functools
from contextlib import ExitStack

from PySide6.QtGui import QUndoCommand

from studio.core.graph import Edge, Graph

LOCKED = "The graph cannot be edited while a run is training"


def one_edit(method):
    """Run a command's redo/undo as one edit of its graph(s) (`Graph.edit`): however many nodes
    and wires it adds or removes, the document analyses the graph once, at the end."""
    @functools.wraps(method)
    def held(self):
        with ExitStack() as stack:
            for graph in _graphs(self):
                stack.enter_context(graph.edit())
            method(self)
    return held


def _graphs(command) -> list[Graph]:
    if isinstance(command, Macro):
        return list({id(g): g for c in command.commands for g in _graphs(c)}.values())
    graph = getattr(command, "graph", None)
    return [graph] if isinstance(graph, Graph) else []


class AddNode(QUndoCommand):
    def __init__(self, graph: Graph, type_name: str, pos, params: dict | None = None,
                 node_id: str | None = None, connect_from: tuple | None = None, instance: dict | None = None) -> None:
        super().__init__(f"Add {type_name}")
        self.graph = graph
        self.instance = dict(instance or {})  # a block instance's block / repeat / first
        self.type_name, self.pos, self.params = type_name, tuple(pos), dict(params or {})
        self.node_id = node_id or graph.unique_id(type_name)
        self.connect_from = connect_from  # (source id, source port) for a wire dropped on empty canvas
        self.edge: Edge | None = None

    @one_edit
    def redo(self) -> None:
        self.graph.add_node(self.type_name, copy.deepcopy(self.params), self.pos, node_id=self.node_id,
                            **copy.deepcopy(self.instance))
        if self.connect_from:
            src, port = self.connect_from
            self.edge = self.graph.connect(src, self.node_id, port, None)

    @one_edit
    def undo(self) -> None:
        self.graph.remove_node(self.node_id)


class RemoveNodes(QUndoCommand):
    """Delete nodes with their wires; undo restores both, wires in their original order."""

    def __init__(self, graph: Graph, node_ids) -> None:
        ids = [n for n in graph.nodes if n in set(node_ids)]
        super().__init__(f"Delete {ids[0]}" if len(ids) == 1 else f"Delete {len(ids)} nodes")
        self.graph, self.ids = graph, ids
        self.saved: list = []  # (node, index in node order)
        self.edges: list[tuple[int, Edge]] = []

    @one_edit
    def redo(self) -> None:
        order = list(self.graph.nodes)
        self.saved = [(self.graph.node(n).copy(), order.index(n)) for n in self.ids]
        all_edges = self.graph.edges
        self.edges = [(i, e) for i, e in enumerate(all_edges) if e.source in self.ids or e.target in self.ids]
        for n in self.ids:
            self.graph.remove_node(n)

    @one_edit
    def undo(self) -> None:
        for node, _ in self.saved:
            self.graph.add_node(node.type, copy.deepcopy(node.params), node.pos, node_id=node.id,
                                **node.instance_fields())
        for index, edge in self.edges:
            self.graph.connect(edge.source, edge.target, edge.source_port, edge.target_port, index=index)


class Connect(QUndoCommand):
    def __init__(self, graph: Graph, edge: Edge, replace: Edge | None = None) -> None:
        super().__init__(f"Connect {edge.source} → {edge.target}")
        self.graph, self.edge, self.replace = graph, edge, replace  # replace: the wire a single port had
        self.replaced_index: int | None = None

    @one_edit
    def redo(self) -> None:
        if self.replace is not None:
            self.replaced_index = self.graph.disconnect(self.replace)
        e = self.edge
        self.graph.connect(e.source, e.target, e.source_port, e.target_port)

    @one_edit
    def undo(self) -> None:
        self.graph.disconnect(self.edge)
        if self.replace is not None:
            r = self.replace
            self.graph.connect(r.source, r.target, r.source_port, r.target_port, index=self.replaced_index)


class Disconnect(QUndoCommand):
    def __init__(self, graph: Graph, edge: Edge) -> None:
        super().__init__(f"Disconnect {edge.source} → {edge.target}")
        self.graph, self.edge, self.index = graph, edge, None

    def redo(self) -> None:
        self.index = self.graph.disconnect(self.edge)

    def undo(self) -> None:
        e = self.edge
        self.graph.connect(e.source, e.target, e.source_port, e.target_port, index=self.index)


class MoveNodes(QUndoCommand):
    """Positions before and after a drag; consecutive drags of the same nodes do not merge."""

    def __init__(self, graph: Graph, old: dict, new: dict, text: str = "Move") -> None:
        super().__init__(text if len(new) != 1 else f"{text} {next(iter(new))}")
        self.graph, self.old, self.new = graph, dict(old), dict(new)

    def redo(self) -> None:
        for n, pos in self.new.items():
            self.graph.move_node(n, pos)

    def undo(self) -> None:
        for n, pos in self.old.items():
            self.graph.move_node(n, pos)


_MISSING = object()
RESET = object()  # SetParam(..., RESET) forgets the value, so the spec's default applies


class SetParam(QUndoCommand):
    """Set a param (or RESET it to the default); undo restores the old value, or the default when
    the param was not set."""

    def __init__(self, graph: Graph, node_id: str, name: str, value) -> None:
        super().__init__(f"Set {node_id}.{name}")
        self.graph, self.node_id, self.name = graph, node_id, name
        params = graph.node(node_id).params
        self.old = copy.deepcopy(params[name]) if name in params else _MISSING
        self.new = value if value is RESET else copy.deepcopy(value)

    def redo(self) -> None:
        if self.new is RESET:
            self.graph.reset_param(self.node_id, self.name)
        else:
            self.graph.set_param(self.node_id, self.name, self.new)

    def undo(self) -> None:
        if self.old is _MISSING:
            self.graph.reset_param(self.node_id, self.name)
        else:
            self.graph.set_param(self.node_id, self.name, self.old)


class RenameNode(QUndoCommand):
    def __init__(self, graph: Graph, old: str, new: str) -> None:
        super().__init__(f"Rename {old} → {new}")
        self.graph, self.old, self.new = graph, old, new

    def redo(self) -> None:
        self.graph.rename_node(self.old, self.new)

    def undo(self) -> None:
        self.graph.rename_node(self.new, self.old)


class Paste(QUndoCommand):
    """Insert copied nodes (fresh ids, offset positions) with the wires between them."""

    def __init__(self, graph: Graph, data: dict, offset=(40.0, 40.0), text: str = "Paste") -> None:
        super().__init__(text)
        self.graph = graph
        taken = set(graph.nodes)
        self.mapping: dict[str, str] = {}
        for rec in data.get("nodes", []):
            base = rec["id"].rstrip("0123456789") or "node"
            n = 1
            while f"{base}{n}" in taken:
                n += 1
            self.mapping[rec["id"]] = f"{base}{n}"
            taken.add(f"{base}{n}")
        self.nodes = [dict(rec, id=self.mapping[rec["id"]],
                           pos=(rec["pos"][0] + offset[0], rec["pos"][1] + offset[1])) for rec in data["nodes"]]
        self.edges = [Edge(self.mapping[e["source"]], self.mapping[e["target"]], e.get("source_port"),
                           e.get("target_port")) for e in data.get("edges", [])
                      if e["source"] in self.mapping and e["target"] in self.mapping]

    @property
    def new_ids(self) -> list[str]:
        return list(self.mapping.values())

    @one_edit
    def redo(self) -> None:
        for rec in self.nodes:
            instance = {k: copy.deepcopy(rec[k]) for k in ("block", "repeat", "first") if k in rec}
            self.graph.add_node(rec["type"], copy.deepcopy(rec.get("params", {})), rec["pos"], node_id=rec["id"],
                                **instance)
            if rec.get("shares"):  # a pasted node shares a pasted copy, else the node it shared
                self.graph.set_shares(rec["id"], self.mapping.get(rec["shares"], rec["shares"]))
        for e in self.edges:
            self.graph.connect(e.source, e.target, e.source_port, e.target_port)

    @one_edit
    def undo(self) -> None:
        for rec in reversed(self.nodes):
            self.graph.remove_node(rec["id"])


def auto_layout(graph: Graph) -> MoveNodes:
    from studio.core.topology import layered_layout

    new = layered_layout(graph)
    old = {n: graph.node(n).pos for n in new}
    return MoveNodes(graph, old, new, "Auto-layout")


class Macro(QUndoCommand):
    """Several commands as one undo step (delete nodes and wires together; add a node and wire it).
    The parts run in order on redo and in reverse on undo."""

    def __init__(self, text: str, commands) -> None:
        super().__init__(text)
        self.commands = list(commands)

    @one_edit
    def redo(self) -> None:
        for command in self.commands:
            command.redo()

    @one_edit
    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()


class SpliceWire(QUndoCommand):
    """Route the wire `edge` through the node `node_id`: source -> node -> target. The node's wire
    into the target takes the old wire's place in the edge order (a Concat keeps its input order);
    undo puts the old wire back where it was."""

    def __init__(self, graph: Graph, edge: Edge, node_id: str, in_port: str | None, out_port: str | None) -> None:
        super().__init__(f"Insert {node_id} into {edge.source} → {edge.target}")
        self.graph, self.edge, self.node_id = graph, edge, node_id
        self.into = Edge(edge.source, node_id, edge.source_port, in_port)
        self.onward = Edge(node_id, edge.target, out_port, edge.target_port)
        self.index: int | None = None

    @one_edit
    def redo(self) -> None:
        self.index = self.graph.disconnect(self.edge)
        o = self.onward
        self.graph.connect(o.source, o.target, o.source_port, o.target_port, index=self.index)
        i = self.into
        self.graph.connect(i.source, i.target, i.source_port, i.target_port)

    @one_edit
    def undo(self) -> None:
        self.graph.disconnect(self.into)
        self.graph.disconnect(self.onward)
        e = self.edge
        self.graph.connect(e.source, e.target, e.source_port, e.target_port, index=self.index)


def splice(graph: Graph, first: QUndoCommand, edge: Edge, node_id: str, in_port: str | None,
           out_port: str | None) -> Macro:
    """One undo step: `first` (adding the node, or moving it onto the wire), then the rewiring."""
    rewire = SpliceWire(graph, edge, node_id, in_port, out_port)
    return Macro(rewire.text(), [first, rewire])
