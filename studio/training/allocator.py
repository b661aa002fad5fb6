"""Keep freed host memory for the next step (glibc's malloc on Linux), instead of giving it back to
the kernel and page-faulting it in again.

PyTorch's CPU tensors come from malloc. With glibc's defaults a buffer over the mmap threshold (128
KiB at first, then the largest block freed so far) is mmap'd and unmapped on free, and free memory
over the trim threshold at the top of the heap is returned to the kernel. A training step frees its
activations and allocates them again on the next step, so they keep coming back as fresh pages: each
4 KiB page faults and is zeroed by the kernel, about 2 us. Measured on a 2-core EPYC, one thread:
LeNet batch 256 took 3,700-6,600 faults per step, ~30% of its step time (docs/performance.md).

`keep_freed_memory()` raises the mmap threshold to glibc's maximum (32 MiB) and the trim threshold to
1 GiB, once per process: blocks under 32 MiB are reused from the heap, and up to 1 GiB of free heap
stays mapped (the same trade as PyTorch's caching allocator on a GPU: memory freed by one step is
kept for the next). It changes no numerics. It is process-wide and cannot be undone: once set,
glibc stops adapting its threshold. Nothing is done when the person chose an allocator
(LD_PRELOAD, MALLOC_*_ environment variables, GLIBC_TUNABLES), on other C libraries, or with
NETSTUDIO_MALLOC=default.
"""
from __future__ import annotations

import os
import platform
import threading

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's largest on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 1 << 30

_lock = threading.Lock()
_state: str | None = None  # "kept" | why not


def _chosen_elsewhere() -> str | None:
    env = os.environ
    if env.get("NETSTUDIO_MALLOC", "").lower() == "default":
        return "NETSTUDIO_MALLOC=default"
    if "malloc" in env.get("LD_PRELOAD", ""):  # jemalloc, tcmalloc, mimalloc
        return "another allocator is preloaded"
    tuned = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
    if any(k in env for k in tuned) or "glibc.malloc" in env.get("GLIBC_TUNABLES", ""):
        return "malloc is tuned by the environment"
    return None


def keep_freed_memory() -> str:
    """Apply the settings above (once per process). Returns "kept", or why the defaults stay."""
    global _state
    with _lock:
        if _state is not None:
            return _state
        why = _chosen_elsewhere()
        if why is None and (platform.system() != "Linux" or platform.libc_ver()[0] != "glibc"):
            why = "not glibc"
        if why is None:
            try:
                import ctypes

                libc = ctypes.CDLL(None)
                ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                why = None if ok else "mallopt refused"
            except (OSError, AttributeError) as exc:  # pragma: no cover - no mallopt in this libc
                why = f"mallopt unavailable ({exc})"
        _state = why or "kept"
        return _state
