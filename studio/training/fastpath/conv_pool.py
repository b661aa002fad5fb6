"""A convolution and the 2x2 max pool after it as one stride-2 convolution, on the CPU fast path
(float32; the same values up to summation order, as channels-last is).

The stride-1 convolution's output at (2i + a, 2j + b) is the stride-2 convolution at (i, j) with the
kernel moved by (a, b) inside one a row and a column larger. So the four positions (a, b) of each
2x2 / stride-2 pooling window are four groups of output channels of a single stride-2 convolution
with four times the channels, and the pool is the maximum of the four groups (pooling.MaxOfFour,
with aten's choice of the window's first maximum). The pool becomes an elementwise maximum of four
channel groups (no window indexing), and a convolution with few output channels (LeNet's 3 -> 6)
fills oneDNN's vector lanes with four times as many, at 36/25 of the multiply-adds for 5x5. On this CPU
(AVX2, 2 threads, NCHW, batch 256) LeNet's conv1 + ReLU + pool, forward + backward, took 6.8 ms
fused against 8.7 with the strided pool and 10.6 as written, and its whole step 15.7 against 20.0
(docs/performance.md, "session 10"); its conv2, whose input needs a gradient too, took 9.1 fused
against 6.1. So each chain times both on its first training call, on its real input, and keeps the
faster; and again on the first call of each of its variant's next applications, up to PROBES in
all, keeping the majority (one probe of the two ways, 7% apart in bf16 on a Zen 4, kept conv1 plain
in about one selection of five: docs/performance.md, "session 15"). Later probes fall on untimed
calls (a trial's warm-up, a round's first call of a block). Where the two ways came out close
(`contested`), the selection's rounds time the variant both ways as whole steps and keep the faster
(variants.EagerVariant.alternative): a whole step can gain what the chain alone loses.

A chain qualifies where an `nn.Conv2d` (stride 1, dilation 1, one group, zero padding) feeds only an
`nn.ReLU` that feeds only an eligible `nn.MaxPool2d` (pooling.eligible), or feeds the pool directly,
in one of the model's fx graphs, each module called once. It acts only while training with
gradients and while no hook watches any of the three: the convolution then returns the pooled
tensor, the ReLU runs on it (ReLU and max commute: relu_pool.py), and the pool passes it on. In eval,
under no_grad or with a hook, all three run as written. `install` gives the chain's modules their
instance forwards; `remove` takes them away (the trainer calls it when `fit` ends)."""
from __future__ import annotations

import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as module_hooks

from . import pooling
from .fx_calls import call_counts, calls_alone, single_use_calls

MARK = "_netstudio_conv_pool"
PROBES = 3  # timings of a chain's two ways, one per application of its variant, before it settles
# a chain whose two ways timed this close (the slower's time over the faster's, less 1, the median of
# its probes) is contested: the selection's rounds time its variant both ways as whole steps
# (select.py): alone, conv1's bf16 ways timed 7% apart and kept it plain in 3 of 6 selections, while
# fused its whole step ran 9% faster (docs/performance.md, "session 16")
CONTESTED = 0.15


