"""Parameter counts and FLOPs for the views, without freezing the window.

studio.core.stats sizes each layer on torch's meta device under a FlopCounterMode. The very first
such call pays a one-time import of torch._dynamo (seconds). `warm_up()` pays it on a background
thread; until it is done, `stats_for` answers PENDING and the views show "…", then refresh on
`service().ready`."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

PENDING = object()


class _StatsService(QObject):
    ready = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._held = False  # the window's first frame is not painted yet
        self._asked = False

    @property
    def is_ready(self) -> bool:
        return self._done.is_set()

    def hold(self, held: bool) -> None:
        """While held, warm_up() without wait only notes it was asked (the app holds it until the
        window's first frame: importing torch on a thread slows the GUI thread's first paint)."""
        self._held = held
        if not held and self._asked:
            self.warm_up()

    def warm_up(self, wait: bool = False) -> None:
        if self._held and not wait:
            self._asked = True
            return
        if self._thread is None and not self._done.is_set():
            from . import background

            self._thread = background.start(self._run, "netstudio-stats-warmup")
        if wait and self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            from studio.core.registry import default_registry
            from studio.core.stats import node_stats
            from studio.core.analysis import NodeInfo
            from studio.core.types import TensorType

            spec = default_registry().get("Conv2d")
            if spec is not None:
                info = NodeInfo("warmup", "Conv2d", spec, spec.resolve_params({}),
                                [TensorType((1, 8, 8))], [TensorType((16, 6, 6))])
                node_stats(info)
        finally:
            self._done.set()
            self.ready.emit()  # queued to the GUI thread's receivers


_service: _StatsService | None = None


def service() -> _StatsService:
    global _service
    if _service is None:
        _service = _StatsService()
    return _service


def stats_for(info):
    """NodeStats, None (nothing to count: an error or an unknown type), or PENDING (warming up)."""
    s = service()
    if not s.is_ready:
        s.warm_up()
        return PENDING
    from studio.core.stats import node_stats

    try:
        return node_stats(info)
    except Exception:  # noqa: BLE001 - a layer the meta device cannot size shows no count
        return None
