"""The user's own data: a CSV file, a `.npz` with `x` and `y`, a folder of images (one sub-folder per
class). Paths are relative to the project's folder. Everything is read into memory."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from ..errors import TrainingError
from .base import classification, regression
from .registry import bool_option, register
from .transforms import ScaleNormalize

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
TASKS = ("auto", "classification", "regression")


def _task(options) -> str:
    task = options["task"]
    if task not in TASKS:
        raise TrainingError(f"training.dataset.task must be one of {', '.join(TASKS)}, got {task!r}")
    return task


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise TrainingError(f"training.dataset.path: {path} does not exist; give the {what} "
                            "(relative paths start at the project's folder)")
    return path


def _as_classes(values: list) -> tuple[np.ndarray, list[str]]:
    """Class indices 0..k-1 for target values (numbers sort numerically, text alphabetically)."""
    try:
        keys = sorted(set(values), key=float)
    except ValueError:
        keys = sorted(set(values))
    index = {k: i for i, k in enumerate(keys)}
    return np.array([index[v] for v in values], dtype=np.int64), [str(k) for k in keys]


@register("csv", "Your CSV file: numeric feature columns and a target column.", "files", "auto",
          path=None, target_column=None, features=None, task="auto", delimiter=",", standardize=True)
def csv_file(options, ctx):
    path = _existing(ctx.path(options["path"], "path"), "CSV file")
    delimiter = options["delimiter"]
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise TrainingError(f"training.dataset.delimiter must be one character, got {delimiter!r}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh, delimiter=delimiter) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TrainingError(f"{path}: cannot be read as CSV ({exc})") from None
    if len(rows) < 2:
        raise TrainingError(f"{path}: needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    target = options["target_column"] if options["target_column"] is not None else header[-1]
    if target not in header:
        raise TrainingError(f"training.dataset.target_column {target!r} is not a column of {path.name} "
                            f"(columns: {', '.join(header)})")
    features = options["features"] or [h for h in header if h != target]
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise TrainingError(f"training.dataset.features must be a list of column names, got {features!r}")
    for f in features:
        if f not in header:
            raise TrainingError(f"training.dataset.features: {f!r} is not a column of {path.name} "
                                f"(columns: {', '.join(header)})")
    cols = [header.index(f) for f in features]
    t_col = header.index(target)
    x = np.empty((len(rows) - 1, len(cols)), np.float32)
    targets = []
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise TrainingError(f"{path.name} line {r}: has {len(row)} fields, the header has {len(header)}")
        for j, c in enumerate(cols):
            try:
                x[r - 2, j] = float(row[c])
            except ValueError:
                raise TrainingError(f"{path.name} line {r}, column {header[c]!r}: {row[c]!r} is not a number "
                                    "(feature columns must be numeric)") from None
        targets.append(row[t_col].strip())
    task = _task(options)
    if task == "auto":
        try:
            values = [float(t) for t in targets]
            task = "classification" if all(v.is_integer() for v in values) and len(set(values)) <= 20 else "regression"
        except ValueError:
            task = "classification"
    desc = f"{path.name}: {len(features)} feature columns, target {target!r} ({len(targets)} rows)."
    std = bool_option(options, "standardize")
    if task == "classification":
        y, classes = _as_classes(targets)
        return classification("csv", desc, x, y, classes, standardize=std)
    try:
        y = np.array([[float(t)] for t in targets], np.float32)
    except ValueError:
        raise TrainingError(f"{path.name}: target column {target!r} holds text; use task \"classification\"") from None
    return regression("csv", desc, x, y, standardize=std)


@register("npz", "Your .npz file with arrays x (samples) and y (labels or targets).", "files", "auto",
          path=None, x="x", y="y", task="auto", classes=None, standardize=False)
def npz_file(options, ctx):
    path = _existing(ctx.path(options["path"], "path"), ".npz file")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in (options["x"], options["y"]) if k not in data.files]
            if missing:
                raise TrainingError(f"{path.name} has no array {missing[0]!r} (it holds: {', '.join(data.files)})")
            x, y = data[options["x"]], data[options["y"]]
    except TrainingError:
        raise
    except ValueError as exc:
        raise TrainingError(f"{path}: refused: {exc} (only plain numeric arrays are read)") from None
    except Exception as exc:
        raise TrainingError(f"{path}: is not a readable .npz file ({type(exc).__name__}: {exc})") from None
    if len(x) != len(y) or len(x) == 0:
        raise TrainingError(f"{path.name}: x has {len(x)} samples and y has {len(y)}; they must match")
    if x.dtype.kind in "iu":
        x = x.astype(np.int64)
    elif x.dtype.kind in "fb":
        x = x.astype(np.float32)
    else:
        raise TrainingError(f"{path.name}: x has dtype {x.dtype}; it must hold numbers")
    task = _task(options)
    if task == "auto":
        task = "classification" if y.dtype.kind in "iub" and y.ndim == 1 else "regression"
    desc = f"{path.name}: {len(x)} samples of shape {list(x.shape[1:])}."
    std = bool_option(options, "standardize")
    if task == "classification":
        if y.ndim != 1 or y.dtype.kind not in "iub" or (len(y) and y.min() < 0):
            raise TrainingError(f"{path.name}: for classification y must hold class indices 0..k-1 (one per sample)")
        k = int(y.max()) + 1
        classes = options["classes"] or [str(i) for i in range(k)]
        if not isinstance(classes, list) or len(classes) < k:
            raise TrainingError(f"training.dataset.classes must list at least {k} class names, got {classes!r}")
        return classification("npz", desc, x, y.astype(np.int64), [str(c) for c in classes], standardize=std)
    y = y.astype(np.float32)
    return regression("npz", desc, x, y if y.ndim > 1 else y[:, None], standardize=std)


@register("image_folder", "Your images: a folder with one sub-folder of images per class.", "files",
          "classification", path=None, size=None, grayscale=False, normalize=False)
def image_folder(options, ctx):
    from PIL import Image, UnidentifiedImageError

    root = _existing(ctx.path(options["path"], "path"), "folder with one sub-folder per class")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise TrainingError(f"{root}: has no sub-folders; put each class's images in a sub-folder named after it")
    size = options["size"]
    if size is not None and (not isinstance(size, list) or len(size) != 2
                             or not all(isinstance(s, int) and s > 0 for s in size)):
        raise TrainingError(f"training.dataset.size must be [height, width], got {size!r}")
    mode = "L" if bool_option(options, "grayscale") else "RGB"
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        for f in files:
            try:
                with Image.open(f) as im:
                    im = im.convert(mode)
                    if size is None:
                        size = [im.height, im.width]
                    if [im.height, im.width] != size:
                        im = im.resize((size[1], size[0]), Image.BILINEAR)
                    arr = np.asarray(im, dtype=np.uint8)
            except (OSError, UnidentifiedImageError) as exc:
                raise TrainingError(f"{f}: cannot be read as an image ({exc})") from None
            images.append(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1))
            labels.append(label)
    if not images:
        raise TrainingError(f"{root}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)} in the class folders)")
    x = torch.from_numpy(np.stack(images))
    channels = x.shape[1]
    norm = options["normalize"]
    mean, std = ([0.5] * channels, [0.5] * channels) if norm is True else ([0.0] * channels, [1.0] * channels)
    desc = f"{root.name}: {len(images)} images [{channels}, {size[0]}, {size[1]}] in {len(classes)} classes."
    return classification("image_folder", desc, x, np.array(labels), classes, transform=ScaleNormalize(mean, std))
