"""The generated .py of a model made of blocks: one class per definition, written once however many
instances and repeats use it, with the arguments that differ between instances as its parameters;
its state_dict keys are the compiled model's and it computes what the model computes."""
from __future__ import annotations

import ast
import json

import pytest
import torch

import studio
from studio.bench.editor_blocks import resnet50_record
from studio.export import export
from studio.export.codegen.export import import_file

from .blocks_helpers import library, write, zoo_record
from .helpers import template


def generate(source, tmp_path, name="net.py"):
    out = tmp_path / name
    report = export(source, "code", out)
    assert report.check.passed
    text = out.read_text(encoding="utf-8")
    return text, getattr(import_file(out), report.exporter.split("class ")[-1].rstrip(")")), report


def classes(text: str) -> dict[str, ast.ClassDef]:
    return {n.name: n for n in ast.parse(text).body if isinstance(n, ast.ClassDef)}


def init_args(cls: ast.ClassDef) -> list[str]:
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    return [a.arg for a in init.args.args[1:]]


def same_keys_and_outputs(net, source) -> None:
    model = studio.build_model(studio.load_project(source)).eval()
    assert list(net.state_dict()) == list(model.state_dict())
    net.load_state_dict(model.state_dict())
    net.eval()
    from studio.core.analysis import analyze
    from studio.core.compiler import signature

    inputs = signature(analyze(model.graph_source if hasattr(model, "graph_source") else
                               studio.load_project(source).graph)).example_inputs(batch=2)
    with torch.no_grad():
        assert torch.allclose(net(*inputs), model(*inputs), atol=1e-5)


def test_resnet_digits_defines_basic_block_once_with_what_differs_as_parameters(tmp_path):
    text, net_class, _ = generate(template("resnet_digits"), tmp_path)
    found = classes(text)
    assert [n for n in found if n in ("BasicBlock", "Downsample")] == ["Downsample", "BasicBlock"]
    assert text.count("class BasicBlock(") == 1 and text.count("class Downsample(") == 1
    assert found["Downsample"].bases[0].attr == "Sequential"  # sequential: true -> nn.Sequential
    # planes, stride and the projection are the definition's params; the input width follows none
    assert init_args(found["BasicBlock"]) == ["in_channels", "planes", "stride", "downsample"]
    assert "(self, in_channels: int, planes: int = 64, stride: int = 1, downsample: bool = False)" in text
    assert "self.downsample = Downsample(out_channels=planes, stride=stride) if downsample else None" in text  # its own params, passed on
    assert "x if self.downsample is None else self.downsample(x)" in text
    assert "self.layer2 = nn.Sequential(" in text and text.count("BasicBlock(in_channels=") == 4
    assert "BasicBlock(in_channels=16, planes=32, stride=2, downsample=True)" in text
    same_keys_and_outputs(net_class(), template("resnet_digits"))


def test_resnet18_code_defines_basic_block_once_with_torchvisions_keys(tmp_path):
    """Issue 15's acceptance: the ResNet-18 template's generated .py defines BasicBlock once."""
    import torchvision

    text, net_class, _ = generate(template("resnet18"), tmp_path)
    assert text.count("class BasicBlock(") == 1 and text.count("class Downsample(") == 1
    assert text.count("BasicBlock(in_channels=") == 8
    net = net_class()
    theirs = torchvision.models.resnet18()
    assert {k: v.shape for k, v in net.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    net.load_state_dict(theirs.state_dict())  # strict: torchvision's weights go straight in


@pytest.mark.slow
def test_resnet50_of_bottlenecks_writes_two_classes_for_sixteen_copies(tmp_path):
    path = write(resnet50_record(image=64, classes=10), tmp_path / "resnet50.json")
    text, net_class, _ = generate(path, tmp_path)
    found = classes(text)
    assert set(found) >= {"Bottleneck", "Downsample"} and text.count("class Bottleneck(") == 1
    assert init_args(found["Bottleneck"]) == ["in_channels", "planes", "out_channels", "stride", "downsample"]
    assert init_args(found["Downsample"]) == ["in_channels", "out_channels", "stride"]
    assert text.count("Bottleneck(in_channels=") == 16
    net = net_class()
    reference = __import__("torchvision").models.resnet50(num_classes=10)
    assert {k: v.shape for k, v in net.state_dict().items()} == {k: v.shape for k, v in reference.state_dict().items()}


def test_every_built_in_image_block_generates_code_equal_to_the_model(tmp_path):
    path = write(zoo_record(), tmp_path / "zoo.json")
    text, net_class, _ = generate(path, tmp_path)
    found = classes(text)
    for name in ("BasicBlock", "Bottleneck", "Downsample", "Inception", "BasicConv2d", "InceptionConvs",
                 "InceptionPool", "UNetDown", "UNetUp", "DoubleConv"):
        assert text.count(f"class {name}(") == 1, name
    # the two InceptionConvs branches differ in their widths: parameters of the one class
    assert init_args(found["InceptionConvs"]) == ["reduce", "out_channels"]
    assert "def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:" in text  # UNetUp's ports
    same_keys_and_outputs(net_class(), path)


def _fold_record(shapes: list[list[int]]) -> dict:
    """Instances of one definition whose exposed param is the target shape of a Reshape: it is part of
    forward(), not of a constructor, so instances with different shapes cannot share a class."""
    definition = {"doc": "Reshape, then a Linear", "params": [
        {"name": "shape", "kind": "dims", "default": [-1], "targets": [{"node": "reshape", "param": "shape"}]}],
        "nodes": [{"id": "x", "type": "BlockInput", "params": {}, "pos": [0, 0]},
                  {"id": "reshape", "type": "Reshape", "params": {"shape": [-1]}, "pos": [230, 0]},
                  {"id": "fc", "type": "Linear", "params": {"out_features": 6}, "pos": [460, 0]},
                  {"id": "out", "type": "BlockOutput", "params": {}, "pos": [690, 0]}],
        "edges": [{"source": "x", "target": "reshape"}, {"source": "reshape", "target": "fc"},
                  {"source": "fc", "target": "out"}]}
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [6, 4]}, "pos": [0, 0]}]
    for i, shape in enumerate(shapes):
        nodes.append({"id": f"fold{i}", "type": "Block", "block": "Fold", "params": {"shape": shape},
                      "pos": [230 * (i + 1), 0]})
    nodes.append({"id": "output", "type": "Output", "params": {}, "pos": [230 * (len(shapes) + 1), 0]})
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"format": "netstudio", "version": 2, "name": "Folds", "nodes": nodes, "edges": edges,
            "blocks": {"Fold": definition}}


