"""One training run as the GUI sees it: the worker thread, the drain timer that hands its events to
the views at most ~30 times a second, the document lock, and the run folder.

    session = TrainingSession(document)
    session.steps.connect(plot.add_steps)      # lists of StepEvents, one call per frame
    session.start(project_snapshot)            # locks the document; unlocks when the run ends

Events are the only road: the signals carry the trainer's typed events (studio.training.events),
merged by each class's own rule and routed here by event class; the views see a run only through
them (and, once it has ended, through `last_probe`, the trained model the training thread handed
over). No GUI code touches the trainer, its model or its datasets while a run goes."""
from __future__ import annotations

import copy
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from studio.training.events import (FailedEvent, NoticeEvent, PausedEvent, ResumedEvent, StartedEvent, TestEvent,
                                    TextSampleEvent)

from . import runs
from .worker import EndOfRun, TrainingWorker

FRAME_MS = 33  # ~30 redraws a second at most
THREAD_END_MS = 5000  # after its `finished` signal a thread ends at once; a bound, not a wait
# what a frame draws, in turn (one lane per frame; see TrainingSession.drain): the events' own lanes
LANES = ("steps", "activation", "epochs", "norms", "report", "errors", "projection")
BATCHED = ("steps", "norms", "projection")  # lanes whose signal carries the frame's whole list

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
    sample = Signal(object)  # SampleEvent: the input shown beside the feature maps (the newest)
    report = Signal(object)  # ReportEvent (the newest)
    errors = Signal(object)  # ErrorsEvent: where it errs on the validation split (the newest)
    projection = Signal(list)  # [ProjectionEvent]: the classes in 2-D, every epoch's
    test = Signal(object)
    text_sample = Signal(object)  # TextSampleEvent: what a language model wrote after an epoch
    notice = Signal(str)  # the trainer's line of a NoticeEvent or FailedEvent
    notice_event = Signal(object)  # the same NoticeEvent / FailedEvent (with its words for a person)
    ended = Signal(object)  # EndOfRun
    frame = Signal()  # after each drain that delivered something (tests wait on it)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.worker: TrainingWorker | None = None
        self.state = IDLE
        self.run_dir: Path | None = None
        self.last_run_dir: Path | None = None
        self.last_probe = None  # the finished run's trained model and shown split (studio.training.reporting.Probe)
        self.last_end: EndOfRun | None = None
        self.watch_target: tuple[str, int] | None = None
        self.sample_index = 0  # the sample whose input (and activations) the feature maps show
        self.frames = 0
        self._carry = None  # events taken from the worker's queue and not yet handed to the views
        self._turn = 0
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
                                     watch=self.watch_target, sample=self.sample_index)
        self.worker.finished.connect(self._on_worker_finished)
        self._carry, self._turn = None, 0
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
        self.sample_index = sample_index
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
        """One frame: take what the worker queued and hand one kind of drawing to the views.

        Qt paints every dirty widget of a window in one go, so a frame that updates the curves, the
        feature maps, the norms and the epoch report at once stalls the event loop for all of them
        together (bench ui: 40-80 ms frames at epoch ends). Each frame therefore delivers one lane,
        taking turns: the step curves, the feature map (with its input sample), the norms, the
        epoch's metrics, the epoch report. What a lane holds back waits at most a few frames (newer
        activations, samples and reports replace older ones). An epoch is delivered only once the
        steps before it have been. Control events (started, paused, finished, notices) go at once."""
        worker = self.worker
        if worker is None:
            return
        self._hold(worker.queue.take())
        self._deliver(flush=False)

    def _hold(self, batch) -> None:
        from .events_queue import Batch

        if self._carry is None:
            self._carry = Batch()
        self._carry.merge(batch)  # by each event class's own rule

    def _deliver(self, flush: bool) -> None:
        held = self._carry
        if held is None or not held:
            return
        self.frames += 1
        control = held.take("control")
        for e in control:
            if isinstance(e, StartedEvent):
                self._set_state(PAUSED if self.state == PAUSED else RUNNING)
                self.started.emit(e)
        for lane in (LANES if flush else self._next_lanes(held)):
            self._draw(lane, held)
        for e in control:
            route = _CONTROL.get(type(e))
            if route is not None:
                route(self, e)
        for e in control:
            if isinstance(e, FailedEvent):
                self.notice.emit(e.message)
                self.notice_event.emit(e)
        self.frame.emit()

    def _draw(self, lane: str, held) -> None:
        if lane == "epochs":
            if held.has("steps"):  # an epoch follows the steps before it
                return
            for e in held.take("epochs"):
                self.epoch.emit(e)
            return
        if lane == "activation":
            for e in held.take("sample"):  # the input beside the map, in the same frame
                self.sample.emit(e)
        events = held.take(lane)
        if events:
            signal = getattr(self, lane)
            signal.emit(events) if lane in BATCHED else signal.emit(events[-1])

    def _next_lanes(self, held) -> tuple:
        """The one lane this frame draws: the next, in turn, that has something (steps before epochs)."""
        ready = {"steps": held.has("steps"), "epochs": held.has("epochs") and not held.has("steps"),
                 "norms": held.has("norms"), "report": held.has("report"), "errors": held.has("errors"),
                 "projection": held.has("projection"),
                 "activation": held.has("activation") or held.has("sample")}
        for k in range(len(LANES)):
            lane = LANES[(self._turn + k) % len(LANES)]
            if ready[lane]:
                self._turn = (self._turn + k + 1) % len(LANES)
                return (lane,)
        return ()

    # control events after the frame's drawing, routed by class
    def _on_paused(self, _e) -> None:
        self._set_state(PAUSED)

    def _on_resumed(self, _e) -> None:
        if self.state != STOPPING:
            self._set_state(RUNNING)

    def _on_notice(self, e) -> None:
        self.notice.emit(e.message)
        self.notice_event.emit(e)

    def _on_test(self, e) -> None:
        self.test.emit(e)

    def _on_text_sample(self, e) -> None:
        self.text_sample.emit(e)

    def _on_worker_finished(self) -> None:
        worker = self.worker
        if worker is None:
            return
        # `finished` is emitted by the thread just before it ends: the trained model (the probe) and
        # the worker are the GUI's once the thread is gone, not while it is still tearing down
        worker.wait(THREAD_END_MS)
        self._hold(worker.queue.take())
        self._deliver(flush=True)  # the run is over: everything left, in order
        self._carry = None
        self._timer.stop()
        self.worker = None
        end = worker.end or EndOfRun("failed", "the training thread ended without a result")
        self.last_end = end
        self.last_probe = end.probe
        self.last_run_dir = self.run_dir
        if self.run_dir is not None:
            _finish_settings(self.run_dir, end)
        self.document.set_locked(False)
        self._set_state(IDLE)
        self.ended.emit(end)
        worker.deleteLater()


_CONTROL = {PausedEvent: TrainingSession._on_paused, ResumedEvent: TrainingSession._on_resumed,
            NoticeEvent: TrainingSession._on_notice, TestEvent: TrainingSession._on_test,
            TextSampleEvent: TrainingSession._on_text_sample}


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
