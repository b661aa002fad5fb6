"""A training checkpoint's contents checked field by field after `torch.load(weights_only=True)`.

weights_only keeps code out, but accepts any tensors, numbers and strings in any place: a string
epoch, a negative one that resumes into a wrong history, an RNG state of the wrong size, optimizer
moments of another model. Each is refused here with the field named, before anything is applied.
The random-state checks hand the state to a throwaway generator of the library that will use it,
so what is accepted is exactly what that library accepts.
"""
from __future__ import annotations

import math
from typing import Any

from ..core.limits import MAX_INDEX
from .errors import TrainingError


class _Bad(Exception):
    def __init__(self, field: str, why: str) -> None:
        super().__init__(field, why)
        self.field, self.why = field, why


def _count(value: Any, field: str, low: int = 0, high: int = MAX_INDEX) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Bad(field, f"must be a whole number from {low} to {high:,}, got {repr(value)[:60]}")
    return value


def check_checkpoint(state: dict, path, model=None, config=None) -> None:
    """Refuse a checkpoint whose fields cannot be what NetStudio wrote, naming the field. With a
    model, its weights are checked first (a checkpoint of another graph is named as such)."""
    from ..core.weights import WeightsError, check_state_dict

    if model is not None and isinstance(state.get("model"), dict):
        try:
            check_state_dict(model, state["model"])
        except WeightsError as exc:
            raise TrainingError(f"cannot resume from {path}: {exc}") from None
    try:
        _check_fields(state, model)
        _check_scheduler(state.get("scheduler"), state.get("scheduler_type"), config)
    except _Bad as bad:
        raise TrainingError(f"{path}: refused: its {bad.field!r} {bad.why}; the file was changed or "
                            "damaged, so resume from another checkpoint") from None


def _check_fields(state: dict, model) -> None:
    import torch

    model_state = state["model"]
    if not isinstance(model_state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                    for k, v in model_state.items()):
        raise _Bad("model", "must map layer names to tensors")
    epoch = _count(state["epoch"], "epoch")
    _count(state.get("global_step", 0), "global_step")
    _check_history(state["history"], epoch)
    _check_best(state.get("best"), epoch)
    for key in ("optimizer_type", "scheduler_type", "fingerprint", "training", "dataset"):
        if state.get(key) is not None and not isinstance(state[key], str):
            raise _Bad(key, f"must be text, got {type(state[key]).__name__}")
    for key in ("scheduler", "step"):
        if state.get(key) is not None and not isinstance(state[key], dict):
            raise _Bad(key, f"must be a mapping, got {type(state[key]).__name__}")
    if state.get("rng") is not None:
        _check_rng(state["rng"])
    if state.get("optimizer") is not None:
        _check_optimizer(state["optimizer"], model, state.get("frozen"))


def _check_history(history: Any, epoch: int) -> None:
    if not isinstance(history, list):
        raise _Bad("history", f"must be a list of per-epoch records, got {type(history).__name__}")
    trained = set()
    for i, rec in enumerate(history):
        field = f"history[{i}]"
        if not isinstance(rec, dict) or not isinstance(rec.get("split"), str):
            raise _Bad(field, "must be a record with an epoch and a split")
        e = _count(rec.get("epoch"), f"{field}.epoch", 0 if rec["split"] == "test" else 1)
        if e > epoch:
            raise _Bad(f"{field}.epoch", f"is {e}, after the checkpoint's epoch {epoch}")
        for key, value in rec.items():
            if key not in ("epoch", "split") and not (value is None or isinstance(value, (int, float, str, list))):
                raise _Bad(f"{field}.{key}", f"must be a number, got {type(value).__name__}")
        if rec["split"] == "train":
            trained.add(e)
    if epoch and trained and max(trained) != epoch:
        raise _Bad("history", f"ends at epoch {max(trained)} but the checkpoint says {epoch} epochs were trained")


def _check_best(best: Any, epoch: int) -> None:
    if best is None:
        return
    if not isinstance(best, dict):
        raise _Bad("best", f"must be a mapping, got {type(best).__name__}")
    if "epoch" in best:
        _count(best["epoch"], "best.epoch", 0, epoch)
    if "bad_epochs" in best:
        _count(best["bad_epochs"], "best.bad_epochs", 0, epoch)
    value = best.get("value", math.nan)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad("best.value", f"must be a number, got {repr(value)[:60]}")


def _check_rng(rng: Any) -> None:
    import random

    import numpy as np
    import torch

    if not isinstance(rng, dict):
        raise _Bad("rng", f"must be a mapping of random states, got {type(rng).__name__}")
    if "torch" in rng:
        fresh = torch.get_rng_state()
        t = rng["torch"]
        if not isinstance(t, torch.Tensor) or t.dtype != fresh.dtype or t.shape != fresh.shape:
            got = f"{t.dtype} {list(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__
            raise _Bad("rng.torch", f"must be a {fresh.dtype} tensor of shape {list(fresh.shape)}, got {got}")
    if "python" in rng:
        try:
            version, internal, gauss = rng["python"]
            random.Random().setstate((version, tuple(internal), gauss))
        except (TypeError, ValueError, OverflowError) as exc:
            raise _Bad("rng.python", f"is not a state of Python's random module ({exc})") from None
    if "numpy" in rng or "numpy_pos" in rng:
        try:
            keys = rng["numpy"]
            if not isinstance(keys, torch.Tensor) or keys.dtype != torch.int64:
                raise TypeError("the key must be an int64 tensor")
            pos, has_gauss, cached = rng["numpy_pos"]
            np.random.RandomState().set_state(("MT19937", keys.numpy().astype(np.uint32), pos, has_gauss, cached))
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise _Bad("rng.numpy", f"is not a state of numpy's generator ({exc})") from None
    if "cuda" in rng:
        states = rng["cuda"]
        fresh_dtype = torch.get_rng_state().dtype
        if not isinstance(states, (list, tuple)) or not all(
                isinstance(s, torch.Tensor) and s.dtype == fresh_dtype and s.dim() == 1 for s in states):
            raise _Bad("rng.cuda", f"must be a list of {fresh_dtype} tensors, one per GPU")


