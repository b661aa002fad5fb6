"""The built-in block definitions (resources/blocks/*.json): each file loads through the project
checks (as hostile as any file), compiles at a sensible input, and matches the module a person would
build by hand: torchvision's own class where there is one (same state_dict keys and shapes; with its
weights loaded strictly, the same outputs), else the parameter count of a hand-written module."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import studio
from studio.core.project import load_project, loads_project
from tests.export.blocks_helpers import multiply_broadcasts

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = ROOT / "resources" / "blocks"
FILES = sorted(BLOCKS.glob("*.json"))


def block_project(tmp_path: Path, stem: str, inputs: dict, params: dict, **instance) -> Path:
    """A project: one Input per block input port (by name: shape), the block, an Output."""
    library = json.loads((BLOCKS / f"{stem}.json").read_text(encoding="utf-8"))
    name = library["name"]
    nodes = [{"id": port, "type": "Input", "params": {"shape": shape}, "pos": [0, 160 * i]}
             for i, (port, shape) in enumerate(inputs.items())]
    nodes.append({"id": "block", "type": "Block", "block": name, "params": params, "pos": [230, 0], **instance})
    nodes.append({"id": "output", "type": "Output", "params": {}, "pos": [460, 0]})
    edges = [{"source": port, "target": "block", **({"target_port": port} if len(inputs) > 1 else {})}
             for port in inputs]
    edges.append({"source": "block", "target": "output"})
    record = {"format": "netstudio", "version": 2, "name": name, "nodes": nodes, "edges": edges,
              "blocks": library["blocks"]}
    path = tmp_path / f"{stem}.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def built(path: Path) -> nn.Module:
    return studio.build_model(load_project(path)).eval()


def params_of(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def shapes(module: nn.Module) -> dict:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def same_as_reference(model: nn.Module, reference: nn.Module, *inputs: torch.Tensor) -> None:
    """Equal keys and shapes; with the reference's (randomised) weights loaded strictly, equal outputs."""
    assert shapes(model.block) == shapes(reference)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, value in reference.state_dict().items():
            if value.is_floating_point():
                value.copy_(torch.rand(value.shape, generator=gen) + (0.5 if "running_var" in key else -0.5))
    model.block.load_state_dict(reference.state_dict(), strict=True)
    reference.eval()
    with torch.no_grad():
        expected, got = reference(*inputs), model(*inputs)
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-4), (got - expected).abs().max()


def test_every_file_loads_through_the_checks_and_names_what_it_offers():
    """A library file is {"format": "netstudio-block", "version": 2, "name": the definition it offers,
    "blocks": it and the definitions it uses}; its "blocks" pass the checks of a project's."""
    assert {p.stem for p in FILES} == {"basic_block", "bottleneck", "inception", "squeeze_excitation",
                                       "pre_ln_transformer_layer", "unet_down", "unet_up"}
    for path in FILES:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert (record["format"], record["version"]) == ("netstudio-block", 2), path.name
        project = loads_project(json.dumps({"format": "netstudio", "version": 2, "name": path.stem, "nodes": [],
                                            "edges": [], "blocks": record["blocks"]}), source=path.name)
        library = project.graph.blocks
        assert library.names() == list(record["blocks"]) and record["name"] in library.names()
        assert library.find_cycle() is None
        for name in library.names():
            assert library[name].doc, f"{path.name}: {name} has no doc"
            used = library.uses(name)
            assert set(used) <= set(library.names()), f"{path.name}: {name} uses {used}"


def test_basic_block_is_torchvisions(tmp_path):
    from torchvision.models.resnet import BasicBlock, conv1x1

    model = built(block_project(tmp_path, "basic_block", {"x": [64, 16, 16]},
                                {"planes": 128, "stride": 2, "downsample": True}))
    reference = BasicBlock(64, 128, 2, downsample=nn.Sequential(conv1x1(64, 128, 2), nn.BatchNorm2d(128)))
    same_as_reference(model, reference, torch.randn(2, 64, 16, 16))
    plain = built(block_project(tmp_path, "basic_block", {"x": [64, 8, 8]}, {"planes": 64}))
    assert params_of(plain) == params_of(BasicBlock(64, 64)) and "downsample.0.weight" not in plain.state_dict()


