"""Fused Adam and AdamW without the Python around `optimizer.step()` and `zero_grad()` (every CPU
step of the fast path; the same kernel on the same tensors, so bit for bit the same update).

A fused step on the CPU runs one kernel per parameter group, but `Optimizer.step` wraps it in a
profiler range, hook checks, a grad-mode switch and `_init_group`'s per-parameter checks: for the
MLP 784-128-10 here, step() took 94 us of which the kernel call took 48, and zero_grad() 10 us to
set four gradients to None (docs/performance.md, "session 15"). `LeanAdam` calls PyTorch's own
functional `adam` with the group's settings and state, and hands the call to `optimizer.step()`
whenever that would do anything else: before the state exists (the first step creates it), when a
parameter has no gradient (Adam skips it), when step hooks or a gradient scaler's attributes are
set. The state lists are gathered on every call: a layout change (channels-last) or a loaded
checkpoint replaces the state tensors.
"""
from __future__ import annotations

import torch
from torch.optim import Adam, AdamW
from torch.optim import optimizer as optimizer_module
from torch.optim.adam import adam


def fits(optimizer) -> bool:
    """True for a fused Adam or AdamW (exactly those classes: a subclass may step differently) of a
    PyTorch whose Adam names its weight decay's kind (AdamW is Adam with decoupled weight decay)."""
    return type(optimizer) in (Adam, AdamW) and "decoupled_weight_decay" in optimizer.defaults and all(
        group.get("fused") and not group.get("differentiable") for group in optimizer.param_groups)


class LeanAdam:
    """`zero_grad` and `step` for a fused Adam or AdamW (see the module docstring)."""

    def __init__(self, optimizer) -> None:
        if not fits(optimizer):
            raise ValueError(f"LeanAdam needs a fused Adam or AdamW, not {type(optimizer).__name__}")
        self.optimizer = optimizer

    def zero_grad(self, set_to_none: bool = True) -> None:
        if not set_to_none:
            self.optimizer.zero_grad(set_to_none=False)
            return
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        opt = self.optimizer
        calls = self._calls(opt)
        if calls is None:
            opt.step()
            return
        with torch.no_grad():
            for args, kwargs in calls:
                adam(*args, **kwargs)

    @staticmethod
    def _calls(opt):
        """The functional calls optimizer.step() would make, or None where it would do more."""
        if (opt._optimizer_step_pre_hooks or opt._optimizer_step_post_hooks
                or optimizer_module._global_optimizer_pre_hooks or optimizer_module._global_optimizer_post_hooks
                or getattr(opt, "grad_scale", None) is not None or getattr(opt, "found_inf", None) is not None):
            return None
        state = opt.state
        calls = []
        for group in opt.param_groups:  # all gathered before any runs: a fallback must not step twice
            if not group.get("fused") or group.get("differentiable"):
                return None
            params = group["params"]
            grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], [], []
            amsgrad = group["amsgrad"]
            for p in params:
                grad, st = p.grad, state.get(p)
                if grad is None or grad.is_sparse or not st:
                    return None
                grads.append(grad)
                exp_avgs.append(st["exp_avg"])
                exp_avg_sqs.append(st["exp_avg_sq"])
                if amsgrad:
                    max_exp_avg_sqs.append(st["max_exp_avg_sq"])
                steps.append(st["step"])
            beta1, beta2 = group["betas"]
            calls.append(((params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps),
                          dict(foreach=group["foreach"], capturable=group["capturable"], differentiable=False,
                               fused=True, decoupled_weight_decay=group["decoupled_weight_decay"],
                               amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=group["lr"],
                               weight_decay=group["weight_decay"], eps=group["eps"],
                               maximize=group["maximize"])))
        return calls
