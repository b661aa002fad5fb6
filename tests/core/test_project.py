"""Project files: two-step loading with precise messages, versioning, atomic saves."""
from __future__ import annotations

import json

import pytest

import studio
from studio.core.project import ProjectError, loads_project
from tests.conftest import template_paths


def rec(**over):
    base = {"format": "netstudio", "version": 1, "name": "t",
            "nodes": [{"id": "input", "type": "Input", "params": {"shape": [4]}, "pos": [0, 0]},
                      {"id": "fc", "type": "Linear", "params": {"out_features": 2}, "pos": [200, 0]}],
            "edges": [{"source": "input", "target": "fc"}], "training": {"epochs": 3}}
    base.update(over)
    return json.dumps(base)


@pytest.mark.parametrize("path", template_paths(), ids=lambda p: p.stem)
def test_templates_round_trip(path, tmp_path):
    project = studio.load_project(path)
    out = project.save(tmp_path / path.name)
    again = studio.load_project(out)
    assert again.to_json() == project.to_json()
    assert json.loads(path.read_text())["nodes"] == again.to_json()["nodes"]


@pytest.mark.parametrize("text,fragment", [
    pytest.param("{", "is not valid JSON (line 1", marks=pytest.mark.fault("project file", 'invalid JSON', 'refused: "is not valid JSON (line L, column C: ...)"')),
    pytest.param("[]", "must hold a JSON object", marks=pytest.mark.fault("project file", 'JSON that is not an object', 'refused: must hold a JSON object')),
    pytest.param(json.dumps({"format": "other"}), "is not a NetStudio project", marks=pytest.mark.fault("project file", "another program's JSON", 'refused: is not a NetStudio project')),
    pytest.param(rec(version=99), "newer NetStudio (file version 99", marks=pytest.mark.fault("project file", 'file from a newer version', 'refused: update NetStudio to open it')),
    pytest.param(rec(version="1"), "\"version\" must be a whole number", marks=pytest.mark.fault("project file", 'version of the wrong type', 'refused, naming "version"')),
    pytest.param(rec(nodes={}), "\"nodes\" must be a list", marks=pytest.mark.fault("project file", '"nodes" of the wrong type', 'refused, naming "nodes"')),
    pytest.param(rec(nodes=[{"type": "ReLU"}]), "node 1 needs an \"id\"", marks=pytest.mark.fault("project file", 'node without an id', 'refused, naming node 1')),
    pytest.param(rec(nodes=[{"id": "a b", "type": "ReLU"}]), "must start with a letter", marks=pytest.mark.fault("project file", 'node id that is not an identifier', 'refused: says which characters are allowed')),
    pytest.param(rec(nodes=[{"id": "a", "type": "ReLU"}, {"id": "a", "type": "ReLU"}]), "node 'a' appears twice", marks=pytest.mark.fault("project file", 'duplicate node ids', 'refused, naming the id')),
    pytest.param(rec(nodes=[{"id": "a", "type": 3}]), "node 'a' needs a \"type\"", marks=pytest.mark.fault("project file", 'node type of the wrong type', 'refused, naming the node')),
    pytest.param(rec(nodes=[{"id": "a", "type": "ReLU", "params": []}]), "node 'a': \"params\" must be an object", marks=pytest.mark.fault("project file", 'params that are not an object', 'refused, naming the node and field')),
    pytest.param(rec(nodes=[{"id": "a", "type": "ReLU", "pos": [1]}]), "node 'a': \"pos\" must be two numbers", marks=pytest.mark.fault("project file", 'bad node position', 'refused, naming the node and field')),
    pytest.param(rec(edges=[{"source": "input", "target": "nope"}]), "edge 1: its target 'nope' is not a node", marks=pytest.mark.fault("project file", 'wire to a node that does not exist', 'refused, naming the edge and the id')),
    pytest.param(rec(edges=[["input", "fc"]]), "edge 1 must be an object", marks=pytest.mark.fault("project file", 'edge of the wrong type', 'refused, naming the edge')),
    pytest.param(rec(training=[]), "\"training\" must be an object", marks=pytest.mark.fault("project file", 'training section of the wrong type', 'refused, naming "training"')),
    pytest.param(rec(nodes=[{"id": "a", "type": "ReLU", "pos": [float("nan"), 0]}]), "NaN", marks=pytest.mark.fault("project file", 'NaN in a file', 'refused: NaN is not valid JSON')),
    pytest.param("[" * 100000 + "]" * 100000, "nested too deeply", marks=pytest.mark.fault("project file", 'deeply nested JSON (100,000 levels)', 'refused: nested too deeply; no crash')),
])
def test_bad_files_are_refused_with_a_message(text, fragment):
    with pytest.raises(ProjectError) as err:
        loads_project(text, "f.json")
    assert fragment in str(err.value)


