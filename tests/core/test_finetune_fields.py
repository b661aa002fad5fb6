"""Fine-tuning fields of a node (issue 17 item 5): `frozen` and `lr_mult` are optional node fields
(no format bump: a file without them reads as before), kept through save, copy, paste and grouping,
refused at load with the node and field named, and applied by the compiler (no gradients for a frozen
node; a frozen Block instance: everything inside, repeated copies included)."""
from __future__ import annotations

import copy
import json

import pytest

import studio
from studio.core import blocks_edit as be
from studio.core.graph import Graph, GraphError, GraphEventKind
from studio.core.project import ProjectError, loads_project
from studio.core.tuning import LR_MULT_ATTR
from tests.core.test_blocks import MINI, load, mini_record


def test_the_fields_round_trip_and_defaults_stay_out_of_the_file(tmp_path):
    rec = mini_record()
    nodes = {n["id"]: n for n in rec["nodes"]}
    nodes["layer1"]["frozen"] = True
    nodes["fc"]["lr_mult"] = 10
    rec["blocks"]["Basic"]["nodes"][1]["lr_mult"] = 0.5  # conv1 inside the definition
    project = load(rec)
    assert project.graph.node("layer1").frozen and project.graph.node("fc").lr_mult == 10.0
    assert not project.graph.node("stem").frozen and project.graph.node("stem").lr_mult == 1.0
    again = studio.load_project(project.save(tmp_path / "again.json"))
    saved = {n["id"]: n for n in again.to_json()["nodes"]}
    assert saved["layer1"]["frozen"] is True and saved["fc"]["lr_mult"] == 10.0
    assert "frozen" not in saved["stem"] and "lr_mult" not in saved["stem"]
    assert again.graph.blocks["Basic"].graph.node("conv1").lr_mult == 0.5
    assert again.to_json()["version"] == studio.load_project(MINI).to_json()["version"]  # no bump


@pytest.mark.parametrize("field, value, words", [
    pytest.param("lr_mult", 0, "\"lr_mult\" (the learning-rate multiplier) must be a positive number",
                 marks=pytest.mark.fault("project file", "a node's lr_mult is 0", "refused, naming the node and lr_mult")),
    pytest.param("lr_mult", -1, "must be a positive number",
                 marks=pytest.mark.fault("project file", "a node's lr_mult is negative", "refused, naming the node and lr_mult")),
    pytest.param("lr_mult", 10**400, "lr_mult is 100000... (a 401-digit number)", id="huge",
                 marks=pytest.mark.fault("project file", "a node's lr_mult is past the float range", "refused, naming the node and lr_mult")),
    pytest.param("lr_mult", "0.1", "must be a positive number",
                 marks=pytest.mark.fault("project file", "a node's lr_mult is text", "refused, naming the node and lr_mult")),
    pytest.param("frozen", "yes", "\"frozen\" must be true or false",
                 marks=pytest.mark.fault("project file", "a node's frozen is not true/false", "refused, naming the node and frozen")),
])
def test_a_bad_field_is_refused_naming_node_and_field(field, value, words):
    rec = mini_record()
    rec["nodes"][1][field] = value
    with pytest.raises(ProjectError, match="node 'stem'") as info:
        loads_project(json.dumps(rec), source="mini.json")
    assert words in str(info.value)


@pytest.mark.fault("project file", "lr_mult inf inside a block definition", "refused, naming the block and node")
def test_a_bad_field_inside_a_definition_names_the_block():
    text = json.dumps(mini_record()).replace('"id": "conv1"', '"id": "conv1", "lr_mult": -0.5', 1)
    with pytest.raises(ProjectError, match="block 'Basic': node 'conv1'"):
        loads_project(text, source="mini.json")


