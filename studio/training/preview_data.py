"""The sample the live preview feeds through the graph: sample N of the project's dataset as the
model sees it (after the dataset's transform), from the split a person is shown (validation, else
training: `reporting.shown_part`). The dataset is loaded once per training section and kept; it is
never downloaded for a preview (a missing download is a note, and a seeded random input stands in)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from .config import parse_config
from .datasets import get_entry, load_dataset
from .reporting import shown_part


@dataclass(frozen=True)
class Sample:
    x: torch.Tensor  # a one-sample batch, as the model takes it
    text: str  # "val sample 3 of 360 (class 7)", or why a random input stands in
    index: int
    count: int  # samples in the split (0: a random input)
    from_data: bool


class SampleSource:
    """Loads the project's dataset when first asked and keeps it while the training section is the
    same. Runs on the preview's worker thread only."""

    def __init__(self) -> None:
        self._key = None
        self._loaded = None  # (split name, Part, transform, info) or the error text

    def _load(self, training: dict | None, base_dir: Path | None):
        key = (json.dumps(training, sort_keys=True, default=str), str(base_dir))
        if key == self._key:
            return self._loaded
        self._key = key
        try:
            config = parse_config(training)
            dataset_cfg = dict(config.dataset.options, name=config.dataset.name)
            if "download" in get_entry(config.dataset.name).options:
                dataset_cfg["download"] = False  # a preview never starts a download
            dataset = load_dataset(dataset_cfg, base_dir)
            splits = dataset.split(config.val_split, config.test_split, config.seed)
            split, part = shown_part(splits.val, splits.train)
            self._loaded = (split, part, dataset.transform, dataset.info)
        except Exception as exc:  # noqa: BLE001 - any failure to load is shown as a note, never raised
            self._loaded = _first_line(exc)
        return self._loaded

    def sample(self, training: dict | None, base_dir: Path | None, index: int, shape: tuple, dtype: str,
               seed: int) -> Sample:
        loaded = self._load(training, base_dir)
        if isinstance(loaded, tuple):
            split, part, transform, info = loaded
            count = len(part)
            index = min(max(index, 0), count - 1) if count else 0
            if count:
                x = part.x[index:index + 1]
                if transform is not None:
                    x = transform(x)
                x = x.float() if x.is_floating_point() else x
                if tuple(x.shape[1:]) == tuple(shape):
                    return Sample(x.to(_dtype(dtype)), _label(split, index, count, part, info), index, count, True)
                why = (f"the dataset's samples are {list(x.shape[1:])}, the Input takes {list(shape)}")
            else:
                why = f"the {split} split is empty"
        else:
            why = f"the dataset did not load: {loaded}"
        return Sample(random_input(shape, dtype, seed), f"random input ({why})", 0, 0, False)


def random_input(shape: tuple, dtype: str, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if dtype.startswith("int"):
        return torch.randint(0, 2, (1, *shape), generator=g, dtype=_dtype(dtype))
    return torch.randn((1, *shape), generator=g)


def _dtype(name: str):
    return getattr(torch, name, torch.float32)


def _label(split: str, index: int, count: int, part, info) -> str:
    text = f"{split} sample {index} of {count}"
    y = part.y
    if y is not None and info.classes and y[index].dim() == 0:
        k = int(y[index])
        text += f" (class {info.classes[k] if k < len(info.classes) else k})"
    return text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
