"""Blocks: reusable sub-graphs. A `BlockDef` is a graph of ordinary nodes plus its port nodes
(`BlockInput`, `BlockOutput`) and the params it exposes; a node of type `Block` instantiates one by
name. Every graph of a project (the root and each definition's inner graph) shares one
`BlockLibrary`, `graph.blocks`; a change inside a definition is told to the root graph as one
`BLOCKS_CHANGED` event, so an analysis of the root drops what it cached.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
from dataclasses import dataclass, fields
from typing import Any, Iterator, TypeAlias

from .graph_events import GraphError, GraphEvent, GraphEventKind
from .node_ids import check_node_id
from .spec import NodeSpec, Param, Port

Graph: TypeAlias = Any  # studio.core.graph.Graph, which imports this module (a type name here, to avoid a cycle)

BLOCK_TYPE = "Block"
BLOCK_INPUT = "BlockInput"
BLOCK_OUTPUT = "BlockOutput"
ENABLED = "enabled"  # the pseudo-param that turns a one-in one-out node into a pass-through
INSTANCE_FIELDS = ("block", "repeat", "first")  # what a Block node holds beside its params


@dataclass(frozen=True)
class Target:
    """Where an exposed param's value goes: param `param` of the inner node `node` (an ordinary
    param, `enabled`, or an exposed param of a nested block instance)."""

    node: str
    param: str

    def to_json(self) -> dict:
        return {"node": self.node, "param": self.param}


@dataclass(frozen=True)
class ExposedParam(Param):
    """A param of a definition, of the same value kinds as a layer's params, that drives `targets`."""

    targets: tuple[Target, ...] = ()

    def to_json(self) -> dict:
        rec: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": copy.deepcopy(self.default)}
        for f in ("doc", "min", "max", "optional"):
            value = getattr(self, f)
            if value not in ("", None, False):
                rec[f] = value
        if self.choices:
            rec["choices"] = list(self.choices)
        if self.kind == "size":
            rec["arity"] = self.arity
        rec["targets"] = [t.to_json() for t in self.targets]
        return rec

    @classmethod
    def from_json(cls, rec: dict) -> "ExposedParam":
        """From a record already checked by blocks_io (or made by the editing operations)."""
        kw = {f.name: rec[f.name] for f in fields(cls) if f.name in rec and f.name != "targets"}
        if "choices" in kw:
            kw["choices"] = tuple(kw["choices"])
        targets = tuple(t if isinstance(t, Target) else Target(t["node"], t["param"]) for t in rec.get("targets", ()))
        return cls(**kw, targets=targets)


_SERIALS = itertools.count()


def _retarget(p: ExposedParam, old: str | None, new: str | None) -> ExposedParam:
    if not any(t.node == old for t in p.targets) or new is None:
        return p
    return dataclasses.replace(p, targets=tuple(Target(new, t.param) if t.node == old else t for t in p.targets))


def _unbuilt(*_a, **_k):  # an instance is analysed by blocks_analysis, not by its spec
    raise RuntimeError("a Block instance is analysed through its definition")


def _no_layer(*_a, **_k):
    """An instance's module is built from its analysis (blocks_compile), not from its params alone; a
    caller that asks the spec gets no layer, as for a pure function."""
    return None


