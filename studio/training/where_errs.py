"""Where a classifier errs and how its classes separate, computed once per epoch on the validation
split for the GUI: the misclassified samples (most confident wrong first), a per-class table
(precision, recall, F1, support), ROC and precision-recall curves with their AUC for two classes
(all torchmetrics), and the penultimate layer's features (the input of the model's last Linear)
projected to 2-D with PCA (torch.pca_lowrank). One forward pass over the split serves both."""
from __future__ import annotations

import numpy as np
import torch

from .datasets.base import CLASSIFICATION
from .events import ErrorsEvent, ProjectionEvent
from .metrics import to_probs

MAX_WRONG = 48  # samples in the gallery: a screenful of thumbnails
MAX_POINTS = 2000  # points projected: enough to see the clusters, bounded in cost and in drawing
MAX_CURVE = 400  # points kept of each curve (a view needs no more to draw it)


def applies(info) -> bool:
    """A classifier with one class per sample (not a class at each position)."""
    return info.task == CLASSIFICATION and not info.target.shape and len(info.classes) >= 2


def penultimate(module: torch.nn.Module) -> str | None:
    """The node id (top-level layer) of the model's last Linear, whose input are the penultimate
    features; the compiler registers layers in the graph's order, so the last one registered is the
    one nearest the Output. None when the model has none."""
    last = None
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Linear):
            last = name
    return last


@torch.no_grad()
def forward_split(module, x: torch.Tensor, transform, batch: int, node_id: str | None, max_points: int):
    """The model's outputs over `x` (eval mode) and, when `node_id` is given, the input of that
    layer for the first `max_points` samples (a forward pre-hook, removed after)."""
    feats: list = []
    handle = None
    if node_id is not None:
        def keep(_m, args):
            if sum(len(f) for f in feats) < max_points:
                feats.append(args[0].detach().flatten(1).float())
        handle = module.get_submodule(node_id).register_forward_pre_hook(keep)
    was_training = module.training
    module.eval()
    outs = []
    try:
        for start in range(0, len(x), batch):
            xb = x[start:start + batch]
            outs.append(module(transform(xb) if transform is not None else xb).float())
    finally:
        module.train(was_training)
        if handle is not None:
            handle.remove()
    features = torch.cat(feats)[:max_points] if feats else None
    return torch.cat(outs), features


def per_class_table(probs: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict:
    import torchmetrics.functional.classification as F

    k = dict(num_classes=num_classes, average=None, validate_args=False)
    return {"precision": F.multiclass_precision(probs, labels, **k).cpu().tolist(),
            "recall": F.multiclass_recall(probs, labels, **k).cpu().tolist(),
            "f1": F.multiclass_f1_score(probs, labels, **k).cpu().tolist(),
            "support": torch.bincount(labels, minlength=num_classes).cpu().tolist()}


def _thin(x: torch.Tensor, y: torch.Tensor, limit: int = MAX_CURVE) -> dict:
    if len(x) > limit:  # keep the ends and evenly spaced points between
        keep = torch.linspace(0, len(x) - 1, limit, device=x.device).round().long()
        x, y = x[keep], y[keep]
    return {"x": x.cpu().numpy(), "y": y.cpu().numpy()}


def binary_curves(positive: torch.Tensor, labels: torch.Tensor) -> dict | None:
    """ROC (x: false positive rate, y: true positive rate) and precision-recall (x: recall, y:
    precision) of class 1's probability, with the AUC of each (the PR one is the average precision).
    None when the split holds only one class (neither curve is defined)."""
    import torchmetrics.functional.classification as F

    if labels.min() == labels.max():
        return None
    fpr, tpr, _ = F.binary_roc(positive, labels, validate_args=False)
    precision, recall, _ = F.binary_precision_recall_curve(positive, labels, validate_args=False)
    roc = {**_thin(fpr, tpr), "auc": float(F.binary_auroc(positive, labels, validate_args=False))}
    pr = {**_thin(recall, precision), "auc": float(F.binary_average_precision(positive, labels, validate_args=False))}
    return {"roc": roc, "pr": pr}


def misclassified(probs: torch.Tensor, labels: torch.Tensor, limit: int) -> tuple[list[int], int]:
    """Indices of the wrong predictions, most confident first (at most `limit`), and how many."""
    confidence, pred = probs.max(1)
    wrong = torch.nonzero(pred != labels).flatten()
    order = torch.argsort(confidence[wrong], descending=True, stable=True)
    return wrong[order][:limit].cpu().tolist(), int(len(wrong))


def project_2d(features: torch.Tensor) -> tuple[np.ndarray, tuple]:
    """[N, D] -> [N, 2] by PCA (centred; torch.pca_lowrank), each axis's sign fixed so its largest
    loading is positive (epochs do not flip back and forth), with each axis's share of the variance."""
    f = features.float()
    n, d = f.shape
    if n < 2 or d < 1:
        return np.zeros((n, 2), np.float32), (0.0, 0.0)
    q = min(2, d, n)
    centred = f - f.mean(0, keepdim=True)
    _u, s, v = torch.pca_lowrank(centred, q=q, center=False, niter=4)
    signs = torch.sign(v.gather(0, v.abs().argmax(0, keepdim=True)))
    signs[signs == 0] = 1
    v = v * signs
    points = centred @ v
    total = float((centred ** 2).sum())
    explained = tuple(float(x) ** 2 / total if total > 0 else 0.0 for x in s[:q].tolist())
    if q < 2:
        points = torch.cat([points, torch.zeros(n, 2 - q, device=points.device)], 1)
        explained = explained + (0.0,) * (2 - q)
    return points.cpu().numpy(), explained


def epoch_views(module, part, info, loss_type: str, transform, epoch: int, split: str, batch: int,
                max_wrong: int = MAX_WRONG, max_points: int = MAX_POINTS, project: bool = True):
    """(ErrorsEvent, ProjectionEvent or None) for the samples of `part` (on the model's device)."""
    node_id = penultimate(module) if project else None
    out, features = forward_split(module, part.x, transform, batch, node_id, max_points)
    probs = to_probs(out, loss_type)
    labels = part.labels.long()
    c = len(info.classes)
    if probs.shape[1] != c:  # e.g. one logit under BCE: to_probs made two columns
        c = probs.shape[1]
    wrong, count = misclassified(probs, labels, max_wrong)
    confidence, pred = probs.max(1)
    gallery = []
    for i in wrong:
        x = part.x[i:i + 1]
        x = transform(x) if transform is not None else x
        gallery.append({"index": i, "x": x[0].float().cpu().numpy(), "true": int(labels[i]), "pred": int(pred[i]),
                        "confidence": float(confidence[i])})
    curves = binary_curves(probs[:, 1], labels) if c == 2 else None
    classes = [str(k) for k in info.classes]
    errors = ErrorsEvent(epoch, split, classes, len(labels), count, gallery, per_class_table(probs, labels, c), curves)
    projection = None
    if features is not None and len(features) >= 2:
        points, explained = project_2d(features)
        projection = ProjectionEvent(epoch, split, node_id, classes, points, labels[:len(points)].cpu().numpy(),
                                     explained, features.float().cpu().numpy())
    return errors, projection
