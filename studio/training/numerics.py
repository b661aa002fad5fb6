"""Bad numbers, named: a loss that diverges (grows far beyond where the run started), a loss that
becomes NaN or inf because the weights blew up or because the data holds NaN or inf, and the messages
that say which (the learning rate and optimizer, or the split, batch and sample at fault).

Nothing here runs per step on the device. The loop reads the per-step losses at the reporting rate
(one copy of a few floats, the sync it already paid for the reported mean) and feeds them to
`LossWatch` on the host; the data is searched only after a failure.

The divergence rule: the reference is the loss of the run's first step (the model before any update;
for a resumed run, the larger of that and the first epoch's training loss in the history; never
below MIN_REFERENCE, so a run warm-started from trained weights is not stopped for its first bump). The run
has diverged when the loss exceeds DIVERGENCE_FACTOR times the reference for `needed` consecutive
steps: `streak` steps (a tenth of an epoch, 3 to 50), or half the steps run so far when that is fewer,
so a short run that blows up in its first steps is caught too. Every bundled template stays below 2x
its first loss over its first few hundred steps (tests/training/test_numerics.py checks the margin),
while learning rates 1e3-1e6 put the loss 1e4-1e13 times above it.
"""
from __future__ import annotations

import inspect
import math

import torch

DIVERGENCE_FACTOR = 100.0
# the reference is never below this: a run that starts from trained weights begins near zero loss
# (0.0005 on digits), and the first steps of fresh optimizer moments lift it to ~0.08, a hundred-fold
# jump that is no divergence; the learning rates that do diverge put the loss at 1e4-1e13
MIN_REFERENCE = 0.1


class NonFiniteLoss(Exception):
    """The training loss became NaN or inf. `first_step`: the first step (of `epoch`) whose loss was
    not finite, when known (0: somewhere before `step`)."""

    def __init__(self, value: float, epoch: int, step: int, first_step: int = 0) -> None:
        super().__init__(f"loss {value}")
        self.value, self.epoch, self.step, self.first_step = value, epoch, step, first_step or step


class Diverged(Exception):
    def __init__(self, reference: float, value: float, epoch: int, step: int, steps: int) -> None:
        super().__init__(f"loss {value} from {reference}")
        self.reference, self.value, self.epoch, self.step, self.steps = reference, value, epoch, step, steps


