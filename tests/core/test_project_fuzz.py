"""Hostile and broken project files: every case ends in a ProjectError with a message, or loads and
is analysed without a crash; none hangs, and the file on disk is never changed by opening it."""
from __future__ import annotations

import copy
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.core import analyze
from studio.core.compiler import CompileError, compile_graph
from studio.core.project import ProjectError, load_project, loads_project
from tests.conftest import template_paths

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
TEMPLATES = [json.loads(p.read_text()) for p in template_paths()]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _set(record, path, value):
    if not path:
        return value
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return record


def _open_and_analyse(text: str):
    try:
        project = loads_project(text, "fuzz.json")
    except ProjectError as exc:
        assert str(exc).startswith("fuzz.json") and len(str(exc)) < 400
        return
    analysis = analyze(project.graph)
    for p in analysis.errors:
        assert p.message
    if analysis.ok:
        try:
            compile_graph(project.graph, analysis=analysis)
        except CompileError as exc:
            assert "too large" in str(exc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(TEMPLATES) - 1), st.integers(0, 10**6), JSON)
@pytest.mark.fault("project file", 'any field of a template replaced by random JSON (hypothesis, 200 cases)', 'refused with a message naming the field, or opened and analysed; never a crash')
def test_a_template_with_one_field_replaced_by_anything(index, which, value):
    record = copy.deepcopy(TEMPLATES[index])
    paths = list(_paths(record))
    record = _set(record, paths[which % len(paths)], value)
    _open_and_analyse(json.dumps(record))


@settings(max_examples=100, deadline=None)
@given(JSON)
@pytest.mark.fault("project file", 'arbitrary JSON values (hypothesis)', 'refused with a message; never a crash')
def test_arbitrary_json(value):
    _open_and_analyse(json.dumps(value))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(TEMPLATES) - 1), st.floats(0, 1))
@pytest.mark.fault("project file", 'truncated project files (hypothesis)', 'refused: not valid JSON, with line and column')
def test_truncated_files(index, fraction):
    text = json.dumps(TEMPLATES[index])
    _open_and_analyse(text[: int(len(text) * fraction)])


@pytest.mark.fault("project file", 'random bytes, a 65 MiB file, 50,000-deep nesting', 'refused with a message; file on disk unchanged')
def test_random_bytes_and_huge_and_deep_files(tmp_path):
    rng = random.Random(0)
    for i in range(50):
        path = tmp_path / f"r{i}.json"
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        path.write_bytes(data)
        with pytest.raises(ProjectError):
            load_project(path)
        assert path.read_bytes() == data
    deep = tmp_path / "deep.json"
    deep.write_text('{"format": "netstudio", "version": 1, "training": ' + "[" * 50000 + "]" * 50000 + "}")
    with pytest.raises(ProjectError, match="nested too deeply|must be an object"):
        load_project(deep)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as fh:
        fh.truncate(65 * 2**20)
    with pytest.raises(ProjectError, match="too large for a project file"):
        load_project(huge)


@pytest.mark.fault("project file", 'a layer with 10^11 parameters', 'refused before allocating, naming the layer and its size')
def test_a_layer_too_large_to_build_is_refused_before_allocating():
    record = copy.deepcopy(TEMPLATES[0])
    record = {"format": "netstudio", "version": 1, "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [100000]}},
        {"id": "huge", "type": "Linear", "params": {"out_features": 1000000}}],
        "edges": [{"source": "x", "target": "huge"}]}
    project = loads_project(json.dumps(record))
    with pytest.raises(CompileError, match="Linear 'huge' has 100,001,000,000 parameters"):
        compile_graph(project.graph)


@pytest.mark.fault("project file", 'a 3,000-node file', 'opens and validates in seconds (no quadratic blow-up)')
def test_many_nodes_load_quickly():
    import time

    nodes = [{"id": "x", "type": "Input", "params": {"shape": [8]}}]
    edges = []
    for i in range(3000):
        nodes.append({"id": f"r{i}", "type": "ReLU"})
        edges.append({"source": nodes[-2]["id"], "target": f"r{i}"})
    text = json.dumps({"format": "netstudio", "version": 1, "nodes": nodes, "edges": edges})
    start = time.perf_counter()
    project = loads_project(text)
    assert analyze(project.graph).ok
    assert time.perf_counter() - start < 5


@pytest.mark.fault("project file", "an input 2**54 features wide feeding an LSTM (found by the fuzz test above)",
                   "refused as too large to build, naming the layer; never a traceback")
def test_weights_whose_size_overflows_are_too_large_not_a_crash():
    from studio.core.graph import Graph

    g = Graph()
    x = g.add_node("Input", {"shape": [5, 2**54]}, node_id="x")
    lstm = g.add_node("LSTM", {"hidden_size": 32}, node_id="lstm")
    g.connect(x.id, lstm.id)
    analysis = analyze(g)
    assert analysis.ok  # the shapes themselves are fine; only the weights overflow
    with pytest.raises(CompileError, match="lstm.*too large"):
        compile_graph(g, analysis=analysis)
