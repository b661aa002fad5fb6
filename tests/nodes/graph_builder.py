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


def export_matches(g: Graph, fmt: str, tmp_path, seed: int = 0) -> None:
    """Export `g` with random weights, load the file with the format's own runtime, and compare it
    with the compiled model on a batch the export's own check did not use."""
    import torch

    from studio.core.compiler import signature
    from studio.export import SUFFIXES, export
    from tests.export.helpers import TOL, batch_for, max_diff, randomized_checkpoint, run_exported

    ckpt = randomized_checkpoint(g, tmp_path / "weights.pt", seed=seed)
    out = tmp_path / f"model{SUFFIXES[fmt]}"
    report = export(g, fmt, out, checkpoint=ckpt)
    assert report.check is not None and report.check.passed, report.text()
    import studio

    reference = studio.build_model(g, checkpoint=ckpt).eval()
    reference.graph_source = g
    sig = signature(analyze(g))
    inputs = batch_for(reference, sig, batch=4)
    with torch.no_grad():
        expected = reference(*inputs)
    class_name = report.exporter.split("class ")[-1].rstrip(")") if fmt == "code" else None
    assert max_diff(expected, run_exported(fmt, out, inputs, reference, sig, class_name)) <= TOL


def through_a_project_file(g: Graph, tmp_path) -> Graph:
    """The graph as a person's project: saved to a file and opened again."""
    import studio
    from studio.core.project import Project

    path = Project("drawn", g).save(tmp_path / "drawn.json")
    return studio.load_project(path).graph
