"""CPU candidates that change how the eager step runs, not what it computes: channels-last memory
for convolutions (float32, the same numerics up to summation order), 2x2 max pooling as strided
maxima (bit for bit the same: pooling.py; in each layout's variant, per pool where it times
faster), a convolution and the max pool after it as one stride-2 convolution (conv_pool.py; the
same numerics up to summation order; in both layouts, per chain where it times faster),
and the bf16 variants a person
opts into with `training.precision: "bf16"` (different numerics): autocast to bfloat16 (with
channels-last where the model has convolutions) and, for models of dense layers only, float32
matmuls computed in bf16 by oneDNN; each bf16 variant also draws its dropout masks 16 bits at a
time (dropout.py).

Each variant edits the shared eager step in place when its trial starts (`apply`) and puts it back
when its trial ends (`undo`; applied again if it wins), so every candidate trains the same parameters and optimizer state, one
optimizer step per call."""
from __future__ import annotations

import contextlib
import functools

import torch
from torch import nn

from . import conv_pool, dropout, pooling
from .fx_calls import inputs_read_only_by

FLOAT32_VARIANTS = ("channels_last", "strided_pool", "conv_pool")
BF16_VARIANTS = ("bf16", "bf16_channels_last", "bf16_matmul")


@functools.lru_cache(maxsize=1)
def cpu_bf16_hardware() -> str | None:
    """None when this CPU computes bf16 in hardware (AVX512-BF16 or AMX, as oneDNN detects it),
    else why not: without it bf16 is emulated and slower than float32."""
    try:
        if torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return None
    except (AttributeError, RuntimeError):  # pragma: no cover - a build without oneDNN
        return "this PyTorch has no oneDNN, so bf16 on the CPU is not accelerated"
    return "this CPU has no bf16 instructions (AVX512-BF16 or AMX), so bf16 would be slower; training in float32"


def set_layout(eager, memory_format) -> None:
    """Move the 4-d parameters, their gradients and optimizer state to `memory_format` in place
    (same Parameter objects: the optimizer keeps them; values unchanged)."""
    for p in eager.params:
        if p.dim() != 4:
            continue
        p.data = p.data.contiguous(memory_format=memory_format)
        if p.grad is not None:
            p.grad = p.grad.contiguous(memory_format=memory_format)
        state = eager.optimizer.state.get(p, {})
        for key, value in list(state.items()):
            if isinstance(value, torch.Tensor) and value.dim() == 4:
                state[key] = value.contiguous(memory_format=memory_format)
    eager.channels_last = memory_format == torch.channels_last


@contextlib.contextmanager
def matmul_bf16():
    """float32 matmuls computed in bf16 by oneDNN inside the block (a process-wide setting)."""
    backend = torch.backends.mkldnn.matmul
    before = backend.fp32_precision
    backend.fp32_precision = "bf16"
    try:
        yield
    finally:
        backend.fp32_precision = before


