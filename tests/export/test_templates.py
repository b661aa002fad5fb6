"""Acceptance of issue 4: every template in every format, loaded with the format's own runtime
and compared with the compiled model carrying the same (randomized) weights."""
from __future__ import annotations

import pytest
import torch

import studio
from studio.core.analysis import analyze
from studio.core.compiler import signature
from studio.export import SUFFIXES, export

from .helpers import FORMATS, TEMPLATE_NAMES, TOL, batch_for, max_diff, randomized_checkpoint, run_exported, template


class _Lazy(dict):
    """A randomized checkpoint per template, made when a test first asks (a slow template's only then)."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder

    def __missing__(self, name):
        self[name] = randomized_checkpoint(template(name), self.folder / f"{name}.pt",
                                           seed=TEMPLATE_NAMES.index(name))
        return self[name]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    return _Lazy(folder)


SLOW = {"resnet18"}  # 11.7 M parameters at 224 x 224: ~95 s for the five formats on the CPU


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in TEMPLATE_NAMES])
def test_template_roundtrip(name, fmt, tmp_path, checkpoints):
    project = studio.load_project(template(name))
    reference = studio.build_model(project, checkpoint=checkpoints[name]).eval()
    reference.graph_source = project.graph  # for the state_dict runtime: a fresh model of the same graph
    sig = signature(analyze(project.graph))
    out = tmp_path / f"model{SUFFIXES[fmt]}"

    report = export(template(name), fmt, out, checkpoint=checkpoints[name])

    assert report.path == out and out.is_file() and report.size_bytes == out.stat().st_size > 0
    assert report.check is not None and report.check.passed and report.check.rel_diff <= TOL
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # one self-contained file, no temp files
    inputs = batch_for(reference, sig, batch=4)
    with torch.no_grad():
        expected = reference(*inputs)
    class_name = report.exporter.split("class ")[-1].rstrip(")") if fmt == "code" else None
    got = run_exported(fmt, out, inputs, reference, sig, class_name)
    assert max_diff(expected, got) <= TOL


def test_onnx_file_is_self_contained_with_dynamic_batch_and_named_io(tmp_path, checkpoints):
    import onnx

    out = tmp_path / "t.onnx"
    report = export(template("transformer_encoder"), "onnx", out, checkpoint=checkpoints["transformer_encoder"])
    model = onnx.load(str(out))
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert [i.name for i in model.graph.input] == ["tokens"]
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert [o.name for o in model.graph.output] == ["output"]
    for value in (*model.graph.input, *model.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param  # symbolic batch
    assert "dynamo=True" in report.exporter and "opset" in report.exporter


def test_onnx_opset_can_be_chosen(tmp_path):
    import onnx

    out = tmp_path / "m.onnx"
    report = export(template("mlp_digits"), "onnx", out, opset=17)
    opset = next(o.version for o in onnx.load(str(out)).opset_import if o.domain in ("", "ai.onnx"))
    assert opset == 17 and "opset 17" in report.exporter and report.check.passed


def test_report_describes_the_export(tmp_path):
    out = tmp_path / "m.pt"
    report = export(template("cnn_digits"), "torchscript", out)
    text = report.text()
    assert "torchscript" in text and str(out) in text and "check passed" in text
    assert report.inputs == ["input [batch, 1, 8, 8] float32"] and report.outputs == ["output [batch, 10] float32"]
    data = report.to_json()
    assert data["format"] == "torchscript" and data["check"]["passed"] is True and data["path"] == str(out)
