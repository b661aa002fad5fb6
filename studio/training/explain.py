"""Why the model decided: Captum attributions (saliency, integrated gradients, Grad-CAM on a conv node,
occlusion) for one input of a compiled model, each with a one-line note on how to read it.

    subject = Subject.from_project(project, checkpoint)      # or Subject.from_probe(run's probe)
    x, label = subject.sample(3)                              # sample 3 of the shown split, as the model sees it
    a = explain(subject.model, x, "gradcam", node="conv2")    # a.values: the input's shape; a.note

Qt-free: the CLI (`python -m studio explain`) and the window's Try it dock both call it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import TrainingError
from .explain_notes import METHODS, NOTES  # noqa: F401  (METHODS is part of this module's interface)

IG_STEPS = 32  # integrated-gradients steps: enough for the small models here, fast on a CPU


class ExplainError(TrainingError):
    """A person's mistake (a bad sample index, a node that is not a conv): one clear message."""


def conv_nodes(model: torch.nn.Module) -> list[str]:
    """The node ids whose layer is a convolution (Grad-CAM's choices), in graph order."""
    from torch.nn.modules.conv import _ConvNd  # the base class of every Conv1d/2d/3d and transposed conv

    return [name for name, m in model.named_modules() if name and "." not in name and isinstance(m, _ConvNd)]


def sliding_window(shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Occlusion's patch and stride for one sample of `shape`: all channels, a quarter of each spatial
    side (one feature for a vector), moved by half a patch."""
    if len(shape) <= 1:
        return (1,) * len(shape), (1,) * len(shape)
    spatial = tuple(max(1, s // 4) for s in shape[1:])
    return (shape[0], *spatial), (shape[0], *(max(1, s // 2) for s in spatial))


@dataclass
class Attribution:
    method: str
    target: int  # the class (output column) explained
    values: np.ndarray  # one number per input value (Grad-CAM: per spatial position, channels summed)
    probs: np.ndarray  # the model's probabilities for the input (or its raw outputs for one output)
    note: str
    node: str | None = None  # Grad-CAM's layer


def predict(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """Class probabilities (softmax) for the one-sample batch `x`; a single output stays as it is."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x.to(_device(model)))
    finally:
        model.train(was_training)
    out = _logits(out)[0].float().cpu()
    return out.numpy() if out.numel() == 1 else torch.softmax(out, 0).numpy()


def explain(model: torch.nn.Module, x: torch.Tensor, method: str, *, target: int | None = None,
            node: str | None = None) -> Attribution:
    """Attribute the model's output `target` (default: the predicted class) to the one-sample batch `x`."""
    import captum.attr as ca

    if method not in METHODS:
        raise ExplainError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    if not x.is_floating_point():
        raise ExplainError("attributions need a float input; this model takes token ids (integers)")
    probs = predict(model, x)
    if target is None:
        target = int(np.argmax(probs))
    if not 0 <= target < probs.size:
        raise ExplainError(f"class {target} does not exist (the model has {probs.size} outputs)")
    forward = _Logits(model)
    x = x.to(_device(model)).float().detach().requires_grad_(True)  # Captum would set it, with a warning
    was_training = model.training
    model.eval()
    try:
        if method == "saliency":
            values = ca.Saliency(forward).attribute(x, target=target, abs=True)
        elif method == "integrated_gradients":
            values = ca.IntegratedGradients(forward).attribute(x, baselines=torch.zeros_like(x), target=target,
                                                               n_steps=IG_STEPS)
        elif method == "occlusion":
            window, strides = sliding_window(tuple(x.shape[1:]))
            values = ca.Occlusion(forward).attribute(x, sliding_window_shapes=window, strides=strides,
                                                      baselines=0.0, target=target)
        else:
            node = gradcam_node(model, node)
            cam = ca.LayerGradCam(forward, model.get_submodule(node)).attribute(x, target=target,
                                                                                relu_attributions=True)
            values = ca.LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="bilinear") \
                if x.dim() == 4 else cam
    finally:
        model.train(was_training)
    return Attribution(method, target, values[0].detach().float().cpu().numpy(), probs, NOTES[method],
                       node if method == "gradcam" else None)


