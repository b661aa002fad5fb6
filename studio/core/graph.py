"""The document model: nodes, edges, positions and params, with change events.

The graph stores what a person drew, valid or not (a file may hold two wires into one port, or a
param out of range); the analyzer says what is wrong. Only plain data lives here; node types are
looked up by name in the registry when the graph is analysed or compiled.
"""
from __future__ import annotations

import copy
import keyword
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .graph_events import Edge, GraphError, GraphEvent, GraphEventKind, Listener
from .limits import fmt_value, is_finite_number
from .node_ids import check_node_id, derive_reserved, is_reserved, reserved_ids, suggest_id

__all__ = ["Edge", "Graph", "GraphError", "GraphEvent", "GraphEventKind", "Listener", "Node", "check_node_id",
           "derive_reserved", "edge_to_json", "is_reserved", "node_to_json", "reserved_ids", "suggest_id"]


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    pos: tuple[float, float] = (0.0, 0.0)
    # a Block instance (type "Block"): the definition's name, how many chained copies, and the
    # exposed-param values of copy 0 when repeat > 1 (see studio/core/blocks.py)
    block: str | None = None
    repeat: int = 1
    first: dict[str, Any] | None = None
    shares: str | None = None  # the id of the node whose weights this one uses (studio/core/sharing.py)
    # fine-tuning (docs/finetune.md): no gradients for its weights (a Block instance: all inside), and
    # a factor on the optimizer's learning rate for them
    frozen: bool = False
    lr_mult: float = 1.0

    def copy(self) -> "Node":
        return Node(self.id, self.type, copy.deepcopy(self.params), (self.pos[0], self.pos[1]),
                    self.block, self.repeat, copy.deepcopy(self.first), self.shares, self.frozen, self.lr_mult)

    def instance_fields(self) -> dict[str, Any]:
        """What the node holds beside its type, params and pos (a Block instance's fields, a share,
        the fine-tuning fields), as add_node's keywords."""
        fields: dict[str, Any] = {"shares": self.shares} if self.shares else {}
        if self.frozen:
            fields["frozen"] = True
        if self.lr_mult != 1.0:
            fields["lr_mult"] = self.lr_mult
        if self.block is None and self.repeat == 1 and self.first is None:
            return fields
        return {**fields, "block": self.block, "repeat": self.repeat, "first": copy.deepcopy(self.first)}




