"""In-memory datasets, their description, and a seeded train/val/test split.

Every built-in dataset is small enough to sit in memory as two tensors (`x` samples, `y` targets),
so the trainer moves it to the device once and batches it by slicing: no DataLoader, no per-step
copies. Images may be stored as uint8 with a per-batch `transform` (to float, normalise) and a
train-only `augment` (random crop / flip), both run on the device.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ...core.types import TensorType

CLASSIFICATION, REGRESSION, RECONSTRUCTION = "classification", "regression", "reconstruction"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    task: str
    input: TensorType  # one sample, after the transform
    target: TensorType  # one target: [] int64 class index for classification
    classes: tuple[str, ...] = ()
    size: int = 0
    test_size: int = 0  # samples in a fixed test part (e.g. MNIST's official test set)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def is_2d(self) -> bool:
        """Two input features: the GUI can draw a decision boundary / a scatter."""
        return self.input.shape == (2,) and self.input.is_float

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description, "task": self.task,
                "input": {"shape": list(self.input.shape), "dtype": self.input.dtype},
                "target": {"shape": list(self.target.shape), "dtype": self.target.dtype},
                "classes": list(self.classes), "size": self.size, "test_size": self.test_size}


def _dtype_name(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


@dataclass
class Part:
    """One split: samples and targets (on the CPU until the trainer moves them)."""

    x: torch.Tensor
    y: torch.Tensor | None  # None: the target is the input (reconstruction)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def target(self) -> torch.Tensor:
        return self.x if self.y is None else self.y

    def to(self, device) -> "Part":
        return Part(self.x.to(device), None if self.y is None else self.y.to(device))

    def select(self, idx) -> "Part":
        idx = torch.as_tensor(idx, dtype=torch.long)
        return Part(self.x[idx], None if self.y is None else self.y[idx])


@dataclass
class Splits:
    train: Part
    val: Part | None
    test: Part | None


@dataclass
class ArrayDataset:
    info: DatasetInfo
    x: torch.Tensor
    y: torch.Tensor | None
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None  # per batch, train and eval
    augment: Callable[..., torch.Tensor] | None = None  # per batch, training only: augment(x, generator)
    test: Part | None = None  # a fixed test part, if the dataset comes with one
    standardize: bool = False  # scale features by the training part's mean and std
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def as_reconstruction(self) -> "ArrayDataset":
        info = DatasetInfo(self.info.name, self.info.description + " (target: the input itself)",
                           RECONSTRUCTION, self.info.input, self.info.input, (), self.info.size,
                           self.info.test_size)
        test = Part(self.test.x, None) if self.test is not None else None
        return ArrayDataset(info, self.x, None, self.transform, None, test, self.standardize, self.extra)

    def preview(self, n: int = 8) -> list[dict]:
        """The first `n` samples as plain data for the UI: x (float numpy, transformed), the target
        and, for classification, the class name."""
        n = min(n, len(self))
        x = self.x[:n]
        if self.transform is not None:
            x = self.transform(x)
        out = []
        for i in range(n):
            item = {"x": x[i].detach().cpu().numpy()}
            if self.y is None:
                item["y"] = item["x"]
            elif self.info.task == CLASSIFICATION:
                label = int(self.y[i])
                item.update(y=label, label=self.info.classes[label])
            else:
                item["y"] = self.y[i].cpu().numpy()
            out.append(item)
        return out

    def split(self, val: float, test: float, seed: int) -> Splits:
        """A seeded split (the same seed gives the same split on every machine and every rank).
        A fixed test part is kept as the test split; `test` then carves nothing."""
        n = len(self)
        perm = torch.from_numpy(np.random.default_rng(seed).permutation(n))
        n_test = 0 if self.test is not None else int(round(n * test))
        n_val = int(round(n * val))
        if n - n_val - n_test < 1:
            from ..errors import TrainingError

            raise TrainingError(f"dataset {self.info.name!r} has {n} samples: too few to split "
                                f"{val:g} for validation and {test:g} for testing")
        whole = Part(self.x, self.y)
        test_part = self.test if self.test is not None else (whole.select(perm[:n_test]) if n_test else None)
        val_part = whole.select(perm[n_test:n_test + n_val]) if n_val else None
        train = whole.select(perm[n_test + n_val:])
        if self.standardize:
            mean = train.x.float().mean(0, keepdim=True)
            std = train.x.float().std(0, keepdim=True).clamp_min(1e-6)

            def scale(p: Part | None) -> Part | None:
                return None if p is None else Part((p.x - mean) / std, p.y)

            train, val_part, test_part = scale(train), scale(val_part), scale(test_part)
        return Splits(train, val_part, test_part)


def make_info(name: str, description: str, task: str, x: torch.Tensor, y: torch.Tensor | None,
              classes=(), transform=None, test: Part | None = None) -> DatasetInfo:
    sample = x[:1] if transform is None else transform(x[:1])
    input_type = TensorType(tuple(sample.shape[1:]), _dtype_name(sample))
    if task == CLASSIFICATION:
        target = TensorType((), "int64")
    else:
        target = TensorType(tuple(y.shape[1:]), _dtype_name(y)) if y is not None else input_type
    return DatasetInfo(name, description, task, input_type, target, tuple(classes), int(x.shape[0]),
                       len(test) if test is not None else 0)


def classification(name: str, description: str, x, y, classes, **kw) -> ArrayDataset:
    x = torch.as_tensor(x)
    y = torch.as_tensor(y, dtype=torch.long)
    info = make_info(name, description, CLASSIFICATION, x, y, classes, kw.get("transform"), kw.get("test"))
    return ArrayDataset(info, x, y, **kw)


def regression(name: str, description: str, x, y, **kw) -> ArrayDataset:
    x = torch.as_tensor(x)
    y = torch.as_tensor(y, dtype=torch.float32)
    info = make_info(name, description, REGRESSION, x, y, (), kw.get("transform"), kw.get("test"))
    return ArrayDataset(info, x, y, **kw)
