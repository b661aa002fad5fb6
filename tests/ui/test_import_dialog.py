"""File > Import (issue 17): the dialog warns before running a person's code, imports, and opens the
project; a refusal is shown and opens nothing."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from studio.ui import import_dialog
from studio.ui.import_dialog import ImportDialog, run_import

from .window_helpers import dialog_log, isolated, window  # noqa: F401  (fixtures)

NET = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv1(x)), 1))


class Odd(nn.Module):
    def forward(self, x):
        return torch.fft.rfft(x).real
'''


def _dialog(qtbot, window, source, output, shape):
    dlg = ImportDialog(window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    qtbot.keyClicks(dlg.source, source)
    qtbot.keyClicks(dlg.output, str(output))
    qtbot.keyClicks(dlg.shape, shape)
    return dlg


def test_user_code_needs_consent_then_the_import_opens(qtbot, window, tmp_path):
    path = tmp_path / "net.py"
    path.write_text(NET)
    dlg = _dialog(qtbot, window, f"{path}:Net", tmp_path / "net.json", "1,8,8")
    assert dlg.warning.isVisible() and "runs the code in" in dlg.warning.text()
    assert not dlg.import_button.isEnabled()  # not before the person says they trust it
    qtbot.mouseClick(dlg.trust, Qt.MouseButton.LeftButton, pos=QPoint(6, dlg.trust.height() // 2))
    assert dlg.trust.isChecked() and dlg.import_button.isEnabled()
    with qtbot.waitSignal(dlg.accepted, timeout=2000):
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    assert run_import(window, dlg.request())
    assert {"conv1", "fc"} <= set(window.document.graph.nodes)
    assert window.document.project.weights == "net.safetensors"


def test_torchvision_needs_no_consent(qtbot, window, tmp_path):
    dlg = _dialog(qtbot, window, "torchvision:resnet18", tmp_path / "r.json", "3,32,32")
    assert not dlg.warning.isVisible() and dlg.import_button.isEnabled()


@pytest.mark.fault("import", "File > Import of a model with an op that has no node type",
                   "the message names the op and its line; the open project stays")
def test_a_refused_import_shows_why_and_opens_nothing(qtbot, window, dialog_log, tmp_path):
    path = tmp_path / "net.py"
    path.write_text(NET)
    before = list(window.document.graph.nodes)
    request = {"source": f"{path}:Odd", "output": str(tmp_path / "odd.json"), "shape": "8", "args": None}
    assert not run_import(window, request)
    (title, message), = dialog_log.errors
    assert "torch.fft.rfft" in message and f"{path}:" in message
    assert list(window.document.graph.nodes) == before
    assert not (tmp_path / "odd.json").exists()


def test_an_existing_project_is_replaced_only_when_the_person_agrees(qtbot, window, tmp_path, monkeypatch):
    (tmp_path / "r.json").write_text("mine")
    asked = []
    monkeypatch.setattr(import_dialog, "ask_replace", lambda parent, paths: asked.append(paths) or False)
    request = {"source": "torchvision:resnet18", "output": str(tmp_path / "r.json"), "shape": "3,32,32",
               "args": None}
    assert not run_import(window, request)
    assert asked and (tmp_path / "r.json").read_text() == "mine"


def test_a_model_file_needs_no_consent_and_opens(qtbot, window, tmp_path, monkeypatch):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).eval()
    torch.export.save(torch.export.export(model, (torch.randn(1, 1, 8, 8),)), str(tmp_path / "net.pt2"))
    chosen = tmp_path / "net.pt2"
    monkeypatch.setattr(import_dialog.QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(chosen), "Model files (*.onnx *.pt2)"))
    dlg = ImportDialog(window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    choose = next(b for b in dlg.findChildren(import_dialog.QPushButton) if b.text() == "Model File…")
    qtbot.mouseClick(choose, Qt.MouseButton.LeftButton)
    assert dlg.source.text() == str(chosen)
    qtbot.keyClicks(dlg.output, str(tmp_path / "net.json"))
    assert not dlg.warning.isVisible() and not dlg.trust.isVisible()  # a model file is data: no code runs
    assert dlg.import_button.isEnabled()
    with qtbot.waitSignal(dlg.accepted, timeout=2000):
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    assert run_import(window, dlg.request())  # no input shape: the program's own
    assert [n.type for n in window.document.graph.nodes.values()] == ["Input", "Conv2d", "ReLU", "Flatten",
                                                                     "Linear", "Output"]
    assert window.document.project.weights == "net.safetensors"
    dlg.source.setText(str(tmp_path / "other.onnx"))
    assert not dlg.trust.isVisible() and dlg.import_button.isEnabled()


@pytest.mark.fault("import", "File > Import with 'Import what maps' ticked, a model with an unmapped op",
                   "the project opens with an Unmapped node per part, each named in the Problems panel")
def test_a_partial_import_opens_with_the_unmapped_nodes_in_problems(qtbot, window, tmp_path):
    path = tmp_path / "net.py"
    path.write_text(NET)
    dlg = _dialog(qtbot, window, f"{path}:Odd", tmp_path / "odd.json", "8")
    qtbot.mouseClick(dlg.partial, Qt.MouseButton.LeftButton, pos=QPoint(6, dlg.partial.height() // 2))
    assert dlg.partial.isChecked() and dlg.request()["partial"]
    assert run_import(window, dlg.request())
    unmapped = sorted(n.id for n in window.document.graph.nodes.values() if n.type == "Unmapped")
    assert unmapped == ["real", "rfft"]
    qtbot.waitUntil(lambda: all(window.problems.row_of(n) >= 0 for n in unmapped), timeout=3000)
    texts = [window.problems.model.data(window.problems.model.index(window.problems.row_of(n), 0)) for n in unmapped]
    assert "Tensor.real: has no node type" in texts[0] and "torch.fft.rfft: has no node type" in texts[1]
