"""Edits of blocks as pure model operations, for the UI's undo commands: each runs inside one
`graph.edit()` and returns what its inverse needs.

- group(graph, ids, name) -> instance id; ungroup(graph, instance id) -> node ids. `ungroup` undoes
  `group` exactly (nodes, ids, params, positions, wires and their order) when the selection's wires
  were listed together in the file; otherwise the wires come back in an order that differs only
  between different targets (the order of the wires into each input, which Concat depends on, is kept).
- make_unique, add/remove/rename_definition, set_exposed_params, set_repeat: each returns the old
  state that the same operation puts back.
- capture(graph) / restore(graph, captured): an exact undo for any sequence of these.

`graph` is the graph holding the nodes or the instance: the root, or a definition's inner graph
(all share `graph.blocks`)."""
from __future__ import annotations

import copy
from typing import Any

from .blocks import BLOCK_INPUT, BLOCK_OUTPUT, BLOCK_TYPE, MAX_NESTING, BlockDef, ExposedParam
from .blocks_io import BlocksRefused, check_params, definition_to_json
from .graph import Edge, Graph, GraphError, suggest_id

COLUMN = 230.0  # how far left / right of the grouped nodes the port nodes sit
_KEEP: Any = object()


def _inner_graph(graph: Graph) -> Graph:
    return Graph(blocks=graph.blocks)


def _copy_nodes(src: Graph, dst: Graph, ids, rename: dict[str, str] | None = None) -> None:
    rename = rename or {}
    for node_id in ids:
        n = src.node(node_id)
        fields = n.instance_fields()
        if "shares" in fields:
            fields["shares"] = rename.get(fields["shares"], fields["shares"])
        dst.add_node(n.type, copy.deepcopy(n.params), n.pos, node_id=rename.get(n.id, n.id), **fields)


# ---- group / ungroup -------------------------------------------------------------------------
def group(graph: Graph, node_ids, name: str, instance_id: str | None = None) -> str:
    """Make the nodes `node_ids` one Block instance of a new definition `name`. Its ports are the
    wires that cross the selection's edge: one BlockInput per distinct outside source (named after
    the inner node it feeds first) and one BlockOutput per distinct inside source wired out."""
    ids = [n for n in graph.nodes if n in set(node_ids)]
    missing = [n for n in node_ids if n not in graph.nodes]
    if missing:
        raise GraphError(f"there is no node '{missing[0]}'")
    if not ids:
        raise GraphError("select the layers to group into a block first")
    io = [n for n in ids if graph.node(n).type in ("Input", "Output")]
    if io:
        raise GraphError(f"'{io[0]}' is the model's {graph.node(io[0]).type.lower()}, which stays outside blocks; "
                         "leave it out of the selection")
    if name in graph.blocks:
        raise GraphError(f"a block definition named '{name}' already exists; pick another name")
    inside = set(ids)
    split = [(a, b) for a in graph.nodes for b in [graph.node(a).shares] if b and (a in inside) != (b in inside)]
    if split:  # weights shared across the block's edge would have no owner on one side
        a, b = split[0]
        raise GraphError(f"'{a}' shares the weights of '{b}', and only one of them is selected; select both "
                         "or neither (or stop the sharing first)")
    edges = graph.edges
    inner_ids = set(ids)
    in_ports: dict[tuple, str] = {}  # (outside source, its port) -> BlockInput id
    out_ports: dict[tuple, str] = {}  # (inside source, its port) -> BlockOutput id
    inner_edges: list[Edge] = []
    for e in edges:
        src_in, dst_in = e.source in inside, e.target in inside
        if src_in and dst_in:
            inner_edges.append(e)
        elif dst_in:
            key = (e.source, e.source_port)
            if key not in in_ports:
                in_ports[key] = suggest_id(f"{e.target}_in", inner_ids)
                inner_ids.add(in_ports[key])
            inner_edges.append(Edge(in_ports[key], e.target, None, e.target_port))
        elif src_in:
            key = (e.source, e.source_port)
            if key not in out_ports:
                out_ports[key] = suggest_id(f"{e.source}_out", inner_ids)
                inner_ids.add(out_ports[key])
                inner_edges.append(Edge(e.source, out_ports[key], e.source_port, None))
    xs = [graph.node(n).pos[0] for n in ids]
    ys = [graph.node(n).pos[1] for n in ids]
    with graph.edit():
        inner = _inner_graph(graph)
        with inner.batch():
            _copy_nodes(graph, inner, ids)
            for port in in_ports.values():
                target = next(e.target for e in inner_edges if e.source == port)
                inner.add_node(BLOCK_INPUT, {}, (min(xs) - COLUMN, graph.node(target).pos[1]), node_id=port)
            for (src, _), port in out_ports.items():
                inner.add_node(BLOCK_OUTPUT, {}, (max(xs) + COLUMN, graph.node(src).pos[1]), node_id=port)
            for e in inner_edges:
                inner.connect(e.source, e.target, e.source_port, e.target_port)
        d = graph.blocks.add(name, inner)
        ins, outs = d.ports()
        final: list[Edge] = []  # the root's wires afterwards, in order
        inst = instance_id or graph.unique_id(name)
        seen_in: set[tuple] = set()
        for e in edges:
            src_in, dst_in = e.source in inside, e.target in inside
            if not src_in and not dst_in:
                final.append(e)
            elif dst_in and not src_in and (e.source, e.source_port) not in seen_in:
                seen_in.add((e.source, e.source_port))
                port = in_ports[(e.source, e.source_port)]
                final.append(Edge(e.source, inst, e.source_port, port if len(ins) > 1 else None))
            elif src_in and not dst_in:
                port = out_ports[(e.source, e.source_port)]
                final.append(Edge(inst, e.target, port if len(outs) > 1 else None, e.target_port))
        order = list(graph.nodes)
        at = order.index(ids[0])  # the instance takes the place of the first grouped node
        for n in ids:
            graph.remove_node(n)
        graph.add_node(BLOCK_TYPE, {}, (sum(xs) / len(xs), sum(ys) / len(ys)), node_id=inst, block=name, index=at)
        for index, e in enumerate(final):
            if e.touches(inst):
                graph.connect(e.source, e.target, e.source_port, e.target_port, index=index)
    return inst


