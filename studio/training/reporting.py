"""What the trainer computes for the GUI at a low rate or once per epoch, never per step: gradient
and weight norms per layer, the activations of a watched node (a forward hook added for one
forward pass on one fixed sample, then removed), and the after-epoch report (confusion matrix,
sample predictions, a decision-boundary grid for 2-D inputs, predicted-vs-true pairs); which split
those samples come from (`shown_part`, the one place that decides); and the `Probe` a finished run
hands to the GUI."""
from __future__ import annotations

import numpy as np
import torch

from .datasets.base import CLASSIFICATION, REGRESSION, DatasetInfo, Part
from .errors import TrainingError
from .events import ActivationEvent, ReportEvent, SampleEvent
from .metrics import to_probs

BOUNDARY_POINTS = 400  # training samples drawn over a 2-D decision boundary


def shown_part(val, train) -> tuple[str, object]:
    """The split whose samples a person is shown (the watched node's activations, the input beside
    them, the epoch report): the validation split, else the training split. Returns (name, part)."""
    return ("val", val) if val is not None else ("train", train)


def sample_event(part: Part, index: int, transform, info: DatasetInfo, split: str) -> SampleEvent:
    """Sample `index` of `part` as the model sees it (after the transform), for the feature maps."""
    x = part.x[index:index + 1]
    if transform is not None:
        x = transform(x)
    label = None
    if part.y is not None and info.task == CLASSIFICATION and part.y[index].dim() == 0:  # one class, not a
        k = int(part.y[index])  # class per position (a language model's next characters)
        label = str(info.classes[k]) if k < len(info.classes) else str(k)
    x = x[0].float() if x.is_floating_point() else x[0]  # token ids stay integers
    return SampleEvent(split, index, x.cpu().numpy(), label)


def boundary_points(train: Part, info: DatasetInfo) -> dict | None:
    """2-D inputs: the first training samples, drawn over the decision boundary."""
    if not info.is_2d:
        return None
    return {"x": train.x[:BOUNDARY_POINTS].float().numpy(),
            "y": train.y[:BOUNDARY_POINTS].numpy() if train.y is not None else None}


def layer_groups(module: torch.nn.Module) -> dict[str, list[torch.nn.Parameter]]:
    """Trainable parameters per layer (the top-level submodule = the graph node id)."""
    groups: dict[str, list] = {}
    for name, p in module.named_parameters():
        if p.requires_grad:
            groups.setdefault(name.split(".")[0], []).append(p)
    return groups


@torch.no_grad()
def layer_norms(groups: dict[str, list]) -> dict[str, dict]:
    """{layer: {"grad": L2 norm of its gradients, "weight": L2 norm of its parameters}} in one sync."""
    if not groups:
        return {}
    params = [p for ps in groups.values() for p in ps]
    weights = torch._foreach_norm(params)
    grads = torch._foreach_norm([p.grad if p.grad is not None else torch.zeros_like(p) for p in params])
    table = torch.stack([torch.stack(weights), torch.stack(grads)]).float().cpu().numpy()
    out, i = {}, 0
    for layer, ps in groups.items():
        w, g = table[0, i:i + len(ps)], table[1, i:i + len(ps)]
        out[layer] = {"weight": float(np.sqrt((w ** 2).sum())), "grad": float(np.sqrt((g ** 2).sum()))}
        i += len(ps)
    return out


def watchable_layers(module: torch.nn.Module) -> tuple[tuple[str, ...], frozenset]:
    """What `check_watchable` checks against, read once from the model on the thread that owns it:
    (the top-level layers, every submodule's name)."""
    return tuple(n for n, _ in module.named_children()), frozenset(n for n, _ in module.named_modules() if n)


def check_watchable(layers: tuple[tuple[str, ...], frozenset], node_id: str, input_names) -> None:
    if node_id in input_names or node_id in layers[1]:
        return
    raise TrainingError(f"node {node_id!r} has no layer whose output can be watched; watch one of: "
                        f"{', '.join(input_names)}, {', '.join(layers[0])}")


