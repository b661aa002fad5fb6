"""Dropout with its mask drawn 16 bits at a time, for the CPU's bf16 variants (different numerics,
which the person chose with training.precision "bf16").

PyTorch's CPU `bernoulli_` takes an MKL path on Intel CPUs only; elsewhere (this AMD EPYC) it draws
one element at a time: `F.dropout` on 64x64x512 took 18 ms forward + backward, and the dropouts were
42% of the Transformer's bf16 step (docs/performance.md, "Transformer"). This draws 64 random bits
per four elements from the same generator (torch's default, so the run's seed still decides every
mask) and keeps an element where its 16 bits are at or above round(p * 65536): the drop probability
is p rounded to 1/65536 (0.1 -> 0.1000061); kept elements are scaled by 1 / (1 - p) as PyTorch does,
and NaN stays NaN where dropped (x * 0), as with PyTorch's.

The masks differ from PyTorch's, so the run follows another trajectory: this is never part of a
float32 pick (those keep PyTorch's masks and reach the eager loss within 1e-4). `install` gives each
`nn.Dropout` an instance forward (acting in training only), `remove` takes it away again."""
from __future__ import annotations

import torch
from torch import nn

MARK = "_netstudio_fast_dropout"
LEVELS = 1 << 16


def keep_mask(shape, p: float) -> torch.Tensor:
    """A bool tensor of `shape`, each element True with probability 1 - round(p * 2**16) / 2**16."""
    n = 1
    for s in shape:
        n *= s
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
    if p == 1.0:
        return x * 0.0
    return _Dropout.apply(x, p)


def _forward(module, x):
    if not module.training or module.p == 0.0 or x.device.type != "cpu":
        return type(module).forward(module, x)
    return dropout(x, module.p)


def install(model) -> int:
    """Give every `nn.Dropout` of `model` the fast forward; the number changed."""
    n = 0
    for module in model.modules():
        if type(module) is nn.Dropout and MARK not in module.__dict__:
            module.forward = _forward.__get__(module)
            setattr(module, MARK, True)
            n += 1
    return n


def remove(model) -> None:
    for module in model.modules():
        if module.__dict__.pop(MARK, None) is not None:
            module.__dict__.pop("forward", None)
