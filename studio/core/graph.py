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
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterable, Iterator

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
    shares: str | None = None  # the id of the node whose weights this one uses (studio/core/sharing.py)

    def copy(self) -> "Node":
        return Node(self.id, self.type, copy.deepcopy(self.params), (self.pos[0], self.pos[1]), self.shares)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    source_port: str | None = None  # None: the node's first port
    target_port: str | None = None

    def touches(self, node_id: str) -> bool:
        return self.source == node_id or self.target == node_id


class GraphEventKind(str, Enum):
    """What a GraphEvent says happened. A `str` Enum, so a listener comparing with the plain
    name still works; studio/ compares with the members."""

    NODE_ADDED = "node_added"
    NODE_REMOVED = "node_removed"
    EDGE_ADDED = "edge_added"
    EDGE_REMOVED = "edge_removed"
    PARAM_CHANGED = "param_changed"
    NODE_MOVED = "node_moved"
    NODE_RENAMED = "node_renamed"
    RESET = "reset"  # everything may have changed (a file opened, a batch of edits applied)
    EDIT_DONE = "edit_done"  # the last event of one held edit (Graph.hold); changes nothing itself

    def __str__(self) -> str:
        return self.value

    @property
    def changes_wiring(self) -> bool:
        """Nodes or wires came or went (a move or a param edit leaves the topology alone)."""
        return self not in (GraphEventKind.NODE_MOVED, GraphEventKind.PARAM_CHANGED, GraphEventKind.EDIT_DONE)


@dataclass(frozen=True)
class GraphEvent:
    """What changed. `structural` is False for moves (which never change shapes) and for the
    end of a held edit."""

    kind: GraphEventKind
    node_id: str | None = None
    edge: Edge | None = None
    name: str | None = None  # param name, or the new id for node_renamed
    value: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", GraphEventKind(self.kind))  # a plain name is taken too

    @property
    def structural(self) -> bool:
        return self.kind not in (GraphEventKind.NODE_MOVED, GraphEventKind.EDIT_DONE)


Listener = Callable[[GraphEvent], None]


