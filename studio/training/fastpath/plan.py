"""What the fast path may do for a run, decided before the optimizer is built (it needs the fused /
capturable flags) and before any step runs: the optimizer flags, channels-last, and the candidate
steps to time, each excluded candidate with the reason a person reads in the log."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import torch

MODES = ("auto", "thorough", "off", "eager", "channels_last", "strided_pool", "conv_pool", "cuda_graph", "compile",
         "compile_cuda_graph")
CANDIDATES = ("eager", "channels_last", "strided_pool", "conv_pool", "cuda_graph", "compile", "compile_cuda_graph")
FUSED = ("Adam", "AdamW", "SGD")  # fused kernels on CUDA and on the CPU
CAPTURABLE = ("Adam", "AdamW", "SGD", "RMSprop")  # no host-side step counter under capture
# torch.compile costs 4-11 s of warm-up on an H100, 3-50 s on a CPU cold and 0.15-2 s with a warm
# cache (docs/performance.md, issue 19); `auto` tries it only when the eager run would last at least
# this long, so that a cold warm-up is under a tenth of the run
COMPILE_MIN_RUN_S = {"cuda": 300.0, "cpu": 600.0}


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
    threads: int | None = None  # CPU: intra-op threads for this run, and why that many
    threads_why: str = ""
    precision: str = "float32"  # what the person chose (training.precision)
    relu_after_pool: bool = False  # CPU: ReLU -> max pool runs as pool -> ReLU (relu_pool.py; exact)
    bulk_dropout: bool = False  # CPU: PyTorch's dropout masks drawn in bulk (dropout.py; exact)

    @property
    def numerics_changed(self) -> bool:
        return any(c.startswith("bf16") for c in self.candidates)

    @property
    def eager_name(self) -> str:
        parts = ["eager"]
        if self.optimizer_kwargs.get("fused"):
            parts.append("fused")
        if self.channels_last:
            parts.append("channels-last")
        if self.relu_after_pool:
            parts.append("relu-after-pool")
        if self.bulk_dropout:
            parts.append("bulk-dropout")
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
    plan.precision = getattr(config, "precision", "float32")
    if mode == "off":
        return plan
    if device.type == "cpu" and not distributed:
        from .threads import choose_threads

        plan.threads, plan.threads_why = choose_threads()
    cuda = device.type == "cuda"
    opt, sched = config.optimizer, config.schedule
    if opt.type in FUSED and device.type in ("cuda", "cpu"):
        plan.optimizer_kwargs["fused"] = True
    if cuda and _has(model, (torch.nn.Conv2d,)):
        plan.channels_last = True  # NHWC convolutions (tensor cores, cuDNN); slower on the CPU

    reasons = plan.reasons
    # ---- channels-last on the CPU: timed (faster for CNN + BatchNorm, about even for LeNet here) ----
    # (not applicable without convolutions: left out silently, not listed as "not used")
    no_conv = not _has(model, (torch.nn.Conv2d,))
    if not cuda and not no_conv and distributed:
        reasons["channels_last"] = "distributed (DDP) runs keep the default layout"
    # ---- 2x2 max pooling as strided maxima (pooling.py): the CPU's NCHW pooling kernel is the slow
    # part of LeNet's step; left out silently where no pooling layer qualifies
    from .pooling import has_eligible

    no_pool = cuda or distributed or not has_eligible(model)
    # ---- a convolution and the max pool after it as one stride-2 convolution (conv_pool.py): where
    # it qualifies it also has the strided pools, so it stands in for the strided-pool candidate
    from .conv_pool import has_chains

    no_chain = cuda or distributed or not has_chains(model)
    # ---- ReLU after max pooling (relu_pool.py): the same numbers, a quarter of the ReLU's work; in
    # every CPU step (eager and each candidate), not timed: it can only remove work
    from .relu_pool import has_pairs

    plan.relu_after_pool = not cuda and not distributed and has_pairs(model)
    # ---- dropout masks drawn in bulk (dropout.py): PyTorch's masks, bit for bit, about 15% faster
    # where PyTorch draws them one at a time (not with MKL on an Intel CPU: its masks differ there)
    from . import dropout

    plan.bulk_dropout = not cuda and not distributed and dropout.has_dropout(model)
    if plan.bulk_dropout and not dropout.exact_masks_here():
        plan.bulk_dropout = False
        reasons["bulk_dropout"] = "PyTorch draws its dropout masks with MKL on this CPU, in bulk already"
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

    if mode == "channels_last" and (cuda or no_conv):
        reasons[mode] = "always on for convolutions on CUDA" if cuda else "the model has no 2-d convolutions"
    if mode == "strided_pool" and no_pool:
        reasons[mode] = (f"acts on the CPU (this run is on {device.type})" if cuda else
                         "distributed (DDP) runs keep PyTorch's pooling" if distributed else
                         "the model has no 2x2, stride-2 MaxPool2d")
    if mode == "conv_pool" and no_chain:
        reasons[mode] = (f"acts on the CPU (this run is on {device.type})" if cuda else
                         "distributed (DDP) runs keep PyTorch's convolutions" if distributed else
                         "no stride-1 Conv2d feeds a 2x2, stride-2 MaxPool2d (alone or through a ReLU)")
    if mode in CANDIDATES:
        plan.candidates = [mode]
        if mode != "eager" and mode in reasons:
            plan.candidates = ["eager"]  # the reason is logged; the run trains eager
    else:
        # on CUDA convolutions always run channels-last (above): not a candidate there
        possible = [c for c in CANDIDATES if c not in reasons and not (c == "channels_last" and (cuda or no_conv))
                    and not (c == "strided_pool" and (no_pool or not no_chain))
                    and not (c == "conv_pool" and no_chain)]
        if mode == "auto":
            plan.compile_min_run_s = COMPILE_MIN_RUN_S[device.type if cuda else "cpu"]
        plan.candidates = possible
    _precision(plan, model, device, distributed, mode)
    if "cuda_graph" in plan.candidates:
        if opt.type in ("Adam", "AdamW", "RMSprop"):
            plan.optimizer_kwargs["capturable"] = True
        plan.tensor_lr = sched is not None
    if plan.optimizer_kwargs.get("capturable") and opt.type == "RMSprop":
        plan.optimizer_kwargs["foreach"] = True
    return plan


def _precision(plan: FastPlan, model, device: torch.device, distributed: bool, mode: str) -> None:
    """`training.precision: "bf16"` on the CPU: time the bf16 variants beside the float32 ones (the
    pick can still be float32 if bf16 is not faster here). Only when the person chose it."""
    if plan.precision != "bf16" or mode == "off":
        return
    from .variants import cpu_bf16_hardware

    if device.type != "cpu":
        plan.reasons["bf16"] = f"training.precision \"bf16\" acts on the CPU; on {device.type} use training.amp \"bf16\""
        return
    why = cpu_bf16_hardware() or ("distributed (DDP) runs stay float32" if distributed else None)
    if why:
        plan.reasons["bf16"] = why
        return
    if mode not in ("auto", "thorough"):
        plan.reasons["bf16"] = f"training.fast_path \"{mode}\" forces one float32 step"
        return
    # measured here (issue 19): NCHW bf16 convolutions are slower than float32, channels-last ones
    # faster; for dense models autocast and bf16 matmuls are close, so both are timed
    if _has(model, (torch.nn.Conv2d,)):
        plan.candidates.append("bf16_channels_last")
    else:
        plan.candidates += ["bf16", "bf16_matmul"]
