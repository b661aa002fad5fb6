"""Hostile and careless files: nothing read from a file is ever evaluated (an AST scan of the source
tree), a checkpoint that would run code is refused where the app loads one, dataset paths in a
project are resolved against the project's folder and shown before use, and saving keeps a file's
permissions and symlinks. Bundled templates never receive run folders."""
from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt

from studio.core.atomic import atomic_write_text
from studio.core.project import load_project
from studio.ui.training import file_dialogs

from reliability_helpers import TEMPLATES, moons_record, read_mode, write_project
from tests.ui.window_helpers import open_window

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("studio", "nodes", "tools")
RUN_TIMEOUT = 60_000


# ---- nothing read from a file is evaluated ----------------------------------------------------------
def unsafe_calls(source: str, name: str = "<source>") -> list[str]:
    """Calls that could run code taken from a file: eval/exec/compile of anything, pickle/marshal/
    shelve/dill/yaml loaders, torch.load without weights_only=True, numpy loads with allow_pickle=True."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        where = f"{name}:{node.lineno}"
        kw = {k.arg: k.value for k in node.keywords}
        if isinstance(func, ast.Name) and func.id in ("eval", "exec", "compile"):
            found.append(f"{where}: {func.id}(...)")
        if not isinstance(func, ast.Attribute):
            continue
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        if owner in ("pickle", "cPickle", "dill", "marshal", "shelve", "jsonpickle") and \
                func.attr in ("load", "loads", "open", "Unpickler"):
            found.append(f"{where}: {owner}.{func.attr}(...)")
        if owner == "yaml" and func.attr in ("load", "unsafe_load", "load_all"):
            found.append(f"{where}: yaml.{func.attr}(...)")
        if owner == "torch" and func.attr == "load":
            safe = isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True
            if not safe:
                found.append(f"{where}: torch.load(...) without weights_only=True")
        if owner in ("np", "numpy") and func.attr == "load":
            pickle_ok = isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value is not False
            if pickle_ok:
                found.append(f"{where}: np.load(..., allow_pickle=True)")
    return found


def test_the_scanner_catches_what_it_looks_for():
    planted = ("import pickle, torch, yaml, numpy as np\n"
               "eval(text)\nexec(code)\npickle.loads(data)\ntorch.load(path)\n"
               "torch.load(path, weights_only=False)\nyaml.load(f)\nnp.load(p, allow_pickle=True)\n"
               "model.eval()\ndialog.exec()\ntorch.load(p, map_location='cpu', weights_only=True)\n"
               "np.load(p, allow_pickle=False)\n")
    found = unsafe_calls(planted)
    assert len(found) == 7, found  # the last five lines are safe
    assert not any(":9:" in f or ":10:" in f or ":11:" in f or ":12:" in f for f in found)


@pytest.mark.fault("source", "eval/exec, pickle.load, yaml.load, np.load(allow_pickle=True) or torch.load "
                             "without weights_only=True anywhere in studio/, nodes/, tools/",
                   "none (an AST scan of every source file; a planted example of each is caught)")
def test_nothing_read_from_a_file_is_evaluated():
    files = [p for d in SCANNED for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 100
    found = [f for p in files for f in unsafe_calls(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert not found, "\n".join(found)


class RunsCode:
    """Unpickling this would create a folder: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def win(qtbot, isolated, dialog_log, tmp_path):
    path = write_project(tmp_path / "proj", moons_record(epochs=2))
    w = open_window(qtbot, load_project(path), size=(1600, 1000))
    qtbot.waitUntil(lambda: w.training.preflight is not None, timeout=RUN_TIMEOUT)
    yield w
    if w.training.session.running:
        w.training.session.shutdown(10_000)
    w.document.undo_stack.setClean()


@pytest.mark.fault("checkpoint", "a crafted .pt that would run code, opened with the app's Load checkpoint button",
                   "refused with the reason in the panel; nothing runs; the next run starts from fresh weights")
def test_crafted_checkpoint_from_the_load_button(win, qtbot, monkeypatch, tmp_path):
    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.pt"
    torch.save({"model": {"fc1.weight": torch.zeros(16, 2)}, "payload": RunsCode(marker)}, evil)
    monkeypatch.setattr(file_dialogs, "open_path", lambda *a, **k: str(evil))
    ui = win.training
    qtbot.mouseClick(ui.panel.load_button, Qt.MouseButton.LeftButton)
    text = ui.panel.weights_label.text()
    assert text.startswith("Not loaded:") and "refused" in text and "could run code" in text, text
    assert not marker.exists() and ui.weights is None
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
        qtbot.mouseClick(ui.panel.train_button, Qt.MouseButton.LeftButton)
    assert ended.args[0].status == "finished" and not marker.exists()


# ---- dataset paths: resolved against the project's folder, shown before use ------------------------------
def csv_text(n=200) -> str:
    import numpy as np

    x = np.random.default_rng(1).normal(size=(n, 2))
    return "a,b,label\n" + "".join(f"{a:.4f},{b:.4f},{int(a > b)}\n" for a, b in x)


def csv_project(qtbot, folder: Path, data_path: str):
    record = moons_record(epochs=1)
    record["training"]["dataset"] = {"name": "csv", "path": data_path}
    path = write_project(folder, record)
    w = open_window(qtbot, load_project(path), size=(1600, 1000))
    qtbot.waitUntil(lambda: w.training.preflight is not None, timeout=RUN_TIMEOUT)
    return w


@pytest.mark.fault("dataset", "a CSV path that leaves the project's folder (../shared/points.csv)",
                   "allowed; before training the panel shows the resolved absolute path and says it is outside")
