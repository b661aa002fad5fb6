"""Bad numbers in the app: a run whose loss diverges, and a run on data holding NaN, end with a failed
status in the training panel that says what to change (the learning rate, or the sample), through the
real worker thread and a real click; the window stays usable."""
from __future__ import annotations

import threading

import pytest

from reliability_helpers import moons_record, write_project
from studio.core.project import load_project
from tests.ui.window_helpers import dialog_log, isolated, open_window  # noqa: F401  (fixtures)
from test_training_faults import app_on, click, train  # noqa: F401  (app_on is a fixture)


def _panel_says_failed(qtbot, win, end, words, tmp_path, shot):
    ui, panel = win.training, win.training.panel
    assert end.status == "failed", end.message
    text = panel.status.text()
    assert text.startswith("Failed: "), text
    for w in words:
        assert w in text, text
    assert "Traceback" not in text and "internal error" not in text
    status = panel.status  # the whole advice is readable: wrapped, and its box grows to hold it
    assert status.wordWrap()
    qtbot.waitUntil(lambda: status.height() >= status.heightForWidth(status.width()) and
                    status.geometry().bottom() <= status.parentWidget().contentsRect().bottom(), timeout=5000)
    assert ui.session.worker is None and not win.document.locked
    assert not [t for t in threading.enumerate() if t.name.startswith("netstudio-training")]
    assert not (ui.session.last_run_dir / "checkpoint.pt").exists()  # it failed in epoch 1
    assert panel.train_button.isEnabled(), panel.train_button.toolTip()
    panel.status.parentWidget().grab().save(str(tmp_path / shot))  # the "Run" box, for a person to look at when the test is run by hand


@pytest.mark.fault("training", "the loss diverges to a finite plateau (Adam, lr 1e6, GUI run)",
                   "panel: Failed, the loss's growth and 'a lower learning rate for Adam' with the lr to try")
def test_divergence_shows_in_the_panel(app_on, qtbot, tmp_path):
    win = app_on(moons_record(epochs=3, optimizer={"type": "Adam", "lr": 1e6}))
    end = train(qtbot, win)
    assert end.result.reason == "diverged"
    _panel_says_failed(qtbot, win, end, ["the training loss grew from", "training diverged and stopped",
                                         "a lower learning rate for Adam (training.optimizer.lr is 1e+06; try 100000"],
                       tmp_path, "diverged.png")


@pytest.mark.fault("training", "a NaN in an .npz training sample's feature (GUI run)",
                   "refused before training: the panel names the file, the cell and the sample; Train stays off "
                   "(the trainer's own data check, for data that reaches it, is tested in tests/training)")
def test_nan_in_the_data_shows_in_the_panel(qtbot, isolated, dialog_log, tmp_path):
    import numpy as np

    data = tmp_path / "proj" / "data" / "points.npz"
    data.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    x[17, 1] = np.nan
    np.savez(data, x=x, y=y)
    record = moons_record(epochs=2)
    record["training"]["dataset"] = {"name": "npz", "path": "data/points.npz"}
    win = open_window(qtbot, load_project(write_project(tmp_path / "proj", record, "moons.json")))
    ui = win.training
    qtbot.waitUntil(lambda: ui.preflight is not None, timeout=60_000)
    assert not ui.can_train and not ui.panel.train_button.isEnabled()
    said = ui.panel.problems.text() + " " + ui.panel.train_button.toolTip()
    assert "points.npz" in said and "x[17, 1]" in said and "sample 17" in said, said
    assert "learning rate" not in said
