"""ONNX: one self-contained .onnx file with a dynamic batch dimension and named inputs/outputs,
checked with onnxruntime against the PyTorch model.

Exporter choice: torch.onnx.export(dynamo=True) (torch.export based; the default and the maintained
path in torch 2.9+) is tried first. When it raises, or its file does not reproduce the model, the
TorchScript-based exporter (dynamo=False) is tried; the report says which one made the file and why.
"""
from __future__ import annotations

import time

from .check import compare, require
from .diagnose import find_culprit, first_line
from .errors import ExportError
from .quiet import quiet
from .output import buffer_of, put, write_checked
from .prepare import CHECK_BATCH, EXAMPLE_BATCH, Prepared
from .report import ExportReport

MAX_PROTO_BYTES = 2_000_000_000  # protobuf's limit for one file; larger weights need external data


def opset_range() -> tuple[int, int]:
    from torch.onnx import _constants

    return _constants.ONNX_MIN_OPSET, _constants.ONNX_MAX_OPSET


def _dynamo(prep: Prepared, opset, example) -> bytes:
    """The file's bytes (no file: the caller writes them, so a full disk is an OSError)."""
    import torch

    from .pt2 import batch_shapes

    with quiet():
        program = torch.onnx.export(prep.model, example, None, dynamo=True, external_data=False,
                                    input_names=prep.input_names, output_names=prep.output_names,
                                    dynamic_shapes=batch_shapes(prep), opset_version=opset, optimize=True,
                                    verbose=False)
        return program.model_proto.SerializeToString()


def _torchscript(prep: Prepared, opset, example):
    import torch

    axes = {n: {0: "batch"} for n in prep.input_names + prep.output_names}
    with quiet(descriptors=True):  # it prints the TorchScript graph from C++ when an operator is missing
        return buffer_of(lambda buffer: torch.onnx.export(
            prep.model, example, buffer, dynamo=False, input_names=prep.input_names, output_names=prep.output_names,
            dynamic_axes=axes, opset_version=opset, do_constant_folding=True))


EXPORTERS = (("torch.onnx.export(dynamo=True)", _dynamo), ("torch.onnx.export(dynamo=False, TorchScript-based)",
                                                            _torchscript))


def _file_facts(path) -> tuple[int, list[str]]:
    """(default-domain opset, names of graph inputs whose first dimension is not symbolic)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    fixed = []
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].dim_param:
            fixed.append(value.name)
    return opset, fixed


def _run_ort(prep: Prepared, path, batch):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feed = dict(zip(prep.input_names, (t.numpy() for t in batch)))
    missing = [n for n in names if n not in feed]
    if missing:
        raise RuntimeError(f"the file expects inputs {names}, not {prep.input_names}")
    return session.run(prep.output_names, {n: feed[n] for n in names}), f"onnxruntime {ort.__version__} (CPU)"


def export_onnx(prep: Prepared, out, opset: int | None = None) -> ExportReport:
    lo, hi = opset_range()
    if opset is not None and not lo <= opset <= hi:
        raise ExportError(f"onnx: opset {opset} is outside what this PyTorch can write ({lo} to {hi})")
    param_bytes = sum(t.numel() * t.element_size() for t in prep.model.state_dict().values())
    if param_bytes > MAX_PROTO_BYTES * 0.95:
        raise ExportError(f"onnx: the weights take {param_bytes / 1e9:.1f} GB, more than fits in one .onnx file "
                          "(2 GB); export to pt2 or state_dict instead")
    t0 = time.perf_counter()
    report = ExportReport("onnx", out, inputs=prep.describe("inputs"), outputs=prep.describe("outputs"),
                          weights=prep.weights)
    example = prep.inputs(EXAMPLE_BATCH, seed=1)
    batch = prep.inputs(CHECK_BATCH, seed=2)
    reference = prep.reference(batch)
    failures: list[str] = []

    def write(tmp):
        for name, exporter in EXPORTERS:
            try:
                put(tmp, exporter(prep, opset, example))
                file_opset, fixed = _file_facts(tmp)
                if fixed:
                    raise RuntimeError(f"the batch dimension of {', '.join(fixed)} is fixed in the file")
                if opset is not None and file_opset != opset:  # the converter may keep its own opset
                    raise RuntimeError(f"it wrote opset {file_opset} instead of the requested {opset}")
                got, runtime = _run_ort(prep, tmp, batch)
            except OSError:
                raise  # the disk, not the exporter: the next exporter would fail the same way
            except Exception as exc:  # noqa: BLE001 - try the next exporter, report why
                failures.append(f"{name} failed: {first_line(exc)}")
                continue
            check = compare(reference, got, runtime, CHECK_BATCH)
            if not check.passed:
                failures.append(f"{name}: {check.line()}")
                report.check = check
                continue
            report.check, report.exporter = check, f"{name}, opset {file_opset}"
            return
        if report.check is not None and not report.check.passed:
            require(report.check, "ONNX", report)
        raise _explain(prep, example, opset, failures)

    write_checked(out, write)
    report.notes.extend(f"first choice not used: {f}" for f in failures)
    report.notes.append("batch dimension is dynamic (named 'batch'); weights are inside the file")
    report.size_bytes = out.stat().st_size
    report.seconds = time.perf_counter() - t0
    return report


def _explain(prep: Prepared, example, opset, failures: list[str]) -> ExportError:
    """Every exporter failed: name the first layer that fails on its own, with the reasons."""
    import os
    import tempfile

    def attempt(module, args, kwargs):
        import torch

        fd, path = tempfile.mkstemp(suffix=".onnx")
        os.close(fd)
        try:
            with quiet(descriptors=True):
                torch.onnx.export(module, tuple(args), path, kwargs=dict(kwargs), dynamo=False, opset_version=opset)
        finally:
            os.unlink(path)

    culprit = find_culprit(prep, example, attempt)
    reasons = "; ".join(failures)
    if culprit:
        which = f"opset {opset}" if opset else "the default opset"
        newer = ", or ask for a newer --opset" if opset and opset < opset_range()[1] else ""
        return ExportError(f"onnx: {culprit[1]} '{culprit[0]}' cannot be expressed in ONNX ({which}): {reasons}. "
                           f"Export to pt2 or TorchScript instead{newer}")
    return ExportError(f"onnx: no exporter could write this model: {reasons}")
