"""The generated script trains what NetStudio trains when the project fine-tunes: frozen layers (and
their BatchNorm statistics) stay as they are, each learning-rate multiplier gets its own group, and
OneCycleLR's peak keeps each group's multiplier (docs/finetune.md)."""
from __future__ import annotations

import json

import pytest
import torch

from studio.core.project import loads_project
from studio.export import export
from studio.export.codegen.export import import_file


def project(tuned: bool = True):
    nodes = [("input", "Input", {"shape": [2]}, {}), ("fc1", "Linear", {"out_features": 16}, {"frozen": True}),
             ("bn", "BatchNorm1d", {}, {"frozen": True}), ("act", "Tanh", {}, {}),
             ("fc2", "Linear", {"out_features": 8}, {}), ("act2", "Tanh", {}, {}),
             ("fc3", "Linear", {"out_features": 2}, {"lr_mult": 10}), ("output", "Output", {}, {})]
    record = {"format": "netstudio", "version": 1, "name": "Tuned", "nodes": [
        {"id": i, "type": t, "params": p, "pos": [0, 0], **(extra if tuned else {})} for i, t, p, extra in nodes],
        "edges": [{"source": a[0], "target": b[0]} for a, b in zip(nodes, nodes[1:])],
        "training": {"dataset": {"name": "moons", "samples": 200}, "loss": {"type": "CrossEntropyLoss"},
                     "optimizer": {"type": "Adam", "lr": 0.01}, "schedule": {"type": "OneCycleLR", "max_lr": 0.05},
                     "epochs": 1, "batch_size": 16, "seed": 0}}
    return loads_project(json.dumps(record))


def test_frozen_layers_and_their_batchnorm_stay_as_they_are(tmp_path):
    out = tmp_path / "tuned.py"
    export(project(), "code", out)
    module = import_file(out)
    assert module.FROZEN == ("fc1", "bn") and module.LR_MULT == {"fc3": 10.0}
    torch.manual_seed(module.SEED)
    start = {k: v.clone() for k, v in module.TunedNet().state_dict().items()}  # train() starts from these
    trained = module.train(epochs=1, device="cpu")
    after = trained.state_dict()
    for key in ("fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"):
        assert torch.equal(after[key], start[key]), key
    assert not torch.equal(after["fc2.weight"], start["fc2.weight"])
    assert not torch.equal(after["fc3.weight"], start["fc3.weight"])


def test_each_multiplier_gets_its_group_and_its_peak(tmp_path):
    out = tmp_path / "tuned.py"
    export(project(), "code", out)
    module = import_file(out)
    net = module.TunedNet()
    module.freeze(net)
    groups = module.param_groups(net)
    assert sorted(g["lr_mult"] for g in groups) == [1.0, 10.0]
    optimizer = module.make_optimizer(groups)
    scheduler = module.make_scheduler(optimizer, 1, 10)
    assert sorted(g["max_lr"] for g in optimizer.param_groups) == pytest.approx([0.05, 0.5])
    assert isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR)


def test_a_project_that_fine_tunes_nothing_gets_no_fine_tuning_code(tmp_path):
    out = tmp_path / "plain.py"
    export(project(tuned=False), "code", out)
    text = out.read_text()
    assert "FROZEN =" not in text and "def param_groups" not in text and "freeze(" not in text
    assert "optimizer = make_optimizer(net.parameters())" in text
    module = import_file(out)
    optimizer = module.make_optimizer(module.TunedNet().parameters())
    assert module.make_scheduler(optimizer, 1, 10).optimizer is optimizer  # one group, one peak


def test_importing_the_generated_file_reads_its_fine_tuning_back(tmp_path, capsys):
    """export --format code, then import file.py:Class: the frozen layers and multipliers come back."""
    from studio.cli import main

    out = tmp_path / "tuned.py"
    export(project(), "code", out)
    back = tmp_path / "back.json"
    assert main(["import", f"{out}:TunedNet", "-o", str(back), "--input-shape", "2"]) == 0, capsys.readouterr().err
    assert "fine-tuning read back: 2 frozen, 1 learning-rate multiplier(s)" in capsys.readouterr().out
    graph = loads_project(back.read_text()).graph
    assert graph.node("fc1").frozen and graph.node("bn").frozen and graph.node("fc3").lr_mult == 10.0
    assert not graph.node("fc2").frozen and graph.node("fc2").lr_mult == 1.0


def test_a_hand_written_file_with_a_frozen_name_is_not_read_as_marks(tmp_path):
    from studio.importing.tuning_marks import generated_marks

    source = tmp_path / "mine.py"
    source.write_text('"""My own model."""\nimport torch\nFROZEN = ("fc",)\n'
                      "class Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                      "        self.fc = torch.nn.Linear(2, 2)\n")
    module = import_file(source)
    assert not generated_marks(module.Net())


def test_marks_that_are_not_the_generators_shape_are_not_read(tmp_path):
    """A file that says NetStudio generated it but whose FROZEN / LR_MULT hold something else (a quote,
    a backslash, a payload, a bad rate) gives no marks: none of it reaches a node or a message."""
    from studio.importing.tuning_marks import generated_marks

    header = '"""Net: generated by NetStudio 0.1."""\nimport torch\n'
    body = ("class Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.fc = torch.nn.Linear(2, 2)\n")
    for i, marks in enumerate(['FROZEN = ("fc\'\\\\\\"; __import__(\'os\').system(\'x\')",)\nLR_MULT = {}\n',
                               'FROZEN = ("fc",)\nLR_MULT = {"fc": float("nan")}\n',
                               'FROZEN = ["fc"]\nLR_MULT = {}\n', 'FROZEN = ()\nLR_MULT = {"fc": -2}\n']):
        source = tmp_path / f"gen{i}.py"
        source.write_text(header + marks + body)
        assert not generated_marks(import_file(source).Net()), marks
