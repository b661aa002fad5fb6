"""One training run as the GUI sees it: the worker thread, the drain timer that hands its events to
the views at most ~30 times a second, the document lock, and the run folder.

    session = TrainingSession(document)
    session.steps.connect(plot.add_steps)      # lists of StepEvents, one call per frame
    session.start(project_snapshot)            # locks the document; unlocks when the run ends

Signals carry the trainer's plain event objects (studio.training.events)."""
from __future__ import annotations

import copy
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from . import runs
from .worker import EndOfRun, TrainingWorker

FRAME_MS = 33  # ~30 redraws a second at most

IDLE, PREPARING, RUNNING, PAUSED, STOPPING = "idle", "preparing", "running", "paused", "stopping"


def snapshot(project):
    """A private copy of the project for the run (graph, training section, path)."""
    from studio.core.project import loads_project

    copy_ = loads_project(project.dumps(), source=str(project.path or project.name))
    copy_.path = project.path
    return copy_


class TrainingSession(QObject):
    state_changed = Signal(str)
    started = Signal(object)  # StartedEvent
    steps = Signal(list)  # [StepEvent]
    epoch = Signal(object)  # EpochEvent
    norms = Signal(list)  # [NormsEvent]
    activation = Signal(object)  # ActivationEvent (the newest)
    report = Signal(object)  # ReportEvent (the newest)
    test = Signal(object)
    notice = Signal(str)
    ended = Signal(object)  # EndOfRun
    frame = Signal()  # after each drain that delivered something (tests wait on it)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.worker: TrainingWorker | None = None
        self.state = IDLE
        self.run_dir: Path | None = None
        self.last_run_dir: Path | None = None
        self.last_trainer = None  # the finished run's trainer (its model holds the trained weights)
        self.last_end: EndOfRun | None = None
        self.watch_target: tuple[str, int] | None = None
        self.frames = 0
        self._carry = None
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.drain)

    # ---- state --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    # ---- controls -----------------------------------------------------------------------------
    def start(self, project, run_dir: Path | None, *, overrides=None, weights=None, max_steps: int = 0) -> None:
        if self.worker is not None:
            raise RuntimeError("a run is in progress")
        self.run_dir = run_dir
        if run_dir is not None:
            runs.write_settings(run_dir, {"project": project.name, "training": copy.deepcopy(project.training),
                                          "overrides": overrides or {}, "weights": str(weights) if weights else None,
                                          "started": time.strftime("%Y-%m-%d %H:%M:%S"), "status": "running"})
        self.worker = TrainingWorker(project, run_dir, overrides=overrides, weights=weights, max_steps=max_steps,
                                     watch=self.watch_target)
        self.worker.finished.connect(self._on_worker_finished)
        self.document.set_locked(True)
        self._set_state(PREPARING)
        self._timer.start()
        self.worker.start()

    def pause(self) -> None:
        if self.worker is not None and self.state in (PREPARING, RUNNING):
            self.worker.pause()

    def resume(self) -> None:
        if self.worker is not None:
            self.worker.resume()
            if self.state == PAUSED:
                self._set_state(RUNNING)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self._set_state(STOPPING)

    def watch(self, node_id: str | None, sample_index: int = 0) -> str | None:
        self.watch_target = None if node_id is None else (node_id, sample_index)
        if self.worker is not None:
            return self.worker.watch(node_id, sample_index)
        return None

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop the run and wait for its thread (closing the window). True when it has ended."""
        worker = self.worker
        if worker is None:
            return True
        worker.stop()
        done = worker.wait(timeout_ms)
        if not done:  # still loading a dataset or building: those cannot be interrupted
            done = worker.wait(30_000)
        if done:
            self._on_worker_finished()
        return done

    # ---- the drain ----------------------------------------------------------------------------
    def drain(self) -> None:
        worker = self.worker
        if worker is None:
            return
        batch = worker.queue.take()
        carry, self._carry = self._carry, None
        if carry is not None:  # what the previous tick held back; newer values win
            batch.norms = carry.norms + batch.norms
            batch.activation = batch.activation or carry.activation
            batch.report = batch.report or carry.report
        if not batch:
            return
        if batch.steps and not batch.other and not batch.epochs and (
                batch.norms or batch.activation is not None or batch.report is not None):
            # Spread the drawing over two ticks: the curves now, the maps and norms on the next
            # tick, so one event-loop turn never paints every panel (bench ui: fewer stalls > 30 ms).
            from .events_queue import Batch

            self._carry = Batch(norms=batch.norms, activation=batch.activation, report=batch.report)
            batch.norms, batch.activation, batch.report = [], None, None
        self.frames += 1
        terminal = []
        for e in batch.other:
            kind = e.kind
            if kind == "started":
                self._set_state(PAUSED if self.state == PAUSED else RUNNING)
                self.started.emit(e)
            elif kind in ("finished", "stopped", "failed"):
                terminal.append(e)
        if batch.steps:
            self.steps.emit(batch.steps)
        if batch.norms:
            self.norms.emit(batch.norms)
        for e in batch.epochs:
            self.epoch.emit(e)
        if batch.report is not None:
            self.report.emit(batch.report)
        if batch.activation is not None:
            self.activation.emit(batch.activation)
        for e in batch.other:
            kind = e.kind
            if kind == "paused":
                self._set_state(PAUSED)
            elif kind == "resumed":
                if self.state != STOPPING:
                    self._set_state(RUNNING)
            elif kind == "notice":
                self.notice.emit(e.message)
            elif kind == "test":
                self.test.emit(e)
        for e in terminal:
            if e.kind == "failed":
                self.notice.emit(e.message)
        self.frame.emit()

    def _on_worker_finished(self) -> None:
        worker = self.worker
        if worker is None:
            return
        self.drain()
        if self._carry is not None:
            self.drain()
        self._timer.stop()
        self.worker = None
        end = worker.end or EndOfRun("failed", "the training thread ended without a result")
        self.last_end = end
        self.last_trainer = worker.trainer
        self.last_run_dir = self.run_dir
        if self.run_dir is not None:
            _finish_settings(self.run_dir, end)
        self.document.set_locked(False)
        self._set_state(IDLE)
        self.ended.emit(end)
        worker.deleteLater()


def _finish_settings(run_dir: Path, end: EndOfRun) -> None:
    import json

    path = run_dir / "settings.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data.update(status=end.status, message=end.message.splitlines()[0] if end.message else "",
                ended=time.strftime("%Y-%m-%d %H:%M:%S"))
    if end.result is not None:
        data.update(epochs_done=end.result.epochs_done, best_epoch=end.result.best_epoch,
                    best_value=end.result.best_value if end.result.best_value == end.result.best_value else None,
                    monitor=end.result.monitor, elapsed_s=round(end.result.elapsed_s, 2))
    try:
        runs.write_settings(run_dir, data)
    except OSError:
        pass
