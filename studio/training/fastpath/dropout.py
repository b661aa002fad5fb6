"""Dropout masks drawn in bulk on the CPU fast path, in two modes.

PyTorch's CPU `bernoulli_` takes an MKL path on Intel CPUs only; elsewhere (this AMD EPYC) it draws
one element at a time through a per-element double-precision lambda: `F.dropout` on 64x64x512 took
15 ms forward, and the dropouts were 42% of the Transformer's bf16 step (docs/performance.md,
"Transformer").

- "exact" (every CPU step): the same masks as PyTorch's, bit for bit, and the generator left in the
  same state. Its `bernoulli_(1 - p)` keeps an element where the low 53 bits of one 64-bit draw,
  as a double in [0, 1), are below 1 - p; this draws the same 64-bit numbers in the same order with
  `random_` over the full range and compares the integers, then scales as `_dropout` does
  (`noise.div_(1 - p)`, `input * noise`). The draws are still one per element: about 15% faster.
- "fast16" (the bf16 variants only: different numerics, which the person chose): 64 random bits
  per four elements, an element kept where its 16 bits are at or above round(p * 65536), so the
  drop probability is p rounded to 1/65536 (0.1 -> 0.1000061); kept elements scaled by 1 / (1 - p),
  NaN kept where dropped (x * 0), as PyTorch does. Other masks than PyTorch's, so another trajectory.

Both draw from torch's default generator: the run's seed decides every mask. `install` gives each
`nn.Dropout` (not in-place) an instance forward acting in training only; `remove` takes it away.

On Intel CPUs a PyTorch built with MKL seeds an MKL stream from the generator instead (parallel and
vectorised, other masks), so "exact" is used only where `exact_masks_here` finds PyTorch's masks."""
from __future__ import annotations

import functools
import math

import torch
from torch import nn

MARK = "_netstudio_fast_dropout"
MODES = ("exact", "fast16")
LEVELS = 1 << 16
LOW53 = (1 << 53) - 1  # the bits of a draw that PyTorch's uniform double uses


def exact_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """PyTorch's CPU dropout of `x` (0 < p < 1), the same values and generator state."""
    q = 1.0 - p
    bits = torch.empty_like(x, dtype=torch.int64).random_(-(1 << 63), None)  # x's layout: the same order
    noise = (bits.bitwise_and_(LOW53) < math.ceil(q * 2.0 ** 53)).to(x.dtype)
    noise.div_(q)
    return x * noise


@functools.lru_cache(maxsize=1)
def exact_masks_here() -> bool:
    """Whether this PyTorch on this CPU draws `bernoulli_` masks as `exact_dropout` does: both drawn
    once from generators of their own with the same seed (the default generator is not touched)."""
    n, q = 4096, 0.5
    theirs, mine = torch.Generator().manual_seed(19), torch.Generator().manual_seed(19)
    want = torch.empty(n).bernoulli_(q, generator=theirs)
    bits = torch.empty(n, dtype=torch.int64).random_(-(1 << 63), None, generator=mine)
    got = (bits.bitwise_and_(LOW53) < math.ceil(q * 2.0 ** 53)).float()
    return torch.equal(got, want) and torch.equal(theirs.get_state(), mine.get_state())


def keep_mask(shape, p: float) -> torch.Tensor:
    """A bool tensor of `shape`, each element True with probability 1 - round(p * 2**16) / 2**16."""
    n = math.prod(shape)
    bits = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(1 << 63), None)  # all 64 bits (random_() keeps the sign bit 0)
    r = bits.view(torch.int16)[:n].view(shape)  # four uniform 16-bit draws per 64 bits
    return r >= round(p * LEVELS) - LEVELS // 2


class _Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p: float):
        keep = keep_mask(x.shape, p)
        ctx.save_for_backward(keep)  # one byte an element, not a mask in x's dtype
        ctx.scale = 1.0 / (1.0 - p)
        return (x * keep).mul_(ctx.scale)

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return (g * keep).mul_(ctx.scale), None


def dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Dropout of `x` (0 < p < 1) with fast16 masks."""
    return _Dropout.apply(x, p)


def _forward(module, x):
    mode = module.__dict__.get(MARK)
    if not module.training or not 0.0 < module.p < 1.0 or x.device.type != "cpu" or not x.is_floating_point():
        return type(module).forward(module, x)
    if mode == "fast16":
        return dropout(x, module.p)
    if dense(x):
        return exact_dropout(x, module.p)
    return type(module).forward(module, x)


def dense(x: torch.Tensor) -> bool:
    """x fills its memory without gaps or overlaps in some order of its dimensions (contiguous,
    channels-last, or transposed: a Transformer layer's attention output). Then `empty_like` keeps
    its strides, so PyTorch's mask and `exact_dropout`'s bits are drawn in the same memory order."""
    expected = 1
    for size, stride in sorted((d for d in zip(x.shape, x.stride()) if d[0] != 1), key=lambda d: d[1]):
        if stride != expected:
            return False
        expected *= size
    return True


def install(model, mode: str = "exact") -> int:
    """Give every `nn.Dropout` of `model` the forward of `mode` (MODES); the number that has it."""
    if mode not in MODES:
        raise ValueError(f"dropout mode {mode!r}: one of {', '.join(MODES)}")
    n = 0
    for module in model.modules():
        if type(module) is nn.Dropout and not module.inplace:
            module.forward = _forward.__get__(module)
            module.__dict__[MARK] = mode
            n += 1
    return n


def has_dropout(model) -> bool:
    return any(type(m) is nn.Dropout and not m.inplace and 0.0 < m.p < 1.0 for m in model.modules())


def remove(model) -> None:
    for module in model.modules():
        if module.__dict__.pop(MARK, None) is not None:
            module.__dict__.pop("forward", None)
