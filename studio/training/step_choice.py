"""Which step a run trains with: the plain eager step, or the fast path's timed pick. It sits above
step.py and fastpath/ so that neither imports the other's caller (fastpath builds on EagerStep)."""
from __future__ import annotations

from .step import EagerStep


def make_step(model, loss_fn, optimizer, *, device, amp_dtype=None, grad_clip=None, l1=0.0, plan=None,
              total_steps: int = 0, notify=None):
    """The step implementation for this model and device: plain eager without a fast-path plan
    (training.fast_path "off"), else the fast path's step (see fastpath/)."""
    if plan is None or plan.mode == "off":
        return EagerStep(model, loss_fn, optimizer, device=device, amp_dtype=amp_dtype, grad_clip=grad_clip, l1=l1)
    from .fastpath import build_fast_step  # imported when a run uses it, as plan_fast_path is

    return build_fast_step(plan, model, loss_fn, optimizer, device=device, amp_dtype=amp_dtype,
                           grad_clip=grad_clip, l1=l1, total_steps=total_steps, notify=notify)
