"""Issue 17: what an import refuses, and how: a message naming the part and how to fix it, exit 2,
nothing written, nothing a person made overwritten, no traceback."""
from __future__ import annotations

import json
import urllib.error

import pytest
import torch

import studio
from studio.cli import main
from studio.core.project import ProjectError, loads_project
from studio.core.weights import WeightsError

SPECTRAL = '''
import torch
from torch import nn


class Spectrum(nn.Module):
    def forward(self, x):
        return torch.fft.rfft(x).real


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.spectrum = Spectrum()

    def forward(self, x):
        return self.spectrum(self.fc(x))
'''

MARKER = '''
import pathlib
pathlib.Path(__file__).with_name("ran.txt").write_text("the code ran")
from torch import nn


class Model(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Linear(4, 2))
'''


def _run(capsys, *argv):
    rc = main(["import", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return rc, captured.err


@pytest.mark.fault("import", "an op with no node type (torch.fft.rfft) inside a submodule",
                   "refused (exit 2) naming the module path, the op and the source line; nothing written")
def test_an_op_without_a_node_type_is_named_with_its_path_and_line(tmp_path, capsys):
    path = tmp_path / "spectral.py"
    path.write_text(SPECTRAL)
    out = tmp_path / "spectral.json"
    rc, err = _run(capsys, f"{path}:Model", "-o", str(out), "--input-shape", "8")
    assert rc == 2
    line = SPECTRAL.splitlines().index("        return torch.fft.rfft(x).real") + 1
    assert f"spectrum: torch.fft.rfft: has no node type (at {path}:{line})" in err
    assert f"spectrum: Tensor.real: has no node type (at {path}:{line})" in err  # fx keeps no place for it
    assert list(tmp_path.iterdir()) == [path]  # no project, no weights file


@pytest.mark.fault("import", "-o names an existing project, without --overwrite",
                   "refused (exit 2) before the source's code runs; the file is unchanged")
def test_an_existing_output_is_refused_without_overwrite(tmp_path, capsys):
    path = tmp_path / "marker.py"
    path.write_text(MARKER)
    out = tmp_path / "mine.json"
    out.write_text("my own work")
    rc, err = _run(capsys, f"{path}:Model", "-o", str(out), "--input-shape", "4")
    assert rc == 2 and "exists; pass --overwrite" in err
    assert out.read_text() == "my own work"
    assert not (tmp_path / "ran.txt").exists()  # the user code never ran
    rc, err = _run(capsys, f"{path}:Model", "-o", str(out), "--input-shape", "4", "--overwrite")
    assert rc == 0, err
    assert json.loads(out.read_text())["weights"] == "mine.safetensors"


@pytest.mark.fault("import", "an existing weights file beside -o, without --overwrite",
                   "refused (exit 2); the weights file is unchanged")
def test_an_existing_weights_file_is_refused_without_overwrite(tmp_path, capsys):
    (tmp_path / "net.safetensors").write_bytes(b"mine")
    rc, err = _run(capsys, "torchvision:resnet18", "-o", str(tmp_path / "net.json"))
    assert rc == 2 and "net.safetensors: exists" in err
    assert (tmp_path / "net.safetensors").read_bytes() == b"mine"


def go_offline(tmp_path, monkeypatch) -> None:
    """No network and an empty torch cache: torchvision's download fails as it does offline."""
    import torchvision.models._api as api

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(api, "load_state_dict_from_url", offline)


@pytest.mark.fault("import", "--weights DEFAULT offline, without the file in torch's cache",
                   "refused (exit 2) saying where the file should be and how to get it")
def test_pretrained_weights_offline_say_how_to_get_them(tmp_path, capsys, monkeypatch):
    go_offline(tmp_path, monkeypatch)
    rc, err = _run(capsys, "torchvision:resnet18", "-o", str(tmp_path / "r.json"), "--weights", "DEFAULT")
    assert rc == 2
    assert "ResNet18_Weights.IMAGENET1K_V1 is not in torch's cache" in err
    assert str(tmp_path / "torch_home") in err and "get_model('resnet18'" in err
    assert "without --weights for random weights" in err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("argv, says", [
    (["resnet18"], "must be torchvision:NAME"),
    (["torchvision:resnet1800"], "did you mean resnet18"),
    (["torchvision:resnet18", "--weights", "BEST"], "choose one of DEFAULT, IMAGENET1K_V1"),
    (["torchvision:resnet18", "--args", "{num_classes: 3}"], "--args is not valid JSON"),
    (["torchvision:resnet18", "--args", '{"num_layers": 3}'], "unexpected keyword argument 'num_layers'"),
    (["torchvision:resnet18", "--input-shape", "3,-2,4"], "must be positive whole numbers"),
    (["no/such/file.py:Net", "--input-shape", "3"], "no such Python file"),
    (["json:Net", "--input-shape", "3"], "json: has no 'Net'"),
])
@pytest.mark.fault("import", "a malformed SOURCE, --weights, --args or --input-shape",
                   "refused (exit 2) with what is wrong and what to write")
def test_bad_arguments_are_refused_with_a_message(tmp_path, capsys, argv, says):
    rc, err = _run(capsys, *argv, "-o", str(tmp_path / "x.json"))
    assert rc == 2 and says in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value, says", [
    (5, "must name a weights file beside the project"),
    ("../elsewhere.safetensors", "must be a path inside the project's folder"),
    ("/etc/weights.safetensors", "must be a path inside the project's folder"),
    ("weights.pkl", "must be a .safetensors file"),
])
@pytest.mark.fault("project file", "a \"weights\" field that is not a file beside the project",
                   "refused at load, naming the field")