class Graph:
    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: list[Edge] = []
        self._edge_set: set[Edge] = set()  # for O(1) duplicate checks when loading large files
        self._listeners: list[Listener] = []
        self._quiet = 0
        self._held = 0  # depth of `with graph.edit():`
        self._held_changes = False
        self._wiring_cache: tuple | None = None
        self.revision = 0  # bumps on every structural change; caches key on it
        self.topology_revision = 0  # bumps only when nodes or wires come or go

    # ---- events ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, event: GraphEvent) -> None:
        if event.structural:
            self.revision += 1
        if event.kind.changes_wiring:
            self.topology_revision += 1
        if self._quiet:
            return
        if self._held and event.kind is not GraphEventKind.EDIT_DONE:
            self._held_changes = True
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
        self._emit(GraphEvent(GraphEventKind.NODE_ADDED, node_id))
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
                self._emit(GraphEvent(GraphEventKind.EDGE_REMOVED, e.target, e))
        del self._nodes[node_id]
        self._emit(GraphEvent(GraphEventKind.NODE_REMOVED, node_id, value=node))
        return node, edges

    def connect(self, source: str, target: str, source_port: str | None = None,
                target_port: str | None = None, index: int | None = None) -> Edge:
        """Store a wire. Only what cannot be stored is refused (a missing node, the same wire
        twice); a cycle or a second wire into one port is kept, as a file may hold it, and the
        analyzer reports it. Editors ask `check_connect` first."""
        edge = Edge(source, target, source_port, target_port)
        reason = self._unstorable(source, target, edge)
        if reason:
            raise GraphError(reason)
        if index is None:
            self._edges.append(edge)
        else:
            self._edges.insert(index, edge)
        self._edge_set.add(edge)
        self._emit(GraphEvent(GraphEventKind.EDGE_ADDED, target, edge))
        return edge

    def check_connect(self, source: str, target: str, source_port: str | None = None,
                      target_port: str | None = None, *, registry=None,
                      replacing: Edge | None = None) -> str | None:
        """Why the wire source -> target cannot be made, in the analyzer's words; None when it
        may. `registry` (anything with `.get(type name) -> spec`) adds the port checks; the wire
        `replacing` is treated as gone (a wire being re-plugged)."""
        edge = Edge(source, target, source_port, target_port)
        reason = self._unstorable(source, target, edge, replacing)
        if reason:
            return reason
        if source == target:
            return f"'{source}' cannot be wired to itself"
        src, dst = self._nodes[source], self._nodes[target]
        taken = None  # the spec's input port the wire goes into, when the registry tells it
        if registry is not None:
            reason = (_port_refusal(registry.get(src.type), src, source_port, "output")
                      or _port_refusal(registry.get(dst.type), dst, target_port, "input"))
            if reason:
                return reason
            dst_spec = registry.get(dst.type)
            taken = dst_spec.input_port(target_port) if dst_spec is not None else None
        if self._reaches(target, source, replacing):
            return f"Wiring '{source}' into '{target}' would make a cycle; a network must flow one way"
        if taken is not None and not taken.multi:
            others = [e for e in self._wiring()[1].get(target, ()) if e != replacing
                      and dst_spec.input_port(e.target_port) is taken]
            if others:
                name = f" '{taken.name}'" if len(dst_spec.inputs) > 1 else ""
                return (f"The input{name} of '{target}' already has a wire; drag that wire off first, "
                        "or merge both with Add or Concat")
        return None

    def _unstorable(self, source: str, target: str, edge: Edge, replacing: Edge | None = None) -> str | None:
        for node_id in (source, target):
            if node_id not in self._nodes:
                return f"there is no node '{node_id}'"
        if edge in self._edge_set and edge != replacing:
            return f"'{source}' is already wired to '{target}' there"
        return None

    def _wiring(self) -> tuple:
        """(wires out of each node, wires into each node, walks kept), rebuilt once per change of wiring so
        that a wire drag asking about every port of a large graph stays linear."""
        if self._wiring_cache is None or self._wiring_cache[0] != self.topology_revision:
            succ: dict[str, list[Edge]] = {}
            pred: dict[str, list[Edge]] = {}  # also the wires into each node
            for e in self._edges:
                succ.setdefault(e.source, []).append(e)
                pred.setdefault(e.target, []).append(e)
            self._wiring_cache = (self.topology_revision, succ, pred, {})
        return self._wiring_cache[1:]

    def _reaches(self, start: str, goal: str, replacing: Edge | None) -> bool:
        """Whether a path of wires (less `replacing`) leads from `start` to `goal`. The set of
        nodes downstream of `start` or upstream of `goal` is kept for the next question, so a drag
        that holds one end fixed walks the graph once."""
        succ, pred, seen_sets = self._wiring()
        down, up = seen_sets.get(("down", start, replacing)), seen_sets.get(("up", goal, replacing))
        if down is not None:
            return goal in down
        if up is not None:
            return start in up
        if len(seen_sets) > 64:
            seen_sets.clear()
        up = seen_sets[("up", goal, replacing)] = _walk(goal, pred, replacing, backwards=True)
        seen_sets[("down", start, replacing)] = _walk(start, succ, replacing, backwards=False)
        return start in up

    def disconnect(self, edge: Edge) -> int:
        """Remove a wire; returns its position in the edge list (wire order matters for Concat)."""
        try:
            index = self._edges.index(edge)
        except ValueError:
            raise GraphError(f"there is no wire from '{edge.source}' to '{edge.target}'") from None
        del self._edges[index]
        self._edge_set.discard(edge)
        self._emit(GraphEvent(GraphEventKind.EDGE_REMOVED, edge.target, edge))
        return index

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one param. None is a value (it means "not set" for optional params such as
        Upsample's scale_factor); reset_param goes back to the default. Values are checked by the
        analyzer, so a file's bad value is kept and reported rather than lost."""
        node = self.node(node_id)
        node.params[name] = copy.deepcopy(value)
        self._emit(GraphEvent(GraphEventKind.PARAM_CHANGED, node_id, name=name, value=value))

    def reset_param(self, node_id: str, name: str) -> None:
        """Forget a param's value, so the node uses the spec's default."""
        node = self.node(node_id)
        node.params.pop(name, None)
        self._emit(GraphEvent(GraphEventKind.PARAM_CHANGED, node_id, name=name, value=None))

    def set_shares(self, node_id: str, other: str | None) -> None:
        """Make `node_id` use the weights of `other` (None: its own again). Kept as given, like a
        param: the analyzer says when `other` cannot be shared (studio/core/sharing.py)."""
        node = self.node(node_id)
        node.shares = other
        self._emit(GraphEvent(GraphEventKind.PARAM_CHANGED, node_id, name="shares", value=other))

    def move_node(self, node_id: str, pos) -> None:
        node = self.node(node_id)
        node.pos = (float(pos[0]), float(pos[1]))
        self._emit(GraphEvent(GraphEventKind.NODE_MOVED, node_id, value=node.pos))

    def rename_node(self, old: str, new: str) -> None:
        self.node(old)
        check_node_id(new, self._nodes)
        if new in self._nodes:
            raise GraphError(f"a node with id '{new}' already exists; ids must be unique")
        self._nodes = {(new if k == old else k): v for k, v in self._nodes.items()}
        self._nodes[new].id = new
        for n in self._nodes.values():  # a node sharing the renamed one follows it
            if n.shares == old:
                n.shares = new
        self._edges = [Edge(new if e.source == old else e.source, new if e.target == old else e.target,
                            e.source_port, e.target_port) for e in self._edges]
        self._edge_set = set(self._edges)
        self._emit(GraphEvent(GraphEventKind.NODE_RENAMED, old, name=new))

    def clear(self) -> None:
        self._nodes.clear()
        self._edges.clear()
        self._edge_set.clear()
        self._emit(GraphEvent(GraphEventKind.RESET))

    @property
    def holding(self) -> bool:
        """Inside `with graph.edit():`: more changes of the same edit may follow."""
        return self._held > 0

    @contextmanager
    def edit(self) -> Iterator["Graph"]:
        """`with graph.edit():` makes several changes one edit. Listeners get every event as it
        happens (a view updates the items each names) and then one EDIT_DONE, so what depends on
        the whole graph (the analysis) runs once per edit instead of once per change."""
        self._held += 1
        try:
            yield self
        finally:
            self._held -= 1
            if not self._held and self._held_changes:
                self._held_changes = False
                self._emit(GraphEvent(GraphEventKind.EDIT_DONE))

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
            "nodes": [{"id": n.id, "type": n.type, "params": copy.deepcopy(n.params), "pos": list(n.pos),
                       **({"shares": n.shares} if n.shares else {})}
                      for n in self._nodes.values() if n.id in ids],
            "edges": [edge_to_json(e) for e in self._edges if e.source in ids and e.target in ids],
        }


