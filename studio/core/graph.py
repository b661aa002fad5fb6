"""The document model: nodes, edges, positions and params, with change events.

The graph stores what a person drew, valid or not (a file may hold two wires into one port, or a
param out of range); the analyzer says what is wrong. Only plain data lives here; node types are
looked up by name in the registry when the graph is analysed or compiled.
"""
from __future__ import annotations

import copy
import keyword
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class GraphError(ValueError):
    """An edit that cannot be made (unknown node, duplicate id, ...)."""


def derive_reserved() -> set[str]:
    """The names a node id may not take, from torch itself: every attribute of nn.Module and
    fx.GraphModule (their classes and fresh instances, whose __init__ adds _modules, graph, code,
    ...), since the compiled model holds each node as an attribute named by its id; and the
    arguments of the forward fx writes (`self`), which a node's value would shadow there."""
    import ast

    from torch import fx, nn

    gm = fx.GraphModule(nn.Module(), fx.Graph())
    forward = next(n for n in ast.walk(ast.parse(gm.code.strip())) if isinstance(n, ast.FunctionDef))
    return (set(dir(nn.Module)) | set(dir(nn.Module())) | set(dir(fx.GraphModule)) | set(dir(gm))
            | {a.arg for a in forward.args.args})


def reserved_ids() -> frozenset[str]:
    """The stored derivation (loading a project imports no torch) and Python's keywords, joined by
    the live derivation once torch is imported (another torch version may add attributes)."""
    global _RESERVED, _LIVE
    if _RESERVED is None:
        from .reserved_names import MODULE_ATTRIBUTES

        _RESERVED = MODULE_ATTRIBUTES | frozenset(keyword.kwlist)
    if _LIVE is None and "torch.fx" in sys.modules:
        _LIVE = _RESERVED | frozenset(derive_reserved())
    return _LIVE or _RESERVED


_RESERVED: frozenset[str] | None = None
_LIVE: frozenset[str] | None = None


def is_reserved(node_id: str) -> bool:
    return node_id in (_LIVE or reserved_ids()) or (node_id[:2] == "__" and node_id[-2:] == "__")