def test_bottleneck_is_torchvisions(tmp_path):
    from torchvision.models.resnet import Bottleneck, conv1x1

    model = built(block_project(tmp_path, "bottleneck", {"x": [256, 16, 16]},
                                {"planes": 128, "out_channels": 512, "stride": 2, "downsample": True}))
    reference = Bottleneck(256, 128, 2, downsample=nn.Sequential(conv1x1(256, 512, 2), nn.BatchNorm2d(512)))
    same_as_reference(model, reference, torch.randn(2, 256, 16, 16))


def test_inception_is_googlenets(tmp_path):
    from torchvision.models.googlenet import Inception

    sizes = {"ch1x1": 64, "ch3x3red": 96, "ch3x3": 128, "ch5x5red": 16, "ch5x5": 32, "pool_proj": 32}
    model = built(block_project(tmp_path, "inception", {"x": [192, 14, 14]}, sizes))
    same_as_reference(model, Inception(192, *sizes.values()), torch.randn(2, 192, 14, 14))


@pytest.mark.skipif(not multiply_broadcasts(), reason="the per-channel Multiply needs broadcasting merges "
                    "(branch layers-ops, issue 16)")
def test_squeeze_excitation_is_torchvisions(tmp_path):
    from torchvision.ops import SqueezeExcitation

    model = built(block_project(tmp_path, "squeeze_excitation", {"x": [64, 8, 8]},
                                {"channels": 64, "squeeze_channels": 16}))
    same_as_reference(model, SqueezeExcitation(64, 16), torch.randn(2, 64, 8, 8))


def test_pre_ln_transformer_layer_is_torchs_norm_first_encoder_layer(tmp_path):
    model = built(block_project(tmp_path, "pre_ln_transformer_layer", {"x": [10, 64]},
                                {"d_model": 64, "nhead": 4, "dim_feedforward": 256, "dropout": 0.1}))
    reference = nn.TransformerEncoderLayer(64, 4, 256, dropout=0.1, activation="gelu", batch_first=True,
                                           norm_first=True)
    same_as_reference(model, reference, torch.randn(2, 10, 64))


class DoubleConv(nn.Sequential):
    """The U-Net double convolution as usually written (milesial/Pytorch-UNet)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
                         nn.ReLU(), nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


def test_unet_down_step_matches_a_hand_built_one(tmp_path):
    model = built(block_project(tmp_path, "unet_down", {"x": [64, 32, 32]}, {"out_channels": 128}))
    reference = nn.Sequential(nn.MaxPool2d(2), DoubleConv(64, 128))
    assert shapes(model.block) == shapes(reference) and params_of(model) == params_of(reference)
    with torch.no_grad():
        assert model(torch.randn(2, 64, 32, 32)).shape == (2, 128, 16, 16)


def test_unet_up_step_matches_a_hand_built_one(tmp_path):
    model = built(block_project(tmp_path, "unet_up", {"x": [128, 16, 16], "skip": [64, 32, 32]},
                                {"out_channels": 64}))
    up, conv = nn.ConvTranspose2d(128, 64, 2, stride=2), DoubleConv(128, 64)
    assert params_of(model) == params_of(up) + params_of(conv)
    with torch.no_grad():
        assert model(torch.randn(2, 128, 16, 16), torch.randn(2, 64, 32, 32)).shape == (2, 64, 32, 32)


def test_resnet50_of_bottlenecks_is_torchvisions(tmp_path):
    """The bench's ResNet-50 (16 Bottleneck copies): torchvision's parameter count, keys and shapes."""
    from torchvision.models import resnet50

    from studio.bench.editor_blocks import resnet50_record

    path = tmp_path / "resnet50.json"
    path.write_text(json.dumps(resnet50_record()), encoding="utf-8")
    model = built(path)
    reference = resnet50()
    assert params_of(model) == params_of(reference) == 25_557_032
    assert shapes(model) == shapes(reference)