class BlockDef:
    """One definition: `graph` (its own Graph, sharing the library), `params` (ExposedParam),
    `sequential` (a chain compiled to nn.Sequential), `doc`. `revision` bumps on every change of
    what it computes; analyses key on it."""

    def __init__(self, name: str, graph: Graph, params=(), sequential: bool = False, doc: str = "") -> None:
        self.name = name
        self.graph = graph
        self.params: tuple[ExposedParam, ...] = tuple(params)
        self.sequential = bool(sequential)
        self.doc = doc
        self.revision = 0
        self.serial = next(_SERIALS)  # a definition removed and made again is another one to the caches
        self._spec: tuple[tuple, NodeSpec] | None = None

    def param(self, name: str) -> ExposedParam | None:
        return next((p for p in self.params if p.name == name), None)

    def port_nodes(self, type_name: str) -> list[str]:
        """The ids of the port nodes of one kind, top first (ties: document order)."""
        nodes = [n for n in self.graph.nodes.values() if n.type == type_name]
        order = {n.id: i for i, n in enumerate(self.graph.nodes.values())}
        return [n.id for n in sorted(nodes, key=lambda n: (n.pos[1], order[n.id]))]

    def ports(self) -> tuple[list[str], list[str]]:
        """(input port names, output port names): the BlockInput / BlockOutput ids, top first."""
        return self.port_nodes(BLOCK_INPUT), self.port_nodes(BLOCK_OUTPUT)

    def spec(self) -> NodeSpec:
        """A NodeSpec for its instances (ports, exposed params, doc), so the canvas and the port checks
        treat an instance like any node. Made again after each change of the definition."""
        if self._spec is None or self._spec[0] != self.revision_key():
            ins, outs = self.ports()
            spec = NodeSpec(type=BLOCK_TYPE, category="block", doc=self.doc or f"Block '{self.name}'",
                            infer=_unbuilt, build=_no_layer, params=self.params,
                            inputs=tuple(Port(p) for p in ins), outputs=tuple(Port(p) for p in outs),
                            key_params=tuple(p.name for p in self.params[:2]))
            self._spec = (self.revision_key(), spec)
        return self._spec[1]

    def revision_key(self) -> tuple:
        return (self.serial, self.revision, self.graph.revision)


def check_block_name(name: str, taken=()) -> None:
    """A definition's name becomes a class name in generated code: the node id rules apply."""
    try:
        check_node_id(name, taken)
    except GraphError as exc:
        raise GraphError(str(exc).replace("node id", "block name").replace("the layer", "the block")) from None


