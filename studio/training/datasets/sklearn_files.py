"""scikit-learn's bundled data sets (digits, iris, wine, breast cancer) read from the CSV files it ships,
without importing it: a fresh process's first digits load took 1.31-1.43 s with `import sklearn.datasets`
(most of a first run's or a first live preview's wait on the digits templates, docs/preview.md),
0.06-0.09 s reading the file. The arrays are those of `sklearn.datasets.load_<name>()` (tested against it); a file
that is missing or not as expected falls back to scikit-learn's own loader."""
from __future__ import annotations

import csv
import gzip
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np

# name -> (file in sklearn/datasets/data, gzip-compressed plain numbers (no header))
FILES = {"digits": ("digits.csv.gz", True), "iris": ("iris.csv", False), "wine": ("wine_data.csv", False),
         "breast_cancer": ("breast_cancer.csv", False)}


def data_dir() -> Path | None:
    """Where scikit-learn keeps its bundled files, found without importing it (None: not installed)."""
    spec = importlib.util.find_spec("sklearn")  # a top-level package is found, not executed
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def load(name: str) -> SimpleNamespace:
    """data [n, features] float64, target [n] int, target_names, and for digits images [n, 8, 8]."""
    try:
        bunch = _read(name)
    except (OSError, ValueError, StopIteration, IndexError):
        bunch = None
    if bunch is None:  # another layout of scikit-learn's files: its own loader
        import sklearn.datasets as skd

        return getattr(skd, f"load_{name}")()
    return bunch


def _read(name: str) -> SimpleNamespace | None:
    folder = data_dir()
    if folder is None:
        return None
    file_name, compressed = FILES[name]
    path = folder / file_name
    if compressed:  # digits: 64 pixel values and the digit per row
        with gzip.open(path, "rt", encoding="utf-8") as f:
            table = np.loadtxt(f, delimiter=",")
        if table.ndim != 2 or table.shape[1] != 65:
            return None
        data, target = table[:, :-1], table[:, -1].astype(int)
        return SimpleNamespace(data=data, target=target, target_names=np.arange(10),
                               images=data.reshape(-1, 8, 8))
    with open(path, encoding="utf-8", newline="") as f:  # a header: samples, features, class names
        rows = csv.reader(f)
        header = next(rows)
        n, features, names = int(header[0]), int(header[1]), header[2:]
        table = np.array([row for row in rows if row], dtype=np.float64)
    if table.shape != (n, features + 1):
        return None
    return SimpleNamespace(data=table[:, :-1], target=table[:, -1].astype(int), target_names=np.array(names))
