"""Work done on the training thread before the first step, so it does not hold the GIL (and freeze
the window) in the middle of a run: the lazy imports the trainer and its reports pull in on first
use, and one forward pass in eval mode (no gradients, no change to the weights, BatchNorm statistics
or random state) that pays the first-call costs of the layers' kernels. See studio/bench/ui.py for
the measurements this is based on."""
from __future__ import annotations

import importlib

MODULES = ("studio.training.trainer", "studio.training.loop", "studio.training.reporting",
           "studio.training.metrics", "studio.training.rundir", "studio.training.checkpoint",
           "studio.core.weights")


# imported lazily by the trainer on first use (MetricSet, the optimizers): torchmetrics pulls in
# torchvision, scipy and PIL, about a second of imports on a 2-core machine
LAZY = ("torchmetrics.classification", "torchmetrics.regression", "torch.optim", "torch.optim.lr_scheduler")

_done = False


def warm_up_imports() -> None:
    """Idempotent; called on a background thread when the training UI is installed (while the window
    is idle) and again, at no cost, by the training thread before a run."""
    global _done
    if _done:
        return
    from ..background import stopping

    for name in MODULES + LAZY:
        if stopping.is_set():  # the application is exiting: leave the rest unimported
            return
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the trainer reports a missing package itself, with its message
    _done = True


def warm_up_model(trainer) -> None:
    import torch

    model = trainer.model
    data = trainer.val_data if trainer.val_data is not None else trainer.train_data
    x = data.x[:2]
    if trainer.dataset.transform is not None:
        x = trainer.dataset.transform(x)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
