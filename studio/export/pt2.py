"""torch.export: an ExportedProgram with a dynamic batch dimension, saved with torch.export.save."""
from __future__ import annotations

import io

from .diagnose import find_culprit, first_line
from .errors import ExportError
from .output import buffer_of
from .prepare import EXAMPLE_BATCH, Prepared
from .quiet import quiet
from .report import ExportReport
from .skeleton import Attempt, FileFormat, Loaded, export_file


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


class Pt2Format(FileFormat):
    name, label = "pt2", "pt2"

    def make(self, report: ExportReport) -> list[Attempt]:
        import torch

        program = to_exported_program(self.prep)

        def load(tmp) -> Loaded:
            return Loaded(torch.export.load(io.BytesIO(tmp.read_bytes())).module(), "torch.export.load")

        return [Attempt("torch.export.export (dynamic batch) + torch.export.save",
                        lambda: buffer_of(lambda buffer: torch.export.save(program, buffer)), load)]

    def notes(self, report: ExportReport, failures: list[str]) -> list[str]:
        return ["load it with torch.export.load(path).module(); the batch may be any size from 1"]


def export_pt2(prep: Prepared, out) -> ExportReport:
    return export_file(Pt2Format(prep), out)
