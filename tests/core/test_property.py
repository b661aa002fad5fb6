"""Random edit sequences never crash validation: a graph either compiles or every error it reports
names a node (or is a whole-graph message)."""
from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.core import Analyzer, Graph, GraphError, default_registry
from studio.core.compiler import compile_graph, signature

TYPES = sorted(t for t in default_registry().types())
PARAM_VALUES = st.one_of(st.integers(-4, 40), st.floats(-1, 3, allow_nan=False), st.booleans(),
                         st.sampled_from(["mean", "relu", "tanh", "nearest", None]),
                         st.lists(st.integers(-2, 9), min_size=0, max_size=4))

edit = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(TYPES)),
    st.tuples(st.just("remove"), st.integers(0, 30)),
    st.tuples(st.just("connect"), st.integers(0, 30), st.integers(0, 30), st.integers(0, 2)),
    st.tuples(st.just("disconnect"), st.integers(0, 60)),
    st.tuples(st.just("param"), st.integers(0, 30), st.integers(0, 6), PARAM_VALUES),
)


def apply(g: Graph, op) -> None:
    ids = list(g.nodes)
    registry = default_registry()
    try:
        if op[0] == "add":
            params = {"shape": [4, 6]} if op[1] == "Input" else {}
            g.add_node(op[1], params)
        elif op[0] == "remove" and ids:
            g.remove_node(ids[op[1] % len(ids)])
        elif op[0] == "connect" and ids:
            src, dst = ids[op[1] % len(ids)], ids[op[2] % len(ids)]
            spec = registry.get(g.node(dst).type)
            port = spec.inputs[op[3] % len(spec.inputs)].name if spec and spec.inputs else None
            g.connect(src, dst, None, port)
        elif op[0] == "disconnect" and g.edges:
            g.disconnect(g.edges[op[1] % len(g.edges)])
        elif op[0] == "param" and ids:
            node = g.node(ids[op[1] % len(ids)])
            spec = registry.get(node.type)
            if spec and spec.params:
                g.set_param(node.id, spec.params[op[2] % len(spec.params)].name, op[3])
    except GraphError:
        pass  # an edit the graph refuses outright (duplicate wire) is fine


@pytest.mark.fault("editing", "random sequences of edits (hypothesis)", "validation never crashes; errors name a node")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edit, min_size=1, max_size=25))
def test_random_edits_never_crash_validation(ops):
    g = Graph()
    g.add_node("Input", {"shape": [4, 6]}, node_id="input")
    analyzer = Analyzer(g)
    for op in ops:
        apply(g, op)
        analysis = analyzer.analysis()  # incremental, as the editor does after every edit
    fresh = Analyzer(g).analysis()
    assert [p.message for p in fresh.problems] == [p.message for p in analysis.problems]
    if analysis.ok:
        model = compile_graph(g, analysis=analysis).eval()
        with torch.no_grad():
            model(*signature(analysis).example_inputs(batch=2))
    else:
        for p in analysis.errors:
            assert p.node_id is None or p.node_id in g.nodes
            assert p.node_id is None or f"'{p.node_id}'" in p.message
