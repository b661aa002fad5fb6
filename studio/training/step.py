"""One optimisation step, and the per-epoch batch order.

`EagerStep` is what a hand-written loop does (zero_grad, forward, loss, backward, optional clipping,
optimizer.step), plus optional AMP and an L1 penalty. The fast path (issue 7, `fastpath/`) wraps it:
a fused optimizer and channels-last memory are set up before the step is built, and a whole-step
CUDA graph or `torch.compile` may replace it after timing. Every step implements
`step(x, target) -> (loss, output)` returning device tensors without syncing, and `name`; the trainer
picks one through `make_step` (studio/training/step_choice.py, above both, so the two never import
each other).
"""
from __future__ import annotations

import torch


class EagerStep:
    name = "eager"

    def __init__(self, model, loss_fn, optimizer, *, device: torch.device, amp_dtype=None,
                 grad_clip: float | None = None, l1: float = 0.0, channels_last: bool = False,
                 autocast_cache: bool = True) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        # what zero_grad() and step() are called on: the optimizer, or on the CPU fast path the same
        # fused update without step()'s Python around it (fastpath/lean_optim.py)
        self.optimizer_calls = optimizer
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.grad_clip = grad_clip
        self.l1 = float(l1)
        self.l1_params = [p for p in self.params if p.dim() > 1] if l1 else []
        self.device_type = device.type
        self.amp_dtype = amp_dtype
        self.scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None
        self.channels_last = channels_last
        # a dtype the input is cast to before its layout changes: the bf16 channels-last variant sets
        # it where only convolutions read the input, which autocast would cast to bf16 anyway
        self.input_dtype = None
        self.autocast_cache = autocast_cache  # off under CUDA graph capture
        # once a CUDA graph owns the .grad tensors, every other step zeroes them in place
        self.set_to_none = True

    def prepare_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_dtype is not None and x.dtype == torch.float32:
            x = x.to(self.input_dtype)  # first, so the layout change moves half the bytes
        if self.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def forward_loss(self, x, target):
        """(loss, objective, output): the objective adds the L1 penalty to the loss."""
        if self.amp_dtype is not None:
            with torch.autocast(self.device_type, dtype=self.amp_dtype, cache_enabled=self.autocast_cache):
                out = self.model(x)
                loss = self.loss_fn(out, target)
        else:
            out = self.model(x)
            loss = self.loss_fn(out, target)
        objective = loss
        if self.l1:
            objective = loss + self.l1 * torch.stack(torch._foreach_norm(self.l1_params, 1)).sum()
        return loss, objective, out

    def backward_update(self, objective) -> None:
        opt = self.optimizer
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
            self.optimizer_calls.step()

    def __call__(self, x: torch.Tensor, target: torch.Tensor):
        self.optimizer_calls.zero_grad(set_to_none=self.set_to_none)
        loss, objective, out = self.forward_loss(self.prepare_input(x), target)
        self.backward_update(objective)
        return loss.detach(), out.detach()

    def state_dict(self) -> dict:
        return {"scaler": self.scaler.state_dict()} if self.scaler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


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