def gradcam_node(model: torch.nn.Module, node: str | None) -> str:
    """The conv node Grad-CAM looks at: `node` after checking it, else the last conv of the graph."""
    convs = conv_nodes(model)
    if node is None:
        if not convs:
            raise ExplainError("Grad-CAM needs a convolution layer; this model has none "
                               "(use saliency, integrated_gradients or occlusion)")
        return convs[-1]
    names = {n for n, _ in model.named_modules() if n and "." not in n}
    if node not in names:
        raise ExplainError(f"no node {node!r} with a layer in this model; its conv nodes: {', '.join(convs) or 'none'}")
    if node not in convs:
        kind = type(model.get_submodule(node)).__name__
        raise ExplainError(f"node {node!r} is a {kind}, not a convolution; Grad-CAM needs one of: "
                           f"{', '.join(convs) or 'none (this model has no conv)'}")
    return node


class _Logits(torch.nn.Module):
    """The model with one tensor out (Captum indexes its output by class)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        return _logits(self.model(x))


def _logits(out):
    if isinstance(out, (tuple, list)):
        out = out[0]
    if isinstance(out, dict):
        out = next(iter(out.values()))
    return out.reshape(out.shape[0], -1)


def _device(model: torch.nn.Module):
    p = next(iter(model.parameters()), None)
    return p.device if p is not None else torch.device("cpu")


@dataclass
class Subject:
    """A trained model with the samples a person is shown (the validation split, else the training split)."""

    model: torch.nn.Module
    info: object  # DatasetInfo
    part: object  # Part: the shown split, as stored (before the transform)
    transform: object  # per-batch transform of the dataset, or None
    split: str = "val"
    sampling: object = None  # a TextSampling for a token model (its vocabulary), else None

    @classmethod
    def from_probe(cls, probe) -> "Subject":
        """From the Probe a finished run handed over (the training thread no longer uses it)."""
        return cls(probe.model, probe.info, probe.part, probe.transform, probe.split, getattr(probe, "sampling", None))

    @classmethod
    def from_project(cls, project, checkpoint=None) -> "Subject":
        """The project's model with the weights of `checkpoint` and its dataset's shown split."""
        import studio

        from .config import parse_config
        from .datasets import load_dataset
        from .reporting import shown_part

        config = parse_config(project.training)
        base = project.path.parent if getattr(project, "path", None) is not None else None
        dataset = load_dataset(config.dataset, base)
        splits = dataset.split(config.val_split, config.test_split, config.seed)
        split, part = shown_part(splits.val, splits.train)
        model = studio.build_model(project, checkpoint)
        return cls(model, dataset.info, part, dataset.transform, split, getattr(dataset, "extra", {}).get("sampling"))

    def __len__(self) -> int:
        return len(self.part)

    def prepare(self, raw: torch.Tensor) -> torch.Tensor:
        """A batch in the stored form (e.g. uint8 pixels) as the model sees it."""
        x = self.transform(raw) if self.transform is not None else raw
        return x.float() if x.is_floating_point() else x

    def sample(self, index: int) -> tuple[torch.Tensor, str | None]:
        """Sample `index` of the shown split as a one-sample batch the model takes, and its class name."""
        if not 0 <= index < len(self.part):
            raise ExplainError(f"sample {index} does not exist: the {self.split} split has {len(self.part)} "
                               f"samples (0..{len(self.part) - 1})")
        x = self.prepare(self.part.x[index:index + 1])
        label = None
        y = self.part.y
        if y is not None and self.info.classes and y[index].dim() == 0:
            k = int(y[index])
            label = str(self.info.classes[k]) if k < len(self.info.classes) else str(k)
        return x, label

    def class_name(self, k: int) -> str:
        classes = self.info.classes
        return str(classes[k]) if k < len(classes) else str(k)