def test_instances_whose_forward_differs_get_a_class_each(tmp_path):
    path = write(_fold_record([[4, -1], [2, -1], [4, -1]]), tmp_path / "folds.json")
    text, net_class, _ = generate(path, tmp_path)
    assert text.count("class Fold(") == 1 and text.count("class Fold2(") == 1
    # fold0 and fold2 share a class; their Linears differ in width (6 and 3): a parameter of it
    assert "self.fold0 = Fold(in_features=6)" in text and "self.fold2 = Fold(in_features=3)" in text
    assert "self.fold1 = Fold2()" in text
    same_keys_and_outputs(net_class(), path)


def test_a_block_with_two_outputs_returns_a_tuple_the_model_unpacks(tmp_path):
    definition = {"doc": "Two heads on one input", "params": [], "nodes": [
        {"id": "x", "type": "BlockInput", "params": {}, "pos": [0, 0]},
        {"id": "a", "type": "Linear", "params": {"out_features": 5}, "pos": [230, 0]},
        {"id": "b", "type": "Linear", "params": {"out_features": 5}, "pos": [230, 160]},
        {"id": "left", "type": "BlockOutput", "params": {}, "pos": [460, 0]},
        {"id": "right", "type": "BlockOutput", "params": {}, "pos": [460, 160]}],
        "edges": [{"source": "x", "target": "a"}, {"source": "x", "target": "b"},
                  {"source": "a", "target": "left"}, {"source": "b", "target": "right"}]}
    record = {"format": "netstudio", "version": 2, "name": "Heads", "blocks": {"Heads": definition}, "nodes": [
        {"id": "input", "type": "Input", "params": {"shape": [7]}, "pos": [0, 0]},
        {"id": "heads", "type": "Block", "block": "Heads", "params": {}, "pos": [230, 0]},
        {"id": "sum", "type": "Add", "params": {}, "pos": [460, 0]},
        {"id": "output", "type": "Output", "params": {}, "pos": [690, 0]}],
        "edges": [{"source": "input", "target": "heads"},
                  {"source": "heads", "source_port": "left", "target": "sum"},
                  {"source": "heads", "source_port": "right", "target": "sum"},
                  {"source": "sum", "target": "output"}]}
    path = write(record, tmp_path / "heads.json")
    text, net_class, _ = generate(path, tmp_path)
    assert "-> tuple[torch.Tensor, torch.Tensor]:" in text
    same_keys_and_outputs(net_class(), path)


@pytest.mark.fault("export code", "a block definition whose name is taken by a layer class the file copies in",
                   "the block's class takes another name; the file defines both and computes the model")
def test_a_definition_named_like_a_copied_layer_class_gets_another_class_name(tmp_path):
    record = json.loads(template("transformer_blocks").read_text(encoding="utf-8"))
    blocks = record["blocks"]
    blocks["PositionalEncoding"] = blocks.pop("PreLNTransformerLayer")
    for n in record["nodes"]:
        if n.get("block") == "PreLNTransformerLayer":
            n["block"] = "PositionalEncoding"
    path = write(record, tmp_path / "clash.json")
    text, net_class, _ = generate(path, tmp_path)
    assert text.count("class PositionalEncoding(") == 1 and "class PositionalEncoding2(nn.Module)" in text
    assert library("pre_ln_transformer_layer")  # the library file itself is untouched
    same_keys_and_outputs(net_class(), path)


