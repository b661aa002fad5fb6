"""The `blocks` section of a project file (version 2) and the fields of Block nodes: checked as plain
records before anything is built (every message names the definition, node and field), then built
into the graph's BlockLibrary. A definition that reaches itself is refused, naming the cycle."""
from __future__ import annotations

import math
from typing import Any, Callable

from .blocks import BLOCK_TYPE, ENABLED, INSTANCE_FIELDS, MAX_NESTING, ExposedParam, Target, check_block_name
from .graph import Graph, GraphError, edge_to_json, node_to_json
from .limits import MAX_INDEX, is_finite_number
from .spec import PARAM_KINDS, ParamError

RESERVED_PARAMS = frozenset(INSTANCE_FIELDS) | {ENABLED}  # an exposed param may not take these names


class BlocksRefused(ValueError):
    """The blocks section (or a Block node) cannot be read; project.py re-raises it as ProjectError."""


def _refuse(message: str):
    raise BlocksRefused(message)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def definition_to_json(d) -> dict:
    """A BlockDef's record in the `blocks` section."""
    rec: dict[str, Any] = {}
    if d.doc:
        rec["doc"] = d.doc
    if d.sequential:
        rec["sequential"] = True
    rec["params"] = [p.to_json() for p in d.params]
    rec["nodes"] = [node_to_json(n) for n in d.graph.nodes.values()]
    rec["edges"] = [edge_to_json(e) for e in d.graph.edges]
    return rec


def check_instance(n: dict, where: str) -> dict:
    """The Block fields of a node record (`block`, `repeat`, `first`); {} for other nodes."""
    if n.get("type") != BLOCK_TYPE:
        return {}
    block = n.get("block")
    if not isinstance(block, str) or not block:
        _refuse(f"{where} is a Block and needs \"block\": the name of a definition in \"blocks\", "
                f"got {_short(block)}")
    repeat = n.get("repeat", 1)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_INDEX:
        _refuse(f"{where}: \"repeat\" must be a whole number of at least 1 (how many chained copies), "
                f"got {_short(repeat)}")
    first = n.get("first")
    if first is not None and not isinstance(first, dict):
        _refuse(f"{where}: \"first\" must be an object of exposed-param values for copy 0, got {_short(first)}")
    return {"block": block, "repeat": repeat, "first": first}


def check_blocks(blocks: Any, source: str, check_graph: Callable, room: int, limit: int) -> dict:
    """Check the `blocks` section; `room`: how many more nodes the file may hold (of `limit`)."""
    if not isinstance(blocks, dict):
        _refuse(f"{source}: \"blocks\" must be an object of block definitions by name, got "
                f"{type(blocks).__name__}")
    out = {}
    for name, rec in blocks.items():
        try:
            check_block_name(name)
        except GraphError as exc:
            _refuse(f"{source}: \"blocks\": {exc}")
        where = f"{source}: block '{name}'"
        if not isinstance(rec, dict):
            _refuse(f"{where} must be an object with \"nodes\", \"edges\" and \"params\", got {_short(rec)}")
        nodes, edges, params = rec.get("nodes", []), rec.get("edges", []), rec.get("params", [])
        for key, value in (("nodes", nodes), ("edges", edges), ("params", params)):
            if not isinstance(value, list):
                _refuse(f"{where}: \"{key}\" must be a list, got {type(value).__name__}")
        room -= len(nodes)
        if room < 0:
            _refuse(f"{source}: holds more than the {limit} nodes allowed (counting those in \"blocks\")")
        doc, sequential = rec.get("doc", ""), rec.get("sequential", False)
        if not isinstance(doc, str):
            _refuse(f"{where}: \"doc\" must be text, got {_short(doc)}")
        if not isinstance(sequential, bool):
            _refuse(f"{where}: \"sequential\" must be true or false, got {_short(sequential)}")
        out_nodes, out_edges = check_graph(nodes, edges, source, f"block '{name}'")
        ids = {n["id"] for n in out_nodes}
        out[name] = {"doc": doc, "sequential": sequential, "nodes": out_nodes, "edges": out_edges,
                     "params": check_params(params, ids, where)}
    return out


