"""load_data() for the generated script: the project's dataset, written as plain PyTorch /
scikit-learn / torchvision code. Kinds that cannot be generated get a load_data() that raises
NotImplementedError saying what to supply, and the export report says so too."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ExportError
from .constructors import literal

SKLEARN_TABLES = {"iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer"}
SKLEARN_SHAPES = {"iris": (4,), "wine": (13,), "breast_cancer": (30,)}
TORCHVISION = {"mnist": ("MNIST", (1, 28, 28)), "fashion_mnist": ("FashionMNIST", (1, 28, 28)),
               "cifar10": ("CIFAR10", (3, 32, 32))}
SPLIT = '''
def _split(x: torch.Tensor, y: torch.Tensor, seed: int, val_fraction: float = VAL_FRACTION):
    """Shuffle with the seed and hold out a validation share."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_val = max(1, int(len(x) * val_fraction))
    val, train = order[:n_val], order[n_val:]
    return TensorDataset(x[train], y[train]), TensorDataset(x[val], y[val])
'''


@dataclass
class DataCode:
    source: str  # helper functions + load_data()
    imports: set = field(default_factory=set)
    notes: list = field(default_factory=list)
    classification: bool = False
    generated: bool = True  # False: load_data() raises NotImplementedError


def _shape(t) -> tuple:
    return tuple(t.shape)


def _options(training) -> tuple[str, dict | None]:
    """(dataset name, its options with the trainer's defaults filled in), or None for a dataset the
    trainer does not know; the defaults come from the dataset registry, not from this file."""
    from ..training_rules import TrainingError, dataset_options

    ds = training.get("dataset") if isinstance(training, dict) else None
    ds = {"name": ds} if isinstance(ds, str) else ds if isinstance(ds, dict) else {}
    kind = ds.get("name") if isinstance(ds.get("name"), str) else ""
    try:
        entry, options, target = dataset_options(ds)
    except TrainingError:
        return kind.lower(), None
    return entry.name, {**options, "target": target}


def _num(options: dict, key: str, kind=int):
    """An option as a number of the kind, or ExportError (the loader's own checks run before export)."""
    value = options[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise ExportError(f"training.dataset.{key} must be a number, got {value!r}")
    return kind(value)


TARGETS = {  # LossPlan.target -> how the trainer turns the dataset's targets into the loss's
    "onehot": "y = torch.nn.functional.one_hot(y, {classes}).float()  # the loss takes one-hot targets",
    "binary": "y = y.float().unsqueeze(1)  # one logit: the loss takes a float per sample",
    "value": "y = y.float()",
}


def data_code(training: dict, inputs: list, outputs: list, loss_plan=None) -> DataCode:
    """inputs/outputs: [(name, TensorType)] of the model; loss_plan: studio.training.losses.LossPlan."""
    kind, options = _options(training)
    if len(inputs) != 1:
        return _unsupported(kind or "(none)", f"the model has {len(inputs)} inputs and NetStudio generates data for "
                            "one-input models only", inputs)
    (in_name, in_type), = inputs
    in_shape = _shape(in_type)
    body, natural, imports, classification = _body(kind, options, in_shape) if options else (None, None, set(), False)
    if body is None:
        why = "no dataset is set in the project" if not kind else f"the dataset kind {kind!r} has no generated loader"
        return _unsupported(kind or "(none)", why, inputs)
    if natural is not None and natural != in_shape:
        if math.prod(natural) != math.prod(in_shape):
            return _unsupported(kind, f"its samples are {list(natural)} but the model input {in_name!r} is "
                                f"{list(in_shape)}", inputs)
        body = body.replace("#RESHAPE", f"x = x.reshape(len(x), *INPUT_SHAPE)  # {list(natural)} -> the model's input")
    body = body.replace("    #RESHAPE\n", "")
    if options.get("target") == "input":
        body = body.replace("#TARGET", "y = x.clone()  # reconstruction: the target is the input itself")
        classification = False
    elif loss_plan is not None and loss_plan.target in TARGETS:
        body = body.replace("#TARGET", TARGETS[loss_plan.target].format(classes=int(loss_plan.num_outputs)))
        classification = False
    body = body.replace("    #TARGET\n", "")
    return DataCode(source=body, imports=imports, classification=classification)


def _unsupported(kind: str, why: str, inputs) -> DataCode:
    items = ", ".join(f"{n} {list(t.shape)} {t.dtype}" for n, t in inputs)
    message = (f"NetStudio could not generate a loader for dataset {kind!r}: {why}. Write load_data() "
               f"yourself: return (train_set, val_set), datasets whose items are (input..., target) with "
               f"inputs {items}.")
    source = (f"def load_data(root: str = DATA_ROOT, seed: int = SEED):\n"
              f"    raise NotImplementedError(\n        {message!r})\n")
    return DataCode(source=source, notes=[message], generated=False)


def _body(kind: str, ds: dict, in_shape: tuple):
    """(load_data source with #RESHAPE/#TARGET markers, natural sample shape, imports, classification).
    ds: the dataset's options, the registry's defaults filled in."""
    head = "def load_data(root: str = DATA_ROOT, seed: int = SEED):\n"
    tail = "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n"
    if kind == "digits":
        return (SPLIT + "\n\n" + head +
                '    """scikit-learn\'s 8x8 digits (no download) as [1, 8, 8] images in 0..1."""\n'
                "    from sklearn.datasets import load_digits\n\n"
                "    digits = load_digits()\n"
                "    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0\n"
                "    y = torch.tensor(digits.target, dtype=torch.int64)\n" + tail, (1, 8, 8), set(), True)
    if kind in SKLEARN_TABLES:
        fn = SKLEARN_TABLES[kind]
        scale = ("    x = (x - x.mean(0)) / x.std(0).clamp_min(1e-6)  # each feature standardized\n"
                 if ds.get("standardize") else "")
        return (SPLIT + "\n\n" + head +
                f'    """scikit-learn\'s {kind} table."""\n'
                f"    from sklearn.datasets import {fn}\n\n"
                f"    data = {fn}()\n"
                "    x = torch.tensor(data.data, dtype=torch.float32)\n" + scale +
                "    y = torch.tensor(data.target, dtype=torch.int64)\n" + tail, SKLEARN_SHAPES[kind], set(), True)
    if kind in ("moons", "circles"):
        n, noise = _num(ds, "samples"), _num(ds, "noise", float)
        extra = f", factor={_num(ds, 'factor', float)!r}" if kind == "circles" else ""
        return (SPLIT + "\n\n" + head + f'    """scikit-learn\'s {kind} point clouds."""\n'
                f"    from sklearn.datasets import make_{kind}\n\n"
                f"    points, labels = make_{kind}(n_samples={n!r}, noise={noise!r}{extra}, random_state=seed)\n"
                "    x = torch.tensor(points, dtype=torch.float32)\n"
                "    y = torch.tensor(labels, dtype=torch.int64)\n" + tail, (2,), set(), True)
    if kind == "linear":
        n, f, noise = _num(ds, "samples"), _num(ds, "features"), _num(ds, "noise", float)
        weight = "torch.tensor([2.0])" if f == 1 else f"torch.randn({f!r}, generator=g)"
        return (SPLIT + "\n\n" + head +
                '    """Noisy points around a plane: y = w.x + 1 + noise, x uniform in [-1, 1]."""\n'
                "    g = torch.Generator().manual_seed(seed)\n"
                f"    w = {weight}\n"
                f"    x = torch.rand({n!r}, {f!r}, generator=g) * 2 - 1\n"
                f"    y = (x @ w + 1.0 + {noise!r} * torch.randn({n!r}, generator=g)).unsqueeze(1)\n" + tail,
                (f,), set(), False)
    if kind == "sine":
        n, noise = _num(ds, "samples"), _num(ds, "noise", float)
        return (SPLIT + "\n\n" + head + '    """y = sin(x) + noise, x uniform in [-pi, pi]."""\n'
                "    g = torch.Generator().manual_seed(seed)\n"
                f"    x = (torch.rand({n!r}, 1, generator=g) * 2 - 1) * math.pi\n"
                f"    y = torch.sin(x) + {noise!r} * torch.randn({n!r}, 1, generator=g)\n" + tail,
                (1,), {"import math"}, False)
    if kind == "spirals":
        n, k, noise = _num(ds, "samples"), _num(ds, "classes"), _num(ds, "noise", float)
        return (SPLIT + "\n\n" + head + f'    """{k!r} interleaved spirals: 2 features, one class per arm."""\n'
                "    g = torch.Generator().manual_seed(seed)\n"
                f"    y = torch.arange({n!r}) % {k!r}\n"
                f"    t = torch.rand({n!r}, generator=g)\n"
                f"    angle = t * 3.5 * math.pi + y * (2 * math.pi / {k!r})\n"
                "    x = torch.stack([4 * t * torch.cos(angle), 4 * t * torch.sin(angle)], dim=1)\n"
                f"    x = x + {noise!r} * torch.randn(x.shape, generator=g)\n" + tail, (2,), {"import math"}, True)
    if kind in ("sequence_sum", "parity"):
        n, seq = _num(ds, "samples"), _num(ds, "seq_len")
        if kind == "sequence_sum":
            doc, make = "Sequences of numbers in [-1, 1]; the target is their sum.", (
                f"    x = torch.rand({n!r}, {seq!r}, 1, generator=g) * 2 - 1\n    y = x.sum(dim=1)\n")
        else:
            doc, make = "Bit sequences; the class is whether the number of ones is even (0) or odd (1).", (
                f"    x = torch.randint(0, 2, ({n!r}, {seq!r}, 1), generator=g).float()\n"
                "    y = x.sum(dim=(1, 2)).long() % 2\n")
        return (SPLIT + "\n\n" + head + f'    """{doc}"""\n'
                "    g = torch.Generator().manual_seed(seed)\n" + make + tail, (seq, 1), set(), kind == "parity")
    if kind == "tokens":
        n, seq = _num(ds, "samples"), _num(ds, "seq_len")
        vocab, k = _num(ds, "vocab_size"), _num(ds, "num_classes")
        fill = (f"    x = torch.randint({k + 1!r}, {vocab!r}, ({n!r}, {seq!r}), generator=g)\n" if vocab > k + 1
                else f"    x = torch.zeros({n!r}, {seq!r}, dtype=torch.int64)\n")
        return (SPLIT + "\n\n" + head +
                f'    """Token-id sequences (vocabulary {vocab!r}; 0 is padding, 1..{k!r} are markers, the rest\n'
                '    filler); the class is which marker occurs most often."""\n'
                "    g = torch.Generator().manual_seed(seed)\n" + fill +
                f"    y = torch.randint(0, {k!r}, ({n!r},), generator=g)\n"
                f"    budget = max(2, {seq!r} // 4)  # markers per sequence, at most\n"
                f"    for i in range({n!r}):\n"
                f"        counts = torch.randint(0, max(1, budget // {k!r}), ({k!r},), generator=g)\n"
                "        counts[y[i]] = counts.max() + torch.randint(1, 3, (1,), generator=g)\n"
                f"        ids = torch.repeat_interleave(torch.arange(1, {k + 1!r}), counts)[:{seq!r}]\n"
                f"        x[i, torch.randperm({seq!r}, generator=g)[:len(ids)]] = ids\n" + tail, (seq,), set(), True)
    if kind in TORCHVISION:
        return _torchvision(kind, ds, in_shape)
    return None, None, set(), False


def _torchvision(kind: str, ds: dict, in_shape: tuple):
    """torchvision's loader with the normalisation and augmentation NetStudio's trainer applies,
    read from the trainer's own transforms for these options."""
    from ..training_rules import transforms_for

    cls, natural = TORCHVISION[kind]
    if ds.get("target") == "input":
        return None, None, set(), False
    normalize, augment = transforms_for(kind, ds)
    where = "training.dataset.normalize"
    steps = ["transforms.ToTensor()",
             f"transforms.Normalize({literal([float(m) for m in normalize.mean], where)}, "
             f"{literal([float(s) for s in normalize.std], where)})"]
    reshape = ""
    if natural != in_shape and math.prod(natural) == math.prod(in_shape):
        reshape = "def _to_input_shape(t: torch.Tensor) -> torch.Tensor:\n    return t.reshape(INPUT_SHAPE)\n\n\n"
        steps.append("transforms.Lambda(_to_input_shape)")
        natural = in_shape
    train_steps = list(steps)
    if augment is not None:  # training images only, as NetStudio's trainer does
        crop = [f"transforms.RandomCrop({natural[-1]!r}, padding={int(augment.pad)!r})"] if augment.pad else []
        flip = ["transforms.RandomHorizontalFlip()"] if augment.flip else []
        train_steps = crop + flip + steps
    join = lambda items: ",\n        ".join(items)  # noqa: E731
    code = (reshape + "def load_data(root: str = DATA_ROOT, seed: int = SEED):\n"
            f'    """torchvision\'s {cls} (downloaded into root on first use), normalised as NetStudio does:\n'
            '    (x / 255 - mean) / std per channel."""\n'
            "    from torchvision import datasets, transforms\n\n"
            f"    transform = transforms.Compose([\n        {join(steps)}])\n"
            + (f"    train_transform = transforms.Compose([  # augmented, as NetStudio trains\n        {join(train_steps)}])\n"
               if augment is not None else "    train_transform = transform\n") +
            f"    train_set = datasets.{cls}(root, train=True, download=True, transform=train_transform)\n"
            f"    val_set = datasets.{cls}(root, train=False, download=True, transform=transform)\n"
            "    return train_set, val_set\n")
    return code, natural, set(), True
