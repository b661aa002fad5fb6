"""The weights alone: a plain state dict (parameter name -> tensor) saved with torch.save. It loads
with torch.load(weights_only=True) into the compiled model, the generated source's class, or back
into NetStudio with --checkpoint."""
from __future__ import annotations

import time

from .check import compare, require
from .output import buffer_of, put, write_checked
from .prepare import CHECK_BATCH, Prepared
from .report import ExportReport


def export_state_dict(prep: Prepared, out) -> ExportReport:
    import torch
    from studio.core.compiler import compile_graph
    from studio.core.weights import load_weights, read_state_dict

    t0 = time.perf_counter()
    report = ExportReport("state_dict", out, inputs=prep.describe("inputs"), outputs=prep.describe("outputs"),
                          weights=prep.weights, exporter="torch.save(model.state_dict())")
    state = {k: v.detach().cpu().clone() for k, v in prep.model.state_dict().items()}

    def write(tmp):
        put(tmp, buffer_of(lambda buffer: torch.save(state, buffer)))
        fresh = compile_graph(prep.graph, analysis=prep.analysis)
        load_weights(fresh, read_state_dict(tmp))  # weights_only=True, names and shapes checked
        fresh.eval()
        batch = prep.inputs(CHECK_BATCH, seed=2)
        with torch.no_grad():
            got = fresh(*batch)
        got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
        report.check = compare(prep.reference(batch), got, "torch.load(weights_only=True) into a fresh model",
                               CHECK_BATCH)
        require(report.check, "state_dict", report)

    write_checked(out, write)
    report.notes.append(f"{len(state)} tensors; load with model.load_state_dict(torch.load(path, weights_only=True))")
    report.size_bytes = out.stat().st_size
    report.seconds = time.perf_counter() - t0
    return report