def _stage_record() -> dict:
    """A definition holding a repeated BasicBlock and a sequential definition whose middle layer a
    param switches off (an nn.Identity there), used by three instances that differ in all of it."""
    blocks = library("basic_block")
    blocks["Tail"] = {"doc": "Conv, optional Dropout, ReLU", "sequential": True, "params": [
        {"name": "drop", "kind": "bool", "default": True, "targets": [{"node": "dropout", "param": "enabled"}]},
        {"name": "width", "kind": "int", "default": 8, "min": 1, "targets": [{"node": "conv", "param": "out_channels"}]}],
        "nodes": [{"id": "x", "type": "BlockInput", "params": {}, "pos": [0, 0]},
                  {"id": "conv", "type": "Conv2d", "params": {"out_channels": 8, "kernel_size": 1}, "pos": [230, 0]},
                  {"id": "dropout", "type": "Dropout", "params": {"p": 0.5}, "pos": [460, 0]},
                  {"id": "relu", "type": "ReLU", "params": {}, "pos": [690, 0]},
                  {"id": "out", "type": "BlockOutput", "params": {}, "pos": [920, 0]}],
        "edges": [{"source": "x", "target": "conv"}, {"source": "conv", "target": "dropout"},
                  {"source": "dropout", "target": "relu"}, {"source": "relu", "target": "out"}]}
    blocks["Stage"] = {"doc": "Two BasicBlocks (the first projecting) and a Tail", "params": [
        {"name": "planes", "kind": "int", "default": 8, "min": 1,
         "targets": [{"node": "blocks", "param": "planes"}, {"node": "tail", "param": "width"}]},
        {"name": "drop", "kind": "bool", "default": True, "targets": [{"node": "tail", "param": "drop"}]}],
        "nodes": [{"id": "x", "type": "BlockInput", "params": {}, "pos": [0, 0]},
                  {"id": "blocks", "type": "Block", "block": "BasicBlock", "repeat": 2,
                   "first": {"stride": 2, "downsample": True}, "params": {"planes": 8}, "pos": [230, 0]},
                  {"id": "tail", "type": "Block", "block": "Tail", "params": {}, "pos": [460, 0]},
                  {"id": "out", "type": "BlockOutput", "params": {}, "pos": [690, 0]}],
        "edges": [{"source": "x", "target": "blocks"}, {"source": "blocks", "target": "tail"},
                  {"source": "tail", "target": "out"}]}
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [3, 16, 16]}, "pos": [0, 0]},
             {"id": "stage1", "type": "Block", "block": "Stage", "params": {"planes": 8}, "pos": [230, 0]},
             {"id": "stage2", "type": "Block", "block": "Stage", "params": {"planes": 16, "drop": False},
              "pos": [460, 0]},
             {"id": "stage3", "type": "Block", "block": "Stage", "params": {"planes": 16}, "pos": [690, 0]},
             {"id": "output", "type": "Output", "params": {}, "pos": [920, 0]}]
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"format": "netstudio", "version": 2, "name": "Stages", "nodes": nodes, "edges": edges, "blocks": blocks}


def test_nested_repeats_and_switched_off_layers_in_sequential_blocks(tmp_path):
    path = write(_stage_record(), tmp_path / "stages.json")
    text, net_class, _ = generate(path, tmp_path)
    for name in ("Stage", "Tail", "BasicBlock", "Downsample"):
        assert text.count(f"class {name}(") == 1, name
    found = classes(text)
    assert init_args(found["Stage"]) == ["in_channels", "planes", "drop"]
    assert "dropout = nn.Dropout() if drop else nn.Identity()" in text  # the numbering of the Sequential stays
    assert "super().__init__(conv, dropout, relu)" in text  # its layers named as in the definition
    assert init_args(found["Tail"]) == ["drop", "width"] and "self.tail = Tail(drop=drop, width=planes)" in text
    assert "self.blocks = nn.Sequential(" in text
    net = net_class()
    assert "stage2.tail.1.p" not in net.state_dict() and isinstance(net.stage2.tail[1], torch.nn.Identity)
    same_keys_and_outputs(net, path)


@pytest.mark.fault("export code", "a block's exposed param named like a class the generated __init__ calls",
                   "the class parameter takes another name, so the call still reaches the class")
def test_an_exposed_param_named_like_a_class_does_not_hide_it(tmp_path):
    record = json.loads(template("resnet_digits").read_text(encoding="utf-8"))
    block = record["blocks"]["BasicBlock"]
    block["params"][0]["name"] = "Downsample"  # was planes
    for n in record["nodes"]:
        if n.get("block") == "BasicBlock":
            n["params"] = {"Downsample": n["params"]["planes"]}
    path = write(record, tmp_path / "clash.json")
    text, net_class, _ = generate(path, tmp_path)
    assert "Downsample: int" not in text
    assert "self.downsample = Downsample(out_channels=32, stride=stride) if downsample else None" in text
    same_keys_and_outputs(net_class(), path)