def test_data_path_outside_the_project_is_shown_resolved(qtbot, isolated, dialog_log, tmp_path, monkeypatch):
    shared = tmp_path / "shared" / "points.csv"
    shared.parent.mkdir()
    shared.write_text(csv_text())
    monkeypatch.chdir(tmp_path / "shared")  # a relative path must not be read from the current folder
    w = csv_project(qtbot, tmp_path / "proj", "../shared/points.csv")
    ui = w.training
    assert ui.can_train, ui.reason
    text = ui.panel.problems.text()
    assert ui.panel.problems.isVisibleTo(w)
    assert f"Data: {shared.resolve()} (outside the project's folder)" in text, text
    assert ".." not in text
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
        qtbot.mouseClick(ui.panel.train_button, Qt.MouseButton.LeftButton)
    assert ended.args[0].status == "finished"
    w.document.undo_stack.setClean()


@pytest.mark.fault("dataset", "a relative CSV path, with the app started from another folder",
                   "read from the project's folder (not the current one); the panel shows the full path")
def test_relative_data_path_is_the_projects(qtbot, isolated, dialog_log, tmp_path, monkeypatch):
    inside = tmp_path / "proj" / "data" / "points.csv"
    inside.parent.mkdir(parents=True)
    inside.write_text(csv_text())
    decoy = tmp_path / "elsewhere" / "data" / "points.csv"
    decoy.parent.mkdir(parents=True)
    decoy.write_text("not,a\nvalid,dataset\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    w = csv_project(qtbot, tmp_path / "proj", "data/points.csv")
    ui = w.training
    assert ui.can_train, ui.reason
    text = ui.panel.problems.text()
    assert f"Data: {inside.resolve()}" in text and "outside" not in text, text
    w.document.undo_stack.setClean()


@pytest.mark.fault("dataset", "a data file named in the project that does not exist",
                   "Train is off; the panel's note and the reason name training.dataset.path and the resolved "
                   "path (the person's data still to come: no Problems row)")
def test_missing_data_file_is_named(qtbot, isolated, dialog_log, tmp_path):
    w = csv_project(qtbot, tmp_path / "proj", "data/missing.csv")
    ui = w.training
    assert not ui.can_train and not ui.panel.train_button.isEnabled()
    text = ui.panel.problems.text()
    assert text.startswith("Train waits for your data.") and "training.dataset.path" in text, text
    assert str(tmp_path / "proj" / "data" / "missing.csv") in text
    assert "training.dataset.path" in ui.panel.train_button.toolTip()
    assert w.problems.model.problems == []
    w.document.undo_stack.setClean()


# ---- saving keeps permissions and links ------------------------------------------------------------
@pytest.mark.fault("saving", "saving over a project whose mode is 0640, and saving a new one under umask 022",
                   "the file keeps 0640; a new file gets 0644 (0666 & ~umask), not mkstemp's 0600")
def test_saves_keep_the_file_mode(tmp_path):
    project = load_project(TEMPLATES / "moons_mlp.json")
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "new.json"
        project.save(fresh)
        assert read_mode(fresh) == 0o644
        shared = tmp_path / "shared.json"
        project.save(shared)
        os.chmod(shared, 0o640)
        project.name = "changed"
        project.save(shared)
        assert read_mode(shared) == 0o640 and load_project(shared).name == "changed"
        os.umask(0o077)
        private = tmp_path / "private.json"
        atomic_write_text(private, "{}")
        assert read_mode(private) == 0o600
    finally:
        os.umask(old)


@pytest.mark.fault("saving", "saving a project that is a symbolic link to a file elsewhere",
                   "written through the link: the link stays and its target holds the new project")
def test_save_through_a_symlink(tmp_path):
    real = tmp_path / "store" / "real.json"
    real.parent.mkdir()
    shutil.copyfile(TEMPLATES / "moons_mlp.json", real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    project = load_project(link)
    project.name = "through the link"
    project.save(link)
    assert link.is_symlink() and load_project(real).name == "through the link"
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.json"]


# ---- bundled templates stay clean --------------------------------------------------------------------
def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.fault("runs", "training a bundled template opened by its path (python -m studio resources/templates/X.json)",
                   "the run folder goes to the app's data folder; nothing is written into resources/templates")
def test_template_runs_go_to_the_data_folder(qtbot, isolated, dialog_log):
    before = listing(TEMPLATES)
    project = load_project(TEMPLATES / "moons_mlp.json")
    project.training["epochs"] = 1
    w = open_window(qtbot, project, size=(1600, 1000))
    ui = w.training
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=RUN_TIMEOUT)
    root = ui.runs_root()
    assert root == isolated / "data" / "runs" / "moons_mlp.runs"
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
        qtbot.mouseClick(ui.panel.train_button, Qt.MouseButton.LeftButton)
    assert ended.args[0].status == "finished", ended.args[0].message
    assert ui.session.last_run_dir.parent == root and (ui.session.last_run_dir / "checkpoint.pt").is_file()
    assert listing(TEMPLATES) == before
    w.document.undo_stack.setClean()


def test_cli_runs_of_a_template_go_to_the_current_folder(tmp_path, monkeypatch):
    from studio.training.cli import default_run_dir

    monkeypatch.chdir(tmp_path)
    out = default_run_dir(load_project(TEMPLATES / "moons_mlp.json"))
    assert out.parent == tmp_path / "runs" and out.name.startswith("moons_mlp-")
    mine = load_project(TEMPLATES / "moons_mlp.json")
    mine.path = tmp_path / "work" / "moons.json"
    assert default_run_dir(mine).parent == tmp_path / "work" / "runs"
