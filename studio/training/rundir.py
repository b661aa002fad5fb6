"""The run folder: metrics.jsonl (one JSON object per epoch and split), checkpoint.pt (the latest
complete epoch) and best.pt (the best epoch by the monitored metric). Every file is rewritten
atomically after each epoch, so a crash or a stop never leaves half a file; metrics.jsonl is written
from the trainer's history, so a resumed run keeps epochs 1..N and appends N+1.. as one curve."""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..core.atomic import atomic_write_text
from .checkpoint import save_checkpoint
from .errors import TrainingError
from .events import TrainerListener


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN / Infinity
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def metrics_lines(history: list[dict]) -> str:
    return "".join(json.dumps(_clean(r)) + "\n" for r in history)


class RunWriter(TrainerListener):
    def __init__(self, trainer, out_dir) -> None:
        self.trainer = trainer
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.out / "metrics.jsonl"
        self.checkpoint_path = self.out / "checkpoint.pt"
        self.best_path = self.out / "best.pt"

    def on_started(self, event) -> None:
        if self.trainer.history:  # a resumed run: the earlier epochs are part of this run's curve
            atomic_write_text(self.metrics_path, metrics_lines(self.trainer.history))

    def on_epoch(self, event) -> None:
        state = self.trainer.checkpoint_state()
        try:
            save_checkpoint(self.checkpoint_path, state)
            if event.improved or not self.best_path.exists():
                save_checkpoint(self.best_path, state)
            atomic_write_text(self.metrics_path, metrics_lines(self.trainer.history))
        except OSError as exc:  # a full disk, a removed folder: the run stops, earlier files stay whole
            raise TrainingError(f"cannot write the run's files in {self.out} after epoch {event.epoch} "
                                f"({exc.strerror or exc}); training stopped. Free some space or pick another "
                                "folder; the files of the previous epoch are intact") from None

    def on_test(self, event) -> None:
        atomic_write_text(self.metrics_path, metrics_lines(self.trainer.history))
