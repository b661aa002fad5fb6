"""What the trainer reports, as plain data (floats, lists, numpy arrays; never live device tensors),
so a GUI can forward events across threads (a QThread's queued signals) and a CLI can print them.

A listener subclasses `TrainerListener` and overrides the `on_<kind>` methods it cares about, or
overrides `on_event` to receive every event. Events arrive on the training thread, in order.

Events are the only road from the trainer to the screen: everything a GUI shows of a run arrives
as one of these typed events (the curves, the norms, the watched node's activations, the input
sample beside them, the split it comes from and its size, the 2-D points, the worded notices), and
no GUI code touches the trainer, its model or its datasets while the run goes. Each class carries
its own merge rule for a queue that hands events over at a lower rate than they come: `lane` names
the stream it joins, and `newest_only` says a newer event replaces an older one not yet taken (an
activation, a report, a sample) where the others are all kept, in order. Whoever receives them
routes by event class (isinstance), never by comparing `kind` strings; `kind` names the
`on_<kind>` method of a listener.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    kind = "event"
    lane = "control"  # the stream a queue keeps it in; control events are kept in order, all of them
    newest_only = False  # True: a newer event of the lane replaces one not yet taken


@dataclass(frozen=True)
class StartedEvent(Event):
    kind = "started"
    epochs: int  # the last epoch of this run
    start_epoch: int  # epochs already done (a resumed run starts after them)
    steps_per_epoch: int
    batch_size: int
    train_size: int
    val_size: int
    test_size: int
    device: str
    task: str
    classes: list[str]
    dataset: dict  # DatasetInfo.to_json()
    world_size: int = 1
    step_path: str = "eager"  # which step implementation runs (a fast path names itself here)
    shown_split: str = "train"  # where watched and reported samples come from ("val", else "train")
    shown_size: int = 0  # how many samples that split has (the sample picker's range)
    points: dict | None = None  # 2-D inputs: {"x": ndarray [N, 2], "y": ndarray [N] | None}, training samples


@dataclass(frozen=True)
class StepEvent(Event):
    """Sent at the reporting rate (about every `report_interval` seconds), not every step. `loss` is
    the mean training loss of the steps since the previous StepEvent."""

    kind = "step"
    lane = "steps"
    epoch: int
    step: int  # steps done in this epoch
    steps_per_epoch: int
    global_step: int
    loss: float
    lr: float
    samples_per_s: float
    eta_s: float
    elapsed_s: float


@dataclass(frozen=True)
class EpochEvent(Event):
    kind = "epoch"
    lane = "epochs"
    epoch: int
    epochs: int
    train: dict  # {"loss": ..., "accuracy": ...} measured while training this epoch
    val: dict | None  # every configured metric on the validation split
    lr: float
    epoch_time_s: float
    samples_per_s: float
    eta_s: float
    monitor: str
    best_epoch: int
    best_value: float
    improved: bool


@dataclass(frozen=True)
class NormsEvent(Event):
    """Gradient and weight L2 norms per layer (node id), at a low rate."""

    kind = "norms"
    lane = "norms"
    epoch: int
    global_step: int
    layers: dict  # node id -> {"grad": float, "weight": float}


@dataclass(frozen=True)
class ActivationEvent(Event):
    """The output of a watched node for one fixed sample (numpy, without the batch dimension)."""

    kind = "activation"
    lane = "activation"
    newest_only = True
    node_id: str
    epoch: int
    global_step: int
    sample_index: int
    value: Any  # numpy.ndarray


@dataclass(frozen=True)
class ReportEvent(Event):
    """After an epoch, when `trainer.epoch_reports` is on: what the GUI plots beside the curves."""

    kind = "report"
    lane = "report"
    newest_only = True
    epoch: int
    split: str
    task: str
    classes: list[str]
    confusion: Any = None  # numpy [C, C] (rows: true class, columns: predicted)
    samples: list = field(default_factory=list)  # [{"x": ndarray, "true": ..., "pred": ..., "probs": ndarray}]
    boundary: dict | None = None  # 2-D inputs: {"xs": [W], "ys": [H], "probs": ndarray [H, W, C], "points": ..}
    regression: dict | None = None  # {"true": ndarray [N], "pred": ndarray [N]}


@dataclass(frozen=True)
class ErrorsEvent(Event):
    """After an epoch of a classifier, when `trainer.epoch_reports` is on: where it errs on the
    validation split (studio/training/where_errs.py). Only the newest matters."""

    kind = "errors"
    lane = "errors"
    newest_only = True
    epoch: int
    split: str
    classes: list[str]
    size: int  # samples scored
    wrong_count: int  # of them, misclassified (the gallery holds the most confident `wrong`)
    wrong: list = field(default_factory=list)  # [{"index", "x": ndarray, "true", "pred", "confidence"}]
    table: dict = field(default_factory=dict)  # {"precision"|"recall"|"f1": [C] floats, "support": [C] ints}
    curves: dict | None = None  # two classes: {"roc": {"x","y","auc"}, "pr": {"x","y","auc"}}


@dataclass(frozen=True)
class ProjectionEvent(Event):
    """After an epoch: the penultimate layer's features of (up to a cap of) the validation samples,
    projected to 2-D by PCA. Every epoch's points are kept, so a view can step through them (and the
    features of the last few, for a t-SNE or UMAP map of an epoch)."""

    kind = "projection"
    lane = "projection"
    epoch: int
    split: str
    node_id: str  # the layer whose input the features are (the last Linear)
    classes: list[str]
    points: Any  # numpy [N, 2]
    labels: Any  # numpy [N] true classes
    explained: tuple = ()  # the share of the variance along each of the two axes
    features: Any = None  # numpy float32 [N, D]: what was projected, for the view's t-SNE / UMAP (embedding.py)


@dataclass(frozen=True)
class TextSampleEvent(Event):
    """After an epoch of a character (token) language model: what the model writes on its own from
    the prompt the person sees (studio/training/sampling.py)."""

    kind = "text_sample"  # a control event: every sample is shown, in order
    epoch: int
    prompt: str
    text: str  # the characters written after the prompt
    temperature: float
    seed: int  # of the draw: the same run writes the same text


@dataclass(frozen=True)
class SampleEvent(Event):
    """The input sample shown beside the feature maps: sample `index` of the shown split, as the model
    sees it (after the dataset's transform; numpy, without the batch dimension). Sent when a run
    starts and when the sample asked for (`Trainer.show_sample`) changes."""

    kind = "sample"
    lane = "sample"
    newest_only = True
    split: str
    index: int
    x: Any  # numpy.ndarray
    label: str | None = None  # the class name of a classification sample


@dataclass(frozen=True)
class TestEvent(Event):
    kind = "test"
    metrics: dict


@dataclass(frozen=True)
class PausedEvent(Event):
    kind = "paused"
    epoch: int
    step: int


@dataclass(frozen=True)
class ResumedEvent(Event):
    kind = "resumed"
    epoch: int
    step: int


@dataclass(frozen=True)
class NoticeEvent(Event):
    """Something worth telling the person that does not stop training (AMP off on the CPU, ...)."""

    kind = "notice"
    message: str
    plain: str = ""  # the same in a person's words, where whoever forwards it has worded it


@dataclass(frozen=True)
class FinishedEvent(Event):
    kind = "finished"
    reason: str  # "completed" | "early_stopping"
    epochs_done: int
    best_epoch: int
    best_value: float
    monitor: str
    elapsed_s: float


@dataclass(frozen=True)
class StoppedEvent(Event):
    kind = "stopped"
    epoch: int
    step: int
    epochs_done: int  # complete epochs (the checkpoint holds these)


@dataclass(frozen=True)
class FailedEvent(Event):
    kind = "failed"
    message: str  # for people: what happened and what to try
    reason: str  # "nan" | "diverged" | "data" | "oom" | "layer" | "error"
    epoch: int = 0
    step: int = 0
    traceback: str | None = None  # only for bugs


class TrainerListener:
    """Override `on_<kind>` (on_started, on_step, on_epoch, on_norms, on_activation, on_report,
    on_sample, on_text_sample, on_errors, on_projection, on_test, on_paused, on_resumed, on_notice, on_finished, on_stopped, on_failed), or `on_event`."""

    def on_event(self, event: Event) -> None:
        handler = getattr(self, f"on_{event.kind}", None)
        if handler is not None:
            handler(event)


class CallbackListener(TrainerListener):
    """Wraps a plain function `fn(event)`."""

    def __init__(self, fn) -> None:
        self.fn = fn

    def on_event(self, event: Event) -> None:
        self.fn(event)