class Graph:
    def __init__(self, blocks=None) -> None:
        """`blocks`: the BlockLibrary to share (an inner graph of a definition); a root graph
        makes its own."""
        from .blocks import BlockLibrary

        self.blocks: BlockLibrary = blocks if blocks is not None else BlockLibrary(self)
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
                 node_id: str | None = None, *, block: str | None = None, repeat: int = 1,
                 first: dict | None = None, index: int | None = None, shares: str | None = None,
                 frozen: bool = False, lr_mult: float = 1.0) -> Node:
        """Add a node (at position `index` of the document order, else last); `block`, `repeat` and
        `first` are a Block instance's (see Node)."""
        node_id = node_id or self.unique_id(block.lower() if block and type_name == "Block" else type_name)
        check_node_id(node_id, self._nodes)
        if node_id in self._nodes:
            raise GraphError(f"a node with id '{node_id}' already exists; ids must be unique")
        node = Node(node_id, type_name, dict(params or {}), (float(pos[0]), float(pos[1])),
                    block, repeat, copy.deepcopy(first), shares, bool(frozen), check_lr_mult(lr_mult, node_id))
        if index is None or index >= len(self._nodes):
            self._nodes[node_id] = node
        else:  # the order matters: Inputs are the model's arguments in it, and ties of layout follow it
            items = list(self._nodes.items())
            items.insert(max(index, 0), (node_id, node))
            self._nodes = dict(items)
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
            reason = (_port_refusal(self.spec_of(src, registry), src, source_port, "output")
                      or _port_refusal(self.spec_of(dst, registry), dst, target_port, "input"))
            if reason:
                return reason
            dst_spec = self.spec_of(dst, registry)
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

    def spec_of(self, node: Node, registry):
        """The spec of a node: the registry's, or for a Block instance its definition's (None when
        the type or the definition is unknown)."""
        if node.type == "Block":
            d = self.blocks.get(node.block)
            return d.spec() if d is not None else None
        return registry.get(node.type)

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

    def set_tuning(self, node_id: str, *, frozen: bool | None = None, lr_mult: float | None = None) -> dict[str, Any]:
        """Freeze / unfreeze a node's weights and set its learning-rate multiplier (the ones given; a
        PARAM_CHANGED event named after each field); returns the old values, for undo."""
        node = self.node(node_id)
        changes = {k: v for k, v in (("frozen", frozen), ("lr_mult", lr_mult)) if v is not None}
        if "lr_mult" in changes:
            changes["lr_mult"] = check_lr_mult(changes["lr_mult"], node_id)
        old = {name: getattr(node, name) for name in changes}
        for name, value in changes.items():
            setattr(node, name, bool(value) if name == "frozen" else value)
            self._emit(GraphEvent(GraphEventKind.PARAM_CHANGED, node_id, name=name, value=value))
        return old

    def set_instance(self, node_id: str, **fields: Any) -> dict[str, Any]:
        """Set a Block instance's `block`, `repeat` and/or `first` (one PARAM_CHANGED event each,
        named after the field); returns the old values, for undo."""
        node = self.node(node_id)
        unknown = set(fields) - {"block", "repeat", "first"}
        if unknown:
            raise GraphError(f"a block instance has no field '{sorted(unknown)[0]}' (its fields: block, repeat, first)")
        old = {name: copy.deepcopy(getattr(node, name)) for name in fields}
        for name, value in fields.items():
            setattr(node, name, copy.deepcopy(value))
            self._emit(GraphEvent(GraphEventKind.PARAM_CHANGED, node_id, name=name, value=value))
        return old

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
        """A copy with its own copies of the block definitions (an inner graph's copy shares none:
        the definitions belong to the root)."""
        g = Graph()
        g._nodes = {k: n.copy() for k, n in self._nodes.items()}
        g._edges = list(self._edges)
        g._edge_set = set(g._edges)
        if self.blocks.root is self:
            self.blocks.copy_into(g.blocks)
        return g

    def subgraph_data(self, node_ids: Iterable[str]) -> dict:
        """Plain records of some nodes and the wires between them (for copy/paste)."""
        ids = set(node_ids)
        return {
            "nodes": [{"id": n.id, "type": n.type, "params": copy.deepcopy(n.params), "pos": list(n.pos),
                       **n.instance_fields()}
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


def check_lr_mult(value: Any, node_id: str) -> float:
    """A learning-rate multiplier: a positive finite number (as a float); else GraphError naming the node."""
    if isinstance(value, bool) or not is_finite_number(value) or value <= 0:
        raise GraphError(f"node '{node_id}': \"lr_mult\" (the learning-rate multiplier) must be a positive "
                         f"number such as 0.1 or 1, got {fmt_value(value)}")
    return float(value)


def node_to_json(n: Node) -> dict:
    """A node's record in a project file."""
    rec: dict[str, Any] = {"id": n.id, "type": n.type}
    if n.block is not None:
        rec["block"] = n.block
    if n.params:
        rec["params"] = n.params
    if n.repeat != 1:
        rec["repeat"] = n.repeat
    if n.first is not None:
        rec["first"] = n.first
    if n.shares:
        rec["shares"] = n.shares
    if n.frozen:
        rec["frozen"] = True
    if n.lr_mult != 1.0:
        rec["lr_mult"] = n.lr_mult
    rec["pos"] = [round(n.pos[0], 1), round(n.pos[1], 1)]
    return rec


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