def ungroup(graph: Graph, instance_id: str) -> list[str]:
    """Put the layers of a Block instance back in its place (its exposed-param values written into
    them); returns their ids (renamed where an id is taken). The definition goes too when nothing
    else uses it."""
    node = graph.node(instance_id)
    d = graph.blocks.get(node.block) if node.type == BLOCK_TYPE else None
    if d is None:
        raise GraphError(f"'{instance_id}' is not an instance of a block this project defines")
    if node.repeat != 1:
        raise GraphError(f"Block '{instance_id}' repeats {node.repeat} times; set repeat to 1 to ungroup it")
    overrides, disabled = _values(d, node)
    inner_edges = _bypass(d.graph.edges, disabled, instance_id)
    ins, outs = d.ports()
    ports = set(ins) | set(outs)
    layer_ids = [n for n in d.graph.nodes if n not in ports and n not in disabled]
    taken = set(graph.nodes) - {instance_id}
    rename: dict[str, str] = {}
    for n in layer_ids:
        if n in taken:
            rename[n] = suggest_id(n, taken | set(layer_ids) | set(rename.values()))
        taken.add(rename.get(n, n))
    root_edges = graph.edges
    into: dict[str, list[int]] = {}
    out_of: dict[str, list[int]] = {}
    for i, e in enumerate(root_edges):
        if e.target == instance_id:
            into.setdefault(e.target_port or (ins[0] if ins else ""), []).append(i)
        if e.source == instance_id:
            out_of.setdefault(e.source_port or (outs[0] if outs else ""), []).append(i)
    m = rename.get
    items: list[tuple[int | None, Edge]] = []  # (anchor: the root wire it takes the place of, wire)
    first_from: set[str] = set()
    for e in inner_edges:
        if e.source in ins and e.target in outs:
            for a in into.get(e.source, []):
                for b in out_of.get(e.target, []):
                    r, s = root_edges[a], root_edges[b]
                    items.append((b, Edge(r.source, s.target, r.source_port, s.target_port)))
        elif e.source in ins:
            anchored = e.source not in first_from
            first_from.add(e.source)
            for a in into.get(e.source, []):
                r = root_edges[a]
                items.append((a if anchored else None, Edge(r.source, m(e.target, e.target), r.source_port,
                                                            e.target_port)))
        elif e.target in outs:
            for b in out_of.get(e.target, []):
                s = root_edges[b]
                items.append((b, Edge(m(e.source, e.source), s.target, e.source_port, s.target_port)))
        elif e.source not in ports and e.target not in ports:
            items.append((None, Edge(m(e.source, e.source), m(e.target, e.target), e.source_port, e.target_port)))
    final = _merge(root_edges, instance_id, items)
    at = list(graph.nodes).index(instance_id)
    with graph.edit():
        graph.remove_node(instance_id)
        for i, n in enumerate(layer_ids):
            inner = d.graph.node(n)
            params = {**copy.deepcopy(inner.params), **copy.deepcopy(overrides.get(n, {}))}
            fields = inner.instance_fields()
            # the instance's fine-tuning marks held for everything inside it (multipliers compose)
            if node.frozen:
                fields["frozen"] = True
            if node.lr_mult != 1.0:
                fields["lr_mult"] = fields.get("lr_mult", 1.0) * node.lr_mult
            if "shares" in fields:
                fields["shares"] = m(fields["shares"], fields["shares"])
            graph.add_node(inner.type, params, inner.pos, node_id=m(n, n), index=at + i, **fields)
        kept = set(graph.edges)  # the wires that did not touch the instance
        for index, e in enumerate(final):
            if e not in kept:
                graph.connect(e.source, e.target, e.source_port, e.target_port, index=index)
        if not graph.blocks.instances(d.name):
            graph.blocks.remove(d.name)
    return [m(n, n) for n in layer_ids]


