"""ONNX: one self-contained .onnx file with a dynamic batch dimension and named inputs/outputs,
checked with onnxruntime against the PyTorch model.

Exporter choice: torch.onnx.export(dynamo=True) (torch.export based; the default and the maintained
path in torch 2.9+) is tried first. When it raises, or its file does not reproduce the model, the
TorchScript-based exporter (dynamo=False) is tried; the report says which one made the file and why.
"""
from __future__ import annotations

import functools

from .diagnose import find_culprit
from .errors import ExportError
from .output import buffer_of
from .prepare import EXAMPLE_BATCH, Prepared
from .quiet import quiet
from .report import ExportReport
from .skeleton import Attempt, FileFormat, Loaded, export_file

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


def _load_ort(prep: Prepared, path, opset, exporter: str) -> Loaded:
    """The file checked (a dynamic batch, the opset asked for) and opened with onnxruntime."""
    import onnxruntime as ort

    file_opset, fixed = _file_facts(path)
    if fixed:
        raise RuntimeError(f"the batch dimension of {', '.join(fixed)} is fixed in the file")
    if opset is not None and file_opset != opset:  # the converter may keep its own opset
        raise RuntimeError(f"it wrote opset {file_opset} instead of the requested {opset}")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(*batch):
        feed = dict(zip(prep.input_names, (t.numpy() for t in batch)))
        missing = [n for n in names if n not in feed]
        if missing:
            raise RuntimeError(f"the file expects inputs {names}, not {prep.input_names}")
        return session.run(prep.output_names, {n: feed[n] for n in names})

    return Loaded(run, f"onnxruntime {ort.__version__} (CPU)", f"{exporter}, opset {file_opset}")


class OnnxFormat(FileFormat):
    name, label = "onnx", "ONNX"

    def __init__(self, prep: Prepared, opset: int | None) -> None:
        super().__init__(prep)
        self.opset = opset
        self.example = prep.inputs(EXAMPLE_BATCH, seed=1)

    def make(self, report: ExportReport) -> list[Attempt]:
        return [Attempt(name, functools.partial(exporter, self.prep, self.opset, self.example),
                        functools.partial(self._load, name=name)) for name, exporter in EXPORTERS]

    def _load(self, tmp, name: str) -> Loaded:
        return _load_ort(self.prep, tmp, self.opset, name)

    def explain(self, failures: list[str]) -> ExportError:
        return _explain(self.prep, self.example, self.opset, failures)

    def notes(self, report: ExportReport, failures: list[str]) -> list[str]:
        return [*(f"first choice not used: {f}" for f in failures),
                "batch dimension is dynamic (named 'batch'); weights are inside the file"]


def export_onnx(prep: Prepared, out, opset: int | None = None) -> ExportReport:
    lo, hi = opset_range()
    if opset is not None and not lo <= opset <= hi:
        raise ExportError(f"onnx: opset {opset} is outside what this PyTorch can write ({lo} to {hi})")
    param_bytes = sum(t.numel() * t.element_size() for t in prep.model.state_dict().values())
    if param_bytes > MAX_PROTO_BYTES * 0.95:
        raise ExportError(f"onnx: the weights take {param_bytes / 1e9:.1f} GB, more than fits in one .onnx file "
                          "(2 GB); export to pt2 or state_dict instead")
    return export_file(OnnxFormat(prep, opset), out)


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
