"""Graph algorithms, by networkx: cycles, order, reachability and a layered left-to-right layout."""
from __future__ import annotations

import networkx as nx

from .graph import Graph

COLUMN_GAP = 240.0
ROW_GAP = 150.0


def to_networkx(graph: Graph) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_nodes_from(graph.nodes)
    for e in graph.edges:
        if e.source in graph.nodes and e.target in graph.nodes:
            g.add_edge(e.source, e.target)
    return g


def find_cycle(g: nx.MultiDiGraph) -> list[str] | None:
    """The nodes of one cycle, in order, or None."""
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return None
    return [edge[0] for edge in cycle]


def cycle_nodes(g: nx.MultiDiGraph) -> set[str]:
    """Every node that lies on some cycle."""
    out: set[str] = set()
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            out |= comp
        else:
            (n,) = comp
            if g.has_edge(n, n):
                out.add(n)
    return out


def topological_order(graph: Graph) -> list[str]:
    """Nodes in an order where every node follows its inputs; ties keep the document order."""
    g = to_networkx(graph)
    position = {n: i for i, n in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(g, key=position.__getitem__))


def reachable_from(g: nx.MultiDiGraph, sources) -> set[str]:
    out: set[str] = set()
    for s in sources:
        if s in g and s not in out:
            out |= nx.descendants(g, s) | {s}
    return out


def reaching(g: nx.MultiDiGraph, sinks) -> set[str]:
    out: set[str] = set()
    for s in sinks:
        if s in g and s not in out:
            out |= nx.ancestors(g, s) | {s}
    return out


def layered_layout(graph: Graph, column_gap: float = COLUMN_GAP,
                   row_gap: float = ROW_GAP) -> dict[str, tuple[float, float]]:
    """Left-to-right layers: a node's column is the longest path from a source; rows are ordered
    by the mean row of their inputs (one barycenter sweep) so that wires rarely cross."""
    g = nx.DiGraph(to_networkx(graph))
    g.remove_edges_from(nx.selfloop_edges(g))
    if not nx.is_directed_acyclic_graph(g):
        # cut back edges found by a DFS so the rest can still be layered
        g.remove_edges_from([(u, v) for u, v, d in nx.dfs_labeled_edges(g) if d == "nontree"
                             and v in nx.ancestors(g, u) | {u}])
    order = list(nx.topological_sort(g)) if nx.is_directed_acyclic_graph(g) else list(g)
    layer: dict[str, int] = {}
    for n in order:
        layer[n] = max((layer[p] + 1 for p in g.predecessors(n) if p in layer), default=0)
    columns: dict[int, list[str]] = {}
    doc_pos = {n: i for i, n in enumerate(graph.nodes)}
    for n in sorted(layer, key=doc_pos.__getitem__):
        columns.setdefault(layer[n], []).append(n)
    row: dict[str, float] = {}
    for col in sorted(columns):
        members = columns[col]

        def bary(n: str) -> float:
            preds = [row[p] for p in g.predecessors(n) if p in row]
            return sum(preds) / len(preds) if preds else doc_pos[n]

        members.sort(key=bary)
        for i, n in enumerate(members):
            row[n] = i
    positions = {}
    for col, members in columns.items():
        offset = (len(members) - 1) / 2.0
        for i, n in enumerate(members):
            positions[n] = (col * column_gap, (i - offset) * row_gap)
    return positions
