"""scikit-learn's bundled data sets read from its files without importing it: the same arrays as its
loaders, no `sklearn` module loaded, and its own loader where the files are not as expected."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from studio.training.datasets import sklearn_files


@pytest.mark.parametrize("name", sorted(sklearn_files.FILES))
def test_the_arrays_are_scikit_learns(name):
    import sklearn.datasets as skd

    theirs, ours = getattr(skd, f"load_{name}")(), sklearn_files.load(name)
    for field in ("data", "target"):
        a, b = getattr(theirs, field), getattr(ours, field)
        assert a.dtype == b.dtype and np.array_equal(a, b), field
    assert [str(t) for t in theirs.target_names] == [str(t) for t in ours.target_names]
    if name == "digits":
        assert np.array_equal(theirs.images, ours.images)


def test_the_embedded_and_generated_sets_import_no_scikit_learn():
    code = ("import sys; from studio.training.datasets import load_dataset;"
            "print(*(len(load_dataset({'name': n})) for n in ('digits', 'iris', 'wine', 'breast_cancer', "
            "'moons', 'circles')), 'sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1797", "150", "178", "569", "1000", "1000", "False"]


def test_files_not_as_expected_fall_back_to_scikit_learn(tmp_path, monkeypatch):
    (tmp_path / "iris.csv").write_text("150,4,setosa\n1,2\n")  # a header that the rows do not match
    monkeypatch.setattr(sklearn_files, "data_dir", lambda: tmp_path)  # and no digits file at all
    import sklearn.datasets as skd

    assert np.array_equal(sklearn_files.load("iris").data, skd.load_iris().data)
    assert np.array_equal(sklearn_files.load("digits").images, skd.load_digits().images)


@pytest.mark.parametrize("n, noise, seed", [(1000, 0.15, 0), (7, 0.3, 5), (3, 0.0, 123), (2048, 1.5, 2**31 - 1)])
def test_moons_and_circles_are_scikit_learns_point_for_point(n, noise, seed):
    from sklearn.datasets import make_circles, make_moons

    from studio.training.datasets import synthetic

    for theirs, ours in ((make_moons(n, noise=noise, random_state=seed), synthetic.make_moons(n, noise, seed)),
                         (make_circles(n, noise=noise, factor=0.3, random_state=seed),
                          synthetic.make_circles(n, noise, 0.3, seed))):
        assert np.array_equal(theirs[0], ours[0]) and np.array_equal(theirs[1], ours[1])
        assert theirs[1].dtype == ours[1].dtype
