"""The run folder: metrics.jsonl (one JSON object per epoch and split), checkpoint.pt (the latest
complete epoch) and best.pt (the best epoch by the monitored metric). Every file is rewritten
atomically after each epoch, so a crash or a stop never leaves half a file; metrics.jsonl is written
from the trainer's history, so a resumed run keeps epochs 1..N and appends N+1.. as one curve.

A folder holds one run at a time: RunWriter holds its lock (studio.training.runlock) from creation
to close(), whoever starts it (the CLI, or the GUI in its fresh timestamped folders), and
claim_run_dir refuses a folder that holds an earlier run unless the run continues it (--resume) or
replaces it (--overwrite)."""
from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

from ..core.atomic import atomic_write_text, check_target, make_folders, reason, remove_empty
from .checkpoint import save_checkpoint
from .errors import TrainingError
from .events import TrainerListener
from .runlock import RunLock

RUN_FILES = ("metrics.jsonl", "checkpoint.pt", "best.pt", "settings.json", "steps.jsonl")  # settings/steps: the GUI's


def run_files(folder: Path) -> list[str]:
    """The files of an earlier run in `folder`."""
    return [name for name in RUN_FILES if (Path(folder) / name).exists()]


def make_run_dir(folder: Path) -> list[Path]:
    """Create the run folder (and missing folders above it, never through a file); returns the
    folders it created."""
    folder = Path(folder)
    try:
        check_target(folder / "metrics.jsonl")  # a file on the way (or --out itself a file) is named
        return make_folders(folder)
    except OSError as exc:
        raise TrainingError(f"{folder}: cannot use it as the run folder ({reason(exc)}); pick another --out "
                            "folder") from None


def release_run_dir(lock: RunLock) -> None:
    """Let the folder go; folders made for a run that wrote nothing are removed again."""
    with contextlib.suppress(OSError):
        lock.release()
    remove_empty(lock.created)


def claim_run_dir(folder, *, resume: bool = False, overwrite: bool = False) -> RunLock:
    """Create and lock `folder` for a run. A folder that holds an earlier run is refused unless
    the run continues it (resume: the files stay, the checkpoint may be one of them) or replaces
    it (overwrite: its run files are removed, once the lock is ours). Returns the held lock; the
    caller passes it to RunWriter."""
    folder = Path(folder)
    created = make_run_dir(folder)
    lock = lock_run_dir(folder, created)
    try:
        earlier = run_files(folder)
        if earlier and overwrite and not resume:
            for name in earlier:
                (folder / name).unlink()
        elif earlier and not resume:
            raise TrainingError(f"{folder}: holds an earlier run ({', '.join(earlier)}); continue it with --resume "
                                f"{folder / 'checkpoint.pt'}, replace it with --overwrite, or pick another --out folder")
    except BaseException:
        release_run_dir(lock)
        raise
    return lock


def lock_run_dir(folder: Path, created: list[Path] = ()) -> RunLock:
    try:
        lock = RunLock(folder).acquire()
    except OSError as exc:
        remove_empty(list(created))
        raise TrainingError(f"{folder}: cannot write the run folder ({reason(exc)}); pick another --out folder") from None
    except TrainingError:
        remove_empty(list(created))
        raise
    lock.created = list(created)
    return lock


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
    """Writes the run's files into `out_dir` while it holds the folder's lock (`lock`, from
    claim_run_dir, or taken here); close() (or leaving a `with` block) releases it."""

    def __init__(self, trainer, out_dir, lock: RunLock | None = None) -> None:
        self.trainer = trainer
        self.out = Path(out_dir)
        self.lock = lock if lock is not None else lock_run_dir(self.out, make_run_dir(self.out))
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

    def close(self) -> None:
        release_run_dir(self.lock)

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
