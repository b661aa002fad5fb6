"""What an export did, for the CLI to print and the GUI to show in a dialog."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

TOLERANCE = 1e-4  # largest difference allowed, relative to the output scale max(1, max|output|)


@dataclass(frozen=True)
class CheckResult:
    """The exported file, loaded with its own runtime, against the PyTorch model on a random batch.

    max_abs_diff: the largest |exported - reference| over every output element.
    rel_diff: max_abs_diff divided by the output scale, max(1, max|reference|) per output (the
        largest ratio over the outputs); `passed` is rel_diff <= tolerance.
    """

    runtime: str  # what loaded the file: "onnxruntime 1.20.0 (CPUExecutionProvider)", "torch.jit.load", ...
    batch: int  # batch size of the random check batch (differs from the export's example batch)
    max_abs_diff: float
    rel_diff: float
    tolerance: float = TOLERANCE
    passed: bool = True

    def line(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (f"check {verdict} with {self.runtime} on a random batch of {self.batch}: max abs diff "
                f"{self.max_abs_diff:.3g}, relative {self.rel_diff:.3g} (tolerance {self.tolerance:g})")


@dataclass
class ExportReport:
    format: str  # torchscript | onnx | pt2 | state_dict | code
    path: Path  # the file written
    size_bytes: int = 0
    exporter: str = ""  # how it was made: "torch.jit.script", "torch.onnx.export(dynamo=True), opset 18"
    check: CheckResult | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "scripting failed, traced instead: ..."
    inputs: list[str] = field(default_factory=list)  # "name [batch, 3, 32, 32] float32"
    outputs: list[str] = field(default_factory=list)
    weights: str = "initial (untrained) weights"  # or the checkpoint it came from
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.check is None or self.check.passed

    def to_json(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    def lines(self) -> list[str]:
        out = [f"exported {self.format} to {self.path} ({_size(self.size_bytes)}) in {self.seconds:.1f} s",
               f"  exporter: {self.exporter}", f"  weights: {self.weights}"]
        if self.inputs:
            out.append("  inputs: " + "; ".join(self.inputs))
        if self.outputs:
            out.append("  outputs: " + "; ".join(self.outputs))
        if self.check is not None:
            out.append("  " + self.check.line())
        out.extend(f"  note: {n}" for n in self.notes)
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"
