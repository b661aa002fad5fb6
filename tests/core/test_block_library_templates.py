"""The two templates made of blocks: a small ResNet on the embedded 8x8 digits and a Transformer
classifier whose layers are one repeated pre-LN block. Each is what it says (blocks, torchvision-style
keys, the parameter count of the same network built by hand) and learns in a short run."""
from __future__ import annotations

import pytest
from torch import nn

import studio
from studio.training.trainer import Trainer
from tests.conftest import TEMPLATES


def params_of(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def best_val_accuracy(name: str, epochs: int) -> float:
    trainer = Trainer.from_project(studio.load_project(TEMPLATES / f"{name}.json"), {"epochs": epochs, "device": "cpu"})
    result = trainer.fit()
    assert result.status == "finished", result.message
    return max(r["accuracy"] for r in result.history if r["split"] == "val")


def test_resnet_digits_is_two_stages_of_basic_blocks():
    from torchvision.models.resnet import BasicBlock, conv1x1

    project = studio.load_project(TEMPLATES / "resnet_digits.json")
    assert project.training["dataset"] == {"name": "digits"}  # the embedded default, as the other digits templates
    stages = {n.id: n for n in project.graph.nodes.values() if n.type == "Block"}
    assert {(n.block, n.repeat) for n in stages.values()} == {("BasicBlock", 2)}
    model = studio.build_model(project)
    keys = set(model.state_dict())
    assert {"layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var"} <= keys
    assert not any(k.startswith("layer1.0.downsample") for k in keys)
    by_hand = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        BasicBlock(16, 16), BasicBlock(16, 16),
        BasicBlock(16, 32, 2, downsample=nn.Sequential(conv1x1(16, 32, 2), nn.BatchNorm2d(32))), BasicBlock(32, 32),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
    assert params_of(model) == params_of(by_hand)


def test_transformer_blocks_layers_are_one_repeated_block():
    project = studio.load_project(TEMPLATES / "transformer_blocks.json")
    (layers,) = [n for n in project.graph.nodes.values() if n.type == "Block"]
    assert (layers.block, layers.repeat) == ("PreLNTransformerLayer", 2)
    assert project.graph.blocks.names() == ["PreLNTransformerLayer"]
    model = studio.build_model(project)
    assert "layers.1.self_attn.in_proj_weight" in model.state_dict()
    layer = nn.TransformerEncoderLayer(64, 4, 128, activation="gelu", batch_first=True, norm_first=True)
    by_hand = params_of(nn.Embedding(20, 64)) + 2 * params_of(layer) + params_of(nn.LayerNorm(64)) + params_of(
        nn.Linear(64, 4))
    assert params_of(model) == by_hand


@pytest.mark.slow
def test_resnet_digits_learns_the_digits_in_three_epochs():
    assert best_val_accuracy("resnet_digits", 3) >= 0.9


@pytest.mark.slow
def test_transformer_blocks_learns_its_task_in_two_epochs():
    assert best_val_accuracy("transformer_blocks", 2) >= 0.9