def _check_optimizer(opt: Any, model, frozen: Any = None) -> None:
    """The optimizer state's layout: parameter groups that index the model's trained parameters once
    each (all but the `frozen` ones the checkpoint names), and per-parameter tensors with the shape of
    the parameter they belong to (checked when the same parameters are trained now)."""
    import torch

    if not isinstance(opt, dict) or not isinstance(opt.get("state"), dict) or not isinstance(
            opt.get("param_groups"), list):
        raise _Bad("optimizer", "must hold \"state\" and \"param_groups\" (an optimizer's state_dict)")
    indices: list = []
    for g, group in enumerate(opt["param_groups"]):
        if not isinstance(group, dict) or not isinstance(group.get("params"), list):
            raise _Bad(f"optimizer.param_groups[{g}]", "must list its \"params\"")
        for key, value in group.items():
            if key != "params" and isinstance(value, float) and not math.isfinite(value):
                raise _Bad(f"optimizer.param_groups[{g}].{key}", f"is {value}, not a finite number")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in group["params"]):
            raise _Bad(f"optimizer.param_groups[{g}].params", "must be parameter indices (whole numbers)")
        indices += group["params"]
    from .finetune import frozen_names, trained_params

    if frozen is not None and (not isinstance(frozen, list) or not all(isinstance(n, str) for n in frozen)):
        raise _Bad("frozen", "must be a list of parameter names")
    params = None
    if model is not None:  # the optimizer held the weights not frozen then; frozen differently now: started afresh
        then = {n for n, _ in model.named_parameters()} - set(frozen or ())
        params = trained_params(model) if set(frozen or ()) == set(frozen_names(model)) else None
        if sorted(indices) != list(range(len(then))):
            raise _Bad("optimizer.param_groups", f"index {len(indices)} parameters ({_span(indices)}), but the "
                       f"model has {len(then)}{' not frozen' if frozen else ''}; it is the optimizer of another model")
    for index, per_param in opt["state"].items():
        if index not in indices:
            raise _Bad(f"optimizer.state[{index!r}]", "belongs to no parameter group")
        if not isinstance(per_param, dict):
            raise _Bad(f"optimizer.state[{index!r}]", "must be a mapping of tensors")
        for key, value in per_param.items():
            if params is None or not isinstance(value, torch.Tensor) or value.dim() == 0:
                continue  # a step count: a 0-d tensor or a number
            want = tuple(params[index].shape)
            if tuple(value.shape) != want:
                raise _Bad(f"optimizer.state[{index}].{key}", f"has shape {list(value.shape)}, but parameter "
                           f"{index} of the model has {list(want)}; it is the optimizer of another model")


def _check_scheduler(saved: Any, saved_type: Any, config) -> None:
    """A scheduler's state has the layout of the state a fresh scheduler of this run's type saves
    (torch's load_state_dict copies every key onto the scheduler, so a string last_epoch or a key of
    its own would break the next step)."""
    if saved is None or config is None or config.schedule is None or saved_type != config.schedule.type:
        return  # the trainer starts the schedule afresh then, and says so
    import torch

    from .optim import Schedule

    probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.optimizer.lr)
    _like(Schedule(probe, config.schedule, config, 1).state_dict(), saved, "scheduler")


def _like(fresh: Any, saved: Any, field: str) -> None:
    """`saved` has the keys and kinds of value `fresh` has (lists may differ in length)."""
    if fresh is None:
        return
    if isinstance(fresh, dict):
        if not isinstance(saved, dict):
            raise _Bad(field, f"must be a mapping, got {type(saved).__name__}")
        for key, value in saved.items():
            if key not in fresh:
                raise _Bad(f"{field}.{key}", "is not part of the state this kind of scheduler saves")
            _like(fresh[key], value, f"{field}.{key}")
    elif isinstance(fresh, (list, tuple)):
        if not isinstance(saved, (list, tuple)):
            raise _Bad(field, f"must be a list, got {type(saved).__name__}")
        if fresh:
            for i, item in enumerate(saved):
                _like(fresh[0], item, f"{field}[{i}]")
    elif isinstance(fresh, bool) or isinstance(fresh, str):
        if type(saved) is not type(fresh):
            raise _Bad(field, f"must be {type(fresh).__name__}, got {repr(saved)[:60]}")
    elif isinstance(fresh, (int, float)):
        import torch

        if isinstance(saved, torch.Tensor) and saved.numel() == 1 and isinstance(fresh, float):
            return  # a fast path keeps learning rates as tensors on the device
        if isinstance(saved, bool) or not isinstance(saved, (int, float)) or (
                isinstance(fresh, int) and not isinstance(saved, int)):
            raise _Bad(field, f"must be a {'whole ' if isinstance(fresh, int) else ''}number, got {repr(saved)[:60]}")


def _span(indices: list) -> str:
    return ", ".join(repr(i) for i in indices[:6]) + (", ..." if len(indices) > 6 else "")
