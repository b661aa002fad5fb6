"""Loss functions, and the check that a dataset fits the graph and the loss before training starts.

`check_fit` compares the dataset's sample with the graph's Input and the dataset's target with the
model's output under the chosen loss, naming both shapes and how to fix it. `LossPlan` says how the
dataset's targets become the loss's targets (class indices, one-hot floats, the input itself); the
conversion happens once for the whole dataset, never per step.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.types import TensorType, fmt_shape
from .config import LossConfig
from .datasets.base import CLASSIFICATION, RECONSTRUCTION, DatasetInfo
from .errors import TrainingError

CLASS_INDEX_LOSSES = ("CrossEntropyLoss", "NLLLoss")
ELEMENTWISE_LOSSES = ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCEWithLogitsLoss")


def build_loss(cfg: LossConfig, plan: "LossPlan | None" = None) -> torch.nn.Module:
    kwargs = dict(cfg.kwargs)
    if cfg.type == "BCEWithLogitsLoss" and "pos_weight" in kwargs:
        kwargs["pos_weight"] = torch.tensor(kwargs["pos_weight"])
    loss = getattr(torch.nn, cfg.type)(**kwargs)
    return PerPosition(loss) if plan is not None and plan.positions else loss


class PerPosition(torch.nn.Module):
    """A class-index loss over scores [batch, time, C] and targets [batch, time]: torch's losses
    take the classes in dim 1, so the scores move there; the mean runs over every position."""

    def __init__(self, loss: torch.nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss(scores.movedim(-1, 1), target)


@dataclass(frozen=True)
class LossPlan:
    """How targets are fed to the loss: "index" (class indices as they are), "onehot" (float one-hot
    [C]), "binary" (float [1] for a single-logit output), "value" (the target as it is, float),
    "input" (the input itself)."""

    target: str
    num_outputs: int  # classes seen by the metrics (2 for a single-logit binary output)
    positions: int = 0  # > 0: a class at each position of the target ([time] ids: a language model)

    def prepare(self, y: torch.Tensor | None, num_classes: int) -> torch.Tensor | None:
        if self.target in ("index", "input") or y is None:
            return y
        if self.target == "onehot":
            return torch.nn.functional.one_hot(y, num_classes).float()
        if self.target == "binary":
            return y.float().unsqueeze(1)
        return y.float()


def _fix_input(info: DatasetInfo, node: str, want: TensorType) -> str:
    return (f"dataset {info.name!r} gives samples of shape {info.input} but the graph's Input {node!r} "
            f"takes {want}; set the Input's shape to {fmt_shape(info.input.shape)}"
            f"{' and dtype ' + info.input.dtype if info.input.dtype != want.dtype else ''}"
            f", or choose a dataset whose samples are {want}")


def producer_of(graph, node_id: str) -> str:
    """The node that feeds `node_id` (the Output node's layer), for messages."""
    if graph is None:
        return node_id
    for e in graph.edges:
        if e.target == node_id:
            return e.source
    return node_id


def _head_hint(graph, layer: str, classes: int) -> str:
    """For a Linear head of a pretrained model: replacing the head keeps the other layers' weights."""
    node = (getattr(graph, "nodes", None) or {}).get(layer)
    if getattr(node, "type", None) != "Linear":
        return ""
    return (f"; to fine-tune pretrained weights, replace the head: right-click {layer!r} > Replace head, or "
            f"python -m studio finetune PROJECT.json --replace-head -o NEW.json ({classes} outputs, fresh "
            "weights; every other weight kept)")


def check_fit(signature, info: DatasetInfo, loss: LossConfig, graph=None) -> LossPlan:
    """Raise TrainingError unless the dataset fits the model's Input and the loss fits the model's
    output and the dataset's targets. Returns how to prepare the targets."""
    if len(signature.inputs) != 1:
        names = ", ".join(n for n, _ in signature.inputs) or "none"
        raise TrainingError(f"the graph has {len(signature.inputs)} Input nodes ({names}); training on a "
                            "dataset needs exactly one Input node")
    if len(signature.outputs) != 1:
        names = ", ".join(n for n, _ in signature.outputs) or "none"
        raise TrainingError(f"the graph has {len(signature.outputs)} outputs ({names}); training needs exactly "
                            "one Output node")
    in_name, in_type = signature.inputs[0]
    if tuple(in_type.shape) != tuple(info.input.shape) or in_type.is_float != info.input.is_float:
        raise TrainingError(_fix_input(info, in_name, in_type))
    out_name, out = signature.outputs[0]
    layer = producer_of(graph, out_name)
    t = loss.type
    task = info.task
    if t in CLASS_INDEX_LOSSES:
        if task != CLASSIFICATION:
            raise TrainingError(f"{t} needs class labels, but dataset {info.name!r} is a {task} task (targets "
                                f"{info.target}); use MSELoss, L1Loss or HuberLoss")
        want = (*info.target.shape, info.num_classes)  # a class per sample, or at each position
        if tuple(out.shape) != want:
            where = f" at each of its {info.target.shape[0]} positions" if info.target.shape else ""
            raise TrainingError(f"the model outputs {fmt_shape(out.shape)} per sample but {t} on dataset "
                                f"{info.name!r} needs one score per class{where}: {fmt_shape(want)} "
                                f"({info.num_classes} classes); make {layer!r} output {info.num_classes} "
                                f"values (e.g. a Linear with out_features={info.num_classes})"
                                + _head_hint(graph, layer, info.num_classes))
        return LossPlan("index", info.num_classes, len(info.target.shape))
    if task == CLASSIFICATION:
        if out.shape == (info.num_classes,):
            return LossPlan("onehot", info.num_classes)
        if t == "BCEWithLogitsLoss" and info.num_classes == 2 and out.shape == (1,):
            return LossPlan("binary", 2)
        extra = " or [1] (one logit, binary)" if t == "BCEWithLogitsLoss" and info.num_classes == 2 else ""
        raise TrainingError(f"the model outputs {fmt_shape(out.shape)} per sample but {t} on dataset "
                            f"{info.name!r} ({info.num_classes} classes) needs [{info.num_classes}]{extra}; "
                            f"make {layer!r} output {info.num_classes} values, or use CrossEntropyLoss")
    target = info.input if task == RECONSTRUCTION else info.target
    if tuple(out.shape) != tuple(target.shape):
        what = "the input it reconstructs" if task == RECONSTRUCTION else "its targets"
        raise TrainingError(f"the model outputs {fmt_shape(out.shape)} per sample but dataset {info.name!r} "
                            f"has {what} of shape {fmt_shape(target.shape)}; {t} needs them to match: make "
                            f"{layer!r} output {fmt_shape(target.shape)}")
    if not target.is_float:
        raise TrainingError(f"{t} needs float targets but dataset {info.name!r} has {target}")
    return LossPlan("input" if task == RECONSTRUCTION else "value", 0)
