"""Qt-free training engine: datasets, trainer, metrics, checkpoints, distributed training.

Typical use (what `python -m studio train` does)::

    from studio.training import Trainer
    trainer = Trainer.from_project(project, overrides={"epochs": 5})
    trainer.add_listener(my_listener)          # events: see studio.training.events
    result = trainer.fit()                      # result.status: finished | stopped | failed

Names are imported lazily so `import studio.training` stays cheap (no torch until needed).
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "TrainingError": "errors",
    "TrainingConfig": "config",
    "parse_config": "config",
    "Trainer": "trainer",
    "TrainResult": "trainer",
    "TrainerListener": "events",
    "RunWriter": "rundir",
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "list_datasets": "datasets",
    "dataset_info": "datasets",
    "load_dataset": "datasets",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_EXPORTS)
