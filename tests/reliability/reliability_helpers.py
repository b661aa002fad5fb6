"""Helpers shared by the reliability tests (not a test module)."""
from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"
GATE_TIMEOUT_S = 60


def moons_record(**training) -> dict:
    """The two-moons MLP, small: 400 samples (10 steps of 32 per epoch), CPU."""
    record = json.loads((TEMPLATES / "moons_mlp.json").read_text())
    record.pop("description", None)
    record["training"].update({"dataset": {"name": "moons", "samples": 400, "noise": 0.15}, "epochs": 3,
                               "batch_size": 32, "device": "cpu", "metrics": ["accuracy"]})
    record["training"].update(training)
    return record


def write_project(folder: Path, record: dict, name: str = "moons.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(record, indent=1))
    return path


def with_layer(record: dict, node: dict, after: str) -> dict:
    """A copy of `record` with `node` spliced in after node `after`."""
    record = copy.deepcopy(record)
    record["nodes"].append(node)
    for e in record["edges"]:
        if e["source"] == after:
            e["source"] = node["id"]
    record["edges"].append({"source": after, "target": node["id"]})
    return record


def proc_status() -> tuple[float, int]:
    """(resident memory in MB, OS threads) of this process, from /proc/self/status."""
    rss = threads = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, threads


class Gate:
    """Holds the thread that reaches it until the test releases it (or GATE_TIMEOUT_S passes, so a
    failing test never hangs). `reached` is set when the thread arrives."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()

    def arrive(self) -> None:
        self.reached.set()
        self.released.wait(GATE_TIMEOUT_S)

    def release(self) -> None:
        self.released.set()


class SteppedFault:
    """Wraps the trainer's step function: at call `at` (counting every training step of the run),
    either wait at `gate` or do `fault(loss, out)` (raise, or return a poisoned loss)."""

    def __init__(self, step_fn, at: int, gate: Gate | None = None, fault=None) -> None:
        self._fn, self.at, self.gate, self.fault, self.calls = step_fn, at, gate, fault, 0

    def __call__(self, *args):
        self.calls += 1
        if self.calls == self.at and self.gate is not None:
            self.gate.arrive()
        loss, out = self._fn(*args)
        if self.fault is not None and self.calls >= self.at:
            return self.fault(loss, out)
        return loss, out

    def __getattr__(self, name):
        return getattr(self._fn, name)


def file_digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_mode(path: Path) -> int:
    import stat

    return stat.S_IMODE(os.stat(path).st_mode)
