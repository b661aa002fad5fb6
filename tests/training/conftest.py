"""Helpers for the training tests: small projects written to tmp_path, and listeners that record."""
from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "resources" / "templates"


def template(name: str) -> dict:
    return json.loads((TEMPLATES / f"{name}.json").read_text())


def own_images(record: dict, root: Path) -> None:
    """resnet18 trains on the person's images: a tiny folder of two classes (fc set to 2, as its
    description says), at 64 x 64 instead of 224 x 224 (every layer and stage the same, the
    epoch ~10x cheaper on the CPU: ~25 s it was)."""
    from .test_datasets import write_images

    dataset = record["training"]["dataset"]
    write_images(root / dataset["path"])
    dataset["size"] = [64, 64]
    next(n for n in record["nodes"] if n["type"] == "Input")["params"]["shape"] = [3, 64, 64]
    next(n for n in record["nodes"] if n["id"] == "fc")["params"]["out_features"] = 2


def write_project(folder: Path, record: dict, name: str = "project.json") -> Path:
    path = Path(folder) / name
    path.write_text(json.dumps(record))
    return path


def chain_project(nodes, training: dict) -> dict:
    """A project whose nodes form one chain: nodes = [(id, type, params), ...]."""
    return {"format": "netstudio", "version": 1, "name": "test",
            "nodes": [{"id": i, "type": t, "params": p, "pos": [0, 0]} for i, t, p in nodes],
            "edges": [{"source": a[0], "target": b[0]} for a, b in zip(nodes, nodes[1:])],
            "training": training}


def mlp_project(shape=(2,), classes=2, hidden=16, training=None) -> dict:
    nodes = [("input", "Input", {"shape": list(shape)})]
    if len(shape) > 1:
        nodes.append(("flatten", "Flatten", {}))
    nodes += [("fc1", "Linear", {"out_features": hidden}), ("act", "ReLU", {}),
              ("fc2", "Linear", {"out_features": classes}), ("output", "Output", {})]
    base = {"dataset": {"name": "moons", "samples": 400}, "loss": {"type": "CrossEntropyLoss"},
            "optimizer": {"type": "Adam", "lr": 0.01}, "epochs": 2, "batch_size": 32, "device": "cpu",
            "seed": 0, "metrics": ["accuracy"]}
    base.update(training or {})
    return chain_project(nodes, base)


class Recorder:
    """A listener that keeps every event and lets a test wait for one kind with a timeout."""

    def __init__(self) -> None:
        self.events = []
        self._seen: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def on_event(self, event) -> None:
        with self._lock:
            self.events.append(event)
            self._seen.setdefault(event.kind, threading.Event()).set()

    def of(self, kind: str):
        return [e for e in self.events if e.kind == kind]

    def kinds(self):
        return [e.kind for e in self.events]

    def wait(self, kind: str, timeout: float = 30.0) -> bool:
        with self._lock:
            ev = self._seen.setdefault(kind, threading.Event())
        return ev.wait(timeout)


def assert_plain(value, path="event"):
    """Events carry plain data: numbers, strings, lists, dicts, numpy arrays; never torch tensors."""
    import torch

    assert not isinstance(value, torch.Tensor), f"{path} is a torch tensor"
    if isinstance(value, dict):
        for k, v in value.items():
            assert_plain(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            assert_plain(v, f"{path}[{i}]")
    else:
        assert value is None or isinstance(value, (int, float, str, bool, np.ndarray, np.generic)), \
            f"{path} is a {type(value).__name__}"


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def deep():
    return copy.deepcopy
