"""The Classes view's other maps of the penultimate features (issue 18 item 5): t-SNE (scikit-learn,
installed with NetStudio) and UMAP (umap-learn, when installed). PCA is computed on the training
thread after every epoch (where_errs.project_2d); these cost seconds for a few hundred points, so the
view asks for them for the epoch it shows, on a thread of its own, from the features the epoch's
ProjectionEvent carries. Qt-free."""
from __future__ import annotations

import importlib.util

import numpy as np

METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
READING = {
    "pca": "PCA: the two directions of largest variance; distances are the features' own",
    "tsne": "t-SNE: near points have similar features; the distances between clusters and their sizes mean little",
    "umap": "UMAP: near points have similar features; clusters' distances mean more than in t-SNE, but not much",
}


def unavailable(method: str) -> str | None:
    """None when `method` can run here, else why not (what to install)."""
    if method in ("pca", "tsne"):
        return None
    if method == "umap":
        return None if importlib.util.find_spec("umap") is not None else "UMAP needs umap-learn: pip install umap-learn"
    return f"unknown method {method!r}"


def perplexity(n: int) -> float:
    """t-SNE's perplexity: scikit-learn's 30, lowered for small sets (it must stay under n)."""
    return float(max(2.0, min(30.0, (n - 1) / 3)))


def embed(features, method: str, init=None, seed: int = 0) -> np.ndarray:
    """[N, D] features -> [N, 2] points. `init`: the previous epoch's points for the same samples, so
    the map moves from one epoch to the next instead of starting over (t-SNE and UMAP both take it)."""
    x = np.asarray(features, dtype=np.float32)
    n = len(x)
    if n < 3:
        return np.zeros((n, 2), np.float32)
    start = None
    if init is not None and np.shape(init) == (n, 2) and np.isfinite(init).all():
        start = np.asarray(init, dtype=np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        tsne = TSNE(n_components=2, perplexity=perplexity(n), init="pca" if start is None else start,
                    learning_rate="auto", random_state=seed, max_iter=500 if start is None else 300)
        return tsne.fit_transform(x).astype(np.float32)
    if method == "umap":
        import umap

        reducer = umap.UMAP(n_components=2, random_state=seed, init="spectral" if start is None else start,
                            n_neighbors=max(2, min(15, n - 1)))
        return np.asarray(reducer.fit_transform(x), dtype=np.float32)
    raise ValueError(f"unknown method {method!r}")
