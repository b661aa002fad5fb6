"""The UI's one reading of the core's blocks (studio.core.blocks): what a block instance is, which
definition it uses, the path of the nodes inside it, the types on inner wires. Everything else in
studio/ui asks here, so a change in the core's spelling is one change."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from studio.core.graph import GraphError, GraphEventKind

BLOCK_TYPE = "Block"
INPUT_TYPE = "BlockInput"
OUTPUT_TYPE = "BlockOutput"
BLOCK_PORT_TYPES = (INPUT_TYPE, OUTPUT_TYPE)  # a definition's own ports: offered (palette, quick add) only inside one
BLOCKS_CHANGED = GraphEventKind.BLOCKS_CHANGED


def library(graph):
    """The graph's BlockLibrary (name -> BlockDef, shared by the root and every inner graph)."""
    return graph.blocks


def is_block(node) -> bool:
    return node is not None and node.type == BLOCK_TYPE


def block_name(node) -> str | None:
    return node.block if is_block(node) and isinstance(node.block, str) else None


def repeat_of(node) -> int:
    n = node.repeat
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def first_of(node) -> dict:
    return dict(node.first) if isinstance(node.first, dict) else {}


def definition_of(graph, node):
    """The BlockDef a node instantiates (None: not a block, or its definition is missing)."""
    name = block_name(node)
    return library(graph).get(name) if name is not None else None


def resolve(root, trail: list[str]) -> list[tuple[str, object]]:
    """(instance id, BlockDef) for each level of `trail` that still exists, from the root down."""
    out: list[tuple[str, object]] = []
    graph = root
    for iid in trail:
        bdef = definition_of(root, graph.nodes.get(iid))
        if bdef is None:
            break
        out.append((iid, bdef))
        graph = bdef.graph
    return out


def path_prefix(root, trail: list[str]) -> str:
    """The dotted path the analysis gives the nodes inside the block at the end of `trail` (the
    first copy of a repeated block: `layer2.0.`)."""
    parts: list[str] = []
    graph = root
    for iid, bdef in resolve(root, trail):
        parts.append(iid)
        if repeat_of(graph.node(iid)) > 1:
            parts.append("0")
        graph = bdef.graph
    return "".join(p + "." for p in parts)


def inner_analysis(analysis, trail: list[str]):
    """The analysis of the definition at the end of `trail`, as its first copy there was analysed
    (inner ids, its own problems and wire types); None when the block could not be analysed (an
    error before it: no types reach it)."""
    for iid in trail:
        info = analysis.nodes.get(iid) if analysis is not None else None
        inst = info.block if info is not None else None
        if inst is None or not inst.copies:
            return None
        analysis = inst.copies[0].analysis
    return analysis


def ports(bdef) -> tuple[list[str], list[str]]:
    """(input names, output names) of a definition, top first."""
    try:
        ins, outs = bdef.ports()
    except Exception:  # a definition the core could not read: no ports to draw
        return [], []
    return list(ins), list(outs)


def exposed(bdef) -> list:
    """The definition's exposed params, each with `.name`, `.kind`, `.default` (core Params)."""
    return list(getattr(bdef, "params", None) or [])


def param_values(node, bdef) -> dict:
    """The exposed params' values on an instance: its own, else the definition's defaults."""
    values = {p.name: p.default for p in exposed(bdef)}
    values.update({k: v for k, v in node.params.items() if k in values})
    return values


def instances(root, name: str) -> list[tuple[object, str]]:
    """(graph, instance id) of every instance of definition `name`, in the root and in every
    definition's inner graph."""
    lib = library(root)
    return [(root if holder is None else lib[holder].graph, node_id) for holder, node_id in lib.instances(name)]


def uses_closure(lib, name: str) -> list[str]:
    """`name` and every definition of `lib` it reaches, each after the ones it uses."""
    out, seen = [], set()

    def visit(n: str) -> None:
        if n in seen or n not in lib:
            return
        seen.add(n)
        for used in lib.uses(n):
            visit(used)
        out.append(n)

    visit(name)
    return out


def reaches(root, start: str, goal: str) -> bool:
    """Whether definition `start` is `goal` or uses it, directly or not (a block placed inside
    `goal` that reaches it would contain itself)."""
    return goal in uses_closure(library(root), start)


def definitions_record(root, name: str) -> dict:
    """{name: definition record} for `name` and what it uses, as a project's "blocks" section."""
    lib = library(root)
    return {n: to_record(lib[n]) for n in uses_closure(lib, name)}


