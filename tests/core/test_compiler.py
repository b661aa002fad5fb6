"""Compiled graphs against hand-written modules with the same weights."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import studio
from studio.core import Graph
from studio.core.compiler import CompileError, compile_graph
from tests.conftest import TEMPLATES
from tests.reference_nets import TutorialNet


def test_cnn_cifar10_equals_the_tutorial_net_with_the_same_weights():
    model = studio.build_model(studio.load_project(TEMPLATES / "cnn_cifar10.json"))
    ref = TutorialNet()
    ref.load_state_dict(model.state_dict())
    x = torch.randn(5, 3, 32, 32)
    torch.testing.assert_close(model(x), ref(x))
    assert sum(p.numel() for p in model.parameters()) == 62006
    code = model.code
    assert "conv1 = self.conv1(" in code and "fc3 = self.fc3(" in code


class ResidualBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1)
        self.stem_bn = nn.BatchNorm2d(16)
        self.conv_a = nn.Conv2d(16, 16, 3, padding=1)
        self.bn_a = nn.BatchNorm2d(16)
        self.conv_b = nn.Conv2d(16, 16, 3, padding=1)
        self.bn_b = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        y = self.bn_b(self.conv_b(F.relu(self.bn_a(self.conv_a(x)))))
        z = F.relu(y + x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(z, 1), 1))


def test_resnet_block_equals_a_hand_written_residual_block():
    model = studio.build_model(studio.load_project(TEMPLATES / "resnet_block.json")).eval()
    ref = ResidualBlock().eval()
    ref.load_state_dict(model.state_dict())
    x = torch.randn(4, 1, 8, 8)
    torch.testing.assert_close(model(x), ref(x))
    assert "add = bn_b + stem_relu" in model.code


def test_multi_input_multi_output_graph():
    g = Graph()
    g.add_node("Input", {"shape": [4]}, node_id="a")
    g.add_node("Input", {"shape": [6]}, node_id="b")
    g.add_node("Concat", {"dim": 1}, node_id="cat")
    g.add_node("Linear", {"out_features": 3}, node_id="head1")
    g.add_node("Linear", {"out_features": 2}, node_id="head2")
    g.add_node("Output", node_id="y1")
    g.add_node("Output", node_id="y2")
    for s, t in [("a", "cat"), ("b", "cat"), ("cat", "head1"), ("cat", "head2"), ("head1", "y1"), ("head2", "y2")]:
        g.connect(s, t)
    model = compile_graph(g)
    a, b = torch.randn(2, 4), torch.randn(2, 6)
    y1, y2 = model(a, b)
    cat = torch.cat([a, b], 1)
    torch.testing.assert_close(y1, model.head1(cat))
    torch.testing.assert_close(y2, model.head2(cat))
    assert list(model.graph.find_nodes(op="placeholder")) and "def forward(self, a, b)" in model.code


def test_dead_branches_are_left_out_of_the_model():
    g = Graph()
    g.add_node("Input", {"shape": [4]}, node_id="x")
    g.add_node("Linear", {"out_features": 2}, node_id="fc")
    g.add_node("Linear", {"out_features": 9}, node_id="unused")
    g.add_node("Output", node_id="y")
    g.connect("x", "fc"), g.connect("fc", "y"), g.connect("x", "unused")
    model = compile_graph(g)
    assert not hasattr(model, "unused")


def test_a_graph_with_errors_raises_compile_error_naming_the_node():
    g = Graph()
    g.add_node("Input", {"shape": [16, 5, 5]}, node_id="x")
    g.add_node("Linear", {"out_features": 2}, node_id="fc1")
    g.connect("x", "fc1")
    with pytest.raises(CompileError) as err:
        compile_graph(g)
    assert err.value.problems[0].node_id == "fc1"
    assert "fc1: error: Linear 'fc1' needs a flat feature vector" in str(err.value)


def test_build_model_loads_a_checkpoint(tmp_path):
    project = studio.load_project(TEMPLATES / "mlp_digits.json")
    model = studio.build_model(project)
    torch.save({"model": model.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    again = studio.build_model(project, checkpoint=tmp_path / "ckpt.pt")
    x = torch.randn(2, 1, 8, 8)
    torch.testing.assert_close(model(x), again(x))


@pytest.mark.fault("checkpoint", "weights from another graph", "refused, naming the mismatched layers")
def test_a_checkpoint_from_another_graph_is_refused_naming_layers(tmp_path):
    from studio.core.weights import WeightsError

    other = studio.build_model(studio.load_project(TEMPLATES / "cnn_digits.json"))
    torch.save(other.state_dict(), tmp_path / "other.pt")
    with pytest.raises(WeightsError) as err:
        studio.build_model(studio.load_project(TEMPLATES / "mlp_digits.json"), checkpoint=tmp_path / "other.pt")
    msg = str(err.value)
    assert "different graph" in msg and "fc1" in msg and "conv1" in msg


@pytest.mark.fault("checkpoint", "a crafted pickle that would run code", "refused by weights_only=True; nothing runs")
def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    import pickle

    from studio.core.weights import WeightsError

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"model": Evil()}, protocol=2))
    with pytest.raises(WeightsError, match="refused|not a readable"):
        studio.build_model(studio.load_project(TEMPLATES / "mlp_digits.json"), checkpoint=path)
