"""Automatic layout of an imported graph: layered left to right (a node one column right of its
furthest input), each column ordered by the mean height of the inputs, so wires mostly run straight."""
from __future__ import annotations

import networkx as nx

COLUMN = 280.0  # the spacing of the built-in templates
ROW = 170.0


def layout(graph) -> None:
    """Place the nodes of `graph` (and of every block definition it holds)."""
    _place(graph)
    for d in graph.blocks.definitions():
        _place(d.graph)


def _place(graph) -> None:
    g = nx.MultiDiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.source, e.target) for e in graph.edges)
    if not nx.is_directed_acyclic_graph(g):
        return  # an imported forward is acyclic; keep the positions otherwise
    order = {n: i for i, n in enumerate(graph.nodes)}
    column: dict[str, int] = {}
    for n in nx.topological_sort(g):
        column[n] = max((column[p] + 1 for p in g.predecessors(n)), default=0)
    rows: dict[str, float] = {}
    for c in range(max(column.values(), default=-1) + 1):
        members = [n for n in graph.nodes if column[n] == c]
        def key(n):
            preds = [rows[p] for p in g.predecessors(n)]
            return (sum(preds) / len(preds) if preds else 0.0, order[n])
        for i, n in enumerate(sorted(members, key=key)):
            rows[n] = float(i)
            graph.move_node(n, (c * COLUMN, i * ROW))
