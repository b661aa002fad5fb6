"""Project files that a hostile or careless hand made: node ids that are attributes of every
PyTorch module, numbers past what PyTorch can index, duplicate keys, paths that are not files.
Each is refused when the file is loaded (validate exits 2 with a message naming the node and field),
never left to fail later in training or export."""
from __future__ import annotations

import copy
import json
import os
import threading

import pytest

import studio
from studio.cli import main
from studio.core.graph import Graph, GraphError
from studio.core.project import ProjectError, loads_project
from tests.conftest import TEMPLATES

MOONS = json.loads((TEMPLATES / "moons_mlp.json").read_text())


def renamed(record: dict, old: str, new: str) -> dict:
    record = copy.deepcopy(record)
    for n in record["nodes"]:
        if n["id"] == old:
            n["id"] = new
    for e in record["edges"]:
        for key in ("source", "target"):
            if e[key] == old:
                e[key] = new
    return record


def write(tmp_path, record, name="p.json"):
    path = tmp_path / name
    path.write_text(json.dumps(record) if not isinstance(record, str) else record)
    return path


def validate(path, capsys) -> tuple[int, str]:
    rc = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


# ---- reserved node ids ---------------------------------------------------------------------------
RESERVED = ["__class__", "_modules", "_parameters", "register_forward_hook", "print_readable", "xpu",
            "graph", "code", "forward", "training", "self"]


@pytest.mark.fault("project file", "a node id that is an attribute of nn.Module / fx.GraphModule (_modules, "
                   "__class__, print_readable, xpu, ...) or the self of fx's forward",
                   "validate exits 2 naming the id and suggesting a free one, which builds")
@pytest.mark.parametrize("node_id", RESERVED)
def test_reserved_node_ids_are_refused_at_load_with_a_free_suggestion(tmp_path, capsys, node_id):
    path = write(tmp_path, renamed(MOONS, "fc1", node_id))
    rc, err = validate(path, capsys)
    assert rc == 2 and f"node id {node_id!r}" in err and "use another id, e.g. '" in err, err
    suggestion = err.split("use another id, e.g. '")[1].split("'")[0]
    model = studio.build_model(loads_project(json.dumps(renamed(MOONS, "fc1", suggestion))))
    assert hasattr(model, suggestion)  # the suggested id names a layer of the compiled model


@pytest.mark.fault("editing", "naming or renaming a node after a module attribute (_modules, cuda, state_dict)",
                   "refused with a GraphError suggesting an id that is free in this graph")
def test_reserved_ids_are_refused_when_a_person_names_a_node():
    g = Graph()
    g.add_node("Linear", node_id="modules_1")
    with pytest.raises(GraphError, match="e.g. 'modules_2'"):  # modules_1 is taken, modules is reserved
        g.add_node("Linear", node_id="_modules")
    node = g.add_node("Linear")
    for bad in ("cuda", "state_dict"):
        with pytest.raises(GraphError, match=f"'{bad}' is the name of an attribute"):
            g.rename_node(node.id, bad)
    assert list(g.nodes) == ["modules_1", node.id]


def test_the_stored_reserved_names_match_the_installed_torch():
    from studio.core.graph import derive_reserved
    from studio.core.reserved_names import MODULE_ATTRIBUTES

    assert MODULE_ATTRIBUTES == frozenset(derive_reserved()), "run python tools/make_reserved_names.py"


# ---- numbers past what PyTorch can index ----------------------------------------------------------
def with_value(path_in_record, value):
    record = copy.deepcopy(MOONS)
    target = record
    for key in path_in_record[:-1]:
        target = target[key]
    target[path_in_record[-1]] = value
    return record


@pytest.mark.fault("project file", "sizes and counts past int64: Input shape [10**100], out_features 10**30, "
                   "epochs 10**30, T_max 10**400, a position 1e400",
                   "refused at load naming the node or training field; validate exits 2")
@pytest.mark.parametrize("where,value,named", [
    (("nodes", 0, "params", "shape"), [10 ** 100], "node 'input': params.shape[0] is 100000... (a 101-digit"),
    (("nodes", 1, "params", "out_features"), 10 ** 30, "node 'fc1': params.out_features is 100000..."),
    (("training", "epochs"), 10 ** 30, "training.epochs is 100000..."),
    (("training", "schedule"), {"type": "CosineAnnealingLR", "T_max": 10 ** 400}, "training.schedule.T_max is"),
    (("training", "optimizer", "lr"), -(10 ** 20), "training.optimizer.lr is -10000"),
])
def test_numbers_past_int64_are_refused_naming_the_field(tmp_path, capsys, where, value, named):
    rc, err = validate(write(tmp_path, with_value(where, value)), capsys)
    assert rc == 2 and named in err and "int64" in err, err


def test_a_float_past_the_float_range_is_refused_naming_the_field(tmp_path, capsys):
    text = json.dumps(MOONS).replace('"pos": [230, 0]', '"pos": [1e400, 0]', 1)
    rc, err = validate(write(tmp_path, text), capsys)
    assert rc == 2 and "node 'fc1': pos[0] is a number too large for a float" in err, err