def check_definitions(blocks: dict, source: str):
    """Check a "blocks" section as a project file's is checked (the core's messages), build it in a
    scratch library and return that (name -> BlockDef). Every definition it uses must be in it."""
    from studio.core.blocks_io import build_blocks, check_blocks
    from studio.core.graph import Graph
    from studio.core.project import MAX_NODES, ProjectError, check_graph, fill_graph

    checked = check_blocks(blocks, source, check_graph, MAX_NODES, MAX_NODES)
    scratch = Graph()
    try:
        build_blocks(scratch, checked, source, fill_graph)
    except GraphError as exc:
        raise ProjectError(f"{source}: {exc}") from None
    for name in scratch.blocks:
        missing = [u for u in scratch.blocks.uses(name) if u not in scratch.blocks]
        if missing:
            raise ProjectError(f"{source}: block '{name}' uses {missing[0]!r}, which the file does not hold")
    return scratch.blocks


def add_definition(root, name: str, record: dict) -> None:
    """Add a definition from its record (checked as a file's: the core's messages say what is wrong)."""
    _edit().add_definition(root, name, record)


def set_exposed_params(root, name: str, params) -> list:
    """Replace a definition's exposed params (checked); returns the old ones, for undo."""
    return _edit().set_exposed_params(root, name, params)


def remove_definition(root, name: str) -> None:
    _edit().remove_definition(root, name)


def to_record(bdef) -> dict:
    from studio.core.blocks_io import definition_to_json

    return definition_to_json(bdef)


# ---- exact undo of the structural block edits ---------------------------------------------------
def snapshot(graph) -> tuple[list, list]:
    """A graph's nodes (copies, in order) and wires (in order): what `restore` brings back."""
    return [n.copy() for n in graph.nodes.values()], graph.edges


def restore(graph, snap) -> None:
    """Make `graph` equal to `snap` again (node order, params, positions, wire order), touching only
    what differs: the nodes from the first one out of place on, and the wires from the first one
    out of place on. Call inside `graph.edit()`."""
    nodes, edges = snap
    current = list(graph.nodes.values())
    keep = 0
    while keep < min(len(nodes), len(current)) and _same_node(nodes[keep], current[keep]):
        keep += 1
    for node in current[keep:]:
        graph.remove_node(node.id)
    for node in nodes[keep:]:
        graph.add_node(node.type, copy.deepcopy(node.params), node.pos, node_id=node.id, **node.instance_fields())
    now = graph.edges
    first = 0
    while first < min(len(edges), len(now)) and edges[first] == now[first]:
        first += 1
    for edge in now[first:]:
        graph.disconnect(edge)
    for edge in edges[first:]:
        graph.connect(edge.source, edge.target, edge.source_port, edge.target_port)


def _same_node(a, b) -> bool:
    return (a.id, a.type, a.params, a.pos, a.instance_fields()) == (b.id, b.type, b.params, b.pos,
                                                                    b.instance_fields())


@dataclass
class UngroupRecord:
    before: tuple  # the graph's snapshot before
    node_ids: list[str]  # the nodes the block became
    definition: object = None  # the BlockDef removed with its last instance (and its position)
    index: int = 0


def _edit():
    from studio.core import blocks_edit

    return blocks_edit


def group(graph, node_ids, name: str) -> str:
    return _edit().group(graph, list(node_ids), name)


def make_unique(graph, instance_id: str, new_name: str) -> None:
    _edit().make_unique(graph, instance_id, new_name)


def ungroup_for_undo(root, graph, instance_id: str) -> UngroupRecord:
    """Ungroup (the core removes the definition with its last instance: the record keeps it)."""
    before = snapshot(graph)
    lib = library(root)
    name = graph.node(instance_id).block
    d = lib.get(name)
    index = lib.names().index(name) if d is not None else 0
    ids = list(_edit().ungroup(graph, instance_id))
    return UngroupRecord(before, ids, d if name not in lib else None, index)


def undo_ungroup(root, graph, record: UngroupRecord) -> None:
    d = record.definition
    if d is not None:
        library(root).add(d.name, d.graph, d.params, d.sequential, d.doc, index=record.index)
    restore(graph, record.before)


def why_not_group(graph, node_ids) -> str | None:
    """Why these nodes cannot become one block (None: they can). The model's Input and Output nodes
    and a block's own port nodes stay where they are: data enters and leaves a block by its ports."""
    for node_id in node_ids:
        node = graph.nodes.get(node_id)
        if node is not None and node.type in ("Input", "Output", INPUT_TYPE, OUTPUT_TYPE):
            return (f"{node.type} '{node_id}' cannot go into a block: data enters and leaves a block through "
                    "its ports. Select the layers between them")
    return None
