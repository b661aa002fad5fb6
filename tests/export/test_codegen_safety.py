"""A project file is somebody else's: exporting it as code never runs what its strings hold, the
export refuses what `train` refuses, and the script trains what the window trains."""
from __future__ import annotations

import ast
import inspect
import json
import os
import re
import subprocess
import sys

import pytest
import torch

from studio.cli import main
from studio.core.graph import Graph
from studio.core.project import Project, loads_project
from studio.export import ExportError, export
from studio.export.codegen.export import import_file

from .helpers import FORMATS, template

SURROGATE = "\ud800"


def _payload(marker) -> str:
    return f"__import__('os').system('touch {marker}')"


def _breakouts(marker) -> list[str]:
    """Strings that end a docstring, a string literal or a call, then run the payload."""
    run = _payload(marker)
    return [f'x""" + str({run}) + """', f'"""\n{run}\n"""', f"'''\n{run}\n'''", f"\\N{{{run}}}",
            f"a=1, b={run}, c", f"\n{run}\n#"]


def _digits_project(tmp_path, name="Digits MLP", file="net.json", **training) -> Project:
    record = json.loads(template("mlp_digits").read_text())
    record["name"] = name
    record["training"] = {**record["training"], **training}
    path = tmp_path / file
    path.write_text(json.dumps(record, ensure_ascii=True), encoding="utf-8")
    return path


