"""2x2 max pooling as the maximum of four strided slices, on the CPU fast path (any float dtype,
either memory layout; per pooling module where it times faster than PyTorch's own).

PyTorch's CPU kernel for NCHW max pooling with indices (what autograd needs) was the one slow part of
LeNet's step on this machine: 5.4 ms of a 34 ms step for 256x6x28x28, where the maximum of the four
strided 2x2 slices takes 0.4 ms (docs/performance.md, "LeNet"). This computes the same values and the
same gradients, bit for bit: the gradient of each window goes to the position aten's indices would
name (the first maximum in row-major order; with NaN in the window, the last NaN), kept as three
boolean masks instead of int64 indices. Only where a gradient itself is inf or NaN does it take the
slower exact route (a masked `where`).

Eligible: `nn.MaxPool2d` with a 2x2 window, stride 2, no padding, dilation 1, floor mode and no
returned indices (an odd last row or column is dropped, as aten does). `install` gives such modules
an instance `forward` for the variant's trials and, when it wins, the run: on its first training call
each module times both poolings on its real input (`faster`) and keeps the faster; `remove` takes it away
again (the trainer calls it when `fit` ends, so no exported or saved model carries it)."""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

MARK = "_netstudio_strided_pool"
OVERRIDE = "_netstudio_pool_forward"
PASSING = "_netstudio_pool_passing"  # conv_pool.py: the convolution before already pooled this call


def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def eligible(module) -> bool:
    if type(module) is not nn.MaxPool2d or module.return_indices or module.ceil_mode:
        return False
    stride = module.stride if module.stride is not None else module.kernel_size
    return (_pair(module.kernel_size) == (2, 2) and _pair(stride) == (2, 2) and _pair(module.padding) == (0, 0)
            and _pair(module.dilation) == (1, 1))


def _quarters(x):
    h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    return (x[..., 0:h:2, 0:w:2], x[..., 0:h:2, 1:w:2], x[..., 1:h:2, 0:w:2], x[..., 1:h:2, 1:w:2])


def _covers(x) -> bool:
    return x.shape[-2] % 2 == 0 and x.shape[-1] % 2 == 0  # an odd last row or column is in no window


class MaxOfFour(torch.autograd.Function):
    """The elementwise maximum of four views of `x`, `split(x)`, as a 2x2 max pool takes it: the
    gradient goes to the first maximum of the four (the last NaN where there is one), bit for bit
    what aten's indices name. `covers(x)`: whether the views cover every element (the others get a
    zero gradient). The strided pool splits a window into its four positions; conv_pool.py splits
    the four phases of a stride-2 convolution's output channels."""

    @staticmethod
    def forward(ctx, x, split, covers):
        a, b, c, d = split(x)
        ab, cd = torch.maximum(a, b), torch.maximum(c, d)
        out = torch.maximum(ab, cd)  # torch.maximum propagates NaN, as the pooling kernel does
        if ctx.needs_input_grad[0]:
            # one sum finds a NaN (inf - inf too, which only costs the exact route) 20x faster than isnan().any()
            if bool(torch.isnan(out.sum())):  # aten's rule with NaN: the last NaN of the window
                top = ((ab >= cd) | torch.isnan(ab)) & ~torch.isnan(cd)
                left_top = ((a >= b) | torch.isnan(a)) & ~torch.isnan(b)
                left_bottom = ((c >= d) | torch.isnan(c)) & ~torch.isnan(d)
            else:  # ties go to the first maximum: the top row, then the left column
                top, left_top, left_bottom = ab >= cd, a >= b, c >= d
            ctx.save_for_backward(top, left_top, left_bottom)
            ctx.input_shape, ctx.split, ctx.covers = x.shape, split, covers(x)
            # the gradient in the input's layout: a channels-last convolution before would reorder it
            ctx.layout = (torch.channels_last if x.dim() == 4 and not x.is_contiguous()
                          and x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format)
        return out

    @staticmethod
    def backward(ctx, g):
        top, left_top, left_bottom = ctx.saved_tensors
        if bool(torch.isfinite(g.sum())):  # all finite (an overflowing sum only costs the exact route)
            # multiplying by a 0/1 mask and subtracting are exact for finite values (and much faster
            # than masked_fill or where on this CPU: 0.26 against 1.1-1.4 ms for 256x6x14x14)
            g_top = g * top
            g_bottom = g - g_top
            tl, bl = g_top * left_top, g_bottom * left_bottom
            parts = (tl, g_top - tl, bl, g_bottom - bl)
        else:
            zero = g.new_zeros(())
            g_top, g_bottom = torch.where(top, g, zero), torch.where(top, zero, g)
            parts = (torch.where(left_top, g_top, zero), torch.where(left_top, zero, g_top),
                     torch.where(left_bottom, g_bottom, zero), torch.where(left_bottom, zero, g_bottom))
        grad = torch.empty(ctx.input_shape, dtype=g.dtype, device=g.device, memory_format=ctx.layout)
        if not ctx.covers:
            grad.zero_()
        for view, part in zip(ctx.split(grad), parts):
            view.copy_(part)
        return grad, None, None


