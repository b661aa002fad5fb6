"""The project's `training` section, checked and parsed into a `TrainingConfig`.

Every message names the field at fault the way a person sees it in the file
(`training.optimizer.lr must be a positive number, got -1`) or on the command line (`--epochs`).
Unknown keys are refused with the accepted names, so a typo never silently does nothing.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from ..core.limits import MAX_EXACT_COUNT, MAX_INDEX, fmt_value, is_finite_number
from .errors import TrainingError

LOSSES = {
    "CrossEntropyLoss": {"label_smoothing": "fraction"},
    "NLLLoss": {},
    "MSELoss": {},
    "L1Loss": {},
    "SmoothL1Loss": {"beta": "positive"},
    "HuberLoss": {"delta": "positive"},
    "BCEWithLogitsLoss": {"pos_weight": "positive"},
}
OPTIMIZERS = {
    "SGD": {"momentum": "fraction", "nesterov": "bool", "dampening": "fraction"},
    "Adam": {"betas": "betas", "eps": "positive", "amsgrad": "bool"},
    "AdamW": {"betas": "betas", "eps": "positive", "amsgrad": "bool"},
    "RMSprop": {"alpha": "fraction", "momentum": "fraction", "eps": "positive", "centered": "bool"},
    "Adagrad": {"lr_decay": "nonneg", "eps": "positive", "initial_accumulator_value": "nonneg"},
}
OPTIMIZER_COMMON = {"lr": "positive", "weight_decay": "nonneg", "l1": "nonneg"}
SCHEDULES = {
    "StepLR": {"step_size": "float_count", "gamma": "positive"},
    "ExponentialLR": {"gamma": "positive"},
    "CosineAnnealingLR": {"T_max": "float_count", "eta_min": "nonneg"},
    "OneCycleLR": {"max_lr": "positive", "pct_start": "fraction", "anneal_strategy": ("cos", "linear"),
                   "div_factor": "positive", "final_div_factor": "positive", "three_phase": "bool"},
    "ReduceLROnPlateau": {"factor": "fraction", "patience": "count0", "threshold": "nonneg",
                          "cooldown": "count0", "min_lr": "nonneg"},
}
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "auroc", "confusion_matrix")
REGRESSION_METRICS = ("mse", "rmse", "mae", "r2")
METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
LOWER_IS_BETTER = ("loss", "mse", "rmse", "mae")
_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
TOP_LEVEL = ("dataset", "loss", "optimizer", "schedule", "epochs", "batch_size", "eval_batch_size",
             "device", "seed", "metrics", "split", "grad_clip", "amp", "early_stopping", "monitor",
             "restore_best", "report_interval", "drop_last", "deterministic", "fast_path", "precision",
             "frozen_batchnorm")
FAST_PATHS = ("auto", "thorough", "off", "eager", "channels_last", "strided_pool", "conv_pool", "cuda_graph", "compile",
              "compile_cuda_graph")
FROZEN_BATCHNORM = ("eval", "train")  # frozen BatchNorm: running stats kept (eval) or batch stats (train)
PRECISIONS = ("float32", "bf16")  # bf16: faster on CPUs with bf16 hardware, different numerics (opt-in)


@dataclass(frozen=True)
class DatasetConfig:
    name: str
    options: dict = field(default_factory=dict)  # every other key of training.dataset


@dataclass(frozen=True)
class LossConfig:
    type: str = "CrossEntropyLoss"
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OptimizerConfig:
    type: str = "Adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    l1: float = 0.0  # L1 penalty on the weights, added to the loss
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleConfig:
    type: str
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EarlyStoppingConfig:
    patience: int = 5
    min_delta: float = 0.0


@dataclass(frozen=True)
class TrainingConfig:
    dataset: DatasetConfig
    loss: LossConfig = LossConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    schedule: ScheduleConfig | None = None
    epochs: int = 10
    batch_size: int = 32
    eval_batch_size: int = 0  # 0: max(batch_size, 256)
    device: str = "auto"
    seed: int = 0
    metrics: tuple[str, ...] = ()
    val_split: float = 0.2
    test_split: float = 0.0
    grad_clip: float | None = None  # max total gradient norm
    amp: str = "off"  # off | auto | fp16 | bf16 (CUDA only)
    early_stopping: EarlyStoppingConfig | None = None
    monitor: str = "loss"  # the validation metric that picks best.pt and drives early stopping
    restore_best: bool = False
    report_interval: float = 0.1  # seconds between step events
    drop_last: bool = False
    deterministic: bool = False
    fast_path: str = "auto"  # see fastpath/plan.py: auto | thorough | off | a candidate's name
    precision: str = "float32"  # float32 | bf16 (the fast path may then pick a bf16 step; fastpath/plan.py)
    frozen_batchnorm: str = "eval"  # eval | train: how frozen BatchNorm layers run (docs/finetune.md)
    raw: dict = field(default_factory=dict, compare=False)  # the section as given (for checkpoints)

    @property
    def monitor_mode(self) -> str:
        return "min" if self.monitor in LOWER_IS_BETTER else "max"

    @property
    def eval_batch(self) -> int:
        return self.eval_batch_size or max(self.batch_size, 256)


# ---- value checks --------------------------------------------------------------------------------
def _is_number(v: Any) -> bool:
    return is_finite_number(v)  # math.isfinite raises on an int past the float range (10**400)


# the largest value each kind of count may take: a count is an int64 for torch (epochs x steps, a
# batch); a count a scheduler divides by (T_max, step_size) must also be exact as a float
COUNT_MAX = {"count": MAX_INDEX, "count0": MAX_INDEX, "float_count": MAX_EXACT_COUNT}


def _check(kind, value, name):
    """Check `value` against a kind ("positive", "fraction", ...); return it normalised."""
    if isinstance(kind, tuple):
        if value not in kind:
            raise TrainingError(f"{name} must be one of {', '.join(map(repr, kind))}, got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise TrainingError(f"{name} must be true or false, got {value!r}")
        return value
    if kind in COUNT_MAX:
        low, high = (0 if kind == "count0" else 1), COUNT_MAX[kind]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            what = "a positive whole number" if low else "a whole number >= 0"
            raise TrainingError(f"{name} must be {what} of at most {high:,}, got {fmt_value(value)}")
        return value
    if kind == "betas":
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(_is_number(b) and 0 <= b < 1 for b in value)):
            raise TrainingError(f"{name} must be two numbers in [0, 1), like [0.9, 0.999], got {value!r}")
        return (float(value[0]), float(value[1]))
    if not _is_number(value):
        what = "a finite number" if isinstance(value, (int, float)) and not isinstance(value, bool) else "a number"
        raise TrainingError(f"{name} must be {what}, got {fmt_value(value)}")
    if kind == "positive" and value <= 0:
        raise TrainingError(f"{name} must be a positive number, got {value!r}")
    if kind == "nonneg" and value < 0:
        raise TrainingError(f"{name} must be a number >= 0, got {value!r}")
    if kind == "fraction" and not 0 <= value < 1:
        raise TrainingError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _section(raw, name, required_type=dict):
    if not isinstance(raw, required_type):
        raise TrainingError(f"{name} must be an object like {{\"type\": ...}}, got {raw!r}")
    return raw


def _typed(raw: Any, name: str, table: dict, default: str | None = None) -> tuple[str, dict]:
    """A {"type": ..., **kwargs} section: the type (aliases "CrossEntropy" for "CrossEntropyLoss"
    accepted) and its checked kwargs."""
    if isinstance(raw, str):
        raw = {"type": raw}
    raw = _section(raw, name)
    type_name = raw.get("type", default)
    if type_name is None:
        raise TrainingError(f"{name}.type is missing; choose one of {', '.join(table)}")
    canonical = {k.lower(): k for k in table}
    canonical.update({k.lower().removesuffix("loss"): k for k in table})
    if not isinstance(type_name, str) or type_name.lower() not in canonical:
        raise TrainingError(f"{name}.type {type_name!r} is not supported; choose one of {', '.join(table)}")
    type_name = canonical[type_name.lower()]
    return type_name, {k: v for k, v in raw.items() if k != "type"}


def _kwargs(given: dict, accepted: dict, name: str, type_name: str) -> dict:
    out = {}
    for key, value in given.items():
        if key not in accepted:
            ok = ", ".join(accepted) or "none"
            raise TrainingError(f"{name}.{key} is not an option of {type_name} (accepted: {ok})")
        out[key] = _check(accepted[key], value, f"{name}.{key}")
    return out


# ---- parsing -------------------------------------------------------------------------------------
def parse_config(training: dict | None, overrides: dict | None = None) -> TrainingConfig:
    """Check the `training` section (and command-line overrides, named `--epochs` etc. in messages)."""
    if training is None:
        training = {}
    if not isinstance(training, dict):
        raise TrainingError(f"training must be an object, got {type(training).__name__}")
    raw = copy.deepcopy(training)
    label = {k: f"training.{k}" for k in TOP_LEVEL}
    overridden = []
    for key, value in (overrides or {}).items():
        if value is not None:
            raw[key] = value
            label[key] = "--" + key.replace("_", "-")
            overridden.append(key)
    for key in raw:
        if key not in TOP_LEVEL and not key.startswith("_"):
            raise TrainingError(f"training.{key} is not a training option (accepted: {', '.join(TOP_LEVEL)})")

    if "dataset" not in raw:
        raise TrainingError("training.dataset is missing; e.g. \"dataset\": {\"name\": \"digits\"}")
    ds = raw["dataset"]
    if isinstance(ds, str):
        ds = {"name": ds}
    ds = _section(ds, "training.dataset")
    if not isinstance(ds.get("name"), str) or not ds["name"]:
        raise TrainingError(f"training.dataset.name must name a dataset, got {ds.get('name')!r}")
    dataset = DatasetConfig(ds["name"], {k: v for k, v in ds.items() if k != "name"})

    loss_type, loss_kw = _typed(raw.get("loss", {}), "training.loss", LOSSES, "CrossEntropyLoss")
    loss = LossConfig(loss_type, _kwargs(loss_kw, LOSSES[loss_type], "training.loss", loss_type))

    opt_type, opt_kw = _typed(raw.get("optimizer", {}), "training.optimizer", OPTIMIZERS, "Adam")
    opt_kw = _kwargs(opt_kw, {**OPTIMIZER_COMMON, **OPTIMIZERS[opt_type]}, "training.optimizer", opt_type)
    if opt_kw.get("nesterov") and not opt_kw.get("momentum"):
        raise TrainingError("training.optimizer.nesterov needs a momentum > 0 (e.g. \"momentum\": 0.9)")
    optimizer = OptimizerConfig(opt_type, opt_kw.pop("lr", 1e-3), opt_kw.pop("weight_decay", 0.0),
                                opt_kw.pop("l1", 0.0), opt_kw)

    epochs = _check("count", raw.get("epochs", 10), label["epochs"])
    batch_size = _check("count", raw.get("batch_size", 32), label["batch_size"])
    eval_batch_size = _check("count0", raw.get("eval_batch_size", 0), label["eval_batch_size"])

    schedule = None
    if raw.get("schedule") is not None:
        s_type, s_kw = _typed(raw["schedule"], "training.schedule", SCHEDULES)
        schedule = ScheduleConfig(s_type, _kwargs(s_kw, SCHEDULES[s_type], "training.schedule", s_type))

    device = raw.get("device", "auto")
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise TrainingError(f"{label['device']} must be auto, cpu, cuda, cuda:N or mps, got {device!r}")
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise TrainingError(f"{label['seed']} must be a whole number >= 0, got {seed!r}")

    metrics = raw.get("metrics", [])
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, list):
        raise TrainingError(f"training.metrics must be a list of names, got {metrics!r}")
    for m in metrics:
        if m not in METRICS:
            raise TrainingError(f"training.metrics: unknown metric {m!r}; choose from {', '.join(METRICS)}")

    split = _section(raw.get("split", {}), "training.split")
    for key in split:
        if key not in ("val", "test"):
            raise TrainingError(f"training.split.{key} is not an option (accepted: val, test)")
    val = _check("fraction", split.get("val", 0.2), "training.split.val")
    test = _check("fraction", split.get("test", 0.0), "training.split.test")
    if val + test >= 0.9:
        raise TrainingError(f"training.split: val + test is {val + test:g}; leave at least 10% of the "
                            "samples for training")

    grad_clip = raw.get("grad_clip")
    if grad_clip is not None:
        grad_clip = _check("positive", grad_clip, "training.grad_clip")
    amp = raw.get("amp", False)
    amp = {False: "off", True: "auto", None: "off"}.get(amp, amp) if isinstance(amp, (bool, type(None))) else amp
    if amp not in ("off", "auto", "fp16", "bf16"):
        raise TrainingError(f"training.amp must be true, false, \"fp16\" or \"bf16\", got {amp!r}")

    fast_path = raw.get("fast_path", "auto")
    fast_path = {True: "auto", False: "off"}.get(fast_path, fast_path) if isinstance(fast_path, bool) else fast_path
    if fast_path not in FAST_PATHS:
        raise TrainingError(f"{label['fast_path']} must be one of {', '.join(FAST_PATHS)} (or true/false), "
                            f"got {fast_path!r}")

    precision = raw.get("precision", "float32")
    precision = {"fp32": "float32", "bfloat16": "bf16"}.get(precision, precision) if isinstance(precision, str) \
        else precision
    if precision not in PRECISIONS:
        raise TrainingError(f"training.precision must be \"float32\" (the default) or \"bf16\" (faster on CPUs "
                            f"with bf16 hardware, slightly different numerics), got {precision!r}")

    early = None
    monitor = raw.get("monitor", "loss")
    if raw.get("early_stopping") is not None:
        es = _section(raw["early_stopping"], "training.early_stopping")
        for key in es:
            if key not in ("patience", "min_delta", "metric"):
                raise TrainingError(f"training.early_stopping.{key} is not an option "
                                    "(accepted: patience, min_delta, metric)")
        early = EarlyStoppingConfig(_check("count", es.get("patience", 5), "training.early_stopping.patience"),
                                    _check("nonneg", es.get("min_delta", 0.0), "training.early_stopping.min_delta"))
        monitor = es.get("metric", monitor)
    if isinstance(monitor, str):
        monitor = monitor.removeprefix("val_")
    if monitor != "loss" and monitor not in METRICS or monitor == "confusion_matrix":
        raise TrainingError(f"the metric to monitor must be loss or one of "
                            f"{', '.join(m for m in METRICS if m != 'confusion_matrix')}, got {monitor!r}")
    if monitor != "loss" and monitor not in metrics:
        metrics = [*metrics, monitor]

    return TrainingConfig(
        dataset=dataset, loss=loss, optimizer=optimizer, schedule=schedule, epochs=epochs,
        batch_size=batch_size, eval_batch_size=eval_batch_size, device=device, seed=seed,
        metrics=tuple(dict.fromkeys(metrics)), val_split=val, test_split=test, grad_clip=grad_clip,
        amp=amp, early_stopping=early, monitor=monitor,
        restore_best=_check("bool", raw.get("restore_best", False), "training.restore_best"),
        report_interval=_check("positive", raw.get("report_interval", 0.1), "training.report_interval"),
        drop_last=_check("bool", raw.get("drop_last", False), "training.drop_last"),
        deterministic=_check("bool", raw.get("deterministic", False), "training.deterministic"),
        fast_path=fast_path, precision=precision,
        frozen_batchnorm=_check(FROZEN_BATCHNORM, raw.get("frozen_batchnorm", "eval"), "training.frozen_batchnorm"),
        raw={**raw, "_overridden": overridden})
