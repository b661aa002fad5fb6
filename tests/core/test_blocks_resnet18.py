"""The ResNet-18 template (resources/templates/resnet18.json) is torchvision's ResNet-18: the same
parameter count, the same state_dict keys and shapes, and after loading torchvision's weights
(strict) the same outputs. It opens, validates and summarises from the command line."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import studio
from tests.conftest import ROOT, TEMPLATES

RESNET18 = TEMPLATES / "resnet18.json"


@pytest.fixture(scope="module")
def models():
    import torch
    import torchvision

    torch.manual_seed(0)
    ours = studio.build_model(studio.load_project(RESNET18))
    theirs = torchvision.models.resnet18()
    return ours, theirs


def test_parameter_count_is_torchvisions(models):
    ours, theirs = models
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters()) == 11_689_512


def test_state_dict_keys_and_shapes_are_torchvisions(models):
    ours, theirs = models
    mine = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    want = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(mine) == list(want)
    assert mine == want


def test_torchvisions_weights_give_torchvisions_outputs(models):
    import torch

    ours, theirs = models
    with torch.no_grad():  # give the BatchNorm statistics values other than 0 and 1
        for m in theirs.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    ours.eval(), theirs.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    assert a.shape == b.shape == (2, 1000)
    assert torch.allclose(a, b, atol=1e-5, rtol=0), (a - b).abs().max()
    assert ours.get_submodule("layer2.0.downsample.0").stride == (2, 2)
    assert isinstance(ours.get_submodule("layer3.1.conv1"), torch.nn.Conv2d)


def _studio(*args):
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_the_template_validates_and_summarises_on_the_command_line():
    done = _studio("validate", str(RESNET18))
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout
    done = _studio("summary", str(RESNET18), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["total_params"] == 11_689_512
    top = [r for r in report["nodes"] if r.get("depth", 0) == 0]
    assert [r["id"] for r in top][:6] == ["input", "conv1", "bn1", "relu", "maxpool", "layer1"]
    layer2 = next(r for r in top if r["id"] == "layer2")
    assert layer2["output_shape"] == "[128, 28, 28]" and layer2["params"] == 230_144 + 295_424


def test_the_training_section_is_one_training_accepts():
    from studio.training.config import parse_config

    project = studio.load_project(RESNET18)
    config = parse_config(project.training)
    assert config.optimizer.type == "SGD"
