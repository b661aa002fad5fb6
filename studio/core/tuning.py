"""Fine-tuning marks on compiled modules (docs/finetune.md): the weights of a frozen node (a Block
instance: everything inside it) get requires_grad False, and the module remembers that it is frozen
and its learning-rate multiplier, which the trainer reads to build the optimizer's param groups and
to hold frozen BatchNorm layers (studio/training/finetune.py). Neither is part of the state dict."""
from __future__ import annotations

FROZEN_ATTR = "netstudio_frozen"
LR_MULT_ATTR = "netstudio_lr_mult"


def mark(module, node) -> None:
    """Apply `node`'s fine-tuning fields to the module compiled from it (nothing for default ones)."""
    if module is None:
        return
    if node.frozen:
        module.requires_grad_(False)
        setattr(module, FROZEN_ATTR, True)
    if node.lr_mult != 1.0:
        setattr(module, LR_MULT_ATTR, node.lr_mult)
