"""The one place the exporters consult studio.training: its reading of a project's training
section (config), its datasets (registry, vision transforms), the loss-fit check and the optimizer
and schedule builders, so an export refuses what `train` refuses and the generated script trains as
the trainer does.

The import-linter contracts (pyproject.toml) keep training and export independent of each other
and allow this module's imports alone: the crossing stays in one named place until the reading of
the training section moves below both layers."""
from __future__ import annotations

from studio.training.config import DatasetConfig, TrainingConfig, parse_config
from studio.training.datasets.registry import dataset_options, load_dataset
from studio.training.datasets.vision import transforms_for
from studio.training.errors import TrainingError
from studio.training.losses import check_fit
from studio.training.optim import Schedule, build_optimizer

__all__ = ["DatasetConfig", "TrainingConfig", "parse_config", "dataset_options", "load_dataset", "transforms_for",
           "TrainingError", "check_fit", "Schedule", "build_optimizer"]