class StridedMaxPool2x2:
    """2x2 max pooling with stride 2 as the maximum of the window's four strided slices."""

    @staticmethod
    def apply(x):
        return MaxOfFour.apply(x, _quarters, _covers)


def pool_forward(module, x):
    """The pooling `module` computes now: the strided one where installed and timed faster on this
    input's shape (either gives the same values and gradients), else its class's; the input itself
    where the convolution before it pooled it already (conv_pool.py)."""
    passing = module.__dict__.get(PASSING)
    if passing is not None and passing(x):
        return x
    choice = module.__dict__.get(MARK)
    if choice == "auto" and torch.is_grad_enabled() and module.training and x.requires_grad:
        choice = module.__dict__[MARK] = faster(x)
    if choice == "strided":
        return StridedMaxPool2x2.apply(x)
    return type(module).forward(module, x)


def faster(x, repeats: int = 3) -> str:
    """"strided" or "aten": which computes forward + backward of this input faster, timed here on a
    detached copy (the best of `repeats`, interleaved). Which wins depends on the layout, dtype and
    shape: on this CPU (with the ReLU after it) the strided one was 2x faster for NCHW and 1.7x for
    bf16 NHWC with 6 channels, aten's 5-6x faster for NHWC with 16 (docs/performance.md, "session 7")."""
    import time

    probe = x.detach()
    best = {"aten": float("inf"), "strided": float("inf")}
    grad = None  # ones: the values do not change the work (a finite gradient takes the fast route)
    for _ in range(repeats):
        for name, pool in (("aten", lambda t: F.max_pool2d(t, 2)), ("strided", StridedMaxPool2x2.apply)):
            t = probe.detach().requires_grad_()  # a leaf of its own: the run's graph is not touched
            start = time.perf_counter()
            y = pool(t)
            if grad is None:
                grad = torch.ones_like(y)
            y.backward(grad)
            best[name] = min(best[name], time.perf_counter() - start)
    return "strided" if best["strided"] < best["aten"] else "aten"


def _refresh(module) -> None:
    # one instance forward per module, shared with relu_pool.py (which puts a ReLU after the pool)
    override = module.__dict__.get(OVERRIDE)
    if override is not None:
        module.forward = override
    elif MARK in module.__dict__ or PASSING in module.__dict__:
        module.forward = functools.partial(pool_forward, module)
    else:
        module.__dict__.pop("forward", None)


def set_forward(module, forward) -> None:
    """Give `module` the instance forward `forward` (which calls pool_forward), or None to clear it."""
    if forward is None:
        module.__dict__.pop(OVERRIDE, None)
    else:
        module.__dict__[OVERRIDE] = forward
    _refresh(module)


def set_passing(module, passing) -> None:
    """`passing(x)` says whether the pool's input is already pooled (conv_pool.py); None clears it."""
    if passing is None:
        module.__dict__.pop(PASSING, None)
    else:
        module.__dict__[PASSING] = passing
    _refresh(module)


def install(model, choices: dict | None = None) -> int:
    """Give every eligible pooling module of `model` the timed choice of forward (`pool_forward`),
    timed against aten's on its first training call unless `choices` (module -> "strided" / "aten",
    from `choices()`) already says; the number changed."""
    n = 0
    for module in model.modules():
        if eligible(module) and MARK not in module.__dict__:
            setattr(module, MARK, (choices or {}).get(module, "auto"))
            _refresh(module)
            n += 1
    return n


def choices(model) -> dict:
    """module -> "strided" / "aten" for every installed pooling that has timed itself."""
    return {m: m.__dict__[MARK] for m in model.modules() if m.__dict__.get(MARK, "auto") != "auto"}


def remove(model) -> None:
    for module in model.modules():
        if module.__dict__.pop(MARK, None) is not None:
            _refresh(module)


def has_eligible(model) -> bool:
    return any(eligible(m) for m in model.modules())