def check_params(params: list, node_ids: set, where: str) -> list[ExposedParam]:
    out: list[ExposedParam] = []
    driven: dict[tuple, str] = {}
    for i, p in enumerate(params):
        at = f"{where}: param {i + 1}"
        if not isinstance(p, dict):
            _refuse(f"{at} must be an object with \"name\", \"kind\", \"default\" and \"targets\", got {_short(p)}")
        name = p.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            _refuse(f"{at} needs a \"name\" that is a Python identifier, got {_short(name)}")
        at = f"{where}: param '{name}'"
        if name in RESERVED_PARAMS:
            _refuse(f"{at}: the name is taken by a block instance's own fields ({', '.join(sorted(RESERVED_PARAMS))});"
                    " pick another")
        if any(q.name == name for q in out):
            _refuse(f"{at} appears twice; exposed param names must be unique")
        kind = p.get("kind")
        if kind not in PARAM_KINDS:
            _refuse(f"{at}: \"kind\" must be one of {', '.join(PARAM_KINDS)}, got {_short(kind)}")
        kw: dict[str, Any] = {"name": name, "kind": kind, "default": p.get("default")}
        for key, ok, what in (("doc", lambda v: isinstance(v, str), "text"),
                              ("min", is_finite_number, "a number"), ("max", is_finite_number, "a number"),
                              ("optional", lambda v: isinstance(v, bool), "true or false"),
                              ("arity", lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 8,
                               "a whole number from 1 to 8"),
                              ("choices", lambda v: isinstance(v, list) and all(
                                  isinstance(c, (str, int, float, bool)) and not (isinstance(c, float)
                                                                                  and not math.isfinite(c))
                                  for c in v), "a list of plain values")):
            if key in p:
                if not ok(p[key]):
                    _refuse(f"{at}: \"{key}\" must be {what}, got {_short(p[key])}")
                kw[key] = tuple(p[key]) if key == "choices" else p[key]
        targets = p.get("targets", [])
        if not isinstance(targets, list):
            _refuse(f"{at}: \"targets\" must be a list of {{\"node\", \"param\"}}, got {_short(targets)}")
        tt = []
        for t in targets:
            if not isinstance(t, dict) or not isinstance(t.get("node"), str) or not isinstance(t.get("param"), str):
                _refuse(f"{at}: each target must be {{\"node\": inner node id, \"param\": its param}}, got {_short(t)}")
            if t["node"] not in node_ids:
                _refuse(f"{at}: its target node '{t['node']:.60}' is not a node of this block")
            aim = (t["node"], t["param"])
            if aim in driven:
                _refuse(f"{at} and param '{driven[aim]}' both drive {t['node']:.60}.{t['param']:.60}; "
                        "keep one of them")
            driven[aim] = name
            tt.append(Target(t["node"], t["param"]))
        param = ExposedParam(**kw, targets=tuple(tt))
        try:
            param.coerce(param.default)
        except ParamError as exc:
            _refuse(f"{at}: its \"default\" is refused: {exc}")
        out.append(param)
    return out


def build_blocks(graph: Graph, blocks: dict, source: str, fill: Callable) -> None:
    """Add the checked definitions to graph.blocks; refuse a definition that reaches itself."""
    for name, rec in blocks.items():
        inner = Graph(blocks=graph.blocks)
        fill(inner, rec["nodes"], rec["edges"], f"{source}: block '{name}'")
        graph.blocks.add(name, inner, rec["params"], rec["sequential"], rec["doc"])
    cycle = graph.blocks.find_cycle()
    if cycle:
        loop = " -> ".join(cycle)
        what = "contains an instance of itself" if len(cycle) == 2 else "reaches itself"
        _refuse(f"{source}: block '{cycle[0]}' {what} ({loop}); a block cannot contain itself, "
                "directly or through other blocks: remove the instance that closes the loop")
    chain = graph.blocks.deepest()
    if len(chain) > MAX_NESTING:
        _refuse(f"{source}: blocks nest {len(chain)} deep ({' -> '.join(chain[:3])} -> ... -> {chain[-1]}), "
                f"more than the {MAX_NESTING} this Python can analyse and run; flatten some of them")
