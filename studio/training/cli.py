"""`python -m studio train FILE [--epochs N] [--device D] [--batch-size B] [--out RUNDIR]
[--resume CKPT] [--overwrite] [--seed S] [--quiet] [--verbose]`; under torchrun (WORLD_SIZE > 1)
the same command trains with DistributedDataParallel and only rank 0 prints and writes.

--out onto a folder that holds an earlier run is refused unless --resume continues it or
--overwrite replaces it; a folder another run is writing to is refused naming its pid."""
from __future__ import annotations

import contextlib
import re
import signal
import os
import sys
import threading
import time
from pathlib import Path

from .errors import TrainingError


_TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


def default_run_dir(project) -> Path:
    """runs/<name>-<time> beside the project; in the current folder for a project without a file or
    a bundled template (training never writes into the install)."""
    bundled = project.path is not None and Path(project.path).resolve().is_relative_to(_TEMPLATES)
    base = project.path.parent if project.path is not None and not bundled else Path.cwd()
    name = project.path.stem if project.path is not None else project.name
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
    return base / "runs" / f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}"


@contextlib.contextmanager
def _stop_on_interrupt(trainer):
    """First Ctrl-C: stop after the current step (the last complete epoch is saved); second: abort."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if trainer.stopping:
            raise KeyboardInterrupt
        print("\nstopping after this step (Ctrl-C again to abort)", file=sys.stderr)
        trainer.stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_train(args) -> int:
    from .distributed import world_size_from_env

    if world_size_from_env() <= 1:
        return _train(args)
    code = _train(args)  # a person's mistake raises, and exits the usual way with its message
    # A torchrun worker whose files are closed and whose process group is destroyed ends here: the
    # interpreter's own teardown aborted now and then in one rank ("terminate called without an
    # active exception": a C++ thread still joinable at exit), which torchrun reports as the whole
    # run failing and answers by killing the other rank.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _train(args) -> int:
    from ..core.project import load_project
    from .distributed import barrier, init_from_env, shutdown, world_size_from_env
    from .progress import ProgressBar, fmt_metrics
    from .rundir import RunWriter, claim_run_dir, release_run_dir
    from .trainer import Trainer

    project = load_project(args.file)
    out = Path(args.out) if args.out else default_run_dir(project)
    overrides = {"epochs": args.epochs, "batch_size": getattr(args, "batch_size", None),
                 "device": args.device, "seed": getattr(args, "seed", None)}
    dist = None
    if world_size_from_env() > 1:
        device = args.device or (project.training or {}).get("device", "auto")
        dist = init_from_env(device if isinstance(device, str) else "auto")
    main = dist is None or dist.is_main
    writer = lock = None
    try:
        # claimed before any work: a taken folder is refused at once, not after loading the data
        lock = claim_run_dir(out, resume=bool(args.resume), overwrite=getattr(args, "overwrite", False)) if main else None
        trainer = Trainer.from_project(project, overrides, dist=dist)
        if args.resume:
            trainer.load_checkpoint(args.resume)
        if main:
            writer = RunWriter(trainer, out, lock=lock)
            if args.resume:
                _carry_best(Path(args.resume).parent / "best.pt", writer.best_path)
            trainer.add_listener(writer)
            if not getattr(args, "quiet", False):
                trainer.add_listener(ProgressBar(sys.stderr, verbose=getattr(args, "verbose", False)))
        with _stop_on_interrupt(trainer):
            result = trainer.fit()
        if result.status == "failed":
            raise TrainingError(result.message)
        if dist is not None:  # no rank tears the group down while another still talks to it
            barrier()
        if main:
            best = ""
            if result.best_epoch:
                split = "val" if trainer.splits.val is not None else "train"
                best = f"; best {split} {result.monitor} {result.best_value:.4f} at epoch {result.best_epoch}"
            test = f"; test {fmt_metrics(result.test)}" if result.test else ""
            if result.epochs_done:
                print(trained_with(trainer))
            if getattr(args, "verbose", False) and getattr(args, "quiet", False) and hasattr(trainer.step_fn, "summary"):
                print(trainer.step_fn.summary())  # (without --quiet the progress said it as it happened)
            epochs = f"{result.epochs_done} epoch{'s' * (result.epochs_done != 1)}"
            print(f"{result.message}: {epochs}{best}{test}; files in {out}")
        return 0 if result.status == "finished" else 130
    finally:
        if writer is not None:
            writer.close()
        elif lock is not None:
            release_run_dir(lock)
        if dist is not None:
            shutdown()


def _carry_best(src: Path, dst: Path) -> None:
    """A resumed run into another folder starts with the best epoch so far (copied atomically)."""
    import shutil

    from ..core.atomic import atomic_write_with

    if src.is_file() and not dst.exists():
        atomic_write_with(dst, lambda tmp: shutil.copyfile(src, tmp))


# the fast path's step names in words (studio/training/fastpath/)
_PATH_WORDS = {"cuda_graph": "the whole step in one CUDA graph", "compile": "torch.compile",
               "compile_cuda_graph": "torch.compile with CUDA graphs"}


def trained_with(trainer) -> str:
    """What the run used, in one line: "trained on cpu with fused Adam (fastest of 2 tried)"."""
    step, plan = trainer.step_fn, getattr(trainer, "fast_plan", None)
    kwargs = plan.optimizer_kwargs if plan is not None else {}
    optimizer = ("fused " if kwargs.get("fused") else "") + trainer.config.optimizer.type
    chosen = getattr(step, "chosen", None) or "eager"
    from .fastpath.variants import describe

    how = optimizer if chosen == "eager" else f"{_PATH_WORDS.get(chosen) or describe(chosen)} and {optimizer}"
    if plan is not None and plan.channels_last:
        how += ", channels-last images"
    if trainer.amp_dtype is not None:
        how += f", {str(trainer.amp_dtype).removeprefix('torch.')} mixed precision"
    tried = len(getattr(step, "times", None) or {})
    why = f" (fastest of {tried} tried)" if tried > 1 else ""
    if not why and plan is not None and plan.reasons:
        why = " (no other step fits this run; --verbose says why)"
    from .finetune import count_words

    counted = count_words(trainer.model)
    return f"trained on {trainer.device} with {how}{why}" + (f"; {counted}" if counted else "")
