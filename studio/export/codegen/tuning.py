"""The generated script's fine-tuning (docs/finetune.md): the project's frozen layers and learning-rate
multipliers, read from the marks the compiler left on the model's modules (studio/core/tuning.py),
written as data (module paths through repr) with the small functions train() calls, so the script
trains what NetStudio trains: frozen weights stay out of the optimizer, each multiplier gets its own
param group (nested multipliers multiply, as in the trainer), and with training.frozen_batchnorm
"eval" frozen BatchNorm layers keep their running statistics."""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from studio.core.tuning import FROZEN_ATTR, LR_MULT_ATTR


@dataclass
class TuningCode:
    settings: list[str]  # module-level constants
    source: str  # the functions train() calls ("" when the project fine-tunes nothing)
    setup: str  # train()'s lines after the model is built: freeze, before DDP wraps it
    params: str  # what make_optimizer() is given
    after_optimizer: str  # each group's lr from its multiplier
    after_train_mode: str  # frozen BatchNorm back to eval after net.train()


NONE = TuningCode([], "", "", "net.parameters()", "", "")

FUNCTIONS = '''
def freeze(model: nn.Module) -> None:
    """Fine-tuning: the weights of the frozen modules stay as they are."""
    for name in FROZEN:
        model.get_submodule(name).requires_grad_(False)


def param_groups(model: nn.Module) -> list:
    """The trainable parameters, one group per learning-rate multiplier (a module's multiplier holds
    for everything inside it; nested ones multiply)."""
    groups: dict = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        parts = name.split(".")
        mult = 1.0
        for i in range(1, len(parts)):
            mult *= LR_MULT.get(".".join(parts[:i]), 1.0)
        groups.setdefault(mult, []).append(p)
    return [{"params": params, "lr_mult": mult} for mult, params in groups.items()]


def hold_frozen_batchnorm(model: nn.Module) -> None:
    """Frozen BatchNorm layers keep their running statistics (eval mode) while the rest trains."""
    for name in FROZEN:
        for module in model.get_submodule(name).modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
'''


def tuning_code(model: nn.Module, frozen_batchnorm: str = "eval") -> TuningCode:
    frozen = [name for name, m in model.named_modules() if name and getattr(m, FROZEN_ATTR, False)]
    mults = {name: float(getattr(m, LR_MULT_ATTR)) for name, m in model.named_modules()
             if name and getattr(m, LR_MULT_ATTR, 1.0) != 1.0}
    if not frozen and not mults:
        return NONE
    hold = frozen_batchnorm == "eval" and any(
        isinstance(sub, nn.modules.batchnorm._BatchNorm) for name in frozen for sub in model.get_submodule(name).modules())
    settings = [f"FROZEN = {tuple(frozen)!r}  # modules whose weights stay as they are (fine-tuning)",
                f"LR_MULT = {mults!r}  # learning-rate multipliers by module"]
    return TuningCode(
        settings=settings, source=FUNCTIONS,
        setup="\n    freeze(model)  # before DDP wraps it: DDP keeps only the parameters that train",
        params="param_groups(model)",
        after_optimizer="\n    for group in optimizer.param_groups:  # each multiplier's own learning rate\n"
                        "        group[\"lr\"] *= group[\"lr_mult\"]",
        after_train_mode="\n        hold_frozen_batchnorm(model)" if hold else "")