def test_the_weights_field_is_checked_at_load(value, says):
    text = json.dumps({"format": "netstudio", "version": 2, "nodes": [], "edges": [], "weights": value})
    with pytest.raises(ProjectError, match="\"weights\""):
        loads_project(text)
    with pytest.raises(ProjectError) as caught:
        loads_project(text)
    assert says in str(caught.value)


@pytest.mark.fault("project file", "the weights file a project names is missing or corrupt",
                   "build_model refuses naming the file (WeightsError)")
def test_missing_or_corrupt_weights_file_is_named(tmp_path, capsys):
    rc = main(["import", "torchvision:resnet18", "-o", str(tmp_path / "r.json"), "--input-shape", "3,32,32"])
    assert rc == 0
    weights = tmp_path / "r.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="r.safetensors: is not a readable safetensors file"):
        studio.build_model(studio.load_project(tmp_path / "r.json"))
    weights.unlink()
    with pytest.raises(WeightsError, match="no such weights file"):
        studio.build_model(studio.load_project(tmp_path / "r.json"))


def test_help_says_that_importing_user_code_runs_it(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "RUNS ITS CODE" in capsys.readouterr().out.replace("\n", " ")


def test_a_project_keeps_its_weights_field_through_save(tmp_path):
    project = loads_project(json.dumps({"format": "netstudio", "version": 2, "nodes": [], "edges": [],
                                        "weights": "w.safetensors"}))
    assert project.to_json()["weights"] == "w.safetensors"
    assert torch.nn.Module  # keeps torch imported for the other tests' timing


@pytest.mark.fault("import", "pretrained weights offline, with --random-if-offline",
                   "imported with random weights, saying so on stderr (exit 0)")
def test_random_weights_offline_only_with_the_flag(tmp_path, capsys, monkeypatch):
    go_offline(tmp_path, monkeypatch)
    out = tmp_path / "r.json"
    rc, err = _run(capsys, "torchvision:resnet18", "-o", str(out), "--weights", "DEFAULT", "--input-shape", "3,32,32",
                   "--random-if-offline")
    assert rc == 0 and "importing with RANDOM weights" in err and "is not in torch's cache" in err
    assert out.exists() and out.with_suffix(".safetensors").exists()