class BlockLibrary:
    """name -> BlockDef, shared by a root graph and every inner graph. Changes are told to the root
    graph as BLOCKS_CHANGED events (name: the definition; value: the inner event, if any)."""

    def __init__(self, root: Graph) -> None:
        self.root = root
        self._defs: dict[str, BlockDef] = {}
        self._unsubscribe: dict[str, Any] = {}
        self._pending: set[str] = set()  # definitions changed inside a held inner edit
        self.revision = 0
        self._deps: tuple[tuple, dict[str, tuple]] | None = None

    # ---- reading --------------------------------------------------------------------------
    def get(self, name: str | None) -> BlockDef | None:
        return self._defs.get(name) if isinstance(name, str) else None

    def __getitem__(self, name: str) -> BlockDef:
        found = self.get(name)
        if found is None:
            raise GraphError(f"there is no block definition '{name}'")
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._defs

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._defs))

    def __len__(self) -> int:
        return len(self._defs)

    def names(self) -> list[str]:
        return list(self._defs)

    def definitions(self) -> list[BlockDef]:
        return list(self._defs.values())

    def uses(self, name: str) -> list[str]:
        """The definitions the inner graph of `name` instantiates directly (in document order)."""
        d = self._defs[name]
        out: list[str] = []
        for n in d.graph.nodes.values():
            if n.type == BLOCK_TYPE and isinstance(n.block, str) and n.block not in out:
                out.append(n.block)
        return out

    def instances(self, name: str) -> list[tuple[str | None, str]]:
        """(definition holding it, None for the root; node id) of every instance of `name`."""
        out: list[tuple[str | None, str]] = [(None, n.id) for n in self.root.nodes.values()
                                             if n.type == BLOCK_TYPE and n.block == name]
        for d in self._defs.values():
            out += [(d.name, n.id) for n in d.graph.nodes.values() if n.type == BLOCK_TYPE and n.block == name]
        return out

    def find_cycle(self) -> list[str] | None:
        """A chain of definitions that reaches itself (`[A, B, A]`), or None."""
        state: dict[str, int] = {}  # 1: on the path, 2: done
        for start in self._defs:
            if state.get(start):
                continue
            path, todo = [start], [iter(self.uses(start))]
            state[start] = 1
            while todo:
                nxt = next(todo[-1], None)
                if nxt is None:
                    state[path.pop()] = 2
                    todo.pop()
                elif nxt in self._defs:
                    if state.get(nxt) == 1:
                        return path[path.index(nxt):] + [nxt]
                    if not state.get(nxt):
                        state[nxt] = 1
                        path.append(nxt)
                        todo.append(iter(self.uses(nxt)))
        return None

    def dependency_key(self, name: str) -> tuple:
        """(name, revision key) of `name` and of every definition it reaches: what its analysis
        depends on besides the param values and input types."""
        if self._deps is None or self._deps[0] != self._state():
            self._deps = (self._state(), {})
        memo = self._deps[1]
        if name not in memo:
            seen, todo = {name}, [name]
            while todo:
                current = todo.pop()
                for used in self.uses(current) if current in self._defs else ():
                    if used not in seen and used in self._defs:
                        seen.add(used)
                        todo.append(used)
            memo[name] = tuple((n, self._defs[n].revision_key()) for n in sorted(seen) if n in self._defs)
        return memo[name]

    def _state(self) -> tuple:
        return (self.revision, tuple(d.revision_key() for d in self._defs.values()))

    # ---- editing (each change is told to the root graph) -----------------------------------
    def add(self, name: str, graph: "Graph | None" = None, params=(), sequential: bool = False, doc: str = "",
            index: int | None = None) -> BlockDef:
        check_block_name(name, self._defs)
        if name in self._defs:
            raise GraphError(f"a block definition named '{name}' already exists; names must be unique")
        inner = graph if graph is not None else type(self.root)(blocks=self)
        inner.blocks = self
        d = BlockDef(name, inner, params, sequential, doc)
        items = list(self._defs.items())
        items.insert(len(items) if index is None else index, (name, d))
        self._defs = dict(items)
        self._watch(d)
        self._changed(name)
        return d

    def remove(self, name: str) -> tuple[BlockDef, int]:
        """Remove a definition; returns it and its position (for undo)."""
        d = self[name]
        index = list(self._defs).index(name)
        self._unsubscribe.pop(name)()
        del self._defs[name]
        self._changed(name)
        return d, index

    def rename(self, old: str, new: str) -> None:
        """Rename a definition and every instance's `block` that names it."""
        d = self[old]
        check_block_name(new, self._defs)
        if new in self._defs:
            raise GraphError(f"a block definition named '{new}' already exists; names must be unique")
        users = self.instances(old)
        self._unsubscribe.pop(old)()
        self._defs = {(new if k == old else k): v for k, v in self._defs.items()}
        d.name = new
        self._watch(d)
        for holder, node_id in users:
            graph = self.root if holder is None else self._defs[holder].graph
            graph.set_instance(node_id, block=new)
        self._changed(new)

    def set_params(self, name: str, params) -> tuple[ExposedParam, ...]:
        """Replace the exposed params; returns the old ones (for undo)."""
        d = self[name]
        old = d.params
        d.params = tuple(p if isinstance(p, ExposedParam) else ExposedParam.from_json(p) for p in params)
        d.revision += 1
        self._changed(name)
        return old

    def set_options(self, name: str, *, sequential: bool | None = None, doc: str | None = None) -> None:
        d = self[name]
        if sequential is not None:
            d.sequential = bool(sequential)
        if doc is not None:
            d.doc = doc
        d.revision += 1
        self._changed(name)

    def _watch(self, d: BlockDef) -> None:
        def forward(event: GraphEvent, d=d) -> None:
            if event.kind is GraphEventKind.NODE_MOVED:
                node = d.graph.nodes.get(event.node_id or "")
                if node is None or node.type not in (BLOCK_INPUT, BLOCK_OUTPUT):
                    return  # a move inside changes nothing the root computes
                d.revision += 1  # ports are ordered top first: moving a port node may reorder them
            if event.kind is GraphEventKind.NODE_RENAMED:  # the exposed params follow a renamed target
                old, new = event.node_id, event.name
                d.params = tuple(_retarget(p, old, new) for p in d.params)
                d.revision += 1
            if event.kind is GraphEventKind.EDIT_DONE:
                if d.name in self._pending:
                    self._pending.discard(d.name)
                    self._changed(d.name)
            elif d.graph.holding:
                self._pending.add(d.name)
            else:
                self._changed(d.name, event)

        self._unsubscribe[d.name] = d.graph.subscribe(forward)

    def _changed(self, name: str, inner: GraphEvent | None = None) -> None:
        self.revision += 1
        self.root._emit(GraphEvent(GraphEventKind.BLOCKS_CHANGED, name=name, value=inner))

    def copy_into(self, other: "BlockLibrary") -> None:
        """Copies of every definition into another (empty) library, quietly (for Graph.copy)."""
        for d in self._defs.values():
            inner = d.graph.copy()
            inner.blocks = other
            nd = BlockDef(d.name, inner, d.params, d.sequential, d.doc)
            other._defs[d.name] = nd
            other._watch(nd)
