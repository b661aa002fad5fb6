"""Issue 17: a project's weights file travels with it when it is saved into another folder."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import studio
from studio.core.project import ProjectError
from studio.importing import import_module


def _imported(tmp_path):
    torch.manual_seed(0)
    source = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).eval()
    (tmp_path / "a").mkdir()
    import_module(source, tmp_path / "a" / "net.json", [3], "net")
    return source, studio.load_project(tmp_path / "a" / "net.json")


def test_save_as_into_another_folder_takes_the_weights_along(tmp_path):
    source, project = _imported(tmp_path)
    (tmp_path / "b").mkdir()
    project.save(tmp_path / "b" / "copy.json")
    assert (tmp_path / "b" / "net.safetensors").read_bytes() == (tmp_path / "a" / "net.safetensors").read_bytes()
    model = studio.build_model(studio.load_project(tmp_path / "b" / "copy.json")).eval()
    x = torch.randn(5, 3)
    assert torch.allclose(model(x), source(x), atol=1e-6)


@pytest.mark.fault("project file", "Save As into a folder that holds another weights file of the same name",
                   "refused naming the file; nothing is replaced")
def test_another_weights_file_in_the_new_folder_is_not_replaced(tmp_path):
    _, project = _imported(tmp_path)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "net.safetensors").write_bytes(b"someone else's")
    with pytest.raises(ProjectError, match="a different weights file is already there"):
        project.save(tmp_path / "b" / "copy.json")
    assert (tmp_path / "b" / "net.safetensors").read_bytes() == b"someone else's"
    assert not (tmp_path / "b" / "copy.json").exists()