def _padding(conv: nn.Conv2d) -> tuple | None:
    """The convolution's padding as numbers for the stride-2 convolution, None where it has none
    (an even kernel's "same" padding is uneven)."""
    if conv.padding == "valid":
        return (0, 0)
    if conv.padding == "same":
        if any(k % 2 == 0 for k in conv.kernel_size):
            return None
        return tuple((k - 1) // 2 for k in conv.kernel_size)
    return tuple(conv.padding)


def eligible_conv(conv) -> bool:
    return (type(conv) is nn.Conv2d and conv.groups == 1 and conv.padding_mode == "zeros"
            and tuple(conv.stride) == (1, 1) and tuple(conv.dilation) == (1, 1) and _padding(conv) is not None)


def chains(model) -> list[tuple]:
    """(conv, relu or None, pool) chains that can run fused (see the module docstring)."""
    counts, found = call_counts(model), []
    for gm, node, conv in single_use_calls(model):
        if not eligible_conv(conv):
            continue
        (user,) = node.users
        relu = None
        if calls_alone(gm, user, node, (nn.ReLU,)) and len(user.users) == 1:
            relu, node = gm.get_submodule(user.target), user
            (user,) = node.users
        if not calls_alone(gm, user, node, (nn.MaxPool2d,)):
            continue
        pool = gm.get_submodule(user.target)
        if pooling.eligible(pool) and all(counts[id(m)] == 1 for m in (conv, relu, pool) if m is not None):
            found.append((conv, relu, pool))
    return found


def _watched(module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks
                or module._backward_pre_hooks or module_hooks._global_forward_hooks
                or module_hooks._global_forward_pre_hooks or module_hooks._global_backward_hooks
                or module_hooks._global_backward_pre_hooks)


def _phases(y):
    c = y.shape[-3] // 4
    return tuple(y.narrow(-3, i * c, c) for i in range(4))


def _all(y) -> bool:
    return True


def fused_weight(weight: torch.Tensor) -> torch.Tensor:
    """The stride-2 kernel: the four window positions' kernels, each `weight` moved by (a, b) inside
    one a row and a column larger, stacked as four groups of output channels."""
    kernel = torch.cat([F.pad(weight, (b, 1 - b, a, 1 - a)) for a in (0, 1) for b in (0, 1)])
    if weight.dim() == 4 and not weight.is_contiguous() and weight.is_contiguous(memory_format=torch.channels_last):
        kernel = kernel.contiguous(memory_format=torch.channels_last)  # the channels-last variant's
    return kernel


def conv_max_pool(x, weight, bias, padding):
    """max_pool2d(conv2d(x, weight, bias, padding=padding), 2) computed as one stride-2 convolution."""
    y = F.conv2d(x, fused_weight(weight), None if bias is None else bias.repeat(4), stride=2, padding=padding)
    return pooling.MaxOfFour.apply(y, _phases, _all)


class _Chain:
    def __init__(self, conv, relu, pool) -> None:
        self.conv, self.relu, self.pool = conv, relu, pool
        self.votes: list[tuple] = []  # ("fused" / "plain", the gap between the two), one per probe (see PROBES)
        self.probe = True  # time the two ways on the next training call
        self.pending = None  # the pooled shape the convolution returned, for the pool to pass on

    @property
    def choice(self) -> str:
        """"auto" before the first probe, then the majority of the probes (a tie: the first)."""
        return majority(self.votes) if self.votes else "auto"

    def active(self) -> bool:
        modules = [m for m in (self.conv, self.relu, self.pool) if m is not None]
        return torch.is_grad_enabled() and all(m.training for m in modules) and not any(map(_watched, modules))

    def conv_forward(self, x):
        self.pending = None
        conv = self.conv
        if not self.active():
            return nn.Conv2d.forward(conv, x)
        if self.probe:
            self.probe = False
            self.votes.append(faster(conv, x))
        if self.choice != "fused":
            return nn.Conv2d.forward(conv, x)
        out = conv_max_pool(x, conv.weight, conv.bias, _padding(conv))
        self.pending = out.shape
        return out

    def passes(self, x) -> bool:
        """For the pool: `x` is already pooled (the fused convolution's output, maybe after the ReLU)."""
        pending, self.pending = self.pending, None
        return pending is not None and x.shape == pending


def faster(conv: nn.Conv2d, x, repeats: int = 5) -> tuple[str, float]:
    """("fused" or "plain", gap): which computes convolution + pool, forward + backward, faster on
    this input (the best of `repeats`, interleaved, on detached copies: the run's graph is not
    touched), and by how much (the slower's time over the faster's, less 1); plain is the faster of
    aten's and the strided pool. A fused convolution that cannot run here (an input smaller than its
    kernel) is ("plain", inf), and so the error is the convolution's own.
    Five repeats, not three: in bf16 on a Zen 4 the two are 7% apart, and three let a slow moment
    keep conv1 plain in one of three selections (docs/performance.md, "session 15")."""
    padding = _padding(conv)

    def plain(pool):
        return lambda t, w, b: pool(F.conv2d(t, w, b, padding=padding))

    ways = {"aten": plain(lambda y: F.max_pool2d(y, 2)), "strided": plain(pooling.StridedMaxPool2x2.apply),
            "fused": lambda t, w, b: conv_max_pool(t, w, b, padding)}
    best = dict.fromkeys(ways, float("inf"))
    grad = None  # ones: the values do not change the work
    try:
        for _ in range(repeats):
            for name, way in ways.items():
                t = x.detach().requires_grad_(x.requires_grad)
                w = conv.weight.detach().requires_grad_()
                b = None if conv.bias is None else conv.bias.detach().requires_grad_()
                start = time.perf_counter()
                y = way(t, w, b)
                if grad is None:
                    grad = torch.ones_like(y)
                y.backward(grad)
                best[name] = min(best[name], time.perf_counter() - start)
    except RuntimeError:
        return "plain", math.inf
    fused, plain = best["fused"], min(best["aten"], best["strided"])
    return ("fused" if fused < plain else "plain"), max(fused, plain) / min(fused, plain) - 1


def majority(votes: list[tuple]) -> str:
    ways = [way for way, _ in votes]
    return max(ways, key=ways.count)  # the first of the most frequent


def contested(chain_votes: dict) -> list:
    """The convolutions whose two ways timed within CONTESTED of each other (the median gap of
    their probes), from `votes()`."""
    return [conv for conv, v in chain_votes.items() if statistics.median(gap for _, gap in v) < CONTESTED]


def settled(chosen: dict) -> dict:
    """Votes for `install` that fix each chain to its way in `chosen` (conv -> "fused" / "plain"):
    PROBES of them, so it probes no more."""
    return {conv: [(way, math.inf)] * PROBES for conv, way in chosen.items()}


def install(model, votes: dict | None = None) -> int:
    """Give every qualifying chain of `model` its fused forward (timed on its first training call,
    with `votes` (conv -> its probes so far, from `votes()`) counted before it, until PROBES); the
    number of chains."""
    n = 0
    for conv, relu, pool in chains(model):
        if MARK in conv.__dict__:
            continue
        chain = _Chain(conv, relu, pool)
        chain.votes = list((votes or {}).get(conv, ()))
        chain.probe = len(chain.votes) < PROBES
        setattr(conv, MARK, chain)
        conv.forward = chain.conv_forward
        pooling.set_passing(pool, chain.passes)
        n += 1
    return n


def remove(model) -> None:
    for module in model.modules():
        chain = module.__dict__.pop(MARK, None)
        if chain is not None:
            module.__dict__.pop("forward", None)
            pooling.set_passing(chain.pool, None)


def votes(model) -> dict:
    """conv -> its probes so far, for every installed chain that has timed itself (for `install`)."""
    found = (m.__dict__.get(MARK) for m in model.modules())
    return {chain.conv: list(chain.votes) for chain in found if chain is not None and chain.votes}


def choices(model, chain_votes: dict | None = None) -> dict:
    """conv -> "fused" / "plain": of every installed chain that has timed itself, or from `chain_votes`."""
    return {conv: majority(v) for conv, v in (votes(model) if chain_votes is None else chain_votes).items()}


def fused_layers(model, chosen: dict | None = None) -> list[str]:
    """The names of the convolutions that run fused with their pool, in the model's order: as
    installed now, or as `chosen` (conv -> "fused" / "plain", from `choices()`) says."""
    chosen = choices(model) if chosen is None else chosen
    return [name for name, m in model.named_modules() if chosen.get(m) == "fused"]


def has_chains(model) -> bool:
    return bool(chains(model))
