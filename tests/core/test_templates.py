"""Every template validates, and its compiled model runs a forward pass on a random batch."""
from __future__ import annotations

import pytest
import torch

import studio
from studio.core import analyze
from studio.core.compiler import signature
from tests.conftest import template_paths

EXPECTED = {"mlp_mnist", "cnn_cifar10", "linear_regression", "mlp_digits", "cnn_digits", "moons_mlp",
            "lstm_sequence", "transformer_encoder", "resnet_block", "autoencoder_digits", "resnet18"}


def test_all_templates_are_there():
    assert {p.stem for p in template_paths()} == EXPECTED


@pytest.mark.parametrize("path", template_paths(), ids=lambda p: p.stem)
def test_template_validates_and_runs(path):
    project = studio.load_project(path)
    analysis = analyze(project.graph)
    assert analysis.ok and not analysis.warnings, [p.message for p in analysis.problems]
    model = studio.build_model(project).eval()
    sig = signature(analysis)
    with torch.no_grad():
        out = model(*sig.example_inputs(batch=3))
    assert tuple(out.shape) == (3, *sig.outputs[0][1].shape)
    assert project.training.get("dataset", {}).get("name")


@pytest.mark.parametrize("path", template_paths(), ids=lambda p: p.stem)
def test_template_nodes_do_not_overlap(path):
    nodes = list(studio.load_project(path).graph.nodes.values())
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            assert abs(a.pos[0] - b.pos[0]) >= 200 or abs(a.pos[1] - b.pos[1]) >= 120, (a.id, b.id)
