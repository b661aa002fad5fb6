"""One optimisation step, and the per-epoch batch order.

`EagerStep` is the default: exactly what a hand-written loop does (zero_grad, forward, loss,
backward, optional clipping, optimizer.step), plus optional AMP and an L1 penalty. A faster step
(issue 7: fused optimizer, a whole-step CUDA graph, torch.compile) implements the same interface,
`step(x, target) -> (loss, output)` returning device tensors without syncing, and `name`; the
trainer picks one through `make_step`.
"""
from __future__ import annotations

import torch


class EagerStep:
    name = "eager"

    def __init__(self, model, loss_fn, optimizer, *, device: torch.device, amp_dtype=None,
                 grad_clip: float | None = None, l1: float = 0.0) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.grad_clip = grad_clip
        self.l1 = float(l1)
        self.l1_params = [p for p in self.params if p.dim() > 1] if l1 else []
        self.device_type = device.type
        self.amp_dtype = amp_dtype
        self.scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None

    def __call__(self, x: torch.Tensor, target: torch.Tensor):
        opt = self.optimizer
        opt.zero_grad(set_to_none=True)
        if self.amp_dtype is not None:
            with torch.autocast(self.device_type, dtype=self.amp_dtype):
                out = self.model(x)
                loss = self.loss_fn(out, target)
        else:
            out = self.model(x)
            loss = self.loss_fn(out, target)
        objective = loss
        if self.l1:
            objective = loss + self.l1 * torch.stack(torch._foreach_norm(self.l1_params, 1)).sum()
        if self.scaler is not None:
            self.scaler.scale(objective).backward()
            if self.grad_clip:
                self.scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
            self.scaler.step(opt)
            self.scaler.update()
        else:
            objective.backward()
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
            opt.step()
        return loss.detach(), out.detach()

    def state_dict(self) -> dict:
        return {"scaler": self.scaler.state_dict()} if self.scaler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


def make_step(model, loss_fn, optimizer, *, device, amp_dtype=None, grad_clip=None, l1=0.0):
    """The step implementation for this model and device (eager today; the place for a fast path)."""
    return EagerStep(model, loss_fn, optimizer, device=device, amp_dtype=amp_dtype, grad_clip=grad_clip, l1=l1)


def epoch_order(n: int, epoch: int, seed: int, rank: int = 0, world: int = 1) -> torch.Tensor:
    """This process's sample order for an epoch: a permutation that depends only on (seed, epoch),
    so every rank agrees and a resumed run replays the same order. With several processes it is
    padded to a multiple of the world size (as DistributedSampler does) and each rank takes every
    world-th index, so all ranks run the same number of steps."""
    g = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**63)
    perm = torch.randperm(n, generator=g)
    if world > 1:
        per_rank = -(-n // world)
        pad = per_rank * world - n
        if pad:
            perm = torch.cat([perm, perm[:pad]])
        perm = perm[rank::world]
    return perm
