"""TorchScript: torch.jit.script, falling back to torch.jit.trace (with a note) when scripting fails."""
from __future__ import annotations

import warnings

from .diagnose import find_culprit, first_line
from .errors import ExportError
from .jit_stack import graph_nodes, main_thread_stack, run_with_stack, stack_for
from .output import buffer_of
from .prepare import EXAMPLE_BATCH, Prepared
from .quiet import quiet
from .report import ExportReport
from .skeleton import Attempt, FileFormat, Loaded, export_file


def to_torchscript(prep: Prepared):
    """Returns (ScriptModule, exporter description, notes)."""
    import torch

    example = prep.inputs(EXAMPLE_BATCH, seed=1)
    try:
        with quiet():
            return torch.jit.script(prep.model), "torch.jit.script", []
    except Exception as exc:  # scripting refuses many Python constructs; tracing may still work
        script_error = exc
    culprit = find_culprit(prep, example, lambda m, a, k: torch.jit.script(m))
    where = f" at {culprit[1]} '{culprit[0]}' ({culprit[2]})" if culprit else f" ({first_line(script_error)})"
    try:
        with quiet():
            traced = torch.jit.trace(prep.model, example, check_trace=False)
    except Exception as exc:
        raise ExportError(f"TorchScript: scripting failed{where}, and tracing failed too ({first_line(exc)}); "
                          "export to pt2 or onnx instead") from None
    note = (f"scripting failed{where}, traced instead: the file replays the operations run on an example "
            f"batch of {EXAMPLE_BATCH}, so Python control flow that depends on the input is frozen")
    return traced, "torch.jit.trace", [note]


class TorchScriptFormat(FileFormat):
    name, label = "torchscript", "TorchScript"

    def make(self, report: ExportReport) -> list[Attempt]:
        import torch

        module, exporter, report.notes = to_torchscript(self.prep)
        self.nodes = graph_nodes(module)
        self.stack = stack_for(self.nodes)  # its interpreter recurses once per node of a chain (see jit_stack)

        def save():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # "torch.jit is deprecated": the format is still asked for
                return buffer_of(lambda buffer: torch.jit.save(module, buffer))

        def load(tmp) -> Loaded:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                return Loaded(torch.jit.load(str(tmp), map_location="cpu"), "torch.jit.load")

        return [Attempt(exporter, save, load)]

    def guard(self, fn) -> None:
        run_with_stack(fn, self.stack)

    def notes(self, report: ExportReport, failures: list[str]) -> list[str]:
        main = main_thread_stack()
        if main is None or self.stack <= main:
            return []
        return [f"running this file needs about {self.stack >> 20} MB of C stack ({self.nodes} TorchScript nodes; "
                "TorchScript's interpreter recurses once per node of a chain of layers), more than the "
                f"{main >> 20} MB a main thread has here (ulimit -s): call it from a thread started after "
                f"threading.stack_size({self.stack}), or raise ulimit -s"]


def export_torchscript(prep: Prepared, out) -> ExportReport:
    return export_file(TorchScriptFormat(prep), out)