def _train_script(out, cwd, *args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run([sys.executable, str(out), "--device", "cpu", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.fault("export code", "the project's name and file name hold code (docstring breakouts)",
                   "written as text in the docstrings; nothing runs at export, at import or in training")
def test_names_in_docstrings_cannot_run_code(tmp_path, monkeypatch):
    for i, evil in enumerate(_breakouts("pwned")):  # `touch pwned` would create it in the current folder
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        monkeypatch.chdir(folder)
        project = _digits_project(folder, name=evil, file=evil + ".json", epochs=1)
        out = folder / "net.py"
        report = export(project, "code", out)
        assert sorted(p.name for p in folder.iterdir()) == sorted([project.name, "net.py"]), evil
        doc = ast.get_docstring(ast.parse(out.read_text(encoding="utf-8")), clean=False)
        assert doc.startswith(evil) and project.name in doc
        module = import_file(out)
        net = getattr(module, report.exporter.split("class ")[1].rstrip(")"))()
        assert inspect.getdoc(net).startswith(inspect.cleandoc(evil))
        assert sorted(p.name for p in folder.iterdir()) == sorted([project.name, "net.py"]), evil


@pytest.mark.fault("export code", "a backslash-N, a lone surrogate, quotes and newlines in the project's name",
                   "the file parses and holds the name exactly; no traceback")
def test_strings_that_break_source_are_written_exactly(tmp_path):
    name = f'a \\N{{x}} \\ {SURROGATE} """ \'\'\' \r\n\t\x00 end\\'
    project = _digits_project(tmp_path, name=name)
    out = tmp_path / "net.py"
    export(project, "code", out)
    source = out.read_text(encoding="utf-8")
    as_text = name.replace(SURROGATE, "\\ud800")  # a class docstring cannot hold a lone surrogate
    assert ast.get_docstring(ast.parse(source), clean=False).startswith(as_text)
    import_file(out)


@pytest.mark.fault("export code", "training.loss / training.schedule option keys that hold code",
                   "refused as train refuses them, naming the option; nothing runs")
def test_option_keys_that_hold_code_are_refused(tmp_path, capsys):
    marker = tmp_path / "pwned"
    run = _payload(marker)
    cases = [{"loss": {"type": "CrossEntropyLoss", f"label_smoothing=0.0, reduction={run} or 'mean', x": 1}},
             {"schedule": {"type": "StepLR", f"step_size=1, gamma={run} or 0.5, x": 1}}]
    for training in cases:
        project = _digits_project(tmp_path, **training)
        assert main(["export", str(project), "--format", "code", "-o", str(tmp_path / "net.py")]) == 2
        err = capsys.readouterr().err
        assert main(["train", str(project), "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
        train_err = capsys.readouterr().err
        section = next(iter(training))
        assert err == train_err and f"training.{section}." in err and "is not an option" in err, err
        assert not marker.exists() and not (tmp_path / "net.py").exists()


def test_keys_that_slip_past_validation_are_left_out_by_the_generator(tmp_path):
    """The generator does not trust the validation: option keys that are no argument of the torch
    class (or no Python name) are left out with a note, values are literals."""
    import dataclasses

    from studio.export.codegen.source import generate_source
    from studio.export.prepare import prepare

    marker = tmp_path / "pwned"
    run = _payload(marker)
    prep = prepare(_digits_project(tmp_path, schedule={"type": "StepLR", "step_size": 2}))
    config = prep.plan.config
    config = dataclasses.replace(
        config, loss=dataclasses.replace(config.loss, kwargs={f"reduction={run}, x": 1, "label_smoothing": run}),
        optimizer=dataclasses.replace(config.optimizer, kwargs={f"eps=1e-8, foreach={run}": 1}))
    prep.plan = dataclasses.replace(prep.plan, config=config)
    generated = generate_source(prep, "net.py")
    out = tmp_path / "net.py"
    out.write_text(generated.source, encoding="utf-8")
    module = import_file(out)
    assert module.make_loss().label_smoothing == run  # a string, passed as data
    module.make_optimizer(torch.nn.Linear(2, 2).parameters())
    assert not marker.exists()
    assert any("left out" in n and "reduction=" in n for n in generated.notes)


@pytest.mark.fault("export", "a training section train refuses (bad lr, unknown dataset) and a graph error",
                   "exit 2, one 'error:' line per problem, the messages train prints; nothing written")
def test_export_refuses_what_train_refuses(tmp_path, capsys):
    project = _digits_project(tmp_path, optimizer={"type": "Adam", "lr": -1})
    for fmt in FORMATS:
        assert main(["export", str(project), "--format", fmt, "-o", str(tmp_path / "m")]) == 2
        err = capsys.readouterr().err
        assert err == "error: training.optimizer.lr must be a positive number, got -1\n", err
    assert main(["train", str(project), "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == err
    record = json.loads(project.read_text())
    record["nodes"][2]["params"]["out_features"] = -3  # a graph error as well
    record["training"]["dataset"] = {"name": "no_such_data"}
    record["training"]["optimizer"] = {"type": "Adam"}
    project.write_text(json.dumps(record))
    assert main(["export", str(project), "--format", "code", "-o", str(tmp_path / "m.py")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines), lines
    assert "fc1" in lines[0] and "unknown dataset 'no_such_data'" in lines[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json"]


@pytest.mark.fault("export", "a checkpoint whose weights hold NaN and inf (a diverged run), every format",
                   "refused before any exporter runs, naming the layer and the values; nothing written")
def test_nan_weights_are_named_before_any_export(tmp_path):
    import studio

    model = studio.build_model(studio.load_project(template("mlp_digits")))
    state = model.state_dict()
    state["fc1.weight"][0, :3] = torch.tensor([float("nan"), float("nan"), float("inf")])
    torch.save(state, tmp_path / "diverged.pt")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for fmt in FORMATS:
        with pytest.raises(ExportError) as info:
            export(template("mlp_digits"), fmt, out_dir / f"m.{fmt}", checkpoint=tmp_path / "diverged.pt")
        message = str(info.value)
        assert "Linear 'fc1'" in message and "2 NaN and 1 infinite" in message, message
        assert "does not reproduce" not in message
    assert list(out_dir.iterdir()) == []


@pytest.mark.fault("export code", "mlp_mnist: the script skipped the normalisation the trainer applies",
                   "the script's transforms compute what the trainer's do")
@pytest.mark.parametrize("name,options", [("mlp_mnist", {}), ("cnn_cifar10", {"augment": True}),
                                          ("mlp_mnist", {"normalize": {"mean": [0.5], "std": [0.25]}})])
def test_vision_scripts_normalise_as_the_trainer(name, options, tmp_path, monkeypatch):
    import torchvision
    from PIL import Image

    from studio.training.datasets.registry import dataset_options
    from studio.training.datasets.vision import transforms_for

    record = json.loads(template(name).read_text())
    record["training"]["dataset"].update(options)
    out = tmp_path / "net.py"
    export(loads_project(json.dumps(record)), "code", out)
    seen = {}

    class FakeSet:
        def __init__(self, root, train, download, transform):
            seen["train" if train else "val"] = transform

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeSet)
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeSet)
    import_file(out).load_data()
    _, opts, _ = dataset_options(record["training"]["dataset"])
    normalize, augment = transforms_for(record["training"]["dataset"]["name"], opts)
    shape = record["nodes"][0]["params"]["shape"]
    pixels = torch.randint(0, 256, (shape[1], shape[2], shape[0]), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    image = Image.fromarray(pixels.squeeze(-1).numpy() if shape[0] == 1 else pixels.numpy())
    want = normalize(pixels.permute(2, 0, 1)[None])[0]
    assert torch.allclose(seen["val"](image), want, atol=1e-6)
    if augment is None:
        assert torch.allclose(seen["train"](image), want, atol=1e-6)
    else:  # random crops and flips of the same pixels, normalised the same way
        crops = {type(t).__name__ for t in seen["train"].transforms}
        assert {"RandomCrop", "RandomHorizontalFlip"} <= crops
        assert seen["train"].transforms[0].padding == augment.pad


def _blank_project_with_digits(tmp_path):
    """What a person makes in a blank project: Input, Flatten, Linear, Output, then picks digits."""
    g = Graph()
    g.add_node("Input", {"shape": [1, 8, 8]}, node_id="input")
    g.add_node("Flatten", node_id="flatten")
    g.add_node("Linear", {"out_features": 10}, node_id="linear")
    g.add_node("Output", node_id="output")
    for a, b in (("input", "flatten"), ("flatten", "linear"), ("linear", "output")):
        g.connect(a, b)
    project = Project(name="Untitled", graph=g, training={"dataset": {"name": "digits"}})
    return project.save(tmp_path / "blank.json")


@pytest.mark.fault("export code", "a hand-built graph whose training section sets only the dataset (issue 13)",
                   "the script uses the trainer's defaults (loss, optimizer) and trains on its own; its loss falls")
def test_hand_built_graph_exports_a_script_that_trains(tmp_path):
    path = _blank_project_with_digits(tmp_path)
    out = tmp_path / "blank.py"
    assert main(["export", str(path), "--format", "code", "-o", str(out)]) == 0
    result = _train_script(out, tmp_path, "--epochs", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    losses = [float(v) for v in re.findall(r"train loss (\S+)", result.stdout)]
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2], result.stdout
    module = import_file(out)
    from studio.training.config import parse_config

    config = parse_config(json.loads(path.read_text())["training"])
    assert type(module.make_loss()).__name__ == config.loss.type
    optimizer = module.make_optimizer(torch.nn.Linear(2, 2).parameters())
    assert type(optimizer).__name__ == config.optimizer.type
    assert optimizer.param_groups[0]["lr"] == config.optimizer.lr
    assert (module.EPOCHS, module.BATCH_SIZE) == (config.epochs, config.batch_size)


def test_a_project_with_no_dataset_picked_exports_and_its_other_fields_are_checked(tmp_path):
    """A window where no dataset is picked yet still exports the model; the script says to supply data."""
    record = json.loads(template("mlp_digits").read_text())
    record["training"] = {"epochs": 3, "optimizer": {"type": "SGD", "lr": 0.5}}
    report = export(loads_project(json.dumps(record)), "code", tmp_path / "net.py")
    assert any("no dataset is set" in note for note in report.notes)
    module = import_file(tmp_path / "net.py")
    assert module.EPOCHS == 3 and module.make_optimizer(torch.nn.Linear(2, 2).parameters()).defaults["lr"] == 0.5
    record["training"] = {"epochs": 0}
    with pytest.raises(ExportError, match="training.epochs must be a positive whole number, got 0"):
        export(loads_project(json.dumps(record)), "onnx", tmp_path / "m.onnx")


@pytest.mark.fault("export", "a node id with a trailing newline ('fc1\\n'; the id pattern's '$' let it through)",
                   "refused when the file loads, naming the id; exit 2, no traceback")
def test_a_node_id_with_a_trailing_newline_is_refused(tmp_path, capsys):
    record = json.loads(template("mlp_digits").read_text())
    record["nodes"][2]["id"] = "fc1\n"
    for edge in record["edges"]:
        for end in ("source", "target"):
            if edge[end] == "fc1":
                edge[end] = "fc1\n"
    path = tmp_path / "net.json"
    path.write_text(json.dumps(record))
    assert main(["export", str(path), "--format", "code", "-o", str(tmp_path / "net.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "'fc1\\n'" in err and "Traceback" not in err, err
