"""Fused Adam, AdamW and SGD without the Python around `optimizer.step()` and `zero_grad()` (every
CPU step of the fast path; the same kernel on the same tensors, so bit for bit the same update).

A fused step on the CPU runs one kernel per parameter group, but `Optimizer.step` wraps it in a
profiler range, hook checks, a grad-mode switch and `_init_group`'s per-parameter checks: for the
MLP 784-128-10 here, Adam's step() took 94 us of which the kernel call took 48, and zero_grad() 10
us to set four gradients to None (docs/performance.md, "session 15"). `LeanOptimizer` calls
PyTorch's own functional `adam` or `sgd` with the group's settings and state, and hands the call to
`optimizer.step()` whenever that would do anything else: on the first call (it creates the state,
and a schedule checks that step() ran before its own step), when a parameter has no gradient (the optimizer skips it), when step hooks or a
gradient scaler's attributes are set. The state lists are gathered on every call: a layout change
(channels-last) or a loaded checkpoint replaces the state tensors.
"""
from __future__ import annotations

import torch
from torch.optim import SGD, Adam, AdamW
from torch.optim import optimizer as optimizer_module
from torch.optim.adam import adam
from torch.optim.sgd import sgd


def fits(optimizer) -> bool:
    """True for a fused Adam, AdamW or SGD (exactly those classes: a subclass may step differently);
    Adam only where PyTorch's Adam names its weight decay's kind (AdamW is Adam with decoupled decay)."""
    kind = type(optimizer)
    if kind not in _CALLS or (kind is not SGD and "decoupled_weight_decay" not in optimizer.defaults):
        return False
    return all(group.get("fused") and not group.get("differentiable") for group in optimizer.param_groups)


class LeanOptimizer:
    """`zero_grad` and `step` for a fused Adam, AdamW or SGD (see the module docstring)."""

    def __init__(self, optimizer) -> None:
        if not fits(optimizer):
            raise ValueError(f"LeanOptimizer needs a fused Adam, AdamW or SGD, not {type(optimizer).__name__}")
        self.optimizer = optimizer
        self._group_calls = _CALLS[type(optimizer)]
        # the first step is step() itself: it creates the state, and a learning-rate schedule watches
        # for it (it warns when its own step comes first; plain SGD has no state to tell)
        self._stepped = False

    def zero_grad(self, set_to_none: bool = True) -> None:
        if not set_to_none:
            self.optimizer.zero_grad(set_to_none=False)
            return
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        opt = self.optimizer
        calls = self._calls(opt) if self._stepped else None
        if calls is None:
            opt.step()
            self._stepped = True
            return
        with torch.no_grad():
            for fn, args, kwargs in calls:
                fn(*args, **kwargs)

    def _calls(self, opt):
        """The functional calls optimizer.step() would make, or None where it would do more."""
        if (opt._optimizer_step_pre_hooks or opt._optimizer_step_post_hooks
                or optimizer_module._global_optimizer_pre_hooks or optimizer_module._global_optimizer_post_hooks
                or getattr(opt, "grad_scale", None) is not None or getattr(opt, "found_inf", None) is not None):
            return None
        calls = []
        for group in opt.param_groups:  # all gathered before any runs: a fallback must not step twice
            if not group.get("fused") or group.get("differentiable"):
                return None
            call = self._group_calls(group, opt.state)
            if call is None:
                return None
            calls.append(call)
        return calls


def _adam_call(group, state):
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
    return adam, (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps), dict(
        foreach=group["foreach"], capturable=group["capturable"], differentiable=False, fused=True,
        decoupled_weight_decay=group["decoupled_weight_decay"], amsgrad=amsgrad, beta1=beta1, beta2=beta2,
        lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"])


def _sgd_call(group, state):
    params = group["params"]
    momentum = group["momentum"]
    grads, buffers = [], []
    for p in params:
        grad = p.grad
        if grad is None or grad.is_sparse:
            return None
        grads.append(grad)
        if momentum != 0:
            buffer = state.get(p, {}).get("momentum_buffer")
            if buffer is None:  # the first step creates it (and stores it in the state)
                return None
            buffers.append(buffer)
    return sgd, (params, grads, buffers), dict(
        has_sparse_grad=False, foreach=group["foreach"], fused=True, weight_decay=group["weight_decay"],
        momentum=momentum, lr=group["lr"], dampening=group["dampening"], nesterov=group["nesterov"],
        maximize=group["maximize"])


_CALLS = {Adam: _adam_call, AdamW: _adam_call, SGD: _sgd_call}