def _bypass(edges: list[Edge], disabled: set[str], instance_id: str) -> list[Edge]:
    """The definition's wires with each switched-off node taken out: its one input wired straight to
    where its output went (what the instance computes)."""
    for n in disabled:
        into = [e for e in edges if e.target == n]
        if len(into) != 1:
            raise GraphError(f"Block '{instance_id}' switches '{n}' off, but it has {len(into)} wires in; "
                             "fix the block before ungrouping it")
        src = into[0]
        edges = [Edge(src.source, e.target, src.source_port, e.target_port) if e.source == n else e
                 for e in edges if e is not src]
    return edges


def _merge(root_edges: list[Edge], instance_id: str, items: list[tuple[int | None, Edge]]) -> list[Edge]:
    """The root's wires with the instance's replaced: each anchored wire where the instance wire it
    replaces was, the unanchored ones right after the wire before them in the definition's order,
    except those after the last anchored one, which go last (where a skip wire drawn after the
    chain was)."""
    runs: dict[int, list[Edge]] = {}
    head: list[Edge] = []  # unanchored wires before any anchored one
    tail: list[Edge] = []  # unanchored wires after the last anchored one
    last: int | None = None
    for anchor, e in items:
        if anchor is not None:
            if last is not None:  # the run between two anchored wires follows the first of them
                runs[last].extend(tail)
                tail = []
            last = anchor
            runs.setdefault(last, []).append(e)
        elif last is None:
            head.append(e)
        else:
            tail.append(e)
    out: list[Edge] = []
    for i, e in enumerate(root_edges):
        if not e.touches(instance_id):
            out.append(e)
            continue
        out += head
        head = []
        out += runs.get(i, [])
    out += head + tail
    unique: dict[Edge, None] = dict.fromkeys(out)  # a wire made twice (two routes to one port) once
    return list(unique)


def _values(d: BlockDef, node) -> tuple[dict[str, dict], set[str]]:
    """What an instance's exposed params set on the inner nodes, and which they switch off."""
    overrides: dict[str, dict] = {}
    disabled: set[str] = set()
    for p in d.params:
        value = node.params.get(p.name, p.default)
        for t in p.targets:
            if t.param == "enabled":
                if value is False:
                    disabled.add(t.node)
            elif p.name in node.params:
                overrides.setdefault(t.node, {})[t.param] = copy.deepcopy(value)
    return overrides, disabled


# ---- definitions -------------------------------------------------------------------------------
def make_unique(graph: Graph, instance_id: str, new_name: str) -> str:
    """Give one instance its own copy of its definition, named `new_name`; returns the old name
    (undo: set_instance(block=old) and remove_definition(new_name))."""
    node = graph.node(instance_id)
    d = graph.blocks.get(node.block) if node.type == BLOCK_TYPE else None
    if d is None:
        raise GraphError(f"'{instance_id}' is not an instance of a block this project defines")
    with graph.edit():
        add_definition(graph, new_name, definition_to_json(d))
        graph.set_instance(instance_id, block=new_name)
    return d.name


