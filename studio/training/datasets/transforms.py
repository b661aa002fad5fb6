"""Per-batch transforms that run on the training device: uint8 images to normalised floats in one
fused op, and train-time augmentation (random crop with padding, horizontal flip), vectorised over
the batch so augmenting costs a few kernels per step, not a Python loop per image."""
from __future__ import annotations

import torch


class ScaleNormalize:
    """x (uint8 or float, [B, C, ...]) -> float32 (x / scale - mean) / std, per channel."""

    def __init__(self, mean, std, scale: float = 255.0) -> None:
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]
        self.scale = float(scale)
        self._cache: dict = {}

    def _coeffs(self, x: torch.Tensor):
        key = (x.device, x.dim())
        if key not in self._cache:
            shape = (len(self.mean),) + (1,) * (x.dim() - 2)
            std = torch.tensor(self.std, device=x.device).reshape(shape)
            mean = torch.tensor(self.mean, device=x.device).reshape(shape)
            self._cache[key] = (1.0 / (self.scale * std), -mean / std)
        return self._cache[key]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self._coeffs(x)
        return torch.addcmul(b, x.float(), a)


class RandomCropFlip:
    """Random crop of the original size from the image padded by `pad` zeros on each side, and a
    horizontal flip with probability 1/2 (each per sample), for batches [B, C, H, W]."""

    def __init__(self, pad: int = 4, flip: bool = True) -> None:
        self.pad, self.flip = int(pad), bool(flip)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        b, c, h, w = x.shape
        dev = x.device
        if self.pad:
            p = self.pad
            padded = torch.nn.functional.pad(x, (p, p, p, p))
            oy = torch.randint(0, 2 * p + 1, (b, 1), device=dev, generator=generator)
            ox = torch.randint(0, 2 * p + 1, (b, 1), device=dev, generator=generator)
            rows = (oy + torch.arange(h, device=dev)).view(b, 1, h, 1).expand(b, c, h, w + 2 * p)
            cols = (ox + torch.arange(w, device=dev)).view(b, 1, 1, w).expand(b, c, h, w)
            x = padded.gather(2, rows).gather(3, cols)
        if self.flip:
            mask = torch.rand((b, 1, 1, 1), device=dev, generator=generator) < 0.5
            x = torch.where(mask, x.flip(3), x)
        return x
