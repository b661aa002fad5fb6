"""The weights alone: a plain state dict (parameter name -> tensor) saved with torch.save. It loads
with torch.load(weights_only=True) into the compiled model, the generated source's class, or back
into NetStudio with --checkpoint."""
from __future__ import annotations

from .output import buffer_of
from .prepare import Prepared
from .report import ExportReport
from .skeleton import Attempt, FileFormat, Loaded, export_file


class StateDictFormat(FileFormat):
    name, label = "state_dict", "state_dict"

    def make(self, report: ExportReport) -> list[Attempt]:
        import torch

        copies: dict = {}  # a tied weight (two names, one tensor) is copied once, so the file holds it once
        self.state = state = {k: copies.setdefault((v.data_ptr(), v.shape, v.dtype), v.detach().cpu().clone())
                              for k, v in self.prep.model.state_dict().items()}
        return [Attempt("torch.save(model.state_dict())", lambda: buffer_of(lambda buffer: torch.save(state, buffer)),
                        self.load)]

    def load(self, tmp) -> Loaded:
        from studio.core.compiler import compile_graph
        from studio.core.weights import load_weights, read_state_dict

        fresh = compile_graph(self.prep.graph, analysis=self.prep.analysis)
        load_weights(fresh, read_state_dict(tmp))  # weights_only=True, names and shapes checked
        fresh.eval()
        return Loaded(fresh, "torch.load(weights_only=True) into a fresh model")

    def notes(self, report: ExportReport, failures: list[str]) -> list[str]:
        return [f"{len(self.state)} tensors; load with model.load_state_dict(torch.load(path, weights_only=True))"]


def export_state_dict(prep: Prepared, out) -> ExportReport:
    return export_file(StateDictFormat(prep), out)
