"""The user's own data: a CSV file, a `.npz` with `x` and `y`, a folder of images (one sub-folder per
class). Paths are relative to the project's folder. Everything is read into memory."""
from __future__ import annotations

import contextlib
import csv
import re
import warnings
from pathlib import Path

import numpy as np
import torch

from ...core.limits import MAX_INDEX, FileRefused, check_regular_file, memory_bytes
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


def _read_csv(path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank row; the file must be a regular file that fits in memory."""
    try:
        check_regular_file(path, memory_bytes(), "CSV file")
    except FileRefused as exc:
        raise TrainingError(f"{path}: cannot be read as CSV ({exc.reason})") from None
    with contextlib.suppress(OverflowError):  # a C long may be 32 bits: the default limit stays then
        csv.field_size_limit(MAX_INDEX)  # one long field is no reason to refuse; memory bounds the file
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            return [(reader.line_num, r) for r in reader if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TrainingError(f"{path}: cannot be read as CSV ({exc})") from None


def _columns(header: list[str], names: list[str], path: Path, option: str) -> list[int]:
    """Column indices of `names`, by one dict lookup each (100k columns stay linear)."""
    index = {h: i for i, h in enumerate(header)}
    out = []
    for f in names:
        if f not in index:
            shown = ", ".join(header[:20]) + (f", ... ({len(header)} in all)" if len(header) > 20 else "")
            raise TrainingError(f"training.dataset.{option}: {f!r} is not a column of {path.name} (columns: {shown})")
        out.append(index[f])
    return out


def _numbers(row: list[str], cols: list[int], header: list[str], path: Path, line: int) -> np.ndarray:
    """One row's feature cells as float32 (numpy parses them in C); a bad cell named by line and column."""
    cells = [row[c] for c in cols]
    try:
        with np.errstate(over="ignore"):  # 1e39 becomes inf, which the check below names
            values = np.array(cells).astype(np.float32) if cells else np.empty(0, np.float32)
    except ValueError:
        values = None
    if values is not None and np.isfinite(values).all():
        return values
    out = np.empty(len(cells), np.float32)  # the slow way, cell by cell, to name the first bad one
    for j, (c, cell) in enumerate(zip(cols, cells)):
        try:
            v = float(cell)
        except ValueError:
            raise TrainingError(f"{path.name} line {line}, column {header[c]!r}: {cell.strip()[:40]!r} is not a "
                                "number (feature columns must be numeric)") from None
        with np.errstate(over="ignore"):
            out[j] = v
        if not np.isfinite(out[j]):
            raise TrainingError(f"{path.name} line {line}, column {header[c]!r}: {cell.strip()[:40]!r} is not a "
                                "finite number (NaN, infinite, or too large for float32); fill in the value "
                                "or drop the row")
    return out


@register("csv", "Your CSV file: numeric feature columns and a target column.", "files", "auto",
          path=None, target_column=None, features=None, task="auto", delimiter=",", standardize=True)
def csv_file(options, ctx):
    path = _existing(ctx.path(options["path"], "path"), "CSV file")
    delimiter = options["delimiter"]
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise TrainingError(f"training.dataset.delimiter must be one character, got {delimiter!r}")
    rows = _read_csv(path, delimiter)
    if len(rows) < 2:
        raise TrainingError(f"{path}: needs a header row and at least one data row")
    header = [h.strip() for h in rows[0][1]]
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in seen:
            raise TrainingError(f"{path.name} line {rows[0][0]}: columns {seen[h] + 1} and {i + 1} are both "
                                f"named {h!r}; give every column its own name")
        seen[h] = i
    target = options["target_column"] if options["target_column"] is not None else header[-1]
    if not isinstance(target, str) or target not in seen:
        raise TrainingError(f"training.dataset.target_column {target!r} is not a column of {path.name} "
                            f"(columns: {', '.join(header[:20])}{', ...' if len(header) > 20 else ''})")
    features = options["features"] or [h for h in header if h != target]
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise TrainingError(f"training.dataset.features must be a list of column names, got {features!r}")
    cols = _columns(header, features, path, "features")
    t_col = seen[target]
    x = np.empty((len(rows) - 1, len(cols)), np.float32)
    targets = []
    for r, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise TrainingError(f"{path.name} line {line}: has {len(row)} fields, the header has {len(header)}")
        x[r] = _numbers(row, cols, header, path, line)
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
    y = np.empty((len(targets), 1), np.float32)
    for r, ((line, _), t) in enumerate(zip(rows[1:], targets)):
        try:
            with np.errstate(over="ignore"):
                y[r, 0] = float(t)
        except ValueError:
            raise TrainingError(f"{path.name} line {line}, column {target!r}: {t[:40]!r} is not a number; the "
                                "target column holds text, so use task \"classification\"") from None
        if not np.isfinite(y[r, 0]):
            raise TrainingError(f"{path.name} line {line}, column {target!r}: {t[:40]!r} is not a finite number "
                                "(NaN, infinite, or too large for float32); fill in the value or drop the row")
    return regression("csv", desc, x, y, standardize=std)


def _refuse_non_finite(a: np.ndarray, name: str, path: Path) -> None:
    """NaN or inf in a float array (a float64 past float32 is inf after the cast) named by array and
    index, as a CSV cell is named: left to the first step it reads as 'try a lower learning rate'."""
    bad = ~np.isfinite(a)
    if bad.any():
        where = np.unravel_index(int(np.argmax(bad)), a.shape)  # the first bad element, in sample order
        index = ", ".join(str(int(i)) for i in where)
        raise TrainingError(f"{path.name}: {name}[{index}] is {a[where]} (NaN, infinite, or too large for float32) "
                            f"in sample {int(where[0])}; fix or drop that sample")


@register("npz", "Your .npz file with arrays x (samples) and y (labels or targets).", "files", "auto",
          path=None, x="x", y="y", task="auto", classes=None, standardize=False)
def npz_file(options, ctx):
    path = _existing(ctx.path(options["path"], "path"), ".npz file")
    try:
        check_regular_file(path, memory_bytes(), ".npz file")
    except FileRefused as exc:
        raise TrainingError(f"{path}: cannot be read as .npz ({exc.reason})") from None
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
        with np.errstate(over="ignore"):  # 1e39 becomes inf, which the check names
            x = x.astype(np.float32)
        _refuse_non_finite(x, options["x"], path)
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
    with np.errstate(over="ignore"):
        y = y.astype(np.float32)
    _refuse_non_finite(y, options["y"], path)
    return regression("npz", desc, x, y if y.ndim > 1 else y[:, None], standardize=std)


# a decoded image takes up to 4 bytes a pixel (RGBA) and, with the copies convert and resize make, a
# decode may take this share of the machine's memory; the rest holds the dataset and the model
DECODE_SHARE = 8


def pixel_cap() -> int:
    """The most pixels one image may declare: what a decode may take of this machine's memory, and
    never more than Pillow's own decompression-bomb limit."""
    from PIL import Image

    return min(memory_bytes() // (4 * DECODE_SHARE), Image.MAX_IMAGE_PIXELS or MAX_INDEX)


@contextlib.contextmanager
def _open_image(f: Path, cap: int):
    """Pillow's lazy open (the header only), refused before any pixel is decoded when the image
    declares more than `cap` pixels (a 200-byte PNG may declare 20000 x 20000)."""
    from PIL import Image, UnidentifiedImageError

    def refuse(declared: str) -> TrainingError:
        return TrainingError(f"{f}: declares {declared}, more than the {cap:,} pixels an image may have here "
                             "(decoding it could exhaust memory: a decompression bomb?); shrink it or remove it")

    try:
        check_regular_file(f, memory_bytes(), "image file")
    except FileRefused as exc:
        raise TrainingError(f"{f}: cannot be read as an image ({exc.reason})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the cap below decides
            im = Image.open(f)
    except Image.DecompressionBombError as exc:  # past twice Pillow's limit: it gives only the count
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise refuse(f"{int(found.group(1)):,} pixels" if found else "too many pixels") from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise TrainingError(f"{f}: cannot be read as an image ({exc})") from None
    with im:
        if im.width * im.height > cap:
            raise refuse(f"{im.width} x {im.height} pixels ({im.width * im.height:,})")
        yield im


@register("image_folder", "Your images: a folder with one sub-folder of images per class.", "files",
          "classification", path=None, size=None, grayscale=False, normalize=False)
def image_folder(options, ctx):
    from PIL import Image

    root = _existing(ctx.path(options["path"], "path"), "folder with one sub-folder per class")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise TrainingError(f"{root}: has no sub-folders; put each class's images in a sub-folder named after it")
    size = options["size"]
    if size is not None and (not isinstance(size, list) or len(size) != 2
                             or not all(isinstance(s, int) and s > 0 for s in size)):
        raise TrainingError(f"training.dataset.size must be [height, width], got {size!r}")
    mode = "L" if bool_option(options, "grayscale") else "RGB"
    cap = pixel_cap()
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        for f in files:
            with _open_image(f, cap) as im:
                try:
                    im = im.convert(mode)
                    if size is None:
                        size = [im.height, im.width]
                    if [im.height, im.width] != size:
                        im = im.resize((size[1], size[0]), Image.BILINEAR)
                    arr = np.asarray(im, dtype=np.uint8)
                except (OSError, ValueError) as exc:
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
