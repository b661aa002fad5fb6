"""The dataset registry, splits, the user's own files, and torchvision's on-disk layouts."""
from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.training.datasets import list_datasets, load_dataset
from studio.training.errors import TrainingError

EMBEDDED = [e.name for e in list_datasets() if e.group in ("embedded", "generated")]


def test_registry_lists_every_dataset_of_the_issue():
    names = {e.name for e in list_datasets()}
    assert {"digits", "iris", "wine", "breast_cancer", "moons", "circles", "spirals", "linear", "sine",
            "sequence_sum", "tokens", "mnist", "fashion_mnist", "cifar10", "csv", "npz", "image_folder"} <= names
    for e in list_datasets():
        assert e.description and e.group in ("embedded", "generated", "download", "files")


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_and_generated_sets_describe_themselves(name):
    ds = load_dataset({"name": name})
    info = ds.info
    assert len(ds) == info.size > 0 and info.description
    assert tuple(ds.x.shape[1:]) == info.input.shape
    preview = ds.preview(3)
    assert len(preview) == 3 and preview[0]["x"].shape == info.input.shape
    if info.task == "classification":
        assert ds.y.dtype == torch.int64 and int(ds.y.max()) < info.num_classes
        assert preview[0]["label"] == info.classes[preview[0]["y"]]
    else:
        assert ds.y.dtype == torch.float32 and tuple(ds.y.shape[1:]) == info.target.shape


def test_template_dataset_shapes():
    d = load_dataset({"name": "digits"})
    assert d.info.input.shape == (1, 8, 8) and float(d.x.min()) == 0.0 and float(d.x.max()) == 1.0
    s = load_dataset({"name": "sequence_sum", "seq_len": 20})
    assert s.info.input.shape == (20, 1) and s.info.target.shape == (1,)
    assert torch.allclose(s.y[:, 0], s.x.sum((1, 2)), atol=1e-5)
    t = load_dataset({"name": "tokens", "vocab_size": 20, "seq_len": 32, "num_classes": 4})
    assert t.info.input.shape == (32,) and t.info.input.dtype == "int64" and t.info.num_classes == 4
    counts = torch.stack([(t.x == k).sum(1) for k in range(1, 5)], 1)
    assert torch.equal(counts.argmax(1), t.y)  # the label is the most frequent marker, uniquely
    assert (counts.max(1).values > counts.topk(2, 1).values[:, 1]).all()
    rec = load_dataset({"name": "digits", "target": "input"})
    assert rec.info.task == "reconstruction" and rec.info.target.shape == (1, 8, 8) and rec.y is None


@pytest.mark.fault('dataset', 'an unknown dataset name or option (typo)',
                   "refused with 'did you mean' naming the field")
def test_unknown_dataset_and_option_are_named():
    with pytest.raises(TrainingError, match="unknown dataset 'digitz'.*digits"):
        load_dataset({"name": "digitz"})
    with pytest.raises(TrainingError, match=r"training.dataset.sample is not an option of dataset 'moons'.*samples"):
        load_dataset({"name": "moons", "sample": 10})
    with pytest.raises(TrainingError, match="training.dataset.noise"):
        load_dataset({"name": "moons", "noise": -1})


def test_split_is_seeded_disjoint_and_complete():
    ds = load_dataset({"name": "digits"})
    a, b, c = ds.split(0.2, 0.1, 7), ds.split(0.2, 0.1, 7), ds.split(0.2, 0.1, 8)
    assert torch.equal(a.val.x, b.val.x) and not torch.equal(a.val.x, c.val.x)
    assert (len(a.train), len(a.val), len(a.test)) == (1258, 359, 180)
    keys = lambda p: {tuple(r) for r in p.x.reshape(len(p), -1).tolist()}  # noqa: E731
    assert not keys(a.train) & keys(a.val) and not keys(a.val) & keys(a.test)


def test_standardize_uses_training_statistics_only():
    s = load_dataset({"name": "wine"}).split(0.3, 0.0, 0)
    assert torch.allclose(s.train.x.mean(0), torch.zeros(13), atol=1e-5)
    assert torch.allclose(s.train.x.std(0), torch.ones(13), atol=1e-4)
    assert not torch.allclose(s.val.x.mean(0), torch.zeros(13), atol=1e-3)


