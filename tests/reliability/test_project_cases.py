"""Project files that parse but cannot work: a graph with a cycle, a data path that is a folder.
Every command ends in a message naming the nodes or the field, exit code 2, and nothing written."""
from __future__ import annotations

import json

import pytest

from studio.cli import main

from reliability_helpers import file_digest, moons_record, write_project


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.fault("project file", "a graph with a cycle (act2 wired back into fc1)",
                   "validate and train exit 2 naming every node of the cycle and the wire to remove; file untouched")
def test_a_cyclic_graph(tmp_path, capsys):
    record = moons_record()
    record["edges"].append({"source": "act2", "target": "fc1"})
    path = write_project(tmp_path, record)
    digest, before = file_digest(path), listing(tmp_path)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "part of a cycle (fc1 -> act1 -> fc2 -> act2 -> fc1)" in err and "remove one of these wires" in err
    assert main(["train", str(path), "--out", str(tmp_path / "RUN")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cycle" in err and "Traceback" not in err
    assert file_digest(path) == digest and listing(tmp_path) == before


@pytest.mark.fault("dataset", "training.dataset.path names a folder instead of a CSV file",
                   "train exits 2: cannot be read as CSV, naming the path; nothing written")
def test_a_data_path_that_is_a_folder(tmp_path, capsys):
    record = moons_record()
    record["training"]["dataset"] = {"name": "csv", "path": "data"}
    path = write_project(tmp_path, record)
    (tmp_path / "data").mkdir()
    before = listing(tmp_path)
    assert main(["train", str(path), "--out", str(tmp_path / "RUN")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cannot be read as CSV" in err and str(tmp_path / "data") in err, err
    assert "Traceback" not in err and listing(tmp_path) == before
    assert json.loads(path.read_text())["training"]["dataset"]["path"] == "data"
