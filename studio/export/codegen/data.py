"""load_data() for the generated script: the project's dataset, written as plain PyTorch /
scikit-learn / torchvision code. Kinds that cannot be generated get a load_data() that raises
NotImplementedError saying what to supply, and the export report says so too."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

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


def data_code(training: dict, inputs: list, outputs: list) -> DataCode:
    """inputs/outputs: [(name, TensorType)] of the model."""
    ds = dict(training.get("dataset") or {})
    kind = str(ds.get("name", "")).lower()
    if len(inputs) != 1:
        return _unsupported(kind or "(none)", f"the model has {len(inputs)} inputs and NetStudio generates data for "
                            "one-input models only", inputs)
    (in_name, in_type), = inputs
    in_shape = _shape(in_type)
    body, natural, imports, classification = _body(kind, ds, in_shape)
    if body is None:
        why = "no dataset is set in the project" if not kind else f"the dataset kind {kind!r} has no generated loader"
        return _unsupported(kind or "(none)", why, inputs)
    if natural is not None and natural != in_shape:
        if math.prod(natural) != math.prod(in_shape):
            return _unsupported(kind, f"its samples are {list(natural)} but the model input '{in_name}' is "
                                f"{list(in_shape)}", inputs)
        body = body.replace("#RESHAPE", f"x = x.reshape(len(x), *INPUT_SHAPE)  # {list(natural)} -> the model's input")
    body = body.replace("    #RESHAPE\n", "")
    if ds.get("target") == "input":
        body = body.replace("#TARGET", "y = x.clone()  # reconstruction: the target is the input itself")
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
    """(load_data source with #RESHAPE/#TARGET markers, natural sample shape, imports, classification)."""
    head = "def load_data(root: str = DATA_ROOT, seed: int = SEED):\n"
    if kind == "digits":
        return (SPLIT + "\n\n" + head +
                '    """scikit-learn\'s 8x8 digits (no download) as [1, 8, 8] images in 0..1."""\n'
                "    from sklearn.datasets import load_digits\n\n"
                "    digits = load_digits()\n"
                "    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0\n"
                "    y = torch.tensor(digits.target, dtype=torch.int64)\n"
                "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n", (1, 8, 8), set(), True)
    if kind in SKLEARN_TABLES:
        fn = SKLEARN_TABLES[kind]
        return (SPLIT + "\n\n" + head +
                f'    """scikit-learn\'s {kind} table, each feature standardized."""\n'
                f"    from sklearn.datasets import {fn}\n\n"
                f"    data = {fn}()\n"
                "    x = torch.tensor(data.data, dtype=torch.float32)\n"
                "    x = (x - x.mean(0)) / x.std(0).clamp_min(1e-8)\n"
                "    y = torch.tensor(data.target, dtype=torch.int64)\n"
                "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n", SKLEARN_SHAPES[kind], set(), True)
    if kind in ("moons", "circles", "blobs"):
        n = int(ds.get("samples", 1000))
        if kind == "blobs":
            call = (f"make_blobs(n_samples={n}, centers={int(ds.get('centers', 3))}, "
                    f"n_features={int(ds.get('n_features', 2))}, random_state=seed)")
            natural = (int(ds.get("n_features", 2)),)
        else:
            extra = f", factor={float(ds.get('factor', 0.5))!r}" if kind == "circles" else ""
            call = f"make_{kind}(n_samples={n}, noise={float(ds.get('noise', 0.1))!r}{extra}, random_state=seed)"
            natural = (2,)
        fn = call.split("(")[0]
        return (SPLIT + "\n\n" + head + f'    """scikit-learn\'s {kind} point clouds."""\n'
                f"    from sklearn.datasets import {fn}\n\n"
                f"    points, labels = {call}\n"
                "    x = torch.tensor(points, dtype=torch.float32)\n"
                "    y = torch.tensor(labels, dtype=torch.int64)\n"
                "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n", natural, set(), True)
    if kind == "linear":
        n = int(ds.get("samples", 500))
        f = int(ds.get("features", math.prod(in_shape) if in_shape else 1))
        weight = "torch.tensor([2.0])" if f == 1 else f"torch.randn({f}, generator=g)"
        return (SPLIT + "\n\n" + head +
                '    """Noisy points around a plane: y = w.x + 1 + noise, x uniform in [-1, 1]."""\n'
                "    g = torch.Generator().manual_seed(seed)\n"
                f"    w = {weight}\n"
                f"    x = torch.rand({n}, {f}, generator=g) * 2 - 1\n"
                f"    y = (x @ w + 1.0 + {float(ds.get('noise', 0.1))!r} * torch.randn({n}, generator=g)).unsqueeze(1)\n"
                "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n", (f,), set(), False)
    if kind == "sine":
        n = int(ds.get("samples", 1000))
        return (SPLIT + "\n\n" + head + '    """y = sin(x) + noise, x uniform in [-pi, pi]."""\n'
                "    g = torch.Generator().manual_seed(seed)\n"
                f"    x = (torch.rand({n}, 1, generator=g) * 2 - 1) * math.pi\n"
                f"    y = torch.sin(x) + {float(ds.get('noise', 0.05))!r} * torch.randn({n}, 1, generator=g)\n"
                "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n", (1,), {"import math"}, False)
    if kind == "spirals":
        n, k = int(ds.get("samples", 1000)), int(ds.get("classes", 2))
        return (SPLIT + "\n\n" + head + f'    """{k} interleaved spirals: 2 features, one class per arm."""\n'
                "    g = torch.Generator().manual_seed(seed)\n"
                f"    y = torch.arange({n}) % {k}\n"
                f"    t = torch.rand({n}, generator=g)\n"
                f"    angle = t * 3.5 * math.pi + y * (2 * math.pi / {k})\n"
                "    x = torch.stack([4 * t * torch.cos(angle), 4 * t * torch.sin(angle)], dim=1)\n"
                f"    x = x + {float(ds.get('noise', 0.2))!r} * torch.randn(x.shape, generator=g)\n"
                "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n", (2,), {"import math"}, True)
    if kind in ("sequence_sum", "parity"):
        n = int(ds.get("samples", 2000))
        seq = int(ds.get("seq_len", in_shape[0] if in_shape else (20 if kind == "sequence_sum" else 8)))
        if kind == "sequence_sum":
            doc, make = "Sequences of numbers in [-1, 1]; the target is their sum.", (
                f"    x = torch.rand({n}, {seq}, 1, generator=g) * 2 - 1\n    y = x.sum(dim=1)\n")
        else:
            doc, make = "Bit sequences; the class is whether the number of ones is even (0) or odd (1).", (
                f"    x = torch.randint(0, 2, ({n}, {seq}, 1), generator=g).float()\n"
                "    y = x.sum(dim=(1, 2)).long() % 2\n")
        return (SPLIT + "\n\n" + head + f'    """{doc}"""\n'
                "    g = torch.Generator().manual_seed(seed)\n" + make +
                "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n", (seq, 1), set(), kind == "parity")
    if kind == "tokens":
        n, seq = int(ds.get("samples", 2000)), int(ds.get("seq_len", in_shape[0] if in_shape else 32))
        vocab, k = int(ds.get("vocab_size", 20)), int(ds.get("num_classes", 4))
        fill = (f"    x = torch.randint({k + 1}, {vocab}, ({n}, {seq}), generator=g)\n" if vocab > k + 1
                else f"    x = torch.zeros({n}, {seq}, dtype=torch.int64)\n")
        return (SPLIT + "\n\n" + head +
                f'    """Token-id sequences (vocabulary {vocab}; 0 is padding, 1..{k} are markers, the rest\n'
                '    filler); the class is which marker occurs most often."""\n'
                "    g = torch.Generator().manual_seed(seed)\n" + fill +
                f"    y = torch.randint(0, {k}, ({n},), generator=g)\n"
                f"    budget = max(2, {seq} // 4)  # markers per sequence, at most\n"
                f"    for i in range({n}):\n"
                f"        counts = torch.randint(0, max(1, budget // {k}), ({k},), generator=g)\n"
                "        counts[y[i]] = counts.max() + torch.randint(1, 3, (1,), generator=g)\n"
                f"        ids = torch.repeat_interleave(torch.arange(1, {k + 1}), counts)[:{seq}]\n"
                f"        x[i, torch.randperm({seq}, generator=g)[:len(ids)]] = ids\n"
                "    #RESHAPE\n    #TARGET\n    return _split(x, y, seed)\n", (seq,), set(), True)
    if kind in TORCHVISION:
        cls, natural = TORCHVISION[kind]
        norm = ds.get("normalize") or {}
        steps = ["transforms.ToTensor()"]
        if norm.get("mean") is not None and norm.get("std") is not None:
            steps.append(f"transforms.Normalize({list(norm['mean'])!r}, {list(norm['std'])!r})")
        steps.append("#LAMBDA")
        tf = ", ".join(steps)
        code = (head + f'    """torchvision\'s {cls} (downloaded into root on first use)."""\n'
                "    from torchvision import datasets, transforms\n\n"
                f"    transform = transforms.Compose([{tf}])\n"
                f"    train_set = datasets.{cls}(root, train=True, download=True, transform=transform)\n"
                f"    val_set = datasets.{cls}(root, train=False, download=True, transform=transform)\n"
                "    return train_set, val_set\n")
        if natural != in_shape and math.prod(natural) == math.prod(in_shape):
            code = ("def _to_input_shape(t: torch.Tensor) -> torch.Tensor:\n    return t.reshape(INPUT_SHAPE)\n\n\n"
                    + code.replace("#LAMBDA", "transforms.Lambda(_to_input_shape)"))
            natural = in_shape
        code = code.replace(", #LAMBDA", "")
        if ds.get("target") == "input":
            return None, None, set(), False
        return code, natural, set(), True
    return None, None, set(), False