# ---- the user's own files ------------------------------------------------------------------------
@pytest.mark.fault('dataset', 'a CSV with a missing column, a non-numeric cell, a missing file',
                   'refused naming the column, line and value, or the path')
def test_csv_classification_and_errors(tmp_path):
    rows = ["a,b,kind"] + [f"{i},{i * 2 % 7},{'cat' if i % 3 else 'dog'}" for i in range(30)]
    (tmp_path / "d.csv").write_text("\n".join(rows))
    ds = load_dataset({"name": "csv", "path": "d.csv", "target_column": "kind"}, tmp_path)
    assert ds.info.classes == ("cat", "dog") and ds.info.input.shape == (2,) and len(ds) == 30
    reg = load_dataset({"name": "csv", "path": "d.csv", "target_column": "a", "features": ["b"],
                        "task": "regression"}, tmp_path)
    assert reg.info.task == "regression" and reg.info.target.shape == (1,)
    with pytest.raises(TrainingError, match="'kinds' is not a column of d.csv.*a, b, kind"):
        load_dataset({"name": "csv", "path": "d.csv", "target_column": "kinds"}, tmp_path)
    (tmp_path / "bad.csv").write_text("a,y\n1,0\nx,1\n")
    with pytest.raises(TrainingError, match="bad.csv line 3, column 'a': 'x' is not a number"):
        load_dataset({"name": "csv", "path": "bad.csv"}, tmp_path)
    with pytest.raises(TrainingError, match="does not exist"):
        load_dataset({"name": "csv", "path": "missing.csv"}, tmp_path)


@pytest.mark.fault('dataset', 'an .npz holding pickled object arrays, or without the named array',
                   'refused (allow_pickle=False); lists the arrays it holds')
def test_npz_and_refusal_of_pickled_arrays(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.random.rand(20, 3, 4).astype(np.float32), y=np.arange(20) % 3)
    ds = load_dataset({"name": "npz", "path": str(tmp_path / "d.npz")})
    assert ds.info.task == "classification" and ds.info.input.shape == (3, 4) and ds.info.num_classes == 3
    np.savez(tmp_path / "r.npz", x=np.random.rand(20, 2), y=np.random.rand(20))
    assert load_dataset({"name": "npz", "path": str(tmp_path / "r.npz")}).info.task == "regression"
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}] * 3, dtype=object), y=np.arange(3))
    with pytest.raises(TrainingError, match="refused"):
        load_dataset({"name": "npz", "path": str(tmp_path / "obj.npz")})
    with pytest.raises(TrainingError, match="no array 'y'"):
        np.savez(tmp_path / "noy.npz", x=np.zeros((3, 2)))
        load_dataset({"name": "npz", "path": str(tmp_path / "noy.npz")})


def test_image_folder(tmp_path):
    from PIL import Image

    for k, name in enumerate(["cats", "dogs"]):
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((10, 12, 3), 40 * (i + k), np.uint8)).save(tmp_path / "imgs" / name / f"{i}.png")
    ds = load_dataset({"name": "image_folder", "path": "imgs", "size": [8, 8]}, tmp_path)
    assert ds.info.classes == ("cats", "dogs") and ds.info.input.shape == (3, 8, 8) and ds.info.input.dtype == "float32"
    assert ds.x.dtype == torch.uint8 and float(ds.preview(1)[0]["x"].max()) <= 1.0
    with pytest.raises(TrainingError, match="no sub-folders"):
        (tmp_path / "empty").mkdir()
        load_dataset({"name": "image_folder", "path": "empty"}, tmp_path)


