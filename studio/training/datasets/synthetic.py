"""Generated datasets (seeded, no download): 2-D classification toys, regression curves, a sequence
task for RNNs and a token-sequence task for Transformers."""
from __future__ import annotations

import math

import numpy as np

from ..errors import TrainingError
from .base import classification, regression
from .registry import fits_in_memory, float_option, int_option, register, samples_option


def _rng(options):
    return np.random.default_rng(int_option(options, "seed", 0))


# scikit-learn's make_moons and make_circles, point for point (tests/training/test_sklearn_files.py holds
# them to it): importing sklearn.datasets for them made a fresh process's first load 1.3-1.4 s, now 0.06 s
def _two_rings(outer, inner, noise: float, seed: int):
    """Stack the two rings' points, labels 0 and 1, shuffled then jittered by a RandomState(seed) as
    scikit-learn does (a permutation of the indices first, then the Gaussian noise)."""
    x = np.vstack([np.append(outer[0], inner[0]), np.append(outer[1], inner[1])]).T
    y = np.hstack([np.zeros(len(outer[0]), dtype=np.intp), np.ones(len(inner[0]), dtype=np.intp)])
    generator = np.random.RandomState(seed)
    order = np.arange(len(x))
    generator.shuffle(order)
    x = x[order] + generator.normal(scale=noise, size=x.shape)  # drawn after the permutation, as it does
    return x, y[order]


