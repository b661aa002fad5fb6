"""Embedded datasets that ship with scikit-learn (no download): digits, iris, wine, breast cancer."""
from __future__ import annotations

import numpy as np

from .base import classification
from .registry import bool_option, register


def _sk(name):
    from .sklearn_files import load  # the bundled files, read without importing scikit-learn

    return load(name)


@register("digits", "Handwritten digits 0-9 as 8x8 grey images [1, 8, 8] scaled to 0..1 "
          "(scikit-learn, 1,797 samples).", "embedded", "classification")
def digits(options, ctx):
    d = _sk("digits")
    x = (d.images.astype(np.float32) / 16.0)[:, None, :, :]
    return classification("digits", "Handwritten digits 0-9: 8x8 grey images [1, 8, 8] scaled to 0..1 "
                          "(scikit-learn, 1,797 samples).", x, d.target, [str(i) for i in range(10)])


def _table(name, title, options):
    d = _sk(name)
    x = d.data.astype(np.float32)
    classes = [str(c) for c in d.target_names]
    desc = f"{title}: {x.shape[1]} features, {len(classes)} classes ({', '.join(classes)}), {len(x)} samples."
    return classification(name, desc, x, d.target, classes, standardize=bool_option(options, "standardize"))


@register("iris", "Iris flowers: 4 measurements, 3 species (150 samples).", "embedded", "classification",
          standardize=True)
def iris(options, ctx):
    return _table("iris", "Iris flowers", options)


@register("wine", "Wines: 13 chemical measurements, 3 cultivars (178 samples).", "embedded",
          "classification", standardize=True)
def wine(options, ctx):
    return _table("wine", "Wines", options)


@register("breast_cancer", "Breast cancer (Wisconsin): 30 features, malignant or benign (569 samples).",
          "embedded", "classification", standardize=True)
def breast_cancer(options, ctx):
    return _table("breast_cancer", "Breast cancer (Wisconsin)", options)