class EagerVariant:
    """The eager step with a layout and/or precision change; see the module docstring."""

    def __init__(self, eager, name: str, *, applied: bool = True) -> None:
        self.eager, self.name = eager, name
        self.channels_last = name in ("channels_last", "bf16_channels_last")
        self.autocast = name in ("bf16", "bf16_channels_last")
        self.matmul_bf16 = name == "bf16_matmul"
        # 2x2 max pools: each times PyTorch's pooling against strided maxima on its real input and keeps
        # the faster (pooling.faster; the same values): in either layout, either precision
        self.strided_pool = name in ("strided_pool", "conv_pool", "channels_last", "bf16_channels_last")
        # convolution + 2x2 max pool as one stride-2 convolution, per chain where it times faster
        self.conv_pool = name in ("conv_pool", "channels_last", "bf16_channels_last")
        self._chain_votes: dict = {}  # conv -> ("fused" / "plain", gap) per probe, timed while this variant ran
        self._pool_choices: dict = {}  # pool -> "strided" / "aten", likewise
        self._saved = None
        if applied:
            self.apply()

    def alternative(self) -> EagerVariant | None:
        """This variant with its contested chains (conv_pool.contested) the other way round, for the
        selection's rounds to time against it as whole steps; None where none is contested. Both
        settle on their ways: no more probes. Only while the variant is off (between trials)."""
        if not self.conv_pool or self._saved is not None:
            return None
        flip = conv_pool.contested(self._chain_votes)
        if not flip:
            return None
        mine = conv_pool.choices(self.eager.model, self._chain_votes)
        other = {conv: ({"fused": "plain", "plain": "fused"}[way] if conv in flip else way)
                 for conv, way in mine.items()}
        self._chain_votes = conv_pool.settled(mine)
        twin = EagerVariant(self.eager, self.name, applied=False)
        twin._chain_votes, twin._pool_choices = conv_pool.settled(other), dict(self._pool_choices)
        return twin

    def apply(self) -> None:
        eager = self.eager
        if self._saved is not None:
            return
        self._saved = (eager.channels_last, eager.amp_dtype, eager.input_dtype)
        if self.channels_last and not eager.channels_last:
            set_layout(eager, torch.channels_last)
        if self.autocast:
            eager.amp_dtype = torch.bfloat16
            if self.channels_last and inputs_read_only_by(eager.model, (nn.Conv2d,)):
                # autocast would cast the input to bf16 at the convolution anyway (the same values):
                # cast before the channels-last copy, which then moves half the bytes
                eager.input_dtype = torch.bfloat16
        # applied again after winning: each pool keeps what its trial timed, each chain its probes
        if self.strided_pool:
            pooling.install(eager.model, self._pool_choices)
        if self.conv_pool:
            conv_pool.install(eager.model, self._chain_votes)
        if self.numerics == "bf16":  # masks 16 bits at a time (dropout.py): another trajectory, as bf16 is
            dropout.install(eager.model, "fast16")

    def __call__(self, x, target):
        if self.matmul_bf16:  # process-wide setting: on only inside this step
            with matmul_bf16():
                return self.eager(x, target)
        return self.eager(x, target)

    def undo(self) -> None:
        if self._saved is None:
            return
        (channels_last, amp, input_dtype), self._saved = self._saved, None
        if self.channels_last and not channels_last:
            set_layout(self.eager, torch.contiguous_format)
        self.eager.amp_dtype, self.eager.input_dtype = amp, input_dtype
        if self.strided_pool:
            self._pool_choices = pooling.choices(self.eager.model)
            pooling.remove(self.eager.model)
        if self.conv_pool:
            self._chain_votes = conv_pool.votes(self.eager.model)
            conv_pool.remove(self.eager.model)
        if self.numerics == "bf16":  # back to the float32 steps' masks (PyTorch's, drawn in bulk) or none
            mode = getattr(self.eager, "dropout_mode", None)
            if mode:
                dropout.install(self.eager.model, mode)
            else:
                dropout.remove(self.eager.model)

    @property
    def label(self) -> str:
        """The name the step is shown by: conv_pool where no chain came out faster fused is the
        strided pool alone (the panel must not say a convolution was fused)."""
        if self.name == "conv_pool" and not self._fused():
            return "strided_pool"
        return self.name

    def _fused(self) -> list[str]:
        # as installed while the variant is on (until training ends); as it last timed them when off
        model = self.eager.model
        installed = conv_pool.choices(model) if self._saved is not None else {}
        return conv_pool.fused_layers(model, installed or conv_pool.choices(model, self._chain_votes))

    def detail(self) -> str:
        """What the trial decided inside the variant: which convolutions run fused with their pool."""
        if not self.conv_pool:
            return ""
        fused = self._fused()
        return f"fused: {', '.join(fused)}" if fused else ""

    @property
    def numerics(self) -> str:
        return "bf16" if (self.autocast or self.matmul_bf16) else "float32"


def describe(name: str) -> str:
    """What a variant changes, in words (for the notice and the UI)."""
    pools = "2x2 max pools as strided maxima where that times faster (the same values and gradients)"
    masks = "dropout masks drawn 16 bits at a time"
    fused = "a convolution and the 2x2 max pool after it as one stride-2 convolution where that times faster"
    return {"channels_last": f"channels-last memory for the convolutions; {pools}; {fused}",
            "strided_pool": pools,
            "conv_pool": f"{fused}; {pools}",
            "bf16": f"bf16 autocast; {masks}",
            "bf16_channels_last": f"bf16 autocast with channels-last convolutions; {pools}; {fused}; {masks}",
            "bf16_matmul": f"float32 matrix products computed in bf16 (oneDNN); {masks}"}.get(name, name)