def test_set_tuning_emits_changes_and_returns_the_old_values_for_undo():
    g = Graph()
    g.add_node("Linear", {"out_features": 3}, node_id="fc")
    events = []
    g.subscribe(events.append)
    old = g.set_tuning("fc", frozen=True, lr_mult=0.1)
    assert old == {"frozen": False, "lr_mult": 1.0}
    assert [(e.kind, e.name) for e in events] == [(GraphEventKind.PARAM_CHANGED, "frozen"),
                                                 (GraphEventKind.PARAM_CHANGED, "lr_mult")]
    g.set_tuning("fc", **old)
    assert not g.node("fc").frozen and g.node("fc").lr_mult == 1.0
    with pytest.raises(GraphError, match="node 'fc': \"lr_mult\""):
        g.set_tuning("fc", lr_mult=float("nan"))
    assert g.node("fc").lr_mult == 1.0  # nothing half-set


def test_copy_paste_and_grouping_keep_the_fields():
    project = studio.load_project(MINI)
    g = project.graph
    g.set_tuning("stem", frozen=True, lr_mult=0.25)
    assert g.copy().node("stem").frozen and g.copy().node("stem").lr_mult == 0.25
    data = g.subgraph_data(["stem"])
    assert data["nodes"][0]["frozen"] is True and data["nodes"][0]["lr_mult"] == 0.25
    node = copy.deepcopy(g.node("stem"))
    assert node.copy() == g.node("stem")
    inst = be.group(g, ["stem"], "Stem")
    inner = g.blocks["Stem"].graph.node("stem")
    assert inner.frozen and inner.lr_mult == 0.25
    be.ungroup(g, inst)
    assert g.node("stem").frozen and g.node("stem").lr_mult == 0.25


def test_ungrouping_a_frozen_instance_keeps_its_layers_frozen_and_multiplies_the_rates():
    """What the instance's marks did to its layers (frozen: everything inside; multipliers compose)
    stays true of the layers once they stand on their own."""
    project = studio.load_project(MINI)
    g = project.graph
    before = {n: p.requires_grad for n, p in studio.build_model(project).named_parameters()}
    inst = be.group(g, ["stem"], "Stem")
    g.blocks["Stem"].graph.set_tuning("stem", lr_mult=0.5)
    g.set_tuning(inst, frozen=True, lr_mult=4)
    be.ungroup(g, inst)
    assert g.node("stem").frozen and g.node("stem").lr_mult == 2.0
    model = studio.build_model(project)
    assert [n for n, p in model.named_parameters() if not p.requires_grad] == \
        [n for n in before if n.startswith("stem.")] != []


def test_the_compiler_freezes_a_node_and_everything_in_a_frozen_instance():
    rec = mini_record()
    nodes = {n["id"]: n for n in rec["nodes"]}
    nodes["layer2"]["frozen"] = True  # a repeated instance: both copies
    nodes["stem"]["frozen"] = True
    nodes["fc"]["lr_mult"] = 5
    model = studio.build_model(load(rec))
    grads = {name: p.requires_grad for name, p in model.named_parameters()}
    assert grads and all(not v for k, v in grads.items() if k.startswith(("layer2.", "stem.")))
    assert any(k.startswith("layer2.1.") for k in grads)  # the second copy is frozen too
    assert all(v for k, v in grads.items() if k.startswith(("layer1.", "fc.")))
    assert getattr(model.fc, LR_MULT_ATTR) == 5.0 and not hasattr(model.stem, LR_MULT_ATTR)
    assert "fc.weight" in model.state_dict() and not any("netstudio" in k for k in model.state_dict())


def test_a_frozen_node_inside_a_definition_is_frozen_in_every_instance():
    rec = mini_record()
    text = json.dumps(rec).replace('"id": "conv1"', '"id": "conv1", "frozen": true', 1)
    model = studio.build_model(loads_project(text, source="mini.json"))
    conv1 = [p.requires_grad for name, p in model.named_parameters() if ".conv1." in name]
    assert len(conv1) >= 3 and not any(conv1)
    assert all(p.requires_grad for name, p in model.named_parameters() if ".conv2." in name)
