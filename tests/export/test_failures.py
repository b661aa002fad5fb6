"""Exports that cannot be done end in a clear message, and never leave a file (or a temp file)
behind; an existing file at the output path is left untouched."""
from __future__ import annotations

import os
import pickle

import pytest
import torch

import studio
from studio.core.weights import WeightsError
from studio.export import CheckFailed, ExportError, export

from .custom_nodes import graph_with, registered
from .helpers import template


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.fault('export', '--checkpoint from another graph',
                   'refused naming the layers; no file written')
def test_checkpoint_from_another_graph_is_refused_naming_layers(tmp_path, no_leftovers):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    other = studio.build_model(studio.load_project(template("mlp_digits")))
    torch.save({"model": other.state_dict(), "epoch": 3}, ckpt / "other.pt")  # a training checkpoint
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(WeightsError, match="different graph") as info:
        export(template("cnn_digits"), "onnx", out_dir / "m.onnx", checkpoint=ckpt / "other.pt")
    assert "conv1" in str(info.value)
    no_leftovers(out_dir)


@pytest.mark.fault('export', '--checkpoint with a crafted pickle',
                   'refused (weights_only=True); no file written')
def test_checkpoint_that_would_run_code_is_refused(tmp_path, no_leftovers):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    with open(evil, "wb") as fh:
        pickle.dump({"model": _RunsCode(marker)}, fh)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(WeightsError, match="refused|not a readable"):
        export(template("mlp_digits"), "torchscript", out_dir / "m.pt", checkpoint=evil)
    assert not marker.exists()
    no_leftovers(out_dir)


def test_a_state_dict_export_is_a_valid_checkpoint(tmp_path):
    weights = tmp_path / "w.pt"
    export(template("resnet_block"), "state_dict", weights)
    report = export(template("resnet_block"), "pt2", tmp_path / "m.pt2", checkpoint=weights)
    assert report.check.passed and report.weights == f"from {weights}"


@pytest.mark.fault('export', '-o into folders that do not exist yet (issue 13: it failed)',
                   'the folders are created and the export written')
def test_output_in_a_missing_folder_creates_it(tmp_path):
    report = export(template("mlp_digits"), "onnx", tmp_path / "nope" / "deeper" / "m.onnx")
    assert report.check.passed and (tmp_path / "nope" / "deeper" / "m.onnx").is_file()
    assert sorted(p.name for p in (tmp_path / "nope" / "deeper").iterdir()) == ["m.onnx"]


@pytest.mark.fault('export', 'an output path under a file, or onto a folder',
                   'refused naming the path; nothing written')
def test_output_under_a_file_or_onto_a_folder(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match="not a folder|does not exist"):
        export(template("mlp_digits"), "pt2", tmp_path / "afile" / "m.pt2")
    with pytest.raises(ExportError, match="is a folder"):
        export(template("mlp_digits"), "pt2", tmp_path)


def _readonly_folder_is_enforced(folder) -> bool:
    try:
        (folder / ".probe").write_text("x")
    except OSError:
        return True
    (folder / ".probe").unlink()
    return False


def test_output_in_a_readonly_folder(tmp_path, no_leftovers):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if not _readonly_folder_is_enforced(folder):
            pytest.skip("running as root: a read-only folder is still writable")
        with pytest.raises(ExportError, match="not writable|cannot write"):
            export(template("mlp_digits"), "state_dict", folder / "m.pt")
        no_leftovers(folder)
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("fmt", ["torchscript", "onnx", "pt2", "code", "state_dict"])
@pytest.mark.fault('export', 'the exported file computes something else (check fails), all 5 formats',
                   'refused; the previous export byte-identical; no temp file')
def test_failed_check_leaves_nothing_and_keeps_the_old_file(fmt, tmp_path, monkeypatch, no_leftovers):
    """The check runs on the temp file before it replaces the output; a failing check (forced here
    by a zero tolerance and a perturbed reference) must leave the previous file as it was."""
    import studio.export.check as check

    real = check.compare

    def strict(reference, outputs, runtime, batch, tolerance=0.0):
        shifted = tuple(r + 1e-3 for r in reference)  # as if the file computed something else
        return real(shifted, outputs, runtime, batch, tolerance=1e-12)

    monkeypatch.setattr("studio.export.skeleton.compare", strict)  # the one check every format goes through
    out = tmp_path / "model.out"
    out.write_text("the previous export")
    with pytest.raises(CheckFailed) as info:
        export(template("cnn_digits"), fmt, out)
    assert info.value.report is not None and not info.value.report.check.passed
    assert "nothing was written" in str(info.value)
    assert out.read_text() == "the previous export"
    no_leftovers(tmp_path, ["model.out"])


