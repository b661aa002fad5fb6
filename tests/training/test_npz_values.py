"""An .npz whose arrays hold NaN or inf is refused at load naming the file, the array and the first bad
sample, as a CSV cell is; not left to the first step, where it read as 'try a lower learning rate'."""
from __future__ import annotations

import numpy as np
import pytest

from studio.cli import main

from .conftest import mlp_project, write_project


def _train(tmp_path, dataset, **project):
    path = write_project(tmp_path, mlp_project(training={"epochs": 1, "dataset": dataset, **project.pop("training", {})},
                                               **project))
    return main(["train", str(path), "--out", str(tmp_path / "RUN"), "--quiet"])


@pytest.mark.fault("dataset", "an .npz whose x holds NaN, inf or a float64 past float32 (1e39), or whose "
                   "regression y holds inf",
                   "train exits 2 naming the file, the array and the sample (x[37, 1]), before any step; "
                   "the run folder not created")
@pytest.mark.parametrize("array, where, value", [("x", (37, 1), np.nan), ("x", (3, 0), np.inf),
                                                 ("x", (10, 1), 1e39), ("y", (5, 0), -np.inf)])
def test_non_finite_npz_values_are_refused_naming_array_and_sample(tmp_path, capsys, array, where, value):
    rng = np.random.default_rng(0)
    arrays = {"x": rng.normal(size=(64, 2)), "y": (np.arange(64) % 2).astype(np.int64)}
    training, project = {}, {}
    if array == "y":  # a regression target
        arrays["y"] = rng.normal(size=(64, 1))
        training = {"loss": {"type": "MSELoss"}, "metrics": ["mse"]}
        project = {"classes": 1}
    arrays[array][where] = value
    np.savez(tmp_path / "data.npz", **arrays)
    dataset = {"name": "npz", "path": "data.npz", **({"task": "regression"} if array == "y" else {})}
    assert _train(tmp_path, dataset, training=training, **project) == 2
    err = capsys.readouterr().err
    index = ", ".join(map(str, where))
    assert err.startswith("error: data.npz: ") and f"{array}[{index}]" in err and "sample" in err, err
    assert "learning rate" not in err and "Traceback" not in err
    assert not (tmp_path / "RUN").exists()


def test_finite_npz_still_trains(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data.npz", x=rng.normal(size=(64, 2)), y=(np.arange(64) % 2).astype(np.int64))
    assert _train(tmp_path, {"name": "npz", "path": "data.npz"}) == 0, capsys.readouterr().err
