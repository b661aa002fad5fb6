"""The block editing operations (studio.core.blocks_edit) that the UI's undo commands wrap: group
and ungroup give back the original graph, ports follow the wires that cross the selection's edge,
and each operation's result puts the old state back."""
from __future__ import annotations

import json

import pytest

import studio
from studio.core import blocks_edit as be
from studio.core.analysis import analyze
from studio.core.graph import Graph, GraphError, GraphEventKind
from studio.core.project import Project
from tests.conftest import template_paths

from tests.core.test_blocks import MINI


def _layers(project) -> list[str]:
    return [n for n, node in project.graph.nodes.items() if node.type not in ("Input", "Output")]


def _per_target(edges: list[dict]) -> dict:
    out: dict = {}
    for e in edges:
        out.setdefault((e["target"], e.get("target_port")), []).append(e)
    return out


@pytest.mark.parametrize("path", template_paths(), ids=lambda p: p.stem)
def test_group_then_ungroup_gives_the_original_file(path):
    """Exactly the original file (node order, wire order) for the templates' selections; in general
    (a wire inside listed among outside wires) the same wires, in the same order into every input."""
    project = studio.load_project(path)
    before = project.to_json()
    layers = _layers(project)
    for chosen in (layers, layers[1:-1] or layers, layers[len(layers) // 3: 2 * len(layers) // 3] or layers):
        inst = be.group(project.graph, chosen, "Grouped")
        analysis = analyze(project.graph)
        assert analysis.ok, [p.line() for p in analysis.errors]
        be.ungroup(project.graph, inst)
        after = project.to_json()
        assert {k: v for k, v in after.items() if k != "edges"} == {k: v for k, v in before.items() if k != "edges"}
        assert _per_target(after["edges"]) == _per_target(before["edges"])
        assert after == before
        project = studio.load_project(path)


def _compare_outputs(flat: Graph, grouped: Graph, inst: str, inputs: int = 1) -> None:
    import torch

    torch.manual_seed(0)
    a = studio.build_model(flat).eval()
    b = studio.build_model(grouped).eval()
    state = a.state_dict()
    b.load_state_dict({k: state[k.split(".", 1)[1] if k.startswith(inst + ".") else k] for k in b.state_dict()})
    x = [torch.randn(3, 4) for _ in range(inputs)]
    assert torch.allclose(a(*x), b(*x))


def test_ports_follow_the_wires_that_cross_the_selection():
    g = Graph()
    g.add_node("Input", {"shape": [4]}, (0, 0), node_id="x")
    g.add_node("Input", {"shape": [4]}, (0, 100), node_id="y")
    g.add_node("Linear", {"out_features": 4}, (200, 0), node_id="a")
    g.add_node("Linear", {"out_features": 4}, (200, 100), node_id="b")
    g.add_node("Add", {}, (400, 0), node_id="mix")
    g.add_node("Concat", {}, (600, 0), node_id="cat")
    g.add_node("Linear", {"out_features": 2}, (800, 0), node_id="head")
    for s, t in [("x", "a"), ("x", "mix"), ("a", "cat"), ("y", "b"), ("b", "mix"), ("mix", "cat"), ("b", "cat"),
                 ("cat", "head")]:
        g.connect(s, t)
    project = Project("t", g)
    before = project.to_json()
    flat = g.copy()
    inst = be.group(g, ["a", "b", "mix"], "Mixer")
    d = g.blocks["Mixer"]
    # x crosses twice (into a and mix) but is one source: one BlockInput; y one more; three
    # different inside sources go out to cat: three BlockOutputs, top first
    assert d.ports() == (["a_in", "b_in"], ["a_out", "mix_out", "b_out"])
    assert [(e.source, e.source_port, e.target, e.target_port) for e in g.edges if e.touches(inst)] == [
        ("x", None, inst, "a_in"), (inst, "a_out", "cat", None), ("y", None, inst, "b_in"),
        (inst, "mix_out", "cat", None), (inst, "b_out", "cat", None)]
    analysis = analyze(g)
    assert analysis.ok, [p.line() for p in analysis.problems]
    assert str(analysis.nodes["cat"].output) == "[12]"
    # the wires into cat keep their order, so the model computes the same
    assert [e.source_port for e in g.in_edges("cat")] == ["a_out", "mix_out", "b_out"]
    _compare_outputs(flat, g, inst, inputs=2)  # two inputs in, three outputs out of one submodule
    be.ungroup(g, inst)
    assert project.to_json() == before
    assert "Mixer" not in g.blocks


def test_a_grouped_model_computes_what_the_flat_one_did():
    import torch

    g = Graph()
    g.add_node("Input", {"shape": [4]}, (0, 0), node_id="x")
    g.add_node("Linear", {"out_features": 4}, (200, 0), node_id="a")
    g.add_node("ReLU", {}, (400, 0), node_id="r")
    g.add_node("Add", {}, (600, 0), node_id="res")
    g.add_node("Linear", {"out_features": 2}, (800, 0), node_id="head")
    for s, t in [("x", "a"), ("a", "r"), ("r", "res"), ("x", "res"), ("res", "head")]:
        g.connect(s, t)
    flat = g.copy()
    inst = be.group(g, ["a", "r", "res"], "Residual")
    torch.manual_seed(0)
    _compare_outputs(flat, g, inst)


def test_group_is_one_edit_and_one_analysis():
    project = studio.load_project(template_paths()[0])
    kinds = []
    project.graph.subscribe(lambda e: kinds.append(e.kind))
    be.group(project.graph, _layers(project)[:2], "Two")
    assert kinds[-1] is GraphEventKind.EDIT_DONE and kinds.count(GraphEventKind.EDIT_DONE) == 1
    assert project.graph.holding is False


@pytest.mark.fault("editing", "grouping the model's Input, nothing, or under a taken name; ungrouping a repeated "
                   "block or a node that is not a block", "refused with a GraphError that says what to do")
def test_refused_edits_say_why():
    project = studio.load_project(MINI)
    g = project.graph
    with pytest.raises(GraphError, match="stays outside blocks"):
        be.group(g, ["input", "stem"], "X")
    with pytest.raises(GraphError, match="select the layers"):
        be.group(g, [], "X")
    with pytest.raises(GraphError, match="already exists"):
        be.group(g, ["stem"], "Basic")
    with pytest.raises(GraphError, match="set repeat to 1"):
        be.ungroup(g, "layer1")
    with pytest.raises(GraphError, match="not an instance"):
        be.ungroup(g, "stem")
    with pytest.raises(GraphError, match="used by 2 instance"):
        be.remove_definition(g, "Basic")
    assert project.to_json() == studio.load_project(MINI).to_json()  # nothing half-done


def test_ungroup_writes_the_instance_values_into_the_layers():
    project = studio.load_project(MINI)
    g = project.graph
    be.set_repeat(g, "layer2", 1)
    be.set_repeat(g, "layer1", 1)
    want = analyze(g).nodes["layer1"].output
    ids = be.ungroup(g, "layer1")  # its shortcut is off: the input goes straight into the Add
    assert "downsample" not in ids and ("stem", "add") in [(e.source, e.target) for e in g.edges]
    assert analyze(g).nodes["relu2"].output == want
    g = studio.load_project(MINI).graph
    be.set_repeat(g, "layer2", 1)
    g.set_instance("layer2", first=None)
    g.set_param("layer2", "downsample", True)
    g.set_param("layer2", "stride", 2)
    want = analyze(g).nodes["layer2"].output
    ids = be.ungroup(g, "layer2")
    assert "conv1" in ids and g.node("conv1").params["stride"] == 2 and g.node("conv1").params["out_channels"] == 16
    analysis = analyze(g)
    assert analysis.ok, [p.line() for p in analysis.errors]
    assert analysis.nodes["relu2"].output == want
    assert "Basic" in g.blocks  # layer1 still uses it


def test_the_other_operations_return_what_puts_them_back():
    project = studio.load_project(MINI)
    g = project.graph
    start = project.to_json()
    old = be.make_unique(g, "layer2", "Basic2")
    assert g.node("layer2").block == "Basic2" and g.blocks.instances("Basic") == [(None, "layer1")]
    g.set_instance("layer2", block=old)
    be.remove_definition(g, "Basic2")
    assert project.to_json() == start

    be.rename_definition(g, "Down", "Shortcut")
    assert g.blocks["Basic"].graph.node("downsample").block == "Shortcut"
    be.rename_definition(g, "Shortcut", "Down")
    assert project.to_json() == start

    old_params = be.set_exposed_params(g, "Basic", [p for p in g.blocks["Basic"].params if p.name != "planes"])
    assert [p.name for p in g.blocks["Basic"].params] == ["stride", "downsample"]
    be.set_exposed_params(g, "Basic", old_params)
    assert project.to_json() == start

    old_repeat = be.set_repeat(g, "layer1", 4)
    assert str(analyze(g).nodes["layer1"].output) == "[8, 16, 16]"
    be.set_repeat(g, "layer1", *old_repeat)
    assert project.to_json() == start

    data = json.loads(json.dumps(start["blocks"]["Down"]))
    be.add_definition(g, "Down2", data)
    assert "Down2" in g.blocks
    record, index = be.remove_definition(g, "Down2")
    assert record == data and index == 2
    assert project.to_json() == start


def test_capture_and_restore_undo_anything_exactly():
    project = studio.load_project(MINI)
    g = project.graph
    start = project.to_json()
    snap = be.capture(g)
    be.set_repeat(g, "layer1", 1)
    be.make_unique(g, "layer1", "Mine")
    be.group(g, ["pool", "flat"], "Head")
    be.restore(g, snap)
    assert project.to_json() == start
    assert analyze(g).ok


@pytest.mark.parametrize("path", template_paths(), ids=lambda p: p.stem)
def test_any_selection_groups_and_ungroups_to_the_same_wires(path):
    import random

    rng = random.Random(path.stem)
    for _ in range(6):
        project = studio.load_project(path)
        before = project.to_json()
        layers = _layers(project)
        chosen = rng.sample(layers, rng.randint(1, len(layers)))
        inst = be.group(project.graph, chosen, "Any")
        be.ungroup(project.graph, inst)
        after = project.to_json()
        # a selection scattered through the document comes back together, at the place of its first node
        assert sorted(after["nodes"], key=str) == sorted(before["nodes"], key=str), chosen
        assert _per_target(after["edges"]) == _per_target(before["edges"]), chosen


def test_grouping_the_residual_of_resnet_block_keeps_what_it_computes():
    import torch

    path = next(p for p in template_paths() if p.stem == "resnet_block")
    flat = studio.load_project(path).graph
    grouped = studio.load_project(path).graph
    inst = be.group(grouped, ["conv_a", "bn_a", "relu_a", "conv_b", "bn_b", "add"], "Residual")
    assert grouped.blocks["Residual"].ports() == (["conv_a_in"], ["add_out"])  # stem_relu crosses twice: one port
    torch.manual_seed(0)
    a, b = studio.build_model(flat).eval(), studio.build_model(grouped).eval()
    state = a.state_dict()
    b.load_state_dict({k: state[k.split(".", 1)[1] if k.startswith(inst + ".") else k] for k in b.state_dict()})
    x = torch.randn(2, 1, 8, 8)
    assert torch.allclose(a(x), b(x), atol=1e-6)
