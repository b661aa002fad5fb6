"""How many CPU threads a CPU run uses: as many as there are idle cores when it starts, counted
again when its throughput collapses or cores may have come free (fastpath/thread_watch.py).

On a shared machine an OpenMP team waits at every barrier for its slowest thread, so one thread on a
busy core stalls all of them: measured on a 2-core EPYC, two threads beside a neighbour ran a step
at 0.05-0.5x of one thread (issue 19), while on an idle machine two threads gain 1.35-1.84x. So the
count is taken from how busy the cores are now (per-core idle time over a short window from
/proc/stat, on the cores this process may run on), not from the core count.

A count the person set wins: NETSTUDIO_THREADS, else OMP_NUM_THREADS (PyTorch reads it too).
"""
from __future__ import annotations

import os
import time

IDLE_FRACTION = 0.5  # a core idle at least this much of the window counts as free


def pinned_threads() -> tuple[int, str] | None:
    """(count, which variable) when the person fixed the thread count, else None."""
    for var in ("NETSTUDIO_THREADS", "OMP_NUM_THREADS"):
        raw = os.environ.get(var, "").strip()
        if raw.isdigit() and int(raw) > 0:
            return int(raw), var
    return None


def usable_cores() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return list(range(os.cpu_count() or 1))


def _cpu_times() -> dict[int, tuple[int, int]]:
    """core -> (idle jiffies, total jiffies), from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3:4].isdigit():
                name, *vals = line.split()
                vals = [int(v) for v in vals[:8]]
                out[int(name[3:])] = (vals[3] + vals[4], sum(vals))  # idle + iowait
    return out


def idle_cores(window_s: float = 0.1) -> float:
    """How many of this process's cores are idle now: the number whose idle share over `window_s`
    is at least IDLE_FRACTION. Without /proc/stat, the cores less the 1-minute load average."""
    cores = usable_cores()
    try:
        before = _cpu_times()
        time.sleep(window_s)
        after = _cpu_times()
    except (OSError, ValueError):
        try:
            return max(0.0, len(cores) - os.getloadavg()[0])
        except OSError:  # pragma: no cover
            return float(len(cores))
    free = 0
    for c in cores:
        if c in before and c in after:
            idle = after[c][0] - before[c][0]
            total = after[c][1] - before[c][1]
            if total <= 0 or idle / total >= IDLE_FRACTION:
                free += 1
    return float(free)


def choose_threads(limit: int | None = None) -> tuple[int, str]:
    """(threads, why) for a run starting now; `limit`: at most this many (default: usable cores)."""
    pinned = pinned_threads()
    if pinned is not None:
        return pinned[0], f"{pinned[1]}={pinned[0]}"
    cores = len(usable_cores())
    limit = min(limit or cores, cores)
    free = int(idle_cores())
    n = max(1, min(limit, free))
    return n, f"{free} of {cores} cores idle"
