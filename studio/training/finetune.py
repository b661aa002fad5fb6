"""Fine-tuning in training (docs/finetune.md): the optimizer's param groups from the learning-rate
multipliers the compiler marked on the modules (studio/core/tuning.py), frozen weights left out of the
optimizer, frozen BatchNorm held in eval mode (training.frozen_batchnorm), and the counts of trained
and frozen parameters for the report."""
from __future__ import annotations

import torch

from ..core.tuning import FROZEN_ATTR, LR_MULT_ATTR



def _walk(model):
    """(name, module, frozen, lr multiplier) of every module: a mark on a block instance holds for all
    inside it, and multipliers nest by multiplying (a block at 0.1 holding a layer at 0.5 gives 0.05)."""
    marks: dict[str, tuple[bool, float]] = {}
    for name, module in model.named_modules():
        parent = marks.get(name.rpartition(".")[0], (False, 1.0)) if name else (False, 1.0)
        frozen = parent[0] or bool(getattr(module, FROZEN_ATTR, False))
        mult = parent[1] * float(getattr(module, LR_MULT_ATTR, 1.0))
        marks[name] = (frozen, mult)
        yield name, module, frozen, mult


def param_groups(model, lr: float) -> list[dict]:
    """The trainable parameters (requires_grad), one group per learning-rate multiplier (in the model's
    order; `lr_mult` kept in each group, `lr` = lr x multiplier). A plain model gives one group."""
    seen: set[int] = set()
    groups: dict[float, list] = {}
    for _, module, _, mult in _walk(model):
        for p in module.parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            if p.requires_grad:
                groups.setdefault(mult, []).append(p)
    return [{"params": ps, "lr": lr * mult, "lr_mult": mult} for mult, ps in groups.items()]


def trained_params(model) -> list:
    """The parameters the optimizer holds, in its order (a checkpoint's optimizer state indexes these)."""
    return [p for g in param_groups(model, 1.0) for p in g["params"]]


def frozen_names(model) -> list[str]:
    """The names of the parameters that are not trained (a checkpoint keeps them)."""
    return [n for n, p in model.named_parameters() if not p.requires_grad]


def counts(model) -> tuple[int, int]:
    """(trained, frozen) numbers of weights (elements, each shared tensor once)."""
    trained = frozen = 0
    for p in model.parameters():
        if p.requires_grad:
            trained += p.numel()
        else:
            frozen += p.numel()
    return trained, frozen


def count_words(model) -> str:
    """"trains 5,130 of 11,181,642 parameters (11,176,512 frozen)", or "" when nothing is frozen."""
    trained, frozen = counts(model)
    if not frozen:
        return ""
    return f"trains {trained:,} of {trained + frozen:,} parameters ({frozen:,} frozen)"


def frozen_batchnorms(model) -> list[tuple[str, torch.nn.Module]]:
    """BatchNorm layers that are frozen: marked (or inside a frozen block), or whose weights all
    have requires_grad False."""
    out = []
    for name, module, frozen, _ in _walk(model):
        if not isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            continue
        params = list(module.parameters())
        if frozen or (params and not any(p.requires_grad for p in params)):
            out.append((name, module))
    return out


def _hold_eval(module, args) -> None:
    module.training = False  # before each call: model.train() anywhere (a report, a sample) undoes eval()


def hold_frozen_batchnorm(model, mode: str) -> list:
    """With "eval", frozen BatchNorm layers normalise with their running statistics and never update
    them (their buffers stay bit-identical); returns the hook handles (`.remove()` each after training)."""
    if mode != "eval":
        return []
    handles = []
    for _, module in frozen_batchnorms(model):
        module.eval()
        handles.append(module.register_forward_pre_hook(_hold_eval))
    return handles
