"""Optimizers and learning-rate schedules from the config. `Schedule` hides when each scheduler
steps: OneCycleLR after every batch, ReduceLROnPlateau on the monitored metric after validation,
the others after each epoch."""
from __future__ import annotations

import torch

from .config import OptimizerConfig, ScheduleConfig, TrainingConfig


def build_optimizer(params, cfg: OptimizerConfig, device: torch.device, impl: dict | None = None,
                    tensor_lr: bool = False) -> torch.optim.Optimizer:
    """`impl`: implementation flags from the fast path (fused, capturable, foreach); without them
    PyTorch's defaults run, exactly what a hand-written loop runs. `tensor_lr`: the lr lives in a
    device tensor (schedules update it in place, so a CUDA graph sees the change). `params`: tensors, or
    param groups with their own `lr` (studio/training/finetune.py: one per learning-rate multiplier)."""
    params = list(params)
    if tensor_lr and params and isinstance(params[0], dict):
        params = [{**g, "lr": torch.tensor(float(g["lr"]), device=device)} if "lr" in g else g for g in params]
    kwargs = dict(cfg.kwargs)
    kwargs["lr"] = torch.tensor(cfg.lr, device=device) if tensor_lr else cfg.lr
    kwargs["weight_decay"] = cfg.weight_decay
    kwargs.update(impl or {})
    cls = getattr(torch.optim, cfg.type)
    return cls(params, **kwargs)


def plain_state_dict(optimizer) -> dict:
    """optimizer.state_dict() with tensor learning rates as floats (a checkpoint then loads into
    any implementation: fused, capturable or plain)."""
    state = optimizer.state_dict()
    for group in state["param_groups"]:
        for key in ("lr", "initial_lr"):
            if isinstance(group.get(key), torch.Tensor):
                group[key] = float(group[key])
        for key in IMPL_FLAGS:  # how this run stepped, not part of the training state
            group.pop(key, None)
    return state


IMPL_FLAGS = ("fused", "capturable", "foreach")


def apply_impl(optimizer, impl: dict) -> None:
    """After load_state_dict: this run's implementation flags, and step counters where a fused or
    capturable optimizer wants them (on the parameter's device)."""
    for group in optimizer.param_groups:
        group.update(impl)
        if not (group.get("fused") or group.get("capturable")):
            continue
        for p in group["params"]:
            st = optimizer.state.get(p)
            if st and isinstance(st.get("step"), torch.Tensor) and st["step"].device != p.device:
                st["step"] = st["step"].to(device=p.device, dtype=torch.float32)


class Schedule:
    def __init__(self, optimizer, cfg: ScheduleConfig | None, training: TrainingConfig, steps_per_epoch: int):
        self.cfg = cfg
        self.per_step = self.plateau = False
        self.scheduler = None
        if cfg is None:
            return
        kw = dict(cfg.kwargs)
        S = torch.optim.lr_scheduler
        if cfg.type == "StepLR":
            self.scheduler = S.StepLR(optimizer, step_size=kw.get("step_size", 10), gamma=kw.get("gamma", 0.1))
        elif cfg.type == "ExponentialLR":
            self.scheduler = S.ExponentialLR(optimizer, gamma=kw.get("gamma", 0.95))
        elif cfg.type == "CosineAnnealingLR":
            self.scheduler = S.CosineAnnealingLR(optimizer, T_max=kw.get("T_max", training.epochs),
                                                 eta_min=kw.get("eta_min", 0.0))
        elif cfg.type == "OneCycleLR":
            top = kw.get("max_lr", training.optimizer.lr)  # each group's peak keeps its lr multiplier
            kw["max_lr"] = [top * g.get("lr_mult", 1.0) for g in optimizer.param_groups]
            self.total_steps = max(2, training.epochs * steps_per_epoch)
            self.scheduler = S.OneCycleLR(optimizer, total_steps=self.total_steps, **kw)
            self.per_step = True
        elif cfg.type == "ReduceLROnPlateau":
            mode = training.monitor_mode
            self.scheduler = S.ReduceLROnPlateau(optimizer, mode=mode, **kw)
            self.plateau = True

    def step_batch(self) -> None:
        """After each optimiser step (OneCycleLR only). A resumed run that trains past the planned
        number of steps keeps the final learning rate."""
        if self.scheduler.last_epoch < self.total_steps:
            self.scheduler.step()

    def step_epoch(self, monitored: float) -> None:
        if self.scheduler is None or self.per_step:
            return
        if self.plateau:
            if monitored == monitored:  # not NaN
                self.scheduler.step(monitored)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict | None:
        return None if self.scheduler is None else self.scheduler.state_dict()

    def load_state_dict(self, state: dict | None) -> None:
        """A OneCycleLR state carries its plan (total_steps and the phases derived from it); the plan of
        this run wins, so a run resumed with more epochs continues on the longer cycle instead of
        stepping past the old one's end."""
        if self.scheduler is None or state is None:
            return
        if self.per_step:
            plan = self.scheduler.state_dict()
            state = {**state, "total_steps": plan["total_steps"], "_schedule_phases": plan["_schedule_phases"]}
        self.scheduler.load_state_dict(state)


def current_lr(optimizer) -> float:
    """The learning rate of the run (of a group at multiplier 1: the first group's over its multiplier)."""
    group = optimizer.param_groups[0]
    lr = group["lr"]
    return float(lr.item() if isinstance(lr, torch.Tensor) else lr) / group.get("lr_mult", 1.0)
