"""torch.export: an ExportedProgram with a dynamic batch dimension, saved with torch.export.save."""
from __future__ import annotations

import io
import time

from .check import compare, require
from .diagnose import find_culprit, first_line
from .errors import ExportError
from .quiet import quiet
from .output import buffer_of, put, write_checked
from .prepare import CHECK_BATCH, EXAMPLE_BATCH, Prepared
from .report import ExportReport


def batch_shapes(prep: Prepared):
    """dynamic_shapes for torch.export: dimension 0 of every input is one shared batch Dim."""
    from torch.export import Dim

    batch = Dim("batch", min=1, max=1 << 20)
    return tuple({0: batch} for _ in prep.signature.inputs)


def to_exported_program(prep: Prepared):
    import torch

    example = prep.inputs(EXAMPLE_BATCH, seed=1)
    try:
        with quiet():
            return torch.export.export(prep.model, example, dynamic_shapes=batch_shapes(prep), strict=False)
    except Exception as exc:
        error = exc

    def attempt(module, args, kwargs):
        with quiet():
            torch.export.export(module, tuple(args), kwargs=dict(kwargs), strict=False)

    culprit = find_culprit(prep, example, attempt)
    if culprit:
        why = culprit[2]
        if "data-dependent" in why:
            why = f"its Python control flow depends on tensor values, which torch.export cannot capture ({why})"
        raise ExportError(f"pt2: torch.export cannot capture {culprit[1]} '{culprit[0]}': {why}; "
                          "export to TorchScript instead") from None
    raise ExportError(f"pt2: torch.export cannot capture the model with a dynamic batch dimension: "
                      f"{first_line(error)}") from None


def export_pt2(prep: Prepared, out) -> ExportReport:
    import torch

    t0 = time.perf_counter()
    report = ExportReport("pt2", out, inputs=prep.describe("inputs"), outputs=prep.describe("outputs"),
                          weights=prep.weights, exporter="torch.export.export (dynamic batch) + torch.export.save")
    program = to_exported_program(prep)

    def write(tmp):
        put(tmp, buffer_of(lambda buffer: torch.export.save(program, buffer)))
        loaded = torch.export.load(io.BytesIO(tmp.read_bytes())).module()
        batch = prep.inputs(CHECK_BATCH, seed=2)
        with torch.no_grad():
            got = loaded(*batch)
        got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
        report.check = compare(prep.reference(batch), got, "torch.export.load", CHECK_BATCH)
        require(report.check, "pt2", report)

    write_checked(out, write)
    report.notes.append("load it with torch.export.load(path).module(); the batch may be any size from 1")
    report.size_bytes = out.stat().st_size
    report.seconds = time.perf_counter() - t0
    return report
