"""The Classes view's t-SNE / UMAP maps (studio/training/embedding.py), Qt-free."""
from __future__ import annotations

import numpy as np

from studio.training.embedding import embed, perplexity, unavailable


def test_tsne_separates_well_separated_classes():
    rng = np.random.default_rng(0)
    labels = np.arange(90) % 3
    x = np.eye(3)[labels] * 20 + rng.normal(size=(90, 3))
    points = embed(np.hstack([x, rng.normal(size=(90, 5))]), "tsne")
    assert points.shape == (90, 2) and np.isfinite(points).all()
    centres = np.stack([points[labels == k].mean(0) for k in range(3)])
    spread = max(np.linalg.norm(points[labels == k] - centres[k], axis=1).mean() for k in range(3))
    apart = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3))
    assert apart > 2 * spread  # the three groups come out as three clusters


def test_the_previous_map_is_a_start_and_tiny_sets_need_no_library():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 6))
    first = embed(x, "tsne")
    again = embed(x + 0.01 * rng.normal(size=x.shape), "tsne", init=first)
    assert again.shape == (40, 2)
    assert embed(x[:2], "tsne").shape == (2, 2) and perplexity(10) == 3.0 and perplexity(1000) == 30.0
    assert unavailable("tsne") is None and unavailable("pca") is None
    assert unavailable("umap") in (None, "UMAP needs umap-learn: pip install umap-learn")
