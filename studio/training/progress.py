"""A plain-text progress display for the terminal (stderr): a live bar on a terminal, one line per
epoch everywhere (so logs and CI output stay readable), and where stderr is not a terminal a step
line every PLAIN_EVERY_S seconds, so a long epoch in a log is not minutes of silence. Which step
path the fast path timed or left out, and why, is shown only when `verbose`."""
from __future__ import annotations

import sys
import time

from .events import TrainerListener


def fmt_metrics(metrics: dict | None) -> str:
    if not metrics:
        return ""
    parts = []
    for k, v in metrics.items():
        if isinstance(v, float):
            parts.append(f"{k} {v:.4f}")
    return "  ".join(parts)


def fmt_time(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "--:--"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar(TrainerListener):
    PLAIN_EVERY_S = 10.0  # off a terminal: a step line this often during an epoch

    def __init__(self, stream=None, width: int = 24, live: bool | None = None, verbose: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.live = self.stream.isatty() if live is None else live
        self.verbose = verbose
        self._last = 0.0
        self._plain_last = time.monotonic()
        self._dirty = False

    def _write(self, text: str) -> None:
        if self._dirty:
            self.stream.write("\r\033[K")
            self._dirty = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def on_started(self, e) -> None:
        what = "continuing after epoch %d" % e.start_epoch if e.start_epoch else "training"
        split = f"{e.train_size} train / {e.val_size} val" + (f" / {e.test_size} test" if e.test_size else "")
        procs = f" x {e.world_size} processes" if e.world_size > 1 else ""
        step = f"; step: {e.step_path}" if self.verbose else ""
        self._write(f"{what} on {e.device}{procs}: {e.dataset['name']} ({split}), {e.epochs} epochs of "
                    f"{e.steps_per_epoch} steps, batch {e.batch_size}{step}")

    def on_step(self, e) -> None:
        now = time.monotonic()
        if not self.live:
            if now - self._plain_last >= self.PLAIN_EVERY_S:
                self._plain_last = now
                self._write(f"epoch {e.epoch}: step {e.step}/{e.steps_per_epoch}  loss {e.loss:.4f}  "
                            f"{e.samples_per_s:,.0f} samples/s  ETA {fmt_time(e.eta_s)}")
            return
        if now - self._last < 0.1:
            return
        self._last = now
        frac = e.step / max(e.steps_per_epoch, 1)
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\repoch {e.epoch} [{bar}] {frac:4.0%}  loss {e.loss:.4f}  "
                          f"{e.samples_per_s:,.0f} samples/s  ETA {fmt_time(e.eta_s)}\033[K")
        self.stream.flush()
        self._dirty = True

    def on_epoch(self, e) -> None:
        self._plain_last = time.monotonic()
        val = f"  | val {fmt_metrics(e.val)}" if e.val else ""
        best = "  *" if e.improved else ""
        self._write(f"epoch {e.epoch}/{e.epochs}  train {fmt_metrics(e.train)}{val}  "
                    f"({e.epoch_time_s:.1f} s, {e.samples_per_s:,.0f} samples/s){best}")

    def on_text_sample(self, e) -> None:
        self._write(f"sample (epoch {e.epoch}, temperature {e.temperature:g}): {e.prompt!r} + {e.text!r}")

    def on_test(self, e) -> None:
        self._write(f"test  {fmt_metrics(e.metrics)}")

    def on_notice(self, e) -> None:
        if self.verbose or not e.message.startswith("fast path"):  # the run's last line says what was used
            self._write(f"note: {e.message}")

    def on_paused(self, e) -> None:
        self._write("paused")

    def on_stopped(self, e) -> None:
        self._write(f"stopped during epoch {e.epoch} (step {e.step}); {e.epochs_done} complete epochs saved")