@pytest.mark.fault('export', 'the disk fills while an export is written (ENOSPC)',
                   'error names the cause; no temp file or half file left')
def test_writer_crash_leaves_no_temp_file(tmp_path, monkeypatch, no_leftovers):
    def crash(obj, f, *a, **k):
        f.write(b"half a file")  # torch.save writes into a buffer; the bytes reach the disk after it
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(ExportError, match="No space left"):
        export(template("mlp_digits"), "state_dict", tmp_path / "w.pt")
    no_leftovers(tmp_path)


def test_bad_format_and_opset(tmp_path):
    with pytest.raises(ExportError, match="unknown export format"):
        export(template("mlp_digits"), "keras", tmp_path / "m")
    with pytest.raises(ExportError, match="onnx format only"):
        export(template("mlp_digits"), "pt2", tmp_path / "m", opset=17)
    with pytest.raises(ExportError, match="opset 99"):
        export(template("mlp_digits"), "onnx", tmp_path / "m.onnx", opset=99)


@pytest.mark.fault('export', 'a layer with no ONNX operator',
                   'refused naming the layer and the operator')
def test_layer_without_onnx_operator_is_named(tmp_path, no_leftovers):
    with registered():
        with pytest.raises(ExportError) as info:
            export(graph_with("TestHistogram", "hist"), "onnx", tmp_path / "m.onnx")
        # the other formats still work for it
        assert export(graph_with("TestHistogram", "hist"), "pt2", tmp_path / "m.pt2").check.passed
    message = str(info.value)
    assert "TestHistogram 'hist'" in message and "ONNX" in message and "histc" in message
    no_leftovers(tmp_path, ["m.pt2"])


@pytest.mark.fault('export', 'a layer whose Python control flow depends on values (torch.export)',
                   'refused naming the layer')
def test_value_dependent_control_flow_is_named_for_pt2(tmp_path, no_leftovers):
    with registered():
        with pytest.raises(ExportError) as info:
            export(graph_with("TestSignSwitch", "switch"), "pt2", tmp_path / "m.pt2")
        report = export(graph_with("TestSignSwitch", "switch"), "torchscript", tmp_path / "m.pt")
    assert "TestSignSwitch 'switch'" in str(info.value) and "torch.export" in str(info.value)
    assert report.exporter == "torch.jit.script" and report.check.passed
    no_leftovers(tmp_path, ["m.pt"])


def test_unscriptable_layer_is_traced_with_a_note(tmp_path):
    with registered():
        report = export(graph_with("TestVarArgs", "va"), "torchscript", tmp_path / "m.pt")
    assert report.exporter == "torch.jit.trace" and report.check.passed
    assert any("scripting failed at TestVarArgs 'va'" in n and "traced instead" in n for n in report.notes)


def test_old_opset_that_cannot_hold_attention_names_the_layer(tmp_path, no_leftovers):
    with pytest.raises(ExportError) as info:
        export(template("transformer_encoder"), "onnx", tmp_path / "t.onnx", opset=13)
    message = str(info.value)
    assert "TransformerEncoderLayer 'encoder1'" in message and "opset 13" in message
    no_leftovers(tmp_path)


def test_onnx_falls_back_to_the_torchscript_exporter(tmp_path, monkeypatch):
    import studio.export.onnx_export as onnx_export

    def broken(*args, **kwargs):
        raise RuntimeError("dynamo exporter unavailable")

    monkeypatch.setattr(onnx_export, "EXPORTERS", (("torch.onnx.export(dynamo=True)", broken),
                                                   onnx_export.EXPORTERS[1]))
    report = export(template("lstm_sequence"), "onnx", tmp_path / "m.onnx")
    assert report.exporter.startswith("torch.onnx.export(dynamo=False") and report.check.passed
    assert any("dynamo exporter unavailable" in n for n in report.notes)