@pytest.mark.fault("project file", "an Input shape whose element count passes int64 ([2**40, 2**40])",
                   "validate exits 2: the shape holds more elements than PyTorch can index")
def test_a_shape_whose_product_passes_int64_is_a_problem(tmp_path, capsys):
    rc, err = validate(write(tmp_path, with_value(("nodes", 0, "params", "shape"), [2 ** 40, 2 ** 40])), capsys)
    assert rc == 2 and "input" in err and "more than PyTorch can index" in err, err


@pytest.mark.fault("project file", "a float param given as a huge whole number (Dropout p 10**400 via the API)",
                   "a problem naming the param, not an OverflowError")
def test_a_float_param_given_as_a_huge_int_is_a_problem():
    g = loads_project(json.dumps(MOONS)).graph
    g.add_node("Dropout", {"p": 10 ** 400}, node_id="drop")
    from studio.core import analyze

    msgs = [p.message for p in analyze(g).problems if p.node_id == "drop"]
    assert any("'p' must be a finite number" in m for m in msgs), msgs


# ---- duplicate keys ------------------------------------------------------------------------------
@pytest.mark.fault("project file", "a key given twice in one object (a node's params, the training section)",
                   "refused at load naming the key, both values and where it is")
@pytest.mark.parametrize("text,named", [
    (json.dumps(MOONS).replace('"out_features": 16}', '"out_features": 16, "out_features": 32}', 1),
     "node 'fc1': params: the key \"out_features\" appears twice (16, then 32)"),
    (json.dumps(MOONS).replace('"epochs": 30', '"epochs": 30, "epochs": 3', 1),
     "training: the key \"epochs\" appears twice (30, then 3)"),
    (json.dumps(MOONS).replace('"version": 1', '"version": 1, "name": "x"', 1),
     "the top-level object: the key \"name\" appears twice"),
])
def test_duplicate_keys_are_refused_naming_key_and_place(tmp_path, capsys, text, named):
    rc, err = validate(write(tmp_path, text), capsys)
    assert rc == 2 and named in err, err


# ---- project paths that are not regular files ------------------------------------------------------
def _run_with_deadline(fn, seconds=30):
    """fn() in a thread; the test fails (rather than hangs) if it has not returned in time."""
    box = {}

    def target():
        try:
            box["v"] = fn()
        except BaseException as exc:  # handed to the test's thread
            box["e"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "still blocked: the path was opened as if it were a file"
    if "e" in box:
        raise box["e"]
    return box["v"]


@pytest.mark.fault("project file", "the project path is a FIFO, /dev/zero, a folder, or a 2 GB (sparse) file",
                   "validate, summary and train refuse it at once naming what it is; nothing read or written")
@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "folder", "huge"])
def test_project_paths_that_are_not_sane_files_are_refused_at_once(tmp_path, capsys, kind):
    path = tmp_path / "p.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        path = "/dev/zero"
    elif kind == "folder":
        path.mkdir()
    else:
        with open(path, "wb") as fh:
            fh.truncate(2 << 30)
    expect = {"fifo": "is a named pipe (FIFO)", "dev_zero": "is a character device", "folder": "is a folder",
              "huge": "is 2.0 GiB, too large for a project file"}[kind]
    for cmd in (["validate"], ["summary"], ["train", "--out", str(tmp_path / "RUN")]):
        rc = _run_with_deadline(lambda cmd=cmd: main([cmd[0], str(path), *cmd[1:]]))
        err = capsys.readouterr().err
        assert rc == 2 and expect in err and str(path) in err, (cmd, err)
    assert not (tmp_path / "RUN").exists()
    with pytest.raises(ProjectError, match="project file"):
        _run_with_deadline(lambda: studio.load_project(path))


# ---- Embedding padding_idx -------------------------------------------------------------------------
@pytest.mark.fault("project file", "Embedding padding_idx outside [-num_embeddings, num_embeddings)",
                   "validate exits 2 naming the node and the range of ids (negative ids in range are accepted)")
@pytest.mark.parametrize("padding_idx,ok", [(20, False), (-21, False), (19, True), (-20, True), (0, True)])
def test_embedding_padding_idx_must_be_a_token_id(tmp_path, capsys, padding_idx, ok):
    record = json.loads((TEMPLATES / "transformer_encoder.json").read_text())
    emb = next(n for n in record["nodes"] if n["type"] == "Embedding")
    emb["params"].update(num_embeddings=20, padding_idx=padding_idx)
    rc, err = validate(write(tmp_path, record), capsys)
    if ok:
        assert rc == 0, err
        model = studio.build_model(loads_project(json.dumps(record)))
        assert getattr(model, emb["id"]).padding_idx == padding_idx % 20
    else:
        assert rc == 2 and emb["id"] in err and "'padding_idx'" in err and "ids 0..19" in err, err

