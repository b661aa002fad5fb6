"""The named datasets a project can choose in `training.dataset.name`.

    list_datasets()                -> [DatasetEntry] (name, description, group, options)
    load_dataset(config, base_dir) -> ArrayDataset (with .info and .preview(n))

A dataset module registers its loaders with `@register(...)`; each declares its options with their
defaults, so an unknown option is refused by name instead of being silently ignored.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...core.limits import fmt_bytes, fmt_value, is_finite_number, memory_bytes
from ..errors import TrainingError

MODULES = ("tabular", "synthetic", "vision", "files", "text")
COMMON_OPTIONS = {"target": None}  # "input": train to reconstruct the input (an autoencoder)


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    description: str
    group: str  # embedded | generated | download | files
    task: str
    options: dict[str, Any] = field(default_factory=dict)  # name -> default
    loader: Callable = field(default=None, compare=False, repr=False)


@dataclass
class LoadContext:
    name: str
    base_dir: Path | None = None  # the project's folder: relative paths are resolved against it

    def path(self, value, option: str) -> Path:
        if not isinstance(value, str) or not value:
            raise TrainingError(f"training.dataset.{option} must be a file or folder path, got {value!r}")
        p = Path(value).expanduser()
        if not p.is_absolute() and self.base_dir is not None:
            p = self.base_dir / p
        return p


_REGISTRY: dict[str, DatasetEntry] = {}
_loaded = False


def register(name: str, description: str, group: str, kind: str, **options):
    def deco(fn):
        _REGISTRY[name] = DatasetEntry(name, description, group, kind, options, fn)
        return fn
    return deco


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in MODULES:
            importlib.import_module(f"{__package__}.{mod}")


def list_datasets() -> list[DatasetEntry]:
    _ensure_loaded()
    return list(_REGISTRY.values())


def get_entry(name: str) -> DatasetEntry:
    _ensure_loaded()
    if name not in _REGISTRY:
        raise TrainingError(f"training.dataset.name: unknown dataset {name!r}; choose one of "
                            f"{', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def dataset_options(config) -> tuple[DatasetEntry, dict, str | None]:
    """The checks made before a dataset is loaded (its name, the names of its options, `target`):
    (entry, options with the defaults filled in, target). The code exporter runs them too."""
    if isinstance(config, dict):
        from ..config import DatasetConfig

        config = DatasetConfig(config.get("name"), {k: v for k, v in config.items() if k != "name"})
    entry = get_entry(config.name)
    accepted = {**entry.options, **COMMON_OPTIONS}
    for key in config.options:
        if key not in accepted:
            raise TrainingError(f"training.dataset.{key} is not an option of dataset {entry.name!r} "
                                f"(accepted: {', '.join(accepted)})")
    options = {**entry.options, **config.options}
    target = options.pop("target", None)
    if target not in (None, "input", "label"):
        raise TrainingError(f"training.dataset.target must be \"input\" (reconstruct the input) or "
                            f"\"label\", got {target!r}")
    return entry, options, target


def load_dataset(config, base_dir: str | Path | None = None):
    """Load a dataset from a DatasetConfig (or a dict like {"name": "digits", ...})."""
    entry, options, target = dataset_options(config)
    ctx = LoadContext(entry.name, Path(base_dir) if base_dir is not None else None)
    dataset = entry.loader(options, ctx)
    return dataset.as_reconstruction() if target == "input" else dataset


def dataset_info(config, base_dir=None):
    return load_dataset(config, base_dir).info


# ---- option checks shared by the dataset modules ----------------------------------------------------
def int_option(options: dict, key: str, low: int = 1, high: int | None = None) -> int:
    v = options[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < low or (high is not None and v > high):
        bound = f" and <= {high}" if high is not None else ""
        raise TrainingError(f"training.dataset.{key} must be a whole number >= {low}{bound}, got {v!r}")
    return v


# numpy generates in float64 and the dataset keeps a float32 copy (with its targets): about this many
# bytes per generated element while a generated dataset is made
GENERATED_BYTES_PER_ELEMENT = 8 + 4 + 4


def fits_in_memory(elements: int, what: str, fix: str) -> None:
    """Refuse a generated or read dataset whose arrays cannot fit in this machine's memory, before
    numpy tries (an unbounded `samples` otherwise ends in a MemoryError traceback, or the OOM killer)."""
    need, have = elements * GENERATED_BYTES_PER_ELEMENT, memory_bytes()
    if need > have:
        raise TrainingError(f"{what} needs about {fmt_bytes(need)} of memory; this machine has "
                            f"{fmt_bytes(have)}; {fix}")


def samples_option(options: dict, elements_per_sample: int, low: int = 4) -> int:
    """training.dataset.samples, bounded by what fits in memory."""
    n = int_option(options, "samples", low)
    most = max(low, memory_bytes() // (GENERATED_BYTES_PER_ELEMENT * max(1, elements_per_sample)))
    fits_in_memory(n * elements_per_sample, f"training.dataset.samples {n:,}",
                   f"ask for at most {most:,} samples")
    return n


def float_option(options: dict, key: str, low: float = 0.0, high: float | None = None) -> float:
    v = options[key]
    if not is_finite_number(v) or v < low or (high is not None and v > high):
        bound = f" and <= {high}" if high is not None else ""
        raise TrainingError(f"training.dataset.{key} must be a finite number >= {low}{bound}, got {fmt_value(v)}")
    return float(v)


def bool_option(options: dict, key: str) -> bool:
    v = options[key]
    if not isinstance(v, bool):
        raise TrainingError(f"training.dataset.{key} must be true or false, got {v!r}")
    return v
