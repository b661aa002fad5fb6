"""Training checkpoints: one file with everything needed to continue the same run.

    {"format": "netstudio-checkpoint", "version": 1,
     "model": state dict (CPU tensors), "optimizer": ..., "optimizer_type": "Adam",
     "scheduler": ... | None, "scheduler_type": "StepLR" | None, "step": {"scaler": ...},
     "epoch": completed epochs, "global_step": int, "history": [metrics.jsonl records],
     "best": {"epoch", "value", "monitor", "bad_epochs"}, "rng": {"torch", "python", "numpy", ...},
     "fingerprint": sha256 of the graph's nodes, params and wires (not positions),
     "training": the training section as JSON text, "dataset": the dataset's description as JSON text,
     "frozen": the names of the parameters not trained (fine-tuning; absent: none)}

Only tensors, numbers, strings and plain containers go in, so `torch.load(weights_only=True)` reads
it back, and that is the only way it is read. Files are written atomically (temp file + rename).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..core.atomic import atomic_write_bytes
from ..core.limits import FileRefused
from ..core.torch_files import load_torch_file
from .checkpoint_checks import check_checkpoint
from .errors import TrainingError

FORMAT = "netstudio-checkpoint"
VERSION = 1


def graph_fingerprint(graph) -> str:
    nodes = sorted([n.id, n.type, n.params] for n in graph.nodes.values())
    edges = sorted([e.source, e.source_port or "", e.target, e.target_port or ""] for e in graph.edges)
    text = json.dumps({"nodes": nodes, "edges": edges}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Serialise to memory, then write the bytes atomically: torch's own file writer reports a full
    disk or a missing folder as a RuntimeError, which no OSError handler would catch."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getbuffer())


def load_checkpoint(path: str | os.PathLike, model=None, config=None) -> dict:
    """Read a training checkpoint safely (weights_only) and check its fields (with `model`, the
    optimizer state against its parameters; with the run's TrainingConfig, the scheduler state);
    refuse anything else with a clear message."""
    path = Path(path)
    try:
        state = load_torch_file(path, "checkpoint file")
    except FileRefused as exc:
        raise TrainingError(str(exc)) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TrainingError(f"{path}: is not a NetStudio training checkpoint (it has no training state to "
                            "continue from; a plain state dict can be loaded with --checkpoint when exporting)")
    if not isinstance(state.get("version"), int) or state["version"] > VERSION:
        raise TrainingError(f"{path}: was written by a newer NetStudio (checkpoint version "
                            f"{state.get('version')!r}); update NetStudio to resume from it")
    for key in ("model", "epoch", "history"):
        if key not in state:
            raise TrainingError(f"{path}: is incomplete (no {key!r}); resume from another checkpoint")
    check_checkpoint(state, path, model, config)
    return state
