"""Compare an exported file's outputs with the PyTorch model's on the same random batch."""
from __future__ import annotations

import math

from .errors import CheckFailed
from .report import TOLERANCE, CheckResult


def compare(reference, outputs, runtime: str, batch: int, tolerance: float = TOLERANCE) -> CheckResult:
    """reference: the model's outputs (tensors); outputs: the exported file's (tensors or arrays),
    in the same order."""
    import numpy as np

    outputs = list(outputs)
    if len(outputs) != len(reference):
        return CheckResult(runtime, batch, math.inf, math.inf, tolerance, False)
    max_abs, max_rel = 0.0, 0.0
    for ref, got in zip(reference, outputs):
        ref = ref.detach().cpu().double().numpy()
        got = got.detach().cpu().double().numpy() if hasattr(got, "detach") else np.asarray(got, dtype=np.float64)
        if ref.shape != got.shape:
            return CheckResult(runtime, batch, math.inf, math.inf, tolerance, False)
        if ref.size == 0:
            continue
        diff = float(np.max(np.abs(ref - got)))
        if math.isnan(diff):
            diff = math.inf
        scale = max(1.0, float(np.max(np.abs(ref))))
        max_abs, max_rel = max(max_abs, diff), max(max_rel, diff / scale)
    return CheckResult(runtime, batch, max_abs, max_rel, tolerance, max_rel <= tolerance)


def require(result: CheckResult, fmt: str, report=None) -> None:
    """Raise CheckFailed (an ExportError) when the check did not pass; the file is then not kept."""
    if not result.passed:
        if report is not None:
            report.check = result
        raise CheckFailed(f"the {fmt} export does not reproduce the model: {result.line()}; nothing was "
                          "written", report)
