"""Automatic layout of an imported graph: layered left to right (a node one column right of its
furthest input), each column ordered by the mean height of the inputs, so wires mostly run straight.
A long chain wraps into bands of WRAP columns, one under the other, the way the templates are drawn,
so a fit-to-view keeps the cards readable instead of shrinking a 20-column row to headers."""
from __future__ import annotations

import networkx as nx

COLUMN = 280.0  # the spacing of the built-in templates
ROW = 170.0
WRAP = 5  # columns per band: about what a laptop's canvas shows at a zoom where card text is readable


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
    members_of: list[list[str]] = []
    for c in range(max(column.values(), default=-1) + 1):
        members = [n for n in graph.nodes if column[n] == c]

        def key(n):
            preds = [rows[p] for p in g.predecessors(n)]
            return (sum(preds) / len(preds) if preds else 0.0, order[n])
        members_of.append(sorted(members, key=key))
        for i, n in enumerate(members_of[-1]):
            rows[n] = float(i)
    top = 0.0  # the y of the current band
    for band in range(0, len(members_of), WRAP):
        columns = members_of[band:band + WRAP]
        for k, members in enumerate(columns):
            for i, n in enumerate(members):
                graph.move_node(n, (k * COLUMN, top + i * ROW))
        top += (max(len(m) for m in columns) + 0.5) * ROW
