"""The hand-over between the training thread and the GUI: the trainer's listener puts events here
(under a lock, never blocking on the GUI), and the GUI's drain timer takes them all at once, at most
~30 times a second. Coalescing keeps what matters: every step point, every norms sample, every epoch
and every control event, but only the newest activation and the newest epoch report."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

LATEST_ONLY = ("activation", "report")


@dataclass
class Batch:
    steps: list = field(default_factory=list)
    norms: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    activation: object = None
    report: object = None
    other: list = field(default_factory=list)  # started, paused, resumed, notice, test, finished, ... in order

    def __bool__(self) -> bool:
        return bool(self.steps or self.norms or self.epochs or self.other
                    or self.activation is not None or self.report is not None)


class EventQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batch = Batch()
        self.dropped = 0  # activations / reports replaced by newer ones before the GUI took them

    def put(self, event) -> None:
        kind = event.kind
        with self._lock:
            b = self._batch
            if kind == "step":
                b.steps.append(event)
            elif kind == "norms":
                b.norms.append(event)
            elif kind == "epoch":
                b.epochs.append(event)
            elif kind in LATEST_ONLY:
                if getattr(b, kind) is not None:
                    self.dropped += 1
                setattr(b, kind, event)
            else:
                b.other.append(event)

    # the trainer calls listeners with on_event
    on_event = put

    def take(self) -> Batch:
        with self._lock:
            batch, self._batch = self._batch, Batch()
        return batch