# ---- torchvision layouts, written here in miniature -----------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_images(root, classes=("cats", "dogs"), n=3, size=(10, 12)):
    """An image folder: one sub-folder of `n` small noisy PNGs per class."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in classes:
        (Path(root) / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(Path(root) / name / f"{i}.png")


def write_mnist(root, folder="MNIST", n=40, gz=False):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, count in (("train", n), ("t10k", n // 2)):
        for kind, arr in (("images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28))),
                          ("labels-idx1-ubyte", np.arange(count) % 10)):
            data = idx_bytes(arr)
            name = f"{prefix}-{kind}"
            if gz:
                (raw / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)


@pytest.mark.parametrize("name, folder, gz", [("mnist", "MNIST", False), ("fashion_mnist", "FashionMNIST", True)])
def test_mnist_layout(tmp_path, name, folder, gz):
    write_mnist(tmp_path / "data", folder, gz=gz)
    ds = load_dataset({"name": name, "root": "data", "download": False}, tmp_path)
    assert ds.info.input.shape == (1, 28, 28) and ds.info.input.dtype == "float32" and ds.x.dtype == torch.uint8
    assert len(ds) == 40 and len(ds.test) == 20 and ds.info.num_classes == 10
    x = ds.transform(ds.x[:5])
    expected = (ds.x[:5].float() / 255 - ds.transform.mean[0]) / ds.transform.std[0]
    assert torch.allclose(x, expected, atol=1e-5)
    split = ds.split(0.25, 0.5, 0)
    assert len(split.test) == 20 and len(split.val) == 10  # the official test set is the test split


def write_cifar(root, n=10):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        record = {"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8), "labels": list(np.arange(n) % 10)}
        (folder / name).write_bytes(pickle.dumps(record, protocol=2))
    return folder


def test_cifar_layout_with_augmentation(tmp_path):
    write_cifar(tmp_path / "data")
    ds = load_dataset({"name": "cifar10", "root": "data", "download": False, "augment": True,
                       "normalize": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}, tmp_path)
    assert len(ds) == 50 and len(ds.test) == 10 and ds.info.input.shape == (3, 32, 32)
    x = ds.transform(ds.x[:8])
    assert float(x.min()) >= -1.0 - 1e-6 and float(x.max()) <= 1.0 + 1e-6
    g = torch.Generator().manual_seed(0)
    aug = ds.augment(x, g)
    assert aug.shape == x.shape and not torch.equal(aug, x)
    assert torch.equal(aug, ds.augment(x, torch.Generator().manual_seed(0)))  # seeded


@pytest.mark.fault('dataset', 'a CIFAR batch file crafted to run a command when unpickled',
                   'refused by the arrays-only unpickler naming the callable; nothing runs')
def test_crafted_cifar_pickle_is_refused_without_running_code(tmp_path):
    folder = write_cifar(tmp_path / "data")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (folder / "data_batch_3").write_bytes(pickle.dumps({"data": Evil(), "labels": [0]}, protocol=2))
    with pytest.raises(TrainingError, match="data_batch_3: refused.*posix.system|data_batch_3: refused.*system"):
        load_dataset({"name": "cifar10", "root": "data", "download": False}, tmp_path)
    assert not marker.exists()


@pytest.mark.fault('dataset', 'a downloadable dataset while offline',
                   'refused naming the files and the folder to put them in')
def test_missing_download_offline_says_where_to_put_the_files(tmp_path, monkeypatch):
    import urllib.error

    import torchvision.datasets as tvd

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://x, got:\n"
                           "<urlopen error [Errno -2] Name or service not known>")

    monkeypatch.setattr(tvd, "MNIST", offline)
    project_dir = tmp_path / "proj"
    project_dir.mkdir()
    (project_dir / "keep.txt").write_text("mine")
    with pytest.raises(TrainingError) as info:
        load_dataset({"name": "mnist", "root": "data"}, project_dir)
    message = str(info.value)
    assert "could not be downloaded" in message and "offline" in message and "Name or service not known" in message
    assert str(project_dir / "data" / "MNIST" / "raw") in message and "train-images-idx3-ubyte" in message
    assert sorted(p.name for p in project_dir.iterdir()) == ["keep.txt"]  # nothing half-made left behind
    with pytest.raises(TrainingError, match="downloading is off"):
        load_dataset({"name": "cifar10", "root": "data", "download": False}, project_dir)
    del urllib  # noqa: F821


@pytest.mark.fault('dataset', 'a truncated MNIST file',
                   'refused: truncated or corrupt, naming the file')
def test_corrupt_mnist_file_is_reported(tmp_path):
    write_mnist(tmp_path / "data")
    path = tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(TrainingError, match="truncated or corrupt"):
        load_dataset({"name": "mnist", "root": "data", "download": False}, tmp_path)
