"""What the fast path may do for a run, decided before the optimizer is built (it needs the fused /
capturable flags) and before any step runs: the optimizer flags, channels-last, and the candidate
steps to time, each excluded candidate with the reason a person reads in the log."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import torch

MODES = ("auto", "thorough", "off", "eager", "cuda_graph", "compile", "compile_cuda_graph")
CANDIDATES = ("eager", "cuda_graph", "compile", "compile_cuda_graph")
FUSED = ("Adam", "AdamW", "SGD")  # fused kernels on CUDA and on the CPU
CAPTURABLE = ("Adam", "AdamW", "SGD", "RMSprop")  # no host-side step counter under capture
# torch.compile costs 4-11 s of warm-up on an H100 and 20-50 s on a 2-core CPU (docs/performance.md);
# `auto` tries it only when the eager run would last at least this long
COMPILE_MIN_RUN_S = {"cuda": 300.0, "cpu": 1800.0}


@dataclass
class FastPlan:
    mode: str
    device: torch.device
    optimizer_kwargs: dict = field(default_factory=dict)  # fused / capturable, for build_optimizer
    tensor_lr: bool = False  # lr as a device tensor, so a schedule changes it inside a CUDA graph
    channels_last: bool = False
    candidates: list = field(default_factory=list)  # names to time, eager first
    reasons: dict = field(default_factory=dict)  # candidate -> why it is not used
    compile_min_run_s: float = 0.0  # 0: no gate

    @property
    def eager_name(self) -> str:
        parts = ["eager"]
        if self.optimizer_kwargs.get("fused"):
            parts.append("fused")
        if self.channels_last:
            parts.append("channels-last")
        return "+".join(parts)

    def describe(self) -> str:
        """One line for StartedEvent.step_path before the timing picks a candidate."""
        if len(self.candidates) == 1:
            return self.eager_name if self.candidates[0] == "eager" else self.candidates[0]
        names = [self.eager_name if c == "eager" else c for c in self.candidates]
        return "timing " + ", ".join(names)

    def why_not(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.reasons.items())


def _has(model, kinds) -> bool:
    return any(isinstance(m, kinds) for m in model.modules())


def compiler_available(device: torch.device) -> str | None:
    """None, or why torch.compile cannot run here."""
    import importlib.util

    # find_spec, not import: checking availability should not load the compiler (about 1 s)
    if importlib.util.find_spec("torch._dynamo") is None or not hasattr(torch, "compile"):  # pragma: no cover
        return "torch.compile is not available in this PyTorch"
    if device.type == "cpu" and not (shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")):
        return "torch.compile on the CPU needs a C++ compiler (gcc or clang) on PATH"
    return None


def plan_fast_path(model, config, device: torch.device, *, distributed: bool = False,
                   scaler: bool = False) -> FastPlan:
    """The plan for `config.fast_path` on `device`. `scaler`: float16 AMP (a GradScaler) is on."""
    mode = getattr(config, "fast_path", "auto")
    plan = FastPlan(mode, device)
    if mode == "off":
        return plan
    cuda = device.type == "cuda"
    opt, sched = config.optimizer, config.schedule
    if opt.type in FUSED and device.type in ("cuda", "cpu"):
        plan.optimizer_kwargs["fused"] = True
    if cuda and _has(model, (torch.nn.Conv2d,)):
        plan.channels_last = True  # NHWC convolutions (tensor cores, cuDNN); slower on the CPU

    reasons = plan.reasons
    # ---- whole-step CUDA graph -------------------------------------------------------------------
    if not cuda:
        reasons["cuda_graph"] = f"CUDA graphs need a CUDA device (this run is on {device.type})"
    elif distributed:
        reasons["cuda_graph"] = "distributed (DDP) runs are not captured"
    elif scaler:
        reasons["cuda_graph"] = "float16 AMP's gradient scaler reads the gradients on the host every step; use bf16"
    elif opt.type not in CAPTURABLE:
        reasons["cuda_graph"] = f"{opt.type} keeps its step count on the host, so it cannot run inside a CUDA graph"
    elif _has(model, (torch.nn.RNNBase,)):
        reasons["cuda_graph"] = "recurrent layers (RNN, LSTM, GRU) are not captured in a CUDA graph"
    elif sched is not None and sched.type == "OneCycleLR" and sched.kwargs.get("cycle_momentum", True) \
            and (opt.type != "SGD" or opt.kwargs.get("momentum")):
        reasons["cuda_graph"] = "OneCycleLR changes the momentum every step, which a captured step cannot follow"
    # ---- torch.compile ---------------------------------------------------------------------------
    why_compile = compiler_available(device)
    if why_compile is None and distributed:
        why_compile = "distributed (DDP) runs are not compiled"
    if why_compile:
        reasons["compile"] = why_compile
    if not cuda:
        reasons["compile_cuda_graph"] = f"CUDA graphs need a CUDA device (this run is on {device.type})"
    elif why_compile or "cuda_graph" in reasons:
        reasons["compile_cuda_graph"] = why_compile or reasons["cuda_graph"]

    if mode in CANDIDATES:
        plan.candidates = [mode]
        if mode != "eager" and mode in reasons:
            plan.candidates = ["eager"]  # the reason is logged; the run trains eager
    else:
        possible = [c for c in CANDIDATES if c not in reasons]
        if mode == "auto" and not cuda:
            # measured on a 2-core CPU: compile warm-up 23-53 s for 0.7x-1.3x (docs/performance.md)
            for c in ("compile",):
                if c in possible:
                    possible.remove(c)
                    reasons[c] = ("not tried on the CPU by default: its 20-50 s warm-up rarely pays off "
                                  "(set training.fast_path to \"compile\" or \"thorough\" to try it)")
        elif mode == "auto":
            plan.compile_min_run_s = COMPILE_MIN_RUN_S["cuda"]
        plan.candidates = possible
    if "cuda_graph" in plan.candidates:
        if opt.type in ("Adam", "AdamW", "RMSprop"):
            plan.optimizer_kwargs["capturable"] = True
        plan.tensor_lr = sched is not None
    if plan.optimizer_kwargs.get("capturable") and opt.type == "RMSprop":
        plan.optimizer_kwargs["foreach"] = True
    return plan
