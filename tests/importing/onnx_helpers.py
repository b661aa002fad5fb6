"""Shared by the ONNX and .pt2 import tests: the models they export, and the checks on what comes back."""
from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

import studio

from .test_import_models import MNIST_NET, _busy_statistics


def mnist_net():
    namespace: dict = {}
    exec(compile(MNIST_NET, "mnist_net.py", "exec"), namespace)  # pytorch/examples' Net, as published
    torch.manual_seed(3)
    return namespace["Net"]().eval()


class Block(nn.Module):
    """A residual conv block, used three times: the import must give one definition, three instances."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)) + x)


class Repeated(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.blocks = nn.Sequential(Block(4), Block(4), Block(4))
        self.head = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        x = nn.functional.max_pool2d(self.blocks(self.stem(x)), 2)
        return self.head(torch.flatten(x, 1))


def repeated():
    torch.manual_seed(4)
    return _busy_statistics(Repeated())


def export_onnx(model, shape, path, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):  # the exporter prints its progress
        torch.onnx.export(model, (torch.randn(1, *shape),), str(path), **kwargs)
    return path


def agree(project_file, reference, shape, batch=1, tolerance=1e-4):
    """The compiled project, its weights from its own file, against `reference` on one random batch."""
    model = studio.build_model(studio.load_project(project_file)).eval()
    x = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        got, want = model(x), reference(x)
    assert got.shape == want.shape
    difference = float((got - want).abs().max())
    assert difference <= tolerance * max(1.0, float(want.abs().max())), difference
    return difference


def onnxruntime_of(path):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: torch.from_numpy(session.run(None, {name: x.numpy()})[0])


def repeated_blocks(project_file):
    """(the Block instances' ids with their repeat, the node types inside the one Block definition) of an
    imported Repeated: its three copies in one nn.Sequential come back as one instance repeated."""
    graph = studio.load_project(project_file).graph
    ids = [(n.id, n.repeat) for n in graph.nodes.values() if n.type == "Block"]
    return ids, [n.type for n in graph.blocks["Block"].graph.nodes.values()]