_DIRECTION = "A wire runs from an output (right edge) to an input (left edge)"


def _port_refusal(spec, node: Node, port: str | None, side: str) -> str | None:
    """Why `node` (of `spec`, None when its type is unknown) has no `side` port named `port`."""
    if spec is None:
        return None  # an unknown type is reported by the analyzer; its ports are not known
    ports, other = (spec.outputs, spec.inputs) if side == "output" else (spec.inputs, spec.outputs)
    label = f"{node.type} '{node.id}'"
    if any(p.name == port for p in ports) or (port is None and ports):
        return None
    if port is not None and any(p.name == port for p in other):
        return (f"'{port}' is an {'input' if side == 'output' else 'output'} of {label}; "
                "a wire runs from an output to an input")
    if port is None:
        return f"{label} has no {side}s"
    names = ", ".join(p.name for p in ports) or "none"
    return f"{label} has no {side} port '{port}' (its {side}s: {names})"


def _walk(start: str, links: dict[str, list[Edge]], skip: Edge | None, backwards: bool) -> set[str]:
    """`start` and every node reached from it along `links`, not through the wire `skip`."""
    seen, todo = {start}, [start]
    while todo:
        for e in links.get(todo.pop(), ()):
            nxt = e.source if backwards else e.target
            if nxt not in seen and e != skip:
                seen.add(nxt)
                todo.append(nxt)
    return seen


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
            self.graph._emit(GraphEvent(GraphEventKind.RESET))
