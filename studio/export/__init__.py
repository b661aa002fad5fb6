"""Export a NetStudio model (Qt-free): TorchScript, ONNX, torch.export (pt2), the state dict, and
readable standalone PyTorch source. Every export is checked by loading the file with its own
runtime and comparing outputs with the compiled model; nothing is written when anything fails.

    from studio.export import export
    report = export("project.json", "onnx", "model.onnx", checkpoint="run/best.pt")
    print(report.text())
"""
from __future__ import annotations

from .errors import CheckFailed, ExportError
from .report import TOLERANCE, CheckResult, ExportReport

FORMATS = ("torchscript", "onnx", "pt2", "code", "state_dict")
SUFFIXES = {"torchscript": ".pt", "onnx": ".onnx", "pt2": ".pt2", "code": ".py", "state_dict": ".pt"}


def export(source, fmt: str, out, checkpoint=None, opset: int | None = None) -> ExportReport:
    """Export `source` (a project file path, a Project or a Graph) to `out` in format `fmt`.

    checkpoint: a training checkpoint or a plain state dict file (weights_only=True), or None for
    the initial weights. opset: ONNX only. Raises ExportError (a ValueError with a message for
    people) when the export cannot be done; other errors are bugs."""
    from .output import check_output_path
    from .prepare import prepare

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; pick one of {', '.join(FORMATS)}")
    if opset is not None and fmt != "onnx":
        raise ExportError(f"--opset applies to the onnx format only, not {fmt}")
    out = check_output_path(out)
    prep = prepare(source, checkpoint)
    report = _export(prep, fmt, out, opset)
    if prep.mode_dependent:
        report.notes.append(f"exported in evaluation mode ({', '.join(prep.mode_dependent)} behave as at inference: "
                            "dropout off, BatchNorm uses its running statistics)")
    return report


def _export(prep, fmt: str, out, opset):
    if fmt == "torchscript":
        from .torchscript import export_torchscript

        return export_torchscript(prep, out)
    if fmt == "onnx":
        from .onnx_export import export_onnx

        return export_onnx(prep, out, opset)
    if fmt == "pt2":
        from .pt2 import export_pt2

        return export_pt2(prep, out)
    if fmt == "state_dict":
        from .state_dict import export_state_dict

        return export_state_dict(prep, out)
    from .codegen.export import export_code

    return export_code(prep, out)


__all__ = ["export", "FORMATS", "SUFFIXES", "ExportReport", "CheckResult", "ExportError", "CheckFailed",
           "TOLERANCE"]
