"""The trainer's notices in a person's words. The trainer says what it did for the log ("fast path:
eager+fused; per step ...; not used: cuda_graph (needs CUDA)"); the panel and the status bar say
what was used and why ("Training on CPU, fused Adam"), and keep the trainer's line for the tooltip
and the log."""
from __future__ import annotations

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
