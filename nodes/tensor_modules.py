"""Small torch modules behind the tensor-operation and merge nodes. Plain, scriptable nn.Modules, so
every export (TorchScript, ONNX, pt2, generated source) carries them. (No `from __future__ import
annotations` here: TorchScript reads the class-level annotations, which must stay real types.)"""

from typing import List

import torch
from torch import nn


class AlignRanks(nn.Module):
    """Gives each tensor `extra[i]` size-1 dims right after its batch dim, so that torch's
    right-aligned broadcasting compares the dims of one sample with the same dims of the other
    (never a sample dim with the batch dim): [batch, 64] -> [batch, 1, 1, 64]."""

    extra: List[int]

    def __init__(self, extra: List[int]) -> None:
        super().__init__()
        self.extra = list(extra)

    def forward(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """Input number i, with its size-1 dims added."""
        for _ in range(self.extra[i]):
            x = x.unsqueeze(1)
        return x

    def extra_repr(self) -> str:
        return f"extra={self.extra}"


class CenterCrop(nn.Module):
    """Crops dims 2, 3, ... of [batch, channels, ...] to `sizes`, starting at `starts` (the centred
    offsets CropToMatch works out from the two inputs' shapes)."""

    starts: List[int]
    sizes: List[int]

    def __init__(self, starts: List[int], sizes: List[int]) -> None:
        super().__init__()
        self.starts = list(starts)
        self.sizes = list(sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(len(self.sizes)):
            x = x.narrow(i + 2, self.starts[i], self.sizes[i])
        return x

    def extra_repr(self) -> str:
        return f"starts={self.starts}, sizes={self.sizes}"