@torch.no_grad()
def capture_activation(module: torch.nn.Module, node_id: str, x: torch.Tensor, input_names) -> np.ndarray:
    """The output of `node_id` for the one-sample batch `x` (eval mode; hook only for this call)."""
    if node_id in input_names:
        return x[0].float().cpu().numpy()
    captured = []
    handle = module.get_submodule(node_id).register_forward_hook(
        lambda _m, _i, out: captured.append(out[0] if isinstance(out, tuple) else out))
    was_training = module.training
    try:
        module.eval()
        module(x)
    finally:
        handle.remove()
        module.train(was_training)
    return captured[0][0].float().cpu().numpy()


@torch.no_grad()
def epoch_report(module, part: Part, info: DatasetInfo, loss_type: str, transform, confusion, epoch: int,
                 split: str, train_x: torch.Tensor | None = None, n_samples: int = 8, grid: int = 60,
                 max_pairs: int = 500) -> ReportEvent:
    was_training = module.training
    module.eval()
    try:
        x = part.x[:max(n_samples, max_pairs)]
        xin = transform(x) if transform is not None else x
        out = module(xin).float()
        target = part.target[:len(x)]
        samples, boundary, regression = [], None, None
        if info.task == CLASSIFICATION and info.target.shape:
            pass  # a class at each position (a language model): its text samples show it instead
        elif info.task == CLASSIFICATION:
            probs = to_probs(out, loss_type)
            pred = probs.argmax(1)
            for i in range(min(n_samples, len(x))):
                samples.append({"x": xin[i].float().cpu().numpy(), "true": int(target[i]),
                                "pred": int(pred[i]), "probs": probs[i].cpu().numpy()})
            if info.is_2d and train_x is not None:
                boundary = _boundary(module, train_x, loss_type, grid)
        else:
            for i in range(min(n_samples, len(x))):
                samples.append({"x": xin[i].float().cpu().numpy(), "true": target[i].float().cpu().numpy(),
                                "pred": out[i].cpu().numpy()})
            if info.task == REGRESSION:
                regression = {"true": target.float().reshape(len(x), -1).cpu().numpy(),
                              "pred": out.reshape(len(x), -1).cpu().numpy()}
    finally:
        module.train(was_training)
    return ReportEvent(epoch, split, info.task, list(info.classes), confusion, samples, boundary, regression)


def _boundary(module, train_x: torch.Tensor, loss_type: str, grid: int) -> dict:
    lo, hi = train_x.min(0).values.float(), train_x.max(0).values.float()
    margin = (hi - lo) * 0.1 + 1e-3
    lo, hi = lo - margin, hi + margin
    xs = torch.linspace(float(lo[0]), float(hi[0]), grid, device=train_x.device)
    ys = torch.linspace(float(lo[1]), float(hi[1]), grid, device=train_x.device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).to(train_x.dtype)
    probs = to_probs(module(pts).float(), loss_type).reshape(grid, grid, -1)
    return {"xs": xs.cpu().numpy(), "ys": ys.cpu().numpy(), "probs": probs.cpu().numpy()}


class Probe:
    """A finished run's trained model and shown split, handed to the GUI by the training thread as it
    ends (the run no longer uses them): the input and the activations of any layer for a chosen
    sample, as the same events the live run sent."""

    def __init__(self, trainer) -> None:
        self.model, self.device, self.input_names = trainer.model, trainer.device, trainer.input_names
        self.layers = trainer.watchable
        self.split, self.part = shown_part(trainer.splits.val, trainer.splits.train)
        self.transform, self.info = trainer.dataset.transform, trainer.info
        self.sampling = getattr(trainer.dataset, "extra", {}).get("sampling")  # a token model's vocabulary (Try it)
        self.global_step, self.epochs_done = trainer.global_step, trainer.epochs_done

    def sample(self, index: int) -> SampleEvent | None:
        if not 0 <= index < len(self.part):
            return None
        return sample_event(self.part, index, self.transform, self.info, self.split)

    def activation(self, node_id: str, index: int) -> ActivationEvent | None:
        """The trained model's output of `node_id` for sample `index` (one forward pass); None when
        the node has no layer to watch or the sample does not exist."""
        try:
            check_watchable(self.layers, node_id, self.input_names)
        except TrainingError:
            return None
        if not 0 <= index < len(self.part):
            return None
        x = self.part.x[index:index + 1].to(self.device)
        if self.transform is not None:
            x = self.transform(x)
        value = capture_activation(self.model, node_id, x, self.input_names)
        return ActivationEvent(node_id, self.epochs_done, self.global_step, index, value)
