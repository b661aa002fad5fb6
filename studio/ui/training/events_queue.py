"""The hand-over between the training thread and the GUI, the one road from the trainer to the
screen: the trainer's typed events come here as a listener's (under a lock, never blocking on the
GUI), and the session's drain timer takes them all at once, at most ~30 times a second, and routes
them by event class. No GUI code reaches the trainer, its model or its datasets any other way.
How events coalesce is each event class's own rule (`lane`, `newest_only` in
studio.training.events): every step point, every norms sample, every epoch and every control event
is kept, in order; of activations, reports and samples only the newest."""
from __future__ import annotations

import threading


class Batch:
    """Events by lane (the event class's `lane`), each lane in the order they came."""

    def __init__(self) -> None:
        self.lanes: dict[str, list] = {}

    def add(self, event) -> bool:
        """Keep `event` by its class's rule. True when it replaced an older one."""
        lane = self.lanes.setdefault(event.lane, [])
        if event.newest_only and lane:
            lane[0] = event
            return True
        lane.append(event)
        return False

    def merge(self, other: "Batch") -> None:
        for events in other.lanes.values():
            for event in events:
                self.add(event)

    def take(self, lane: str) -> list:
        return self.lanes.pop(lane, [])

    def has(self, lane: str) -> bool:
        return bool(self.lanes.get(lane))

    def newest(self, lane: str):
        events = self.lanes.get(lane)
        return events[-1] if events else None

    # the lanes by name, for readers that know them
    steps = property(lambda self: self.lanes.get("steps", []))
    norms = property(lambda self: self.lanes.get("norms", []))
    epochs = property(lambda self: self.lanes.get("epochs", []))
    other = property(lambda self: self.lanes.get("control", []))  # started, paused, notice, finished, ...
    activation = property(lambda self: self.newest("activation"))
    report = property(lambda self: self.newest("report"))
    sample = property(lambda self: self.newest("sample"))

    def __bool__(self) -> bool:
        return any(self.lanes.values())


class EventQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batch = Batch()
        self.dropped = 0  # activations / reports / samples replaced by newer ones before the GUI took them

    def put(self, event) -> None:
        with self._lock:
            self.dropped += self._batch.add(event)

    # the trainer calls listeners with on_event
    on_event = put

    def take(self) -> Batch:
        with self._lock:
            batch, self._batch = self._batch, Batch()
        return batch
