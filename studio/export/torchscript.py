"""TorchScript: torch.jit.script, falling back to torch.jit.trace (with a note) when scripting fails."""
from __future__ import annotations

import time
import warnings

from .check import compare, require
from .diagnose import find_culprit, first_line
from .errors import ExportError
from .quiet import quiet
from .jit_stack import graph_nodes, main_thread_stack, run_with_stack, stack_for
from .output import buffer_of, put, write_checked
from .prepare import CHECK_BATCH, EXAMPLE_BATCH, Prepared
from .report import ExportReport


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


def export_torchscript(prep: Prepared, out) -> ExportReport:
    import torch

    t0 = time.perf_counter()
    report = ExportReport("torchscript", out, inputs=prep.describe("inputs"), outputs=prep.describe("outputs"),
                          weights=prep.weights)
    module, report.exporter, report.notes = to_torchscript(prep)
    nodes = graph_nodes(module)
    stack = stack_for(nodes)  # its interpreter recurses once per node of a chain (see jit_stack)

    def save_and_check(tmp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "torch.jit is deprecated": the format is still asked for
            put(tmp, buffer_of(lambda buffer: torch.jit.save(module, buffer)))
            loaded = torch.jit.load(str(tmp), map_location="cpu")
        batch = prep.inputs(CHECK_BATCH, seed=2)
        with torch.no_grad():
            got = loaded(*batch)
        got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
        report.check = compare(prep.reference(batch), got, "torch.jit.load", CHECK_BATCH)
        require(report.check, "TorchScript", report)

    write_checked(out, lambda tmp: run_with_stack(lambda: save_and_check(tmp), stack))
    main = main_thread_stack()
    if main is not None and stack > main:
        report.notes.append(f"running this file needs about {stack >> 20} MB of C stack ({nodes} TorchScript nodes; "
                            "TorchScript's interpreter recurses once per node of a chain of layers), more than the "
                            f"{main >> 20} MB a main thread has here (ulimit -s): call it from a thread started after "
                            f"threading.stack_size({stack}), or raise ulimit -s")
    report.size_bytes = out.stat().st_size
    report.seconds = time.perf_counter() - t0
    return report
