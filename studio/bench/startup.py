"""`python -m studio bench startup`: how long until the window appears.

Launches `python -m studio` in a fresh subprocess (offscreen) several times. The app, run with
NETSTUDIO_STARTUP_PROBE=1, prints "shown" once the main window is on screen and the event loop
runs, "ready" once the default project is open with every view built (canvas, palette, inspector,
problems, analyzer shapes), and "counted" once the analyzer's parameter and FLOP counts are in
(they are filled in the background after a one-time warm-up of torch's FLOP counter), then quits. Times are measured from
before the process is started, so they include the interpreter's own start-up.
Target (DESIGN.md): the window appears within 3 s."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_S = 3.0


def launch_once(timeout: float = 120.0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NETSTUDIO_STARTUP_PROBE="1",
                   NETSTUDIO_CONFIG_DIR=tmp, NETSTUDIO_DATA_DIR=tmp)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "studio"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        marks: dict[str, float] = {}
        try:
            for line in proc.stdout:
                word = line.split(" ", 1)[0]
                if word in ("shown", "ready", "counted"):
                    marks[word] = time.perf_counter() - t0
                if "counted" in marks:
                    break
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if "shown" not in marks:
            raise RuntimeError(f"the app did not report a shown window:\n{proc.stderr.read()[-2000:]}")
        return marks


def _figures(values) -> dict:
    values = sorted(values)
    return {"median": statistics.median(values), "min": values[0], "max": values[-1],
            "spread": values[-1] - values[0], "n": len(values)}


def run(args) -> int:
    repeats = 3 if getattr(args, "quick", False) else 7
    runs = [launch_once() for _ in range(repeats)]
    shown = _figures([r["shown"] for r in runs])
    ready = _figures([r["ready"] for r in runs]) if all("ready" in r for r in runs) else None
    counted = _figures([r["counted"] for r in runs]) if all("counted" in r for r in runs) else None
    out = {"suite": "startup", "runs": runs, "shown_s": shown, "ready_s": ready, "counted_s": counted,
           "target_s": TARGET_S,
           "meets_target": shown["median"] < TARGET_S}
    if getattr(args, "json", False):
        print(json.dumps(out, indent=2))
        return 0
    print(f"startup benchmark ({repeats} launches of `python -m studio`, offscreen)")
    print(f"  window shown: median {shown['median']:.2f} s (min {shown['min']:.2f}, max {shown['max']:.2f})")
    if ready:
        print(f"  views ready:  median {ready['median']:.2f} s (min {ready['min']:.2f}, max {ready['max']:.2f})"
              "  [default project open in every view]")
    if counted:
        print(f"  counts in:    median {counted['median']:.2f} s (min {counted['min']:.2f}, "
              f"max {counted['max']:.2f})  [analyzer parameters and FLOPs filled]")
    verdict = "meets" if out["meets_target"] else "MISSES"
    print(f"  target: window within {TARGET_S:.0f} s: {verdict} it")
    return 0