def suggest_id(node_id: str, taken=()) -> str:
    """A free id close to `node_id`: not reserved, not in `taken` (anything supporting `in`)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", str(node_id)).strip("_") or "node"
    if base[0].isdigit():
        base = "n_" + base
    if not is_reserved(base) and base not in taken:
        return base
    n = 1
    while is_reserved(f"{base}_{n}") or f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def check_node_id(node_id: str, taken=()) -> None:
    """Refuse an id that cannot name a layer; `taken` (the other ids) keeps the suggestion free."""
    # fullmatch, not match: "$" also matches before a trailing newline
    if not isinstance(node_id, str) or not _ID_RE.fullmatch(node_id):
        raise GraphError(f"node id {node_id!r} must start with a letter or '_' and hold only letters, "
                         "digits and '_' (it names the layer in the generated PyTorch code)")
    if is_reserved(node_id):
        why = ("a Python keyword" if keyword.iskeyword(node_id) else
               "a Python special name" if node_id.startswith("__") and node_id.endswith("__") else
               "the name of an attribute every PyTorch module has")
        raise GraphError(f"node id {node_id!r} is {why}, so the layer cannot be named after it; "
                         f"use another id, e.g. {suggest_id(node_id, taken)!r}")


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    pos: tuple[float, float] = (0.0, 0.0)

    def copy(self) -> "Node":
        return Node(self.id, self.type, copy.deepcopy(self.params), (self.pos[0], self.pos[1]))


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    source_port: str | None = None  # None: the node's first port
    target_port: str | None = None

    def touches(self, node_id: str) -> bool:
        return self.source == node_id or self.target == node_id


@dataclass(frozen=True)
class GraphEvent:
    """kind: node_added | node_removed | edge_added | edge_removed | param_changed | node_moved |
    node_renamed | reset.  `structural` is False only for moves, which never change shapes."""

    kind: str
    node_id: str | None = None
    edge: Edge | None = None
    name: str | None = None  # param name, or the new id for node_renamed
    value: Any = None

    @property
    def structural(self) -> bool:
        return self.kind != "node_moved"


Listener = Callable[[GraphEvent], None]


class Graph:
    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: list[Edge] = []
        self._edge_set: set[Edge] = set()  # for O(1) duplicate checks when loading large files
        self._listeners: list[Listener] = []
        self._quiet = 0
        self.revision = 0  # bumps on every structural change; caches key on it
        self.topology_revision = 0  # bumps only when nodes or wires come or go

    # ---- events ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, event: GraphEvent) -> None:
        if event.structural:
            self.revision += 1
        if event.kind not in ("node_moved", "param_changed"):
            self.topology_revision += 1
        if self._quiet:
            return
        for listener in list(self._listeners):
            listener(event)

    # ---- reading --------------------------------------------------------------------------
    @property
    def nodes(self) -> dict[str, Node]:
        return self._nodes

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"there is no node '{node_id}'") from None

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def in_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges if e.target == node_id]

    def out_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges if e.source == node_id]

    def unique_id(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", base).lower() or "node"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = "n_" + base
        n = 1
        while f"{base}{n}" in self._nodes or is_reserved(f"{base}{n}"):
            n += 1
        return f"{base}{n}"

    # ---- editing --------------------------------------------------------------------------
    def add_node(self, type_name: str, params: dict | None = None, pos=(0.0, 0.0),
                 node_id: str | None = None) -> Node:
        node_id = node_id or self.unique_id(type_name)
        check_node_id(node_id, self._nodes)
        if node_id in self._nodes:
            raise GraphError(f"a node with id '{node_id}' already exists; ids must be unique")
        node = Node(node_id, type_name, dict(params or {}), (float(pos[0]), float(pos[1])))
        self._nodes[node_id] = node
        self._emit(GraphEvent("node_added", node_id))
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its wires; returns both so the removal can be undone."""
        node = self.node(node_id)
        edges = [e for e in self._edges if e.touches(node_id)]
        if edges:
            gone = set(edges)
            self._edges = [e for e in self._edges if e not in gone]
            self._edge_set -= gone
            for e in edges:
                self._emit(GraphEvent("edge_removed", e.target, e))
        del self._nodes[node_id]
        self._emit(GraphEvent("node_removed", node_id, value=node))
        return node, edges

    def connect(self, source: str, target: str, source_port: str | None = None,
                target_port: str | None = None, index: int | None = None) -> Edge:
        self.node(source), self.node(target)
        edge = Edge(source, target, source_port, target_port)
        if edge in self._edge_set:
            raise GraphError(f"'{source}' is already wired to '{target}' there")
        if index is None:
            self._edges.append(edge)
        else:
            self._edges.insert(index, edge)
        self._edge_set.add(edge)
        self._emit(GraphEvent("edge_added", target, edge))
        return edge

    def disconnect(self, edge: Edge) -> int:
        """Remove a wire; returns its position in the edge list (wire order matters for Concat)."""
        try:
            index = self._edges.index(edge)
        except ValueError:
            raise GraphError(f"there is no wire from '{edge.source}' to '{edge.target}'") from None
        del self._edges[index]
        self._edge_set.discard(edge)
        self._emit(GraphEvent("edge_removed", edge.target, edge))
        return index

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one param. None is a value (it means "not set" for optional params such as
        Upsample's scale_factor); reset_param goes back to the default. Values are checked by the
        analyzer, so a file's bad value is kept and reported rather than lost."""
        node = self.node(node_id)
        node.params[name] = copy.deepcopy(value)
        self._emit(GraphEvent("param_changed", node_id, name=name, value=value))

    def reset_param(self, node_id: str, name: str) -> None:
        """Forget a param's value, so the node uses the spec's default."""
        node = self.node(node_id)
        node.params.pop(name, None)
        self._emit(GraphEvent("param_changed", node_id, name=name, value=None))

    def move_node(self, node_id: str, pos) -> None:
        node = self.node(node_id)
        node.pos = (float(pos[0]), float(pos[1]))
        self._emit(GraphEvent("node_moved", node_id, value=node.pos))

    def rename_node(self, old: str, new: str) -> None:
        self.node(old)
        check_node_id(new, self._nodes)
        if new in self._nodes:
            raise GraphError(f"a node with id '{new}' already exists; ids must be unique")
        self._nodes = {(new if k == old else k): v for k, v in self._nodes.items()}
        self._nodes[new].id = new
        self._edges = [Edge(new if e.source == old else e.source, new if e.target == old else e.target,
                            e.source_port, e.target_port) for e in self._edges]
        self._edge_set = set(self._edges)
        self._emit(GraphEvent("node_renamed", old, name=new))

    def clear(self) -> None:
        self._nodes.clear()
        self._edges.clear()
        self._edge_set.clear()
        self._emit(GraphEvent("reset"))

    def batch(self) -> "_Batch":
        """`with graph.batch():` applies many edits and sends one `reset` event at the end."""
        return _Batch(self)

    # ---- copying --------------------------------------------------------------------------
    def copy(self) -> "Graph":
        g = Graph()
        g._nodes = {k: n.copy() for k, n in self._nodes.items()}
        g._edges = list(self._edges)
        g._edge_set = set(g._edges)
        return g

    def subgraph_data(self, node_ids: Iterable[str]) -> dict:
        """Plain records of some nodes and the wires between them (for copy/paste)."""
        ids = set(node_ids)
        return {
            "nodes": [{"id": n.id, "type": n.type, "params": copy.deepcopy(n.params), "pos": list(n.pos)}
                      for n in self._nodes.values() if n.id in ids],
            "edges": [edge_to_json(e) for e in self._edges if e.source in ids and e.target in ids],
        }


def edge_to_json(e: Edge) -> dict:
    rec = {"source": e.source, "target": e.target}
    if e.source_port is not None:
        rec["source_port"] = e.source_port
    if e.target_port is not None:
        rec["target_port"] = e.target_port
    return rec


class _Batch:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def __enter__(self) -> Graph:
        self.graph._quiet += 1
        return self.graph

    def __exit__(self, *exc) -> None:
        self.graph._quiet -= 1
        if not self.graph._quiet:
            self.graph._emit(GraphEvent("reset"))
