"""Models made of blocks in every export format, each loaded with the format's own runtime and compared
with the compiled model carrying the same randomised weights (BatchNorm statistics included). The
block templates (resnet_digits, transformer_blocks, resnet18) go through every format in
test_templates.py; here the zoo of every built-in image block (nesting three deep, repeats, switched-off
shortcuts, a two-input block)."""
from __future__ import annotations

import pytest
import torch

import studio
from studio.core.analysis import analyze
from studio.core.compiler import signature
from studio.export import SUFFIXES, export

from .blocks_helpers import write, zoo_record
from .helpers import FORMATS, TOL, batch_for, max_diff, randomized_checkpoint, run_exported

SLOW = {"onnx", "torchscript", "pt2"}  # the exporters that take 10 s and more on a model this size


def _roundtrip(path, fmt, tmp_path, checkpoint):
    project = studio.load_project(path)
    reference = studio.build_model(project, checkpoint=checkpoint).eval()
    reference.graph_source = project.graph
    sig = signature(analyze(project.graph))
    out = tmp_path / f"model{SUFFIXES[fmt]}"
    report = export(path, fmt, out, checkpoint=checkpoint)
    assert report.check is not None and report.check.passed and report.check.rel_diff <= TOL
    assert sorted(p.name for p in out.parent.iterdir()) == sorted([out.name, path.name, checkpoint.name])
    inputs = batch_for(reference, sig, batch=3)
    with torch.no_grad():
        expected = reference(*inputs)
    class_name = report.exporter.split("class ")[-1].rstrip(")") if fmt == "code" else None
    assert max_diff(expected, run_exported(fmt, out, inputs, reference, sig, class_name)) <= TOL
    return report


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=pytest.mark.slow) if f in SLOW else f for f in FORMATS])
def test_block_zoo_roundtrips(fmt, tmp_path):
    path = write(zoo_record(), tmp_path / "zoo.json")
    report = _roundtrip(path, fmt, tmp_path, randomized_checkpoint(path, tmp_path / "zoo.pt", seed=3))
    if fmt == "torchscript":
        assert report.exporter == "torch.jit.script"  # scripted whole, nested GraphModules and all
