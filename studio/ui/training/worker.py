"""The training thread: a QThread that builds the Qt-free Trainer from a snapshot of the project
(the run keeps the graph it started with), writes the run folder, and runs `fit()`. Events go into
an EventQueue that the GUI drains; nothing here touches a widget.

Before the first step the thread warms up what would otherwise hold the GIL for a long stretch in
the middle of the run (see `warmup.py`), and it never emits a Qt signal per event: the GUI polls."""
from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QThread

from . import runs
from .events_queue import EventQueue


# While a run trains, the interpreter hands the GIL over every 1 ms instead of 5 ms: each time the
# GUI thread comes back from Qt into Python (a paint callback, a slot) it waits at most that long
# for the training thread to let go.
SWITCH_INTERVAL_S = 0.001


class EndOfRun:
    """How the thread ended, for the GUI (set before `finished` is emitted)."""

    def __init__(self, status: str, message: str, result=None) -> None:
        self.status, self.message, self.result = status, message, result  # finished | stopped | failed


class _StepLog:
    """The per-step loss curve, appended to steps.jsonl at each epoch and at the end."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir, self.points = run_dir, []

    def on_event(self, event) -> None:
        if event.kind == "started":
            _update_settings(self.run_dir, steps_per_epoch=event.steps_per_epoch, device=event.device,
                             dataset=event.dataset.get("name"), task=event.task, step_path=event.step_path)
        elif event.kind == "step":
            self.points.append((event.global_step, event.loss))
        elif event.kind in ("epoch", "finished", "stopped", "failed"):
            self.flush()

    def flush(self) -> None:
        points, self.points = self.points, []
        try:
            runs.append_steps(self.run_dir, points)
        except OSError:
            pass  # the curve on screen is unaffected; the folder may have been removed


def _update_settings(run_dir: Path, **values) -> None:
    import json

    try:
        data = json.loads((run_dir / "settings.json").read_text(encoding="utf-8"))
        data.update(values)
        runs.write_settings(run_dir, data)
    except (OSError, ValueError):
        pass


class TrainingWorker(QThread):
    def __init__(self, project, run_dir: Path | None, *, overrides: dict | None = None, weights=None,
                 max_steps: int = 0, watch: tuple[str, int] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("netstudio-training")
        self.project = project  # a private copy: the document may change once the run ends
        self.run_dir = run_dir
        self.overrides = dict(overrides or {})
        self.weights = weights  # a checkpoint or state-dict file whose weights the run starts from
        self.max_steps = max_steps
        self.queue = EventQueue()
        self.trainer = None
        self.end: EndOfRun | None = None
        self.phase = "preparing"
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop_requested = False
        self._pause_requested = False
        self._watch = watch
        self._writer = None  # the RunWriter: holds the run folder's lock until the thread ends

    # ---- controls (GUI thread) ---------------------------------------------------------------
    def stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            trainer = self.trainer
        if trainer is not None:
            trainer.stop()

    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            trainer = self.trainer
        if trainer is not None:
            trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested = False
            trainer = self.trainer
        if trainer is not None:
            trainer.resume()

    def watch(self, node_id: str | None, sample_index: int = 0) -> str | None:
        """Watch a node's activations (None: stop watching). Returns a reason when it cannot."""
        with self._lock:
            self._watch = None if node_id is None else (node_id, sample_index)
            trainer = self.trainer
        if trainer is None:
            return None
        return _apply_watch(trainer, self._watch)

    # ---- the thread --------------------------------------------------------------------------
    def run(self) -> None:
        t0 = time.perf_counter()
        _yield_to_the_gui()
        threads = _leave_a_core_for_the_gui(self.overrides.get("device") or
                                            (self.project.training or {}).get("device", "auto"))
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            self.end = self._run(t0)
        except BaseException as exc:  # noqa: BLE001 - every ending reaches the GUI as a message
            from studio.errors import is_user_error

            if is_user_error(exc):
                self.end = EndOfRun("failed", str(exc))
            else:
                self.end = EndOfRun("failed", f"internal error: {type(exc).__name__}: {exc}\n\n"
                                              f"{traceback.format_exc()}")
        finally:
            if self._writer is not None:
                self._writer.close()
            sys.setswitchinterval(switch)
            if threads is not None:
                import torch

                torch.set_num_threads(threads)
        self.timings["total"] = time.perf_counter() - t0

    def _stopped_early(self) -> bool:
        with self._lock:
            return self._stop_requested

    def _run(self, t0: float) -> EndOfRun:
        from .warmup import warm_up_imports

        warm_up_imports()
        self.timings["imports"] = time.perf_counter() - t0
        if self._stopped_early():
            return EndOfRun("stopped", "stopped before training started")
        from studio.training import RunWriter, Trainer

        base_dir = self.project.path.parent if self.project.path is not None else None
        trainer = Trainer.from_project(self.project, overrides=self.overrides, base_dir=base_dir)
        self.timings["build"] = time.perf_counter() - t0
        if self.weights:
            from studio.core.weights import load_weights

            load_weights(trainer.model, self.weights)
        trainer.epoch_reports = True
        if self.run_dir is not None:
            self._writer = RunWriter(trainer, self.run_dir)  # the same folder lock as the CLI's runs
            trainer.add_listener(self._writer)
            trainer.add_listener(_StepLog(self.run_dir))
        trainer.add_listener(self.queue)
        trainer.prepare()
        from .warmup import warm_up_model

        warm_up_model(trainer)
        self.timings["prepared"] = time.perf_counter() - t0
        trainer.max_steps = self.max_steps  # --train-steps: the trainer stops after exactly that many steps
        with self._lock:
            self.trainer = trainer
            stop, pause, watch = self._stop_requested, self._pause_requested, self._watch
        if stop:
            return EndOfRun("stopped", "stopped before training started")
        if pause:
            trainer.pause()
        _apply_watch(trainer, watch)
        self.phase = "training"
        result = trainer.fit()
        return EndOfRun(result.status, result.message, result)


TRAINING_NICE = 5


def _yield_to_the_gui() -> None:
    """Give this thread a lower CPU priority than the GUI thread, so that when the two want the same
    core the window gets it first (bench ui: most of the time in the long stalls was the GUI thread
    runnable but waiting for a core). On Linux a thread's nice value is its own (setpriority on its
    thread id); QThread.setPriority does nothing there for normal threads, but is what works on
    Windows and macOS. With the core otherwise idle the run loses nothing."""
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), TRAINING_NICE))
        except (OSError, AttributeError):
            pass
    else:
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)


def _leave_a_core_for_the_gui(device) -> int | None:
    """On the CPU, train with one intra-op thread fewer than there are cores, so the GUI thread (and
    the OS) keep a core: with every core busy the window's event loop waits for a time slice
    (bench ui on 2 cores: 41 stalls over 30 ms with 2 threads, 6 with 1). Returns the old count."""
    import torch

    if not isinstance(device, str) or device.startswith(("cuda", "mps")):
        return None
    if device == "auto" and (torch.cuda.is_available() or getattr(torch.backends, "mps", None)
                             and torch.backends.mps.is_available()):
        return None
    old = torch.get_num_threads()
    cores = os.cpu_count() or 1
    want = max(1, min(old, cores - 1))
    if want != old:
        torch.set_num_threads(want)
    return old


def _apply_watch(trainer, watch) -> str | None:
    from studio.training.errors import TrainingError

    if watch is None:
        trainer.unwatch()
        return None
    try:
        trainer.watch(*watch)
    except TrainingError as exc:
        trainer.unwatch()
        return str(exc)
    return None
