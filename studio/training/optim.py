"""Optimizers and learning-rate schedules from the config. `Schedule` hides when each scheduler
steps: OneCycleLR after every batch, ReduceLROnPlateau on the monitored metric after validation,
the others after each epoch."""
from __future__ import annotations

import torch

from .config import OptimizerConfig, ScheduleConfig, TrainingConfig


def build_optimizer(params, cfg: OptimizerConfig, device: torch.device) -> torch.optim.Optimizer:
    kwargs = dict(cfg.kwargs)
    kwargs["lr"] = cfg.lr
    kwargs["weight_decay"] = cfg.weight_decay
    cls = getattr(torch.optim, cfg.type)
    # foreach (one kernel per group of tensors) is PyTorch's default on CUDA; keep the defaults so
    # the trainer runs exactly what a hand-written loop runs. The fast path (issue 7) picks fused.
    return cls(params, **kwargs)


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
            kw.setdefault("max_lr", training.optimizer.lr)
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
        if self.scheduler is not None and state is not None:
            self.scheduler.load_state_dict(state)


def current_lr(optimizer) -> float:
    lr = optimizer.param_groups[0]["lr"]
    return float(lr.item() if isinstance(lr, torch.Tensor) else lr)
