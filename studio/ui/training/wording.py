"""The trainer's notices in a person's words. The trainer says what it did for the log ("fast path:
eager+fused; per step ...; not used: cuda_graph (needs CUDA)"); the panel and the status bar say
what was used and why ("Training on CPU, fused Adam"), and keep the trainer's line for the tooltip
and the log."""
from __future__ import annotations

import re

FAST_PATH = "fast path:"
PARTS = {"fused": "fused {optimizer}", "channels-last": "channels-last convolutions",
         "strided-pool": "2x2 max pooling as strided maxima", "bf16": "bf16 autocast",
         "conv-pool": "convolution and max pooling as one stride-2 convolution",
         "bf16-channels-last": "bf16 autocast with channels-last convolutions",
         "bf16-matmul": "float32 matrix products computed in bf16"}
# not named on the panel: "relu-after-pool" and "bulk-dropout" change nothing a person sees (the same
# values and masks; the tooltip and the log keep the trainer's full step name)
STEPS = {"cuda_graph": "the whole step as one CUDA graph", "compile": "compiled with torch.compile",
         "compile_cuda_graph": "compiled with torch.compile, as CUDA graphs"}


def device_words(device) -> str:
    """'CPU', 'GPU 0 (NVIDIA H200)', 'Apple GPU (MPS)'."""
    if isinstance(device, str):
        import torch

        try:
            device = torch.device(device)
        except (RuntimeError, ValueError):
            return device
    kind = getattr(device, "type", str(device))
    if kind == "cuda":
        index = getattr(device, "index", None) or 0
        try:
            import torch

            return f"GPU {index} ({torch.cuda.get_device_name(index)})"
        except Exception:  # noqa: BLE001 - a name is a nicety
            return f"GPU {index}"
    return {"cpu": "CPU", "mps": "Apple GPU (MPS)"}.get(kind, str(device))


def step_words(step_fn, optimizer: str) -> str:
    """What the chosen step does: 'fused Adam', 'the whole step as one CUDA graph', 'the standard step'."""
    chosen = getattr(step_fn, "chosen", None)
    if chosen in STEPS:
        return STEPS[chosen]
    # eager or a variant of it: the displayed name lists its parts ("eager+fused+channels-last")
    name = getattr(step_fn, "eager_name", "eager") if chosen is None else getattr(step_fn, "name", chosen)
    parts = [PARTS[p].format(optimizer=optimizer) for p in name.split("+")[1:] if p in PARTS]
    return ", ".join(parts) if parts else "the standard step"


def plain_notice(message: str, trainer) -> str:
    """The line a person reads for a trainer notice (the notice itself when it is already plain)."""
    if not message.startswith(FAST_PATH):
        return message
    if "trying compile" in message:
        return ("Compiling the model to make training faster: this takes a few seconds once; "
                "Pause and Stop act when it is done")
    step_fn = getattr(trainer, "step_fn", None)
    if step_fn is None:
        return "Training"
    config = getattr(trainer, "config", None)
    optimizer = config.optimizer.type if config is not None else "optimizer"
    line = f"Training on {device_words(getattr(trainer, 'device', 'cpu'))}, {step_words(step_fn, optimizer)}"
    change = _thread_change(message)
    if change:
        return line + change
    tried = len(getattr(step_fn, "times", {}) or {})
    if tried > 1:
        line += f" (fastest of {tried} tried)"
    return line + _kept_float32(step_fn, config)


def _kept_float32(step_fn, config) -> str:
    """Where the person chose bf16 and the timing kept a float32 step: that their switch acted."""
    chosen = getattr(step_fn, "chosen", None)
    tried_bf16 = any(name.startswith("bf16") for name in getattr(step_fn, "times", None) or {})
    if getattr(config, "precision", "float32") != "bf16" or not tried_bf16 or chosen is None or chosen.startswith("bf16"):
        return ""
    return "; bf16 was slower for this model here, so it trains in float32"


# fastpath/thread_watch.py's notices: "steps became 3.4x slower (1 of 2 cores idle); 1 thread instead of
# 2" and "cores came free (2 of 2 cores idle); 2 threads instead of 1, steps 1.68x faster"
_THREADS = re.compile(r"(\d+) threads? instead of (\d+)")
_SLOWER = re.compile(r"steps became ([\d.]+)x slower")
_FASTER = re.compile(r"steps ([\d.]+)x faster")


def _thread_change(message: str) -> str:
    """'; now 2 CPU threads instead of 1: cores came free, steps 1.68x faster', or '' for another notice."""
    threads = _THREADS.search(message)
    if threads is None:
        return ""
    now, before = threads.groups()
    head = f"; now {now} CPU thread{'s' if now != '1' else ''} instead of {before}"
    slower, faster = _SLOWER.search(message), _FASTER.search(message)
    if slower:
        return f"{head}: the steps became {slower.group(1)}x slower (another program is using a core)"
    if faster:
        return f"{head}: cores came free, steps {faster.group(1)}x faster"
    return head
