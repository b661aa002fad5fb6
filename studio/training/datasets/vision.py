"""torchvision's MNIST, Fashion-MNIST and CIFAR-10, read from torchvision's on-disk layout:

    <root>/MNIST/raw/train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte, t10k-images-idx3-ubyte, ...
    <root>/FashionMNIST/raw/  (the same four files)
    <root>/cifar-10-batches-py/data_batch_1 .. data_batch_5, test_batch

Missing files are downloaded with torchvision when the machine is online; offline, the error says
which files to put in which folder. Images stay uint8 in memory (4x smaller) and become normalised
floats per batch on the device. CIFAR's pickled batches are read with an unpickler that only builds
numpy arrays, so a tampered file cannot run code.
"""
from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

import numpy as np
import torch

from ..errors import TrainingError
from .base import Part, classification
from .registry import bool_option, int_option, register
from .transforms import RandomCropFlip, ScaleNormalize

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")
CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
STATS = {"mnist": ([0.1307], [0.3081]), "fashion_mnist": ([0.2860], [0.3530]),
         "cifar10": ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])}
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]
CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
VISION_OPTIONS = dict(root="data", normalize=True, augment=False, download=True, limit=0)


# ---- files ---------------------------------------------------------------------------------------
def _open_maybe_gz(folder: Path, name: str) -> bytes | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            data = candidate.read_bytes()
            return gzip.decompress(data) if candidate.suffix == ".gz" else data
    return None


def read_idx(data: bytes, what: str) -> np.ndarray:
    """An IDX file (MNIST's format): big-endian magic, dimension sizes, then uint8 data."""
    if len(data) < 8 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise TrainingError(f"{what} is not an MNIST IDX file of bytes (bad header)")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    count = int(np.prod(dims)) if dims else 0
    if len(data) - offset != count:
        raise TrainingError(f"{what} is truncated or corrupt: expected {count} values for shape {dims}, "
                            f"found {len(data) - offset}; download it again")
    return np.frombuffer(data, np.uint8, count, offset).reshape(dims)


class _ArraysOnly(pickle.Unpickler):
    """Builds plain containers and numpy arrays, nothing else: a pickle that names any other
    callable (os.system, eval, ...) is refused instead of run."""

    def find_class(self, module, name):
        allowed = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                   ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.numeric", "_frombuffer"),
                   ("numpy._core.numeric", "_frombuffer"), ("numpy.core.multiarray", "scalar"),
                   ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}
        if (module, name) in allowed:
            import importlib

            try:
                return getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                return getattr(importlib.import_module(module.replace("numpy.core", "numpy._core")), name)
        raise pickle.UnpicklingError(f"it refers to {module}.{name}, which a data file never needs")


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        record = _ArraysOnly(io.BytesIO(path.read_bytes()), encoding="latin1").load()
        data = np.asarray(record.get("data", record.get(b"data")), dtype=np.uint8)
        labels = np.asarray(record.get("labels", record.get(b"labels")), dtype=np.int64)
        return data.reshape(-1, 3, 32, 32), labels
    except pickle.UnpicklingError as exc:
        raise TrainingError(f"{path}: refused: {exc}; replace it with the file from the official "
                            "CIFAR-10 archive") from None
    except Exception as exc:
        raise TrainingError(f"{path}: is not a CIFAR-10 batch file ({type(exc).__name__}: {exc}); "
                            "download it again") from None


# ---- download --------------------------------------------------------------------------------------
def _download(name: str, root: Path, folder: Path, files: tuple[str, ...], allowed: bool) -> None:
    where = (f"put {', '.join(files)} (from the official {name} archive; .gz is fine for MNIST) in "
             f"{folder}/")
    if not allowed:
        raise TrainingError(f"{name} is not in {folder}/ and downloading is off (training.dataset.download "
                            f"is false); {where}")
    import torchvision.datasets as tvd

    cls = {"MNIST": tvd.MNIST, "Fashion-MNIST": tvd.FashionMNIST, "CIFAR-10": tvd.CIFAR10}[name]
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        root.mkdir(parents=True, exist_ok=True)
        cls(str(root), train=True, download=True)
    except Exception as exc:
        for p in sorted(created, key=lambda p: len(p.parts), reverse=True):  # leave no empty folders behind
            if p.is_dir() and not any(p.iterdir()):
                p.rmdir()
        lines = [ln.strip(" <>") for ln in str(exc).strip().splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower()]
        reason = errors[-1] if errors else (lines[-1] if lines else type(exc).__name__)
        raise TrainingError(f"{name} is not in {folder}/ and could not be downloaded (is this machine "
                            f"offline? {reason}). Download it on a machine that is online, or {where}") from None


AUGMENT = {"mnist": (2, False), "fashion_mnist": (2, False), "cifar10": (4, True)}  # crop padding, flip


def transforms_for(key: str, options: dict):
    """(ScaleNormalize, augmentation or None) the trainer applies to dataset `key` with these options
    (defaults filled in); the code exporter writes the same into its script."""
    return _transforms(key, options, *AUGMENT[key])