class LossWatch:
    """The divergence rule over the per-step losses, read at the reporting rate (see the module doc)."""

    def __init__(self, steps_per_epoch: int, early: float | None = None) -> None:
        self.needed = min(50, max(3, steps_per_epoch // 10))
        self.early = early if early is not None and math.isfinite(early) and early > 0 else None
        self.reference: float | None = None
        self.streak = 0
        self.seen = 0
        self.peak = 0.0  # the largest loss / reference seen (tests check the margin on healthy runs)

    def set_reference(self, first: float) -> None:
        if self.reference is None and math.isfinite(first):
            self.reference = max(first, self.early or 0.0, MIN_REFERENCE)

    def check(self, losses: list[float], epoch: int, first_step: int) -> None:
        """`losses`: the steps `first_step`, `first_step + 1`, ... of `epoch`, in order. Raises
        NonFiniteLoss at the first step whose loss is not finite, Diverged when the rule holds."""
        if self.reference is None and losses:
            self.set_reference(losses[0])
        ref = self.reference
        limit = ref * DIVERGENCE_FACTOR if ref is not None and ref > 0 else math.inf
        if not losses:
            return
        top = max(losses)
        if top <= limit and math.isfinite(sum(losses)):  # the healthy case, at C speed (no NaN: max
            self.seen += len(losses)                     # skips NaN, sum does not)
            self.streak = 0
            if ref:
                self.peak = max(self.peak, top / ref)
            return
        for i, value in enumerate(losses):
            step = first_step + i
            if not math.isfinite(value):
                raise NonFiniteLoss(value, epoch, step, step)
            self.seen += 1
            if ref:
                self.peak = max(self.peak, value / ref)
            self.streak = self.streak + 1 if value > limit else 0
            if self.streak and self.streak >= min(self.needed, max(2, self.seen // 2)):
                raise Diverged(ref, value, epoch, step, self.streak)

    def check_level(self, value: float, epoch: int, step: int) -> None:
        """Under several processes (checked at each epoch's end, from values every rank agrees on):
        `value`, the epoch's median step loss averaged over the processes, against the reference."""
        if self.reference is not None and self.reference > 0:
            self.peak = max(self.peak, value / self.reference)
            if value > self.reference * DIVERGENCE_FACTOR:
                raise Diverged(self.reference, value, epoch, step, 0)


# ---- messages ------------------------------------------------------------------------------------------
def lr_advice(optimizer_cfg) -> str:
    """'a lower learning rate for SGD (training.optimizer.lr is 1e+06; try 100000 ...)'."""
    lr, kind = optimizer_cfg.lr, optimizer_cfg.type
    default = inspect.signature(getattr(torch.optim, kind)).parameters["lr"].default
    hint = (f"; PyTorch's default for {kind} is {default:g}"
            if isinstance(default, (int, float)) and lr / 10 > default else "")
    return f"a lower learning rate for {kind} (training.optimizer.lr is {lr:g}; try {lr / 10:g}{hint})"


def diverged_message(exc: Diverged, optimizer_cfg, grad_clip) -> str:
    times = exc.value / exc.reference
    clip = "" if grad_clip else ", or gradient clipping (training.grad_clip)"
    return (f"the training loss grew from {exc.reference:.4g} at the first step to {exc.value:.4g} "
            f"({times:.2g} times as large) by epoch {exc.epoch}, step {exc.step}: training diverged and "
            f"stopped. Try {lr_advice(optimizer_cfg)}{clip}")


# ---- the data at fault --------------------------------------------------------------------------------
SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


@torch.no_grad()
def bad_samples(part, transform, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """(indices of samples whose model input holds NaN or inf, of samples whose target does), CPU."""
    bad_x, bad_t = [], []
    for start in range(0, len(part), chunk):
        x = part.x[start:start + chunk]
        if x.is_floating_point() or transform is not None:
            x = transform(x) if transform is not None else x
            bad_x.append((~torch.isfinite(x)).flatten(1).any(1).nonzero().flatten().cpu() + start)
        t = part.target[start:start + chunk] if part.target is not None else None
        if t is not None and t.is_floating_point():
            bad_t.append((~torch.isfinite(t)).reshape(len(t), -1).any(1).nonzero().flatten().cpu() + start)
    cat = lambda ts: torch.cat(ts) if ts else torch.zeros(0, dtype=torch.long)  # noqa: E731
    return cat(bad_x), cat(bad_t)


def _what(part, transform, index: int, in_input: bool) -> str:
    x = part.x[index:index + 1] if in_input else part.target[index:index + 1]
    if in_input and transform is not None:
        x = transform(x)
    kind = "NaN" if bool(torch.isnan(x).any()) else "inf"
    return f"{kind} in its {'input' if in_input else 'target'}"


def data_fault(part, transform, split: str, order: torch.Tensor | None = None, batch_size: int = 0,
               epoch: int = 0, up_to_step: int = 0, brief: bool = False) -> str | None:
    """A message naming the first sample of `part` (in `order`, batch by batch, when given) whose
    input or target is not finite, or None when the split's data is finite. With `up_to_step`, a bad
    sample after that step of the epoch does not count (the loss went bad before it was used)."""
    bad_x, bad_t = bad_samples(part, transform)
    bad = torch.unique(torch.cat([bad_x, bad_t]))
    if not len(bad):
        return None
    name = SPLIT_NAMES.get(split, split)
    more = f" ({len(bad)} samples of the {name} split hold NaN or inf)" if len(bad) > 1 else ""
    where = ""
    if order is not None and batch_size:
        hits = torch.isin(order.cpu(), bad).nonzero().flatten()
        if not len(hits) or (up_to_step and int(hits[0]) // batch_size + 1 > up_to_step):
            return None
        pos = int(hits[0])
        index = int(order[pos])
        where = f" (batch {pos // batch_size + 1} of epoch {epoch}, position {pos % batch_size} in that batch)"
    else:
        index = int(bad.min())
    what = _what(part, transform, index, bool(torch.isin(torch.tensor([index]), bad_x)))
    if brief:
        return f"sample {index} of the {name} split has {what}{more}"
    return (f"sample {index} of the {name} split has {what}{where}, so the {name} loss was not a finite "
            f"number; training stopped. The data is at fault, not the learning rate: fix or remove that sample in the dataset "
            f"(training.dataset){more}")


def explain_non_finite(trainer, exc: NonFiniteLoss) -> tuple[str, str]:
    """(reason, message): the data at fault (a NaN or inf in a sample used up to the first bad step),
    else the weights (the learning rate). The data is searched only now, never per step."""
    from .step import epoch_order

    cfg, data, transform = trainer.config, trainer.train_data, trainer.dataset.transform
    order = None
    if trainer.dist is None:  # with several processes the batch is another rank's: name the sample only
        order = epoch_order(len(data), exc.epoch, cfg.seed)[:trainer.epoch_samples]
    message = data_fault(data, transform, "train", order, cfg.batch_size, exc.epoch, exc.first_step)
    if message is not None:
        return "data", message
    elsewhere = data_fault(data, transform, "train", brief=True)
    note = f". Also, {elsewhere}: fix that sample too" if elsewhere else ""
    clip = "" if cfg.grad_clip else ", or gradient clipping (training.grad_clip)"
    return "nan", (f"the training loss became {exc.value} at epoch {exc.epoch}, step {exc.first_step}; training "
                   f"stopped. The samples of that step are finite, so the weights diverged: try "
                   f"{lr_advice(cfg.optimizer)}{clip}{note}")


# ---- BatchNorm and batches of one sample ---------------------------------------------------------------
def batchnorm_layers(model: torch.nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def batchnorm_tail(model: torch.nn.Module, samples: int, batch_size: int, epoch_samples: int):
    """(samples used per epoch, a notice or None). A last batch of one sample cannot pass a BatchNorm
    layer in training (one value per channel: PyTorch raises) and would feed its running statistics
    one sample's noise: leave it out of each epoch (the order is shuffled, so a different sample each
    time) and say so once."""
    if epoch_samples != samples or batch_size == 1 or samples % batch_size != 1 or samples == 1:
        return epoch_samples, None  # drop_last already drops it, or every batch holds one sample
    layers = batchnorm_layers(model)
    if not layers:
        return epoch_samples, None
    better = next(b for b in range(batch_size + 1, samples + 2) if samples % b != 1)
    return samples - 1, (f"the last batch of the training split would hold 1 sample ({samples} samples, batches "
                         f"of {batch_size}), which BatchNorm layer {layers[0]!r} cannot normalise in training; it "
                         f"is left out of each epoch (a different sample each time). To use every sample, set "
                         f"the batch size to {better} (--batch-size); training.drop_last: true drops it silently")


def layer_fix(module: torch.nn.Module, exc: BaseException, batch_size: int) -> str:
    """How to fix a layer's failure, where it is known; else where to look."""
    if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and "value per channel" in str(exc):
        return (f"BatchNorm needs more than one sample per batch in training and the batch size is {batch_size}: "
                "set the batch size to 2 or more (--batch-size, training.batch_size)")
    return "Check that layer's settings and its input, or replace the layer"