@pytest.mark.fault("project file", "unknown node type and out-of-range param",
                   "opens; the analyzer names both (with 'did you mean'); values kept as written")
def test_unknown_types_and_bad_params_load_and_are_reported():
    project = loads_project(rec(nodes=[{"id": "input", "type": "Input", "params": {"shape": [4]}},
                                       {"id": "fc", "type": "Lineer", "params": {"out_features": -1}}]))
    from studio.core import analyze

    msgs = [p.message for p in analyze(project.graph).problems]
    assert any("unknown type 'Lineer'; did you mean 'Linear'" in m for m in msgs)
    assert project.graph.node("fc").params == {"out_features": -1}  # kept as written, so nothing is lost


@pytest.mark.fault("project file", "missing file / binary file", "refused: no such file / is not UTF-8 text")
def test_missing_file_and_not_utf8(tmp_path):
    with pytest.raises(ProjectError, match="no such file"):
        studio.load_project(tmp_path / "missing.json")
    bad = tmp_path / "bin.json"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProjectError, match="not UTF-8"):
        studio.load_project(bad)


@pytest.mark.fault("saving", "disk fails halfway through a project save",
                   "error raised; the previous file is intact and no temp file is left")
def test_save_is_atomic_and_keeps_unknown_keys(tmp_path, monkeypatch):
    target = tmp_path / "p.json"
    project = loads_project(rec(description="kept"))
    project.save(target)
    before = target.read_bytes()
    assert json.loads(before)["description"] == "kept"

    import studio.core.project as project_module

    def crash_mid_write(path, text):  # the temp file is written halfway, then the disk fails
        from studio.core.atomic import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_text(text[: len(text) // 2])
            raise OSError("disk full")

    monkeypatch.setattr(project_module, "atomic_write_text", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        project.save(target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


@pytest.mark.fault("saving", "crash inside an atomic write", "old file intact, temp file removed")
def test_atomic_write_leaves_no_temp_file_on_failure(tmp_path):
    from studio.core.atomic import atomic_path

    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


@pytest.mark.fault("saving", "a save killed mid-write left its temp file, and the file is saved again later",
                   "the next save removes the stale temp file (one still fresh, maybe another writer's, stays)")
def test_next_save_sweeps_stale_temp_files_of_killed_saves(tmp_path):
    import os
    import time

    from studio.core.atomic import STALE_TEMP_S, atomic_write_text

    target = tmp_path / "p[1].json"  # glob characters in the name
    stale, fresh = tmp_path / ".p[1].json.k1ll3d.tmp", tmp_path / ".p[1].json.wr1t1ng.tmp"
    other = tmp_path / ".q.json.k1ll3d.tmp"  # another file's leftover: not ours to judge
    for p in (stale, fresh, other):
        p.write_text("half")
    old = time.time() - STALE_TEMP_S - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    atomic_write_text(target, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, fresh.name, other.name])


def test_set_training_tells_its_listeners_and_keeps_a_copy():
    from studio.core.project import Project

    project, heard = Project(), []
    stop = project.subscribe_training(heard.append)
    section = {"epochs": 3, "optimizer": {"type": "SGD", "lr": 0.1}}
    project.set_training(section)
    section["optimizer"]["lr"] = 9.0  # the caller's dict is not the project's
    assert project.training == {"epochs": 3, "optimizer": {"type": "SGD", "lr": 0.1}}
    assert heard == [project.training]
    stop()
    project.set_training({})
    assert len(heard) == 1
