"""A split as the trainer holds it on the training device: samples, loss targets (prepared once by
the loss plan) and class labels for the metrics, all resident for the whole run."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .datasets.base import CLASSIFICATION, Part
from .losses import LossPlan


@dataclass
class DevicePart:
    x: torch.Tensor
    target: torch.Tensor | None  # None: the (transformed) input is the target
    labels: torch.Tensor | None  # class indices for classification metrics; else None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def shard(self, rank: int, world: int) -> "DevicePart":
        """This rank's share of an evaluation split (uneven is fine: no collectives per batch)."""
        if world <= 1:
            return self
        pick = lambda t: None if t is None else t[rank::world]  # noqa: E731
        return DevicePart(self.x[rank::world], pick(self.target), pick(self.labels))


def to_device(part: Part, plan: LossPlan, task: str, num_classes: int, device) -> DevicePart:
    x = part.x.to(device)
    if plan.target == "input":
        return DevicePart(x, None, None)
    y = part.y.to(device)
    target = plan.prepare(y, num_classes)
    labels = y if task == CLASSIFICATION else None
    return DevicePart(x, target, labels)