def make_moons(n: int, noise: float, seed: int):
    n_out = n // 2
    n_in = n - n_out
    outer = (np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out)))
    inner = (1 - np.cos(np.linspace(0, np.pi, n_in)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5)
    return _two_rings(outer, inner, noise, seed)


def make_circles(n: int, noise: float, factor: float, seed: int):
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    outer = (np.cos(t_out), np.sin(t_out))
    inner = (np.cos(t_in) * factor, np.sin(t_in) * factor)
    return _two_rings(outer, inner, noise, seed)


@register("moons", "Two interleaving half circles: 2 features, 2 classes.", "generated", "classification",
          samples=1000, noise=0.15, seed=0)
def moons(options, ctx):
    n, noise = samples_option(options, 3), float_option(options, "noise")
    x, y = make_moons(n, noise, int_option(options, "seed", 0))
    return classification("moons", f"Two interleaving half circles ({n} points, noise {noise:g}): "
                          "2 features, 2 classes.", x.astype(np.float32), y, ["upper", "lower"])


@register("circles", "A circle inside a circle: 2 features, 2 classes.", "generated", "classification",
          samples=1000, noise=0.1, factor=0.5, seed=0)
def circles(options, ctx):
    n, noise = samples_option(options, 3), float_option(options, "noise")
    factor = float_option(options, "factor", 0.01, 0.99)
    x, y = make_circles(n, noise, factor, int_option(options, "seed", 0))
    return classification("circles", f"A circle inside a circle ({n} points): 2 features, 2 classes.",
                          x.astype(np.float32), y, ["outer", "inner"])


@register("spirals", "Interleaved spirals: 2 features, one class per arm.", "generated", "classification",
          samples=1000, noise=0.2, classes=2, seed=0)
def spirals(options, ctx):
    n, noise = samples_option(options, 6), float_option(options, "noise")
    k = int_option(options, "classes", 2, 10)
    rng = _rng(options)
    y = np.arange(n) % k
    t = rng.uniform(0.0, 1.0, n)
    r = t * 4.0
    angle = t * 3.5 * math.pi + y * (2 * math.pi / k)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + rng.normal(0, noise, (n, 2))
    return classification("spirals", f"{k} interleaved spirals ({n} points): 2 features, {k} classes.",
                          x.astype(np.float32), y, [f"arm {i}" for i in range(k)])


@register("linear", "Linear regression: y = w.x + b + noise.", "generated", "regression",
          samples=500, features=1, noise=0.1, seed=0)
def linear(options, ctx):
    f = int_option(options, "features", 1)
    n, noise = samples_option(options, f + 2), float_option(options, "noise")
    rng = _rng(options)
    w = np.array([2.0]) if f == 1 else rng.normal(0, 1, f)
    x = rng.uniform(-1, 1, (n, f))
    y = x @ w + 1.0 + rng.normal(0, noise, n)
    return regression("linear", f"y = w.x + 1 + noise ({n} samples, {f} feature{'s' * (f > 1)}).",
                      x.astype(np.float32), y[:, None].astype(np.float32))


@register("sine", "Sine regression: y = sin(x) + noise, x in [-pi, pi].", "generated", "regression",
          samples=1000, noise=0.05, seed=0)
def sine(options, ctx):
    n, noise = samples_option(options, 3), float_option(options, "noise")
    rng = _rng(options)
    x = rng.uniform(-math.pi, math.pi, (n, 1))
    y = np.sin(x) + rng.normal(0, noise, (n, 1))
    return regression("sine", f"y = sin(x) + noise ({n} samples).", x.astype(np.float32), y.astype(np.float32))


@register("sequence_sum", "Sequences of numbers in [-1, 1], shape [seq_len, 1]; predict their sum.",
          "generated", "regression", samples=2000, seq_len=20, seed=0)
def sequence_sum(options, ctx):
    length = int_option(options, "seq_len", 1, 10_000)
    n = samples_option(options, length + 1)
    x = _rng(options).uniform(-1, 1, (n, length, 1)).astype(np.float32)
    return regression("sequence_sum", f"Sequences of {length} numbers in [-1, 1] (shape [{length}, 1]); "
                      f"the target is their sum ({n} samples).", x, x.sum(1))


@register("parity", "Bit sequences [seq_len, 1]; class = odd or even number of ones.", "generated",
          "classification", samples=2000, seq_len=8, seed=0)
def parity(options, ctx):
    length = int_option(options, "seq_len", 1, 10_000)
    n = samples_option(options, length + 1)
    x = _rng(options).integers(0, 2, (n, length, 1))
    return classification("parity", f"Sequences of {length} bits (shape [{length}, 1]); class: is the number "
                          f"of ones even or odd ({n} samples).", x.astype(np.float32), x.sum((1, 2)) % 2,
                          ["even", "odd"])


@register("tokens", "Token-id sequences; class = which marker token occurs most often.", "generated",
          "classification", samples=2000, vocab_size=20, seq_len=32, num_classes=4, seed=0)
def tokens(options, ctx):
    vocab, length = int_option(options, "vocab_size", 2), int_option(options, "seq_len", 1)
    k = int_option(options, "num_classes", 2)
    fits_in_memory(vocab, f"training.dataset.vocab_size {vocab:,}", "use a smaller vocabulary")
    n = samples_option(options, length + 1)
    if vocab < k + 2:
        raise TrainingError(f"training.dataset.vocab_size ({vocab}) must be at least num_classes + 2 "
                            f"({k + 2}): token 0 is padding, 1..{k} are the markers, the rest filler")
    if length < 2 * k:
        raise TrainingError(f"training.dataset.seq_len ({length}) must be at least 2 x num_classes ({2 * k})")
    rng = _rng(options)
    fill = np.arange(k + 1, vocab) if vocab > k + 1 else np.array([0])
    x = rng.choice(fill, (n, length))
    y = rng.integers(0, k, n)
    budget = max(2, length // 4)  # markers per sequence, at most
    for i in range(n):
        counts = rng.integers(0, max(1, budget // k), k)
        counts[y[i]] = counts.max() + rng.integers(1, 3)
        ids = np.repeat(np.arange(1, k + 1), counts)[:length]
        pos = rng.choice(length, len(ids), replace=False)
        x[i, pos] = ids
    return classification("tokens", f"Sequences of {length} token ids (vocabulary {vocab}, int64); the class "
                          f"is which of the {k} marker tokens 1..{k} occurs most often ({n} samples).",
                          x.astype(np.int64), y, [f"token {i}" for i in range(1, k + 1)])
