"""Issue 17 acceptance: torchvision and pytorch/examples models import as projects whose compiled
model, loaded back from the files written, computes what the source does (eval mode, 1e-5)."""
from __future__ import annotations

import importlib.util
import json

import pytest
import torch
import torchvision

import studio
from studio.cli import main
from studio.importing import import_module

# pytorch/examples mnist/main.py `Net`, as published (two convs, dropout, two linears, log_softmax)
MNIST_NET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output
'''


def _busy_statistics(model):
    """Random BatchNorm statistics, so a layer whose buffers were not carried over shows."""
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    return model.eval()


def _same_outputs(source, project_file, shape):
    project = studio.load_project(project_file)
    model = studio.build_model(project).eval()  # the weights come from the project's own file
    x = torch.randn(3, *shape, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        want, got = source(x), model(x)
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5), float((got - want).abs().max())
    return project


def test_resnet18_imports_with_blocks_and_its_outputs(tmp_path):
    source = _busy_statistics(torchvision.models.resnet18())
    out = tmp_path / "resnet18.json"
    result = import_module(source, out, [3, 64, 64], "resnet18")
    assert result.weights == tmp_path / "resnet18.safetensors" and result.weights.is_file()
    project = _same_outputs(source, out, [3, 64, 64])
    graph = project.graph
    assert json.loads(out.read_text())["weights"] == "resnet18.safetensors"
    # the eight BasicBlocks are instances: one definition with a projection shortcut, one without,
    # their channels an exposed param; layer1's two copies of one definition are one instance repeated
    instances = [n for n in graph.nodes.values() if n.type == "Block"]
    assert [n.id for n in instances] == ["layer1", *(f"layer{i}_{j}" for i in range(2, 5) for j in range(2))]
    assert (instances[0].block, instances[0].repeat, instances[0].first) == ("BasicBlock", 2, None)
    assert sorted(graph.blocks.names()) == ["BasicBlock", "BasicBlock_2"]
    assert {n.block for n in instances[1::2]} == {"BasicBlock_2"}
    assert [n.params["out_channels"] for n in instances] == [64, 128, 128, 256, 256, 512, 512]
    assert "layer1.1.conv2.weight" in studio.build_model(project).state_dict()  # torchvision's keys
    inner = graph.blocks["BasicBlock"].graph
    assert {"conv1", "bn1", "conv2", "bn2", "add"} <= set(inner.nodes)
    # ids follow the module paths; the layout runs left to right in bands, one under the other, so
    # the chain reads like text and stays a few cards wide
    assert {"conv1", "bn1", "maxpool", "avgpool", "fc"} <= set(graph.nodes)
    chain = ("x", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2_0", "layer2_1", "layer4_1", "avgpool", "fc")
    reading = [(graph.node(i).pos[1], graph.node(i).pos[0]) for i in chain]
    assert reading == sorted(reading) and len(set(reading)) == len(chain)
    columns, bands = {n.pos[0] for n in graph.nodes.values()}, {n.pos[1] for n in graph.nodes.values()}
    assert len(columns) == 5 and len(bands) == 4  # 16 layers in one chain: bands of five


@pytest.mark.slow
def test_vgg11_bn_imports_and_its_outputs(tmp_path):
    source = _busy_statistics(torchvision.models.vgg11_bn())
    import_module(source, tmp_path / "vgg.json", [3, 64, 64], "vgg11_bn")
    project = _same_outputs(source, tmp_path / "vgg.json", [3, 64, 64])
    types = [n.type for n in project.graph.nodes.values()]
    assert types.count("Conv2d") == 8 and types.count("BatchNorm2d") == 8 and types.count("Linear") == 3
    assert "features_0" in project.graph.nodes and "classifier_6" in project.graph.nodes


def test_mobilenet_v2_imports_with_blocks_and_its_outputs(tmp_path):
    source = _busy_statistics(torchvision.models.mobilenet_v2())
    import_module(source, tmp_path / "mb.json", [3, 64, 64], "mobilenet_v2")
    project = _same_outputs(source, tmp_path / "mb.json", [3, 64, 64])
    graph = project.graph
    names = graph.blocks.names()
    assert "Conv2dNormActivation" in names
    inverted = [n for n in names if n.startswith("InvertedResidual")]
    # 17 InvertedResidual modules, in three shapes (no expansion; expansion with and without shortcut)
    assert len(inverted) == 3
    # the runs of one definition in `features` are one instance each, repeated: 17 modules in 13 instances
    runs = {n.id: n.repeat for n in graph.nodes.values() if n.type == "Block" and n.repeat > 1}
    assert runs == {"features_5_6": 2, "features_8_10": 3, "features_12_13": 2, "features_15_16": 2}
    uses = sum(graph.node(i).repeat for n in inverted for _, i in graph.blocks.instances(n))
    assert uses == 17


def test_mnist_net_from_a_file_through_the_cli(tmp_path, capsys):
    path = tmp_path / "mnist_net.py"
    path.write_text(MNIST_NET)
    torch.manual_seed(3)
    rc = main(["import", f"{path}:Net", "-o", str(tmp_path / "mnist.json"), "--input-shape", "1,28,28"])
    assert rc == 0, capsys.readouterr().err
    spec = importlib.util.spec_from_file_location("mnist_again", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(3)  # the same construction order: the same random weights as the import's
    source = module.Net().eval()
    project = _same_outputs(source, tmp_path / "mnist.json", [1, 28, 28])
    types = [n.type for n in project.graph.nodes.values()]
    assert types == ["Input", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Dropout", "Flatten", "Linear",
                     "ReLU", "Dropout", "Linear", "LogSoftmax", "Output"]
    assert project.graph.node("dropout1").params == {"p": 0.25}  # p=0.5 is the default, left out
    assert "outputs agree" in capsys.readouterr().out


def test_torchvision_source_through_the_cli_and_training_weights(tmp_path, capsys):
    torch.manual_seed(5)
    rc = main(["import", "torchvision:resnet18", "-o", str(tmp_path / "r.json"), "--input-shape", "3,32,32",
               "--args", '{"num_classes": 7}'])
    assert rc == 0, capsys.readouterr().err
    torch.manual_seed(5)
    source = torchvision.models.resnet18(num_classes=7).eval()
    project = _same_outputs(source, tmp_path / "r.json", [3, 32, 32])
    assert project.graph.node("fc").params["out_features"] == 7
