"""What an export refuses inside a block is named by its path in the model (`stage.1.hist`,
`layer2.0.conv1`), as the analysis names problems inside blocks, not just by the instance."""
from __future__ import annotations

import pytest
import torch

import studio
from studio.export import ExportError, export

from .blocks_helpers import write
from .custom_nodes import registered
from .helpers import template


def _wrapped(type_name: str, repeat: int = 2) -> dict:
    """Linear -> a block (Linear, the odd layer, Linear) repeated -> Linear."""
    definition = {"doc": "A layer some format cannot express, between two Linears", "params": [], "nodes": [
        {"id": "x", "type": "BlockInput", "params": {}, "pos": [0, 0]},
        {"id": "fc", "type": "Linear", "params": {"out_features": 4}, "pos": [230, 0]},
        {"id": "odd", "type": type_name, "params": {}, "pos": [460, 0]},
        {"id": "out", "type": "BlockOutput", "params": {}, "pos": [690, 0]}],
        "edges": [{"source": "x", "target": "fc"}, {"source": "fc", "target": "odd"}, {"source": "odd", "target": "out"}]}
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [6]}, "pos": [0, 0]},
             {"id": "fc", "type": "Linear", "params": {"out_features": 4}, "pos": [230, 0]},
             {"id": "stage", "type": "Block", "block": "Odd", "repeat": repeat, "params": {}, "pos": [460, 0]},
             {"id": "head", "type": "Linear", "params": {"out_features": 2}, "pos": [690, 0]}]
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"format": "netstudio", "version": 2, "name": "Odd", "nodes": nodes, "edges": edges,
            "blocks": {"Odd": definition}}


@pytest.mark.fault("export", "a layer with no ONNX operator inside a repeated block",
                   "refused naming the layer by its path in the model (stage.0.odd)")
def test_a_layer_onnx_cannot_express_inside_a_block_is_named_by_its_path(tmp_path):
    path = write(_wrapped("TestHistogram"), tmp_path / "odd.json")
    with registered():
        with pytest.raises(ExportError) as info:
            export(path, "onnx", tmp_path / "m.onnx")
        assert export(path, "pt2", tmp_path / "m.pt2").check.passed  # the other formats still take it
    assert "TestHistogram 'stage.0.odd'" in str(info.value) and "histc" in str(info.value)


@pytest.mark.fault("export", "a layer torch.export cannot capture inside a block",
                   "refused naming the layer by its path in the model")
def test_value_dependent_control_flow_inside_a_block_is_named_for_pt2(tmp_path):
    path = write(_wrapped("TestSignSwitch", repeat=1), tmp_path / "odd.json")
    with registered():
        with pytest.raises(ExportError) as info:
            export(path, "pt2", tmp_path / "m.pt2")
    assert "TestSignSwitch 'stage.odd'" in str(info.value) and "torch.export" in str(info.value)


@pytest.mark.fault("export", "NaN weights inside a block (a diverged run's checkpoint)",
                   "refused before any exporter runs, naming the layer by its path")
def test_nan_weights_inside_a_block_name_the_layer(tmp_path):
    model = studio.build_model(studio.load_project(template("resnet_digits")))
    state = model.state_dict()
    state["layer2.0.downsample.0.weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, tmp_path / "diverged.pt")
    with pytest.raises(ExportError) as info:
        export(template("resnet_digits"), "state_dict", tmp_path / "m.pt", checkpoint=tmp_path / "diverged.pt")
    message = str(info.value)
    assert "Conv2d 'layer2.0.downsample.0': layer2.0.downsample.0.weight holds 1 NaN" in message
    assert not (tmp_path / "m.pt").exists()
