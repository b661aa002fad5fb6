"""Test-only node types whose layers some formats cannot express, to check that the failure names
the node and the format's limit. `registered()` adds them to the default registry for one test."""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from studio.core.registry import default_registry
from studio.core.spec import NodeSpec


class Histogram(nn.Module):
    """torch.histc has no ONNX operator."""

    def __init__(self, bins: int = 4) -> None:
        super().__init__()
        self.bins = bins

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.histc(x, bins=self.bins).sum()


class SignSwitch(nn.Module):
    """Python control flow on a tensor's value: torch.export cannot capture it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return x - 1


class VarArgs(nn.Module):
    """A forward(*rest) signature that torch.jit.script refuses (tracing handles it)."""

    def forward(self, x, *rest):
        return torch.tanh(x) * 0.5


def _same(p, inputs):
    return [inputs[0]]


SPECS = [
    NodeSpec(type="TestHistogram", category="activation", doc="test only", infer=_same,
             build=lambda p, i: Histogram(4)),
    NodeSpec(type="TestSignSwitch", category="activation", doc="test only", infer=_same,
             build=lambda p, i: SignSwitch()),
    NodeSpec(type="TestVarArgs", category="activation", doc="test only", infer=_same,
             build=lambda p, i: VarArgs()),
]


@contextlib.contextmanager
def registered():
    registry = default_registry()
    added = [s for s in SPECS if s.type not in registry]
    for spec in added:
        registry.register(spec)
    try:
        yield
    finally:
        for spec in added:
            registry._specs.pop(spec.type, None)  # the registry has no public removal; tests only


def graph_with(type_name: str, node_id: str = "odd"):
    from studio.core.graph import Graph

    g = Graph()
    g.add_node("Input", {"shape": [6]}, node_id="x")
    g.add_node("Linear", {"out_features": 4}, node_id="fc")
    g.add_node(type_name, node_id=node_id)
    g.add_node("Linear", {"out_features": 2}, node_id="head")
    for a, b in (("x", "fc"), ("fc", node_id), (node_id, "head")):
        g.connect(a, b)
    return g