def add_definition(graph: Graph, name: str, data: dict, index: int | None = None) -> BlockDef:
    """Add a definition from its record (as in a file's `blocks` section, or the user library),
    checked as a file's would be."""
    from .project import ProjectError, check_graph, fill_graph  # project imports blocks_io, not this module

    where = f"block '{name}'"
    if not isinstance(data, dict):
        raise GraphError(f"{where}: a definition must be an object with \"nodes\", \"edges\" and \"params\"")
    try:
        nodes, edges = check_graph(data.get("nodes", []), data.get("edges", []), "definition", where)
        params = check_params(data.get("params", []), {n["id"] for n in nodes}, where)
    except (ProjectError, BlocksRefused) as exc:
        raise GraphError(str(exc)) from None
    inner = _inner_graph(graph)
    with inner.batch():
        try:
            fill_graph(inner, copy.deepcopy(nodes), edges, where)
        except ProjectError as exc:
            raise GraphError(str(exc)) from None
    with graph.edit():
        d = graph.blocks.add(name, inner, params, bool(data.get("sequential", False)), str(data.get("doc", "")),
                             index=index)
    cycle = graph.blocks.find_cycle()
    chain = [] if cycle else graph.blocks.deepest()
    if cycle or len(chain) > MAX_NESTING:
        graph.blocks.remove(name)
        if cycle:
            raise GraphError(f"block '{name}' would contain itself ({' -> '.join(cycle)}); remove the instance "
                             "that closes the loop")
        raise GraphError(f"block '{name}' would make blocks nest {len(chain)} deep, more than the {MAX_NESTING} "
                         "this Python can analyse and run")
    return d


def remove_definition(graph: Graph, name: str) -> tuple[dict, int]:
    """Remove an unused definition; returns its record and position (undo: add_definition)."""
    users = graph.blocks.instances(name)
    if users:
        where = users[0][1] if users[0][0] is None else f"{users[0][0]}.{users[0][1]}"
        raise GraphError(f"block '{name}' is used by {len(users)} instance(s) (e.g. '{where}'); delete or "
                         "ungroup them first")
    record = definition_to_json(graph.blocks[name])
    with graph.edit():
        _, index = graph.blocks.remove(name)
    return record, index


def rename_definition(graph: Graph, old: str, new: str) -> None:
    """Rename a definition and every instance of it (undo: rename back)."""
    with graph.edit():
        graph.blocks.rename(old, new)


def set_exposed_params(graph: Graph, name: str, params) -> list[dict]:
    """Replace a definition's exposed params (records or ExposedParam); returns the old records."""
    d = graph.blocks[name]
    records = [p.to_json() if isinstance(p, ExposedParam) else p for p in params]
    try:
        checked = check_params(records, set(d.graph.nodes), f"block '{name}'")
    except BlocksRefused as exc:
        raise GraphError(str(exc)) from None
    with graph.edit():
        old = graph.blocks.set_params(name, checked)
    return [p.to_json() for p in old]


def set_repeat(graph: Graph, instance_id: str, n: int, first: Any = _KEEP) -> tuple[int, dict | None]:
    """Set an instance's repeat (and its copy-0 values, unless left out); returns the old
    (repeat, first) for undo."""
    node = graph.node(instance_id)
    if node.type != BLOCK_TYPE:
        raise GraphError(f"'{instance_id}' is not a block instance")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise GraphError(f"'repeat' must be a whole number of at least 1, got {n!r}")
    old = (node.repeat, copy.deepcopy(node.first))
    with graph.edit():
        if first is _KEEP:
            graph.set_instance(instance_id, repeat=n)
        else:
            graph.set_instance(instance_id, repeat=n, first=first)
    return old


# ---- exact undo for anything ---------------------------------------------------------------------
def capture(graph: Graph) -> dict:
    """Everything the block operations change: the graph's nodes and wires and every definition."""
    return {"nodes": [(n.copy()) for n in graph.nodes.values()], "edges": graph.edges,
            "blocks": [(d.name, definition_to_json(d)) for d in graph.blocks.definitions()]}


def restore(graph: Graph, captured: dict) -> None:
    """Put back what `capture` saw (one RESET event)."""
    wanted = dict(captured["blocks"])
    with graph.batch():
        # the definitions that changed go first, then come back at their places: those kept are in
        # the captured order already (nothing reorders the library), so no mix of old and new is formed
        for d in graph.blocks.definitions():
            if wanted.get(d.name) != definition_to_json(d):
                graph.blocks.remove(d.name)
        for index, (name, record) in enumerate(captured["blocks"]):
            if name not in graph.blocks:
                add_definition(graph, name, record, index)
        graph.clear()
        for n in captured["nodes"]:
            graph.add_node(n.type, copy.deepcopy(n.params), n.pos, node_id=n.id, **n.instance_fields())
        for e in captured["edges"]:
            graph.connect(e.source, e.target, e.source_port, e.target_port)
