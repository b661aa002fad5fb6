"""Epoch metrics with torchmetrics: accuracy, precision, recall, F1 (macro), AUROC and the confusion
matrix for classification; MSE, RMSE, MAE and R2 for regression and reconstruction (over all output
values). States stay on the device and are read once per epoch; under torch.distributed,
torchmetrics gathers them across processes when computing."""
from __future__ import annotations

import math

import torch

from .config import CLASSIFICATION_METRICS, REGRESSION_METRICS
from .datasets.base import CLASSIFICATION
from .errors import TrainingError


def check_metrics(names, task: str) -> None:
    allowed = CLASSIFICATION_METRICS if task == CLASSIFICATION else REGRESSION_METRICS
    for n in names:
        if n not in allowed:
            raise TrainingError(f"training.metrics: {n!r} does not apply to a {task} task; "
                                f"choose from {', '.join(allowed)}")


def to_probs(output: torch.Tensor, loss_type: str) -> torch.Tensor:
    """Class probabilities [B, C] from a model's output under a loss."""
    output = output.float()
    if loss_type == "NLLLoss":
        return output.exp()
    if loss_type == "BCEWithLogitsLoss":
        if output.shape[1] == 1:
            p = torch.sigmoid(output)
            return torch.cat([1 - p, p], 1)
        p = torch.sigmoid(output)
        return p / p.sum(1, keepdim=True).clamp_min(1e-12)
    return torch.softmax(output, 1)


class MetricSet:
    def __init__(self, task: str, names, num_classes: int, loss_type: str, device) -> None:
        import torchmetrics.classification as C
        import torchmetrics.regression as R

        self.task, self.loss_type = task, loss_type
        self.names = tuple(n for n in names if n != "confusion_matrix")
        self.want_confusion = "confusion_matrix" in names
        self.metrics: dict = {}
        if task == CLASSIFICATION:
            k = dict(num_classes=num_classes, validate_args=False)
            table = {"accuracy": lambda: C.MulticlassAccuracy(average="micro", **k),
                     "precision": lambda: C.MulticlassPrecision(average="macro", **k),
                     "recall": lambda: C.MulticlassRecall(average="macro", **k),
                     "f1": lambda: C.MulticlassF1Score(average="macro", **k),
                     "auroc": lambda: C.MulticlassAUROC(average="macro", **k)}
            for n in self.names:
                self.metrics[n] = table[n]().to(device)
            self.confusion = C.MulticlassConfusionMatrix(**k).to(device)  # always: the epoch report uses it
        else:
            table = {"mse": R.MeanSquaredError, "rmse": R.MeanSquaredError, "mae": R.MeanAbsoluteError,
                     "r2": R.R2Score}
            for n in self.names:
                self.metrics[n] = table[n]().to(device)
            self.confusion = None

    def update(self, output: torch.Tensor, labels: torch.Tensor) -> None:
        if self.task == CLASSIFICATION:
            if output.dim() > 2:  # a class at each position (a language model): every position counts
                output, labels = output.reshape(-1, output.shape[-1]), labels.reshape(-1)
            probs = to_probs(output, self.loss_type)
            for m in self.metrics.values():
                m.update(probs, labels)
            self.confusion.update(probs, labels)
        else:
            pred, true = output.float().reshape(-1), labels.float().reshape(-1)
            for m in self.metrics.values():
                m.update(pred, true)

    def compute(self) -> dict:
        out = {}
        for name, m in self.metrics.items():
            try:
                value = float(m.compute())
            except (RuntimeError, ValueError):  # e.g. R2 of a single value
                value = float("nan")
            out[name] = math.sqrt(value) if name == "rmse" and value == value else value
        if self.want_confusion:
            out["confusion_matrix"] = self.confusion.compute().cpu().long().tolist()
        return out

    def confusion_matrix(self):
        return None if self.confusion is None else self.confusion.compute().cpu().numpy()

    def reset(self) -> None:
        for m in self.metrics.values():
            m.reset()
        if self.confusion is not None:
            self.confusion.reset()