def _transforms(key: str, options: dict, pad: int, flip: bool):
    norm = options["normalize"]
    if norm is True:
        mean, std = STATS[key]
    elif norm is False or norm is None:
        mean, std = [0.0] * len(STATS[key][0]), [1.0] * len(STATS[key][0])
    elif isinstance(norm, dict) and "mean" in norm and "std" in norm:
        mean, std = norm["mean"], norm["std"]
        channels = len(STATS[key][0])
        for label, v in (("mean", mean), ("std", std)):
            if (not isinstance(v, list) or len(v) != channels
                    or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in v)):
                raise TrainingError(f"training.dataset.normalize.{label} must be a list of {channels} "
                                    f"number{'s' * (channels > 1)} (one per channel), got {v!r}")
        if any(s <= 0 for s in std):
            raise TrainingError(f"training.dataset.normalize.std must be positive numbers, got {std!r}")
    else:
        raise TrainingError("training.dataset.normalize must be true (the usual mean and std), false, "
                            f"or {{\"mean\": [...], \"std\": [...]}}, got {norm!r}")
    aug = options["augment"]
    augment = None
    if aug is True:
        augment = RandomCropFlip(pad, flip)
    elif isinstance(aug, dict):
        unknown = set(aug) - {"crop", "flip"}
        if unknown:
            raise TrainingError(f"training.dataset.augment.{sorted(unknown)[0]} is not an option "
                                "(accepted: crop (padding in pixels), flip)")
        crop = aug.get("crop", pad)
        if isinstance(crop, bool) or not isinstance(crop, int) or crop < 0:
            raise TrainingError(f"training.dataset.augment.crop must be the padding in pixels (>= 0), got {crop!r}")
        augment = RandomCropFlip(crop, bool(aug.get("flip", flip)))
    elif aug not in (False, None):
        raise TrainingError(f"training.dataset.augment must be true, false or {{\"crop\": 4, \"flip\": true}}, got {aug!r}")
    return ScaleNormalize(mean, std), augment


def _limit(x, y, options):
    n = int_option(options, "limit", 0)
    return (x[:n], y[:n]) if n else (x, y)


def _mnist_like(key: str, title: str, folder_name: str, classes, options, ctx):
    root = ctx.path(options["root"], "root")
    folder = root / folder_name / "raw"
    if any(_open_maybe_gz(folder, f) is None for f in MNIST_FILES):
        _download(title, root, folder, MNIST_FILES, bool_option(options, "download"))
    arrays = []
    for f in MNIST_FILES:
        data = _open_maybe_gz(folder, f)
        if data is None:
            raise TrainingError(f"{title}: {folder / f} is missing; put the four files {', '.join(MNIST_FILES)} "
                                f"in {folder}/")
        arrays.append(read_idx(data, str(folder / f)))
    (xtr, ytr), (xte, yte) = _limit(arrays[0], arrays[1], options), _limit(arrays[2], arrays[3], options)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise TrainingError(f"{title} in {folder}/: images and labels have different counts; download it again")
    transform, augment = transforms_for(key, options)
    as_x = lambda a: torch.from_numpy(np.array(a)).unsqueeze(1)  # noqa: E731
    test = Part(as_x(xte), torch.from_numpy(yte.astype(np.int64)))
    return classification(key, f"{title}: 28x28 grey images [1, 28, 28], 10 classes ({len(xtr):,} for "
                          f"training, {len(xte):,} for testing).", as_x(xtr), ytr.astype(np.int64), classes,
                          transform=transform, augment=augment, test=test)


@register("mnist", "Handwritten digits: 28x28 grey images [1, 28, 28], 10 classes (torchvision; downloads).",
          "download", "classification", **VISION_OPTIONS)
def mnist(options, ctx):
    return _mnist_like("mnist", "MNIST", "MNIST", [str(i) for i in range(10)], options, ctx)


@register("fashion_mnist", "Clothing: 28x28 grey images [1, 28, 28], 10 classes (torchvision; downloads).",
          "download", "classification", **VISION_OPTIONS)
def fashion_mnist(options, ctx):
    return _mnist_like("fashion_mnist", "Fashion-MNIST", "FashionMNIST", FASHION, options, ctx)


@register("cifar10", "Small photos: 32x32 colour images [3, 32, 32], 10 classes (torchvision; downloads).",
          "download", "classification", **VISION_OPTIONS)
def cifar10(options, ctx):
    root = ctx.path(options["root"], "root")
    folder = root / "cifar-10-batches-py"
    if any(not (folder / f).is_file() for f in CIFAR_FILES):
        _download("CIFAR-10", root, folder, CIFAR_FILES, bool_option(options, "download"))
    train = [read_cifar_batch(folder / f) for f in CIFAR_FILES[:-1]]
    xtr, ytr = np.concatenate([a for a, _ in train]), np.concatenate([b for _, b in train])
    xte, yte = read_cifar_batch(folder / "test_batch")
    (xtr, ytr), (xte, yte) = _limit(xtr, ytr, options), _limit(xte, yte, options)
    transform, augment = transforms_for("cifar10", options)
    test = Part(torch.from_numpy(xte), torch.from_numpy(yte))
    return classification("cifar10", f"CIFAR-10: 32x32 colour images [3, 32, 32], 10 classes ({len(xtr):,} "
                          f"for training, {len(xte):,} for testing).", torch.from_numpy(xtr), ytr, CIFAR10,
                          transform=transform, augment=augment, test=test)
