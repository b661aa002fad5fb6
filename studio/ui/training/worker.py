"""The training thread: a QThread that builds the Qt-free Trainer from a snapshot of the project
(the run keeps the graph it started with), writes the run folder, and runs `fit()`.

Events are the only road to the screen: the trainer's typed events (studio.training.events, which
carry everything a panel shows; notices get their words for a person here, on the training thread)
go into an EventQueue, which the session's drain timer on the GUI thread empties at most ~30 times a
second and routes, by event class, to the views' signals. Nothing here touches a widget, and no GUI
code touches the trainer, its model or its datasets while the run goes: the GUI's controls (stop,
pause, resume, watch, which sample to show) only set the trainer's requests, answered on this
thread. When the run ends, this thread hands the trained model and the shown split over in
`EndOfRun.probe` (it no longer uses them).

Before the first step the thread warms up what would otherwise hold the GIL for a long stretch in
the middle of the run (see `warmup.py`), and it emits no Qt signal per event (one per frame, from
the drain timer on the GUI thread)."""
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

    def __init__(self, status: str, message: str, result=None, probe=None) -> None:
        self.status, self.message, self.result = status, message, result  # finished | stopped | failed
        self.probe = probe  # studio.training.reporting.Probe: the trained model, the GUI's once the thread ends


class _StepLog:
    """The per-step loss curve, appended to steps.jsonl at each epoch and at the end."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir, self.points = run_dir, []

    def on_event(self, event) -> None:
        from studio.training.events import EpochEvent, FailedEvent, FinishedEvent, StartedEvent, StepEvent, StoppedEvent

        if isinstance(event, StepEvent):
            self.points.append((event.global_step, event.loss))
        elif isinstance(event, StartedEvent):
            _update_settings(self.run_dir, steps_per_epoch=event.steps_per_epoch, device=event.device,
                             dataset=event.dataset.get("name"), task=event.task, step_path=event.step_path)
        elif isinstance(event, (EpochEvent, FinishedEvent, StoppedEvent, FailedEvent)):
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


class _Wording:
    """Between the trainer and the queue, on the training thread: a notice gets its words for a person
    (which say what the trainer chose: device, step), so the GUI need not ask the trainer."""

    def __init__(self, trainer, queue: EventQueue) -> None:
        self.trainer, self.queue = trainer, queue

    def on_event(self, event) -> None:
        from studio.training.events import NoticeEvent

        if isinstance(event, NoticeEvent) and not event.plain:
            from dataclasses import replace

            from .wording import plain_notice

            event = replace(event, plain=plain_notice(event.message, self.trainer))
        self.queue.on_event(event)  # as a listener: whatever listens in on the queue hears every event


class TrainingWorker(QThread):
    def __init__(self, project, run_dir: Path | None, *, overrides: dict | None = None, weights=None,
                 max_steps: int = 0, watch: tuple[str, int] | None = None, sample: int = 0, parent=None) -> None:
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
        self._sample = sample
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
        """Watch a node's activations (None: stop watching) and show sample `sample_index` beside them.
        Returns a reason when it cannot. Only sets the trainer's requests (its thread answers them)."""
        with self._lock:
            self._watch = None if node_id is None else (node_id, sample_index)
            self._sample = sample_index
            trainer = self.trainer
        if trainer is None:
            return None
        trainer.show_sample(sample_index)
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
        from studio.training import Trainer

        base_dir = self.project.path.parent if self.project.path is not None else None
        trainer = Trainer.from_project(self.project, overrides=self.overrides, base_dir=base_dir)
        self.timings["build"] = time.perf_counter() - t0
        try:
            return self._train(trainer, t0)
        finally:
            # the run is over: its listeners (the writer and the wording hold the trainer) let go, so
            # the trainer is freed with the worker, not by a later garbage collection of the cycle
            trainer.listeners.clear()

    def _train(self, trainer, t0: float) -> EndOfRun:
        from studio.training import RunWriter

        if self.weights:
            from studio.core.weights import load_weights

            load_weights(trainer.model, self.weights)
        trainer.epoch_reports = True
        if self.run_dir is not None:
            self._writer = RunWriter(trainer, self.run_dir)  # the same folder lock as the CLI's runs
            trainer.add_listener(self._writer)
            trainer.add_listener(_StepLog(self.run_dir))
        trainer.add_listener(_Wording(trainer, self.queue))
        trainer.prepare()
        from .warmup import warm_up_model

        warm_up_model(trainer)
        self.timings["prepared"] = time.perf_counter() - t0
        trainer.max_steps = self.max_steps  # --train-steps: the trainer stops after exactly that many steps
        with self._lock:
            self.trainer = trainer
            stop, pause, watch, sample = self._stop_requested, self._pause_requested, self._watch, self._sample
        if stop:
            return EndOfRun("stopped", "stopped before training started")
        if pause:
            trainer.pause()
        _apply_watch(trainer, watch)
        trainer.show_sample(sample)
        self.phase = "training"
        result = trainer.fit()
        from studio.training.reporting import Probe

        return EndOfRun(result.status, result.message, result, Probe(trainer))  # the thread is done with it


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
