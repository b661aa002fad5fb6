"""Issue 17: functions and tensor methods map to nodes (traced, not guessed): the imported graph's
node types are the ones the calls name, and its outputs are the source's."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

import studio
from studio.importing import import_module


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)
        self.norm = nn.BatchNorm2d(8)
        self.head = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        y = torch.cat([F.relu(self.a(x)), torch.sigmoid(self.b(x))], 1)
        y = torch.cat([y], 1)  # one tensor: that tensor
        y = self.norm(y) * torch.tanh(y)
        y = F.avg_pool2d(y, 2)
        y = F.adaptive_avg_pool2d(y, 4)
        z = y.view(y.size(0), -1)
        return F.softmax(self.head(z) - self.head(z).relu(), dim=1)


def test_functions_and_methods_map_to_nodes(tmp_path):
    torch.manual_seed(0)
    source = Branches().eval()
    source.norm.running_mean.uniform_(-0.5, 0.5)
    import_module(source, tmp_path / "b.json", [3, 8, 8])
    project = studio.load_project(tmp_path / "b.json")
    types = {n.id: n.type for n in project.graph.nodes.values()}
    assert types["cat"] == "Concat" and project.graph.node("cat").params == {}  # dim 1: the default
    assert types["cat_1"] == "Identity"
    assert types["relu"] == "ReLU" and types["sigmoid"] == "Sigmoid" and types["tanh"] == "Tanh"
    assert types["mul"] == "Multiply" and types["sub"] == "Subtract"
    assert types["avg_pool2d"] == "AvgPool2d" and types["adaptive_avg_pool2d"] == "AdaptiveAvgPool2d"
    assert types["view"] == "Flatten" and types["softmax"] == "Softmax"
    # `self.head` is called twice: the second call shares the first one's weights
    assert project.graph.node("head_1").shares == "head"
    model = studio.build_model(project).eval()
    x = torch.randn(4, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(model(x), source(x), atol=1e-6)


def test_a_model_that_is_one_torch_layer_becomes_that_node(tmp_path, capsys):
    from studio.cli import main

    rc = main(["import", "torch.nn:Conv2d", "-o", str(tmp_path / "c.json"), "--input-shape", "2,5,5",
               "--args", '{"in_channels": 2, "out_channels": 3, "kernel_size": 3}'])
    assert rc == 0, capsys.readouterr().err
    project = studio.load_project(tmp_path / "c.json")
    assert [(n.id, n.type) for n in project.graph.nodes.values()] == [("input", "Input"), ("conv2d", "Conv2d"),
                                                                     ("output", "Output")]
    assert project.graph.node("conv2d").params == {"out_channels": 3}
