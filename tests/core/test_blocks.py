"""Blocks (issue 15): the file format, the library, analysis through instances and the compiled
submodules, on a small two-stage ResNet (tests/core/blocks_mini.json: a BasicBlock definition with a
nested sequential Down shortcut, switched on by an exposed bool)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import studio
from studio.core.analysis import Analyzer, analyze
from studio.core.graph import GraphEventKind
from studio.core.project import ProjectError, loads_project

MINI = Path(__file__).with_name("blocks_mini.json")


def mini_record() -> dict:
    return json.loads(MINI.read_text())


def load(rec: dict):
    return loads_project(json.dumps(rec), source="mini.json")


def test_a_block_project_loads_saves_and_reloads_unchanged(tmp_path):
    project = studio.load_project(MINI)
    assert project.graph.blocks.names() == ["Down", "Basic"]
    basic = project.graph.blocks["Basic"]
    assert basic.ports() == (["x"], ["out"])
    assert [p.name for p in basic.params] == ["planes", "stride", "downsample"]
    assert project.graph.node("layer2").repeat == 2 and project.graph.node("layer2").first == {
        "stride": 2, "downsample": True}
    again = studio.load_project(project.save(tmp_path / "again.json"))
    assert again.to_json() == project.to_json()
    assert again.to_json()["version"] == 2


def test_shapes_flow_through_instances_and_their_copies():
    analysis = analyze(studio.load_project(MINI).graph)
    assert analysis.ok, [p.line() for p in analysis.problems]
    assert str(analysis.nodes["layer1"].output) == "[8, 16, 16]"
    assert str(analysis.nodes["layer2"].output) == "[16, 8, 8]"
    # `first` applies to copy 0 only: it downsamples, copy 1 keeps the size
    assert analysis.nodes["layer2.0.conv1"].params["stride"] == 2
    assert analysis.nodes["layer2.1.conv1"].params["stride"] == 1
    assert str(analysis.nodes["layer2.0.downsample.0"].output) == "[16, 8, 8]"
    assert analysis.nodes["layer1.0.downsample"].passthrough  # `enabled` false: the identity shortcut
    assert "layer2.1.nothing" not in analysis.nodes and "layer9.0.conv1" not in analysis.nodes
    assert list(analysis.nodes) == list(studio.load_project(MINI).graph.nodes)  # iteration: own nodes only


def test_the_compiled_model_nests_submodules_like_torchvision():
    import torch

    model = studio.build_model(studio.load_project(MINI))
    keys = list(model.state_dict())
    assert "layer1.0.conv1.weight" in keys and "layer2.1.bn2.running_var" in keys
    assert "layer2.0.downsample.0.weight" in keys and "layer2.0.downsample.1.bias" in keys
    assert not any(k.startswith(("layer1.0.downsample", "layer2.1.downsample")) for k in keys)
    assert isinstance(model.get_submodule("layer2"), torch.nn.Sequential)
    assert isinstance(model.get_submodule("layer2.0.downsample"), torch.nn.Sequential)
    assert model.get_submodule("layer2.0.conv1").stride == (2, 2)
    out = model(torch.randn(2, 3, 16, 16))
    assert out.shape == (2, 10)
    n_params = sum(p.numel() for p in model.parameters())
    from studio.core.summary import summarize

    assert summarize(studio.load_project(MINI).graph).total_params == n_params


def test_trace_and_export_work_on_a_block_model():
    import torch

    model = studio.build_model(studio.load_project(MINI)).eval()
    x = torch.randn(2, 3, 16, 16)
    want = model(x)
    traced = torch.jit.trace(model, (x,))
    assert torch.allclose(traced(x), want, atol=1e-6)
    scripted = torch.jit.script(model)
    assert torch.allclose(scripted(x), want, atol=1e-6)
    exported = torch.export.export(model, (x,))
    assert torch.allclose(exported.module()(x), want, atol=1e-6)


def test_a_problem_inside_names_the_path_and_the_fix():
    rec = mini_record()
    conv2 = next(n for n in rec["blocks"]["Basic"]["nodes"] if n["id"] == "conv2")
    conv2["params"]["kernel_size"] = 99
    analysis = analyze(load(rec).graph)
    assert not analysis.ok
    paths = [p.node_id for p in analysis.errors]
    assert paths[0] == "layer1.0.conv2"
    assert "Conv2d 'conv2'" in analysis.errors[0].message and "definition 'Basic'" in analysis.errors[0].message
    assert "kernel_size" in analysis.errors[0].message
    assert analysis.nodes["layer1"].error and "layer1.0.conv2" in analysis.nodes["layer1"].error
    assert analysis.problems_for("layer1")  # the instance's card shows what is wrong inside


def test_an_exposed_value_out_of_range_is_reported_on_the_instance():
    rec = mini_record()
    rec["nodes"][2]["params"]["planes"] = 0
    analysis = analyze(load(rec).graph)
    assert [p.node_id for p in analysis.errors] == ["layer1"]
    assert "'planes' must be at least 1" in analysis.errors[0].message


def test_editing_a_definition_tells_the_root_and_is_re_analysed():
    project = studio.load_project(MINI)
    graph = project.graph
    seen = []
    graph.subscribe(seen.append)
    analyzer = Analyzer(graph)
    assert str(analyzer.analysis().nodes["layer2"].output) == "[16, 8, 8]"
    inner = graph.blocks["Basic"].graph
    with inner.edit():
        inner.set_param("conv1", "padding", 0)
        inner.set_param("conv2", "padding", 0)
    assert [e.kind for e in seen] == [GraphEventKind.BLOCKS_CHANGED]  # one, at the end of the held edit
    assert seen[0].name == "Basic"
    # the shortcut keeps the size, so the Add now refuses: reported inside, with its path
    analysis = analyzer.analysis()
    assert not analysis.ok and analysis.errors[0].node_id == "layer1.0.add"


def test_a_block_that_contains_itself_is_refused_naming_the_cycle():
    rec = mini_record()
    rec["blocks"]["Down"]["nodes"].insert(1, {"id": "again", "type": "Block", "block": "Basic"})
    with pytest.raises(ProjectError, match=r"block '(Down|Basic)' reaches itself \((Down -> Basic -> Down|"
                                           r"Basic -> Down -> Basic)\)"):
        load(rec)
    rec = mini_record()
    rec["blocks"]["Down"]["nodes"].insert(1, {"id": "again", "type": "Block", "block": "Down"})
    with pytest.raises(ProjectError, match=r"block 'Down' contains an instance of itself \(Down -> Down\)"):
        load(rec)


def test_version_1_files_load_unchanged_and_save_as_version_2():
    rec = mini_record()
    flat = {"format": "netstudio", "version": 1, "name": "t", "nodes": rec["nodes"][:2],
            "edges": rec["edges"][:1], "training": {}}
    project = load(copy.deepcopy(flat))
    assert project.to_json()["version"] == 2 and "blocks" not in project.to_json()
    assert project.to_json()["nodes"] == [{**n, "pos": [0.0, 0.0]} for n in flat["nodes"]]


def test_a_definition_made_again_is_not_mistaken_for_the_old_one():
    from studio.core import blocks_edit as be
    from studio.core.graph import Graph
    from studio.core.project import check_graph, fill_graph

    project = studio.load_project(MINI)
    g = project.graph
    analyzer = Analyzer(g)
    assert str(analyzer.analysis().nodes["layer2"].output) == "[16, 8, 8]"
    snap = be.capture(g)
    record = json.loads(json.dumps(project.to_json()["blocks"]["Basic"]))
    record["nodes"][1]["params"]["kernel_size"] = 1  # the same revisions, another content
    record["nodes"][1]["params"]["padding"] = 0
    old = g.blocks["Basic"]
    g.blocks.remove("Basic")
    inner = Graph(blocks=g.blocks)  # made with the same steps as the file's: the same revision numbers
    fill_graph(inner, *[check_graph(record["nodes"], record["edges"], "t", "")[i] for i in (0, 1)], "t")
    g.blocks.add("Basic", inner, old.params)
    assert analyzer.analysis().nodes["layer2.0.conv1"].params["kernel_size"] == 1
    be.restore(g, snap)
    assert analyzer.analysis().nodes["layer2.0.conv1"].params["kernel_size"] == 3


def test_summary_rows_fold_under_their_instance_with_totals():
    from studio.core.summary import summarize

    report = summarize(studio.load_project(MINI).graph)
    rows = {r.id: r for r in report.rows}
    assert [r.id for r in report.top] == ["input", "stem", "layer1", "layer2", "pool", "flat", "fc"]
    assert rows["layer2"].type == "Basic" and rows["layer2"].depth == 0
    assert (rows["layer2.0"].depth, rows["layer2.0"].parent) == (1, "layer2")
    assert (rows["layer2.0.downsample.0"].depth, rows["layer2.0.downsample.0"].parent) == (3, "layer2.0.downsample")
    assert "layer1.0.downsample" not in rows  # switched off: no layer, no row
    assert rows["layer2"].params == rows["layer2.0"].params + rows["layer2.1"].params
    inner = [r for r in report.rows if r.parent == "layer2.0"]
    assert rows["layer2.0"].params == sum(r.params for r in inner)
    assert report.total_params == sum(r.params for r in report.top)
    js = report.to_json()["nodes"]
    assert {"depth": 2, "parent": "layer2.0"}.items() <= next(n for n in js if n["id"] == "layer2.0.conv1").items()
    assert "depth" not in next(n for n in js if n["id"] == "stem")
