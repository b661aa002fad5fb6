"""The one road every export takes. A format supplies what differs: `make` builds what is saved
(a scripted module, an ExportedProgram, a state dict, source text) and returns one or more
attempts; each attempt saves it to bytes and loads the written file back with the format's own
runtime. This module does the rest, the same for every format: the bytes go into a temp file beside
the output (output.write_checked: torch never writes the destination itself), the loaded file runs
on a random check batch and is compared with the PyTorch model, and only a file that passes is
swapped in; then the report gets its size and time.

A format with fallbacks (ONNX: the dynamo exporter, then the TorchScript-based one) lists several
attempts: one that raises or does not reproduce the model is noted and the next one tried; when
none passes, the format's `explain` says why. A format with one attempt lets its errors through."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .check import compare, require
from .diagnose import first_line
from .errors import ExportError
from .output import put, write_checked
from .prepare import CHECK_BATCH, Prepared
from .report import ExportReport


@dataclass(frozen=True)
class Loaded:
    """The written file, loaded back: `run(*batch)` gives its outputs (tensors or arrays)."""

    run: Callable[..., object]
    runtime: str  # what ran it, for the check line: "torch.jit.load", "onnxruntime 1.20.0 (CPU)"
    exporter: str | None = None  # a finer account of how the file was made, learnt from it (ONNX's opset)


@dataclass(frozen=True)
class Attempt:
    exporter: str  # how the file is made, for the report: "torch.jit.script"
    save: Callable[[], object]  # the file's bytes (bytes or a buffer), made in memory
    load: Callable[[Path], Loaded]  # the temp file read back with the format's runtime


class FileFormat:
    """What one format supplies. Subclasses set `name` (the report's format) and `label` (the
    format in messages) and implement make(); the others have defaults."""

    name = ""
    label = ""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep

    def make(self, report: ExportReport) -> Sequence[Attempt]:
        """Build what is saved; may add notes to the report. Raise ExportError when the format cannot
        take the model."""
        raise NotImplementedError

    def explain(self, failures: list[str]) -> ExportError:
        """Every attempt failed (formats with fallbacks only)."""
        return ExportError(f"{self.name}: no exporter could write this model: {'; '.join(failures)}")

    def guard(self, fn: Callable[[], None]) -> None:
        """Run the save, load-back and check (TorchScript: on a thread with stack enough for the graph)."""
        fn()

    def notes(self, report: ExportReport, failures: list[str]) -> list[str]:
        """Notes for the report once the file is written."""
        return []


def export_file(fmt: FileFormat, out: Path) -> ExportReport:
    """Make, save, load back, check and atomically write one export; the report says how it went."""
    prep = fmt.prep
    t0 = time.perf_counter()
    report = ExportReport(fmt.name, out, inputs=prep.describe("inputs"), outputs=prep.describe("outputs"),
                          weights=prep.weights)
    attempts = list(fmt.make(report))
    failures: list[str] = []
    write_checked(out, lambda tmp: fmt.guard(lambda: _first_passing(fmt, attempts, tmp, report, failures)))
    report.notes.extend(fmt.notes(report, failures))
    report.size_bytes = out.stat().st_size
    report.seconds = time.perf_counter() - t0
    return report


def _first_passing(fmt: FileFormat, attempts: list[Attempt], tmp: Path, report: ExportReport,
                   failures: list[str]) -> None:
    """Fill `tmp` with the first attempt whose file reproduces the model; raise when none does."""
    import torch

    prep = fmt.prep
    batch = prep.inputs(CHECK_BATCH, seed=2)
    reference = prep.reference(batch)
    fallback = len(attempts) > 1
    for attempt in attempts:
        if not fallback:
            report.exporter = attempt.exporter  # a failed check's report still says how the file was made
        try:
            put(tmp, attempt.save())
            loaded = attempt.load(tmp)
            with torch.no_grad():
                got = loaded.run(*batch)
        except OSError:
            raise  # the disk, not the exporter: the next attempt would fail the same way
        except Exception as exc:
            if not fallback:
                raise
            failures.append(f"{attempt.exporter} failed: {first_line(exc)}")  # try the next one, say why
            continue
        got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
        check = compare(reference, got, loaded.runtime, CHECK_BATCH)
        report.check = check
        if check.passed:
            report.exporter = loaded.exporter or attempt.exporter
            return
        if not fallback:
            require(check, fmt.label, report)
        failures.append(f"{attempt.exporter}: {check.line()}")
    if report.check is not None and not report.check.passed:
        require(report.check, fmt.label, report)
    raise fmt.explain(failures)
