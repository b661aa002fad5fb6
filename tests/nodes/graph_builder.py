"""Small graphs for the node tests, written as wires: "emb -> enc.src", "lstm.h_n -> h"."""
from __future__ import annotations

from studio.core import Graph, analyze
from studio.core.compiler import compile_graph


def _end(text: str) -> tuple[str, str | None]:
    node, _, port = text.strip().partition(".")
    return node, port or None


def graph(inputs: dict, layers: dict, wires: list[str], outputs=()) -> Graph:
    """inputs: id -> shape or (shape, dtype); layers: id -> (type, params); outputs: Output node ids."""
    g = Graph()
    for node_id, shape in inputs.items():
        shape, dtype = shape if isinstance(shape[-1], str) else (shape, "float32")
        g.add_node("Input", {"shape": list(shape), "dtype": dtype}, node_id=node_id)
    for node_id, (type_name, params) in layers.items():
        g.add_node(type_name, params, node_id=node_id)
    for node_id in outputs:
        g.add_node("Output", node_id=node_id)
    for w in wires:
        (src, sport), (dst, tport) = (_end(x) for x in w.split("->"))
        g.connect(src, dst, sport, tport)
    return g


def compiled(g: Graph):
    analysis = analyze(g)
    assert analysis.ok, [p.message for p in analysis.problems]
    return compile_graph(g, analysis=analysis).eval()


def errors(g: Graph) -> list[str]:
    return [p.message for p in analyze(g).problems if p.is_error]
