"""Issue 18 items 4-5 in the window: train briefly, then the 'Where it errs' dock shows the wrong
validation samples with their labels (a click emits sample_chosen), a per-class table equal to
torchmetrics', ROC/PR with AUC for two classes, and the 'Classes' dock's PCA steps through epochs.
Real clicks; waits on signals and conditions."""
from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
import torchmetrics.functional.classification as F
from PySide6.QtCore import Qt

from studio.core.project import load_project
from studio.ui.training import file_dialogs

from .window_helpers import copied_template, dialog_log, isolated, open_window  # noqa: F401

RUN_TIMEOUT = 60_000


def trained_window(qtbot, tmp_path, name: str, epochs: int):
    w = open_window(qtbot, load_project(copied_template(tmp_path, name)), size=(1600, 1000))
    ui = w.training
    qtbot.waitUntil(lambda: ui.preflight is not None and ui.can_train, timeout=RUN_TIMEOUT)
    ui.docks["errors"].raise_()
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
        assert ui.train(overrides={"epochs": epochs})
    assert ended.args[0].status == "finished", ended.args[0].message
    return w, ui


@pytest.fixture
def digits(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    w, ui = trained_window(qtbot, tmp_path, "cnn_digits", 3)
    yield w, ui
    w.document.undo_stack.setClean()


def probe_outputs(ui):
    """The trained model's probabilities on the validation split, from the probe handed over at the end."""
    probe = ui.session.last_probe
    x = probe.part.x.to(probe.device)
    x = probe.transform(x) if probe.transform is not None else x
    probe.model.eval()
    with torch.no_grad():
        out = probe.model(x).float()
    return torch.softmax(out, 1).cpu(), probe.part.y.long().cpu()


def test_gallery_shows_wrong_samples_and_a_click_chooses_one(digits, qtbot):
    w, ui = digits
    view = ui.where_errs.errors
    e = view.last
    assert e is not None and e.epoch == 3 and view.gallery.count() == len(e.wrong) > 0
    probs, labels = probe_outputs(ui)
    conf, pred = probs.max(1)
    first = e.wrong[0]
    assert pred[first["index"]] != labels[first["index"]]
    classes = e.classes
    assert view.gallery.captions[0].startswith(f"{classes[first['true']]} → {classes[first['pred']]}")
    assert f"{first['confidence']:.0%}" in view.gallery.captions[0]
    assert view.gallery.has_picture(0)  # a thumbnail of the digit
    assert str(e.wrong_count) in view.gallery_title.text()
    ui.docks["errors"].raise_()
    qtbot.waitUntil(lambda: view.gallery.isVisible() and view.gallery.width() > 0, timeout=5000)
    rect = view.gallery.cell_rect(1)
    view.gallery_scroll.ensureVisible(rect.center().x(), rect.center().y())
    with qtbot.waitSignal(ui.where_errs.sample_chosen, timeout=5000) as chosen:
        qtbot.mouseClick(view.gallery, Qt.MouseButton.LeftButton, pos=rect.center())
    assert chosen.args == ["val", e.wrong[1]["index"]]


def test_a_clicked_sample_is_tried_with_its_grad_cam(digits, qtbot):
    """Issue 18's acceptance: open the misclassified gallery, click a sample, see its Grad-CAM in Try
    it; the attribution equals Captum's LayerGradCam called directly on the same model and input."""
    from captum.attr import LayerAttribution, LayerGradCam

    w, ui = digits
    view, tryit = ui.where_errs.errors, ui.tryit
    e = view.last
    qtbot.waitUntil(lambda: tryit.subject is not None, timeout=5000)  # the run's model, at its end
    ui.docks["errors"].raise_()
    qtbot.waitUntil(lambda: view.gallery.isVisible() and view.gallery.width() > 0, timeout=5000)
    rect = view.gallery.cell_rect(0)
    with qtbot.waitSignal(tryit.answered, timeout=10_000):
        qtbot.mouseClick(view.gallery, Qt.MouseButton.LeftButton, pos=rect.center())
    index = e.wrong[0]["index"]
    assert tryit.isVisible() and tryit.sample_index == index and f"Sample {index}" in tryit.caption.text()
    a = tryit.last_attribution
    assert a is not None and a.method == "gradcam" and a.node == "conv2"  # the last conv, by default
    assert tryit.canvas.overlay is not None and "conv layer" in tryit.note.text()
    model = tryit.subject.model
    x, _label = tryit.subject.sample(index)
    np.testing.assert_array_equal(tryit.current_input().numpy(), x.numpy())  # the sample as stored
    assert a.target == e.wrong[0]["pred"] and tryit.shown_top()[0][0] == e.classes[e.wrong[0]["pred"]]
    model.eval()
    cam = LayerGradCam(model, model.conv2).attribute(x.clone().requires_grad_(True), target=a.target,
                                                   relu_attributions=True)
    ref = LayerAttribution.interpolate(cam, (8, 8), interpolate_mode="bilinear")[0].detach().numpy()
    np.testing.assert_allclose(a.values, ref, rtol=1e-5, atol=1e-7)
    assert float(np.abs(ref).sum()) > 0  # not an all-zero map compared with itself
    # a stroke on it: the input is the person's drawing again
    with qtbot.waitSignal(tryit.answered, timeout=10_000):
        c = tryit.canvas.rect().center()
        qtbot.mouseClick(tryit.canvas, Qt.MouseButton.LeftButton, pos=c)
    assert tryit.sample_index is None


def test_per_class_table_equals_torchmetrics(digits):
    _w, ui = digits
    view = ui.where_errs.errors
    probs, labels = probe_outputs(ui)
    assert view.model.rowCount() == 10
    expected = {1: F.multiclass_precision, 2: F.multiclass_recall, 3: F.multiclass_f1_score}
    for col, fn in expected.items():
        ref = fn(probs, labels, num_classes=10, average=None).numpy()
        shown = np.array([float(view.model.item(r, col).text()) for r in range(10)])
        np.testing.assert_allclose(shown, ref, atol=6e-4)
    assert [int(view.model.item(r, 4).text()) for r in range(10)] == torch.bincount(labels, minlength=10).tolist()
    assert view.confusion.matrix is not None and view.confusion.matrix.sum() == len(labels)
    assert not view.curves_part.isVisibleTo(view)  # ten classes: no ROC


def test_classes_view_steps_through_epochs(digits, qtbot):
    _w, ui = digits
    view = ui.where_errs.classes
    assert [f.epoch for f in view.frames] == [1, 2, 3]
    ui.docks["classes"].raise_()
    qtbot.waitUntil(lambda: sum(len(s.data) for s in view.scatters) == len(view.frames[-1].points), timeout=5000)
    assert view.slider.value() == 2 and "epoch 3" in view.epoch_label.text()
    view.slider.setFocus()
    qtbot.keyClick(view.slider, Qt.Key.Key_Home)
    assert view.slider.value() == 0 and view.epoch_label.text().startswith("epoch 1")
    assert sum(len(s.data) for s in view.scatters) == len(view.frames[0].points)
    assert len(view.scatters) == 10
    assert "fc2" in view.plot.titleLabel.text


def test_classes_view_draws_nothing_while_hidden(qtbot):
    """Behind another tab the points wait (5-20 ms of GUI time a frame, for nobody); shown, the newest is drawn."""
    from studio.training.events import ProjectionEvent
    from studio.ui.training.projection_view import ProjectionView

    view = ProjectionView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    events = [ProjectionEvent(k, "val", "fc2", ["a", "b", "c"], rng.normal(size=(30, 2)), np.arange(30) % 3, (0.6, 0.3))
              for k in (1, 2)]
    view.add_projections(events)
    assert view.epoch_label.text() == "epoch 2 of 2" and sum(len(s.data) for s in view.scatters) == 0
    view.show()
    qtbot.waitUntil(lambda: sum(len(s.data) for s in view.scatters) == 30, timeout=5000)
    np.testing.assert_allclose(np.sort(np.concatenate([s.getData()[0] for s in view.scatters])),
                               np.sort(events[1].points[:, 0]))


@pytest.mark.fault("export", "saving a view's PNG and CSV (the save dialog asks before replacing)",
                   "both files written whole; a cancelled dialog writes nothing")
def test_views_save_png_and_csv(digits, tmp_path, monkeypatch):
    _w, ui = digits
    view = ui.where_errs.errors
    answers = iter([str(tmp_path / "table.csv"), str(tmp_path / "gallery.png"), ""])
    monkeypatch.setattr(file_dialogs, "save_path", lambda *a: next(answers))
    assert view.table_buttons.save_csv() and view.gallery_buttons.save_png()
    assert view.curves_buttons.save_png() == ""  # cancelled
    rows = list(csv.reader((tmp_path / "table.csv").open()))
    assert rows[0] == ["class", "precision", "recall", "F1", "support"] and len(rows) == 11
    assert (tmp_path / "gallery.png").stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".csv", ".png", ".part")) == \
        ["gallery.png", "table.csv"]


def test_two_classes_show_roc_and_pr_with_auc(qtbot, isolated, dialog_log, tmp_path):  # noqa: F811
    from sklearn.metrics import roc_auc_score

    w, ui = trained_window(qtbot, tmp_path, "moons_mlp", 2)
    view = ui.where_errs.errors
    qtbot.waitUntil(lambda: view.curves_part.isVisibleTo(view), timeout=5000)
    probs, labels = probe_outputs(ui)
    auc = roc_auc_score(labels.numpy(), probs[:, 1].numpy())
    assert f"AUC {auc:.3f}" in view.roc_plot.titleLabel.text
    assert "AUC" in view.pr_plot.titleLabel.text
    xs, ys = view.roc_curve.getData()
    assert xs[0] == 0 and xs[-1] == 1 and ys[-1] == 1
    assert view.gallery.count() == len(view.last.wrong)
    assert view.gallery.count() == 0 or not view.gallery.has_picture(0)  # 2-D points: their values, no thumbnail
    fm = view.gallery.fontMetrics()  # "upper → lower" fits its cell (it overran into the next one at 90 px)
    assert all(fm.horizontalAdvance(line) < view.gallery.cell_rect(0).width()
               for c in view.gallery.captions for line in c.split("\n"))
    w.document.undo_stack.setClean()


def test_throttle_delays_replaces_and_flushes(qtbot):
    """The views' redraw throttle: a delayed one draws later (its own frame), values that wait are
    replaced by the newest, at most one call an interval, and flush applies what waits."""
    from studio.ui.training.errors_docks import Throttle

    calls = []
    t = Throttle(calls.append, 200, delay_ms=60)
    t(1)
    t(2)
    assert calls == []  # not in the frame that brought it
    qtbot.waitUntil(lambda: calls == [2], timeout=2000)
    t(3)
    t(4)
    assert calls == [2]  # within the interval: waits, replaced
    t.flush()
    assert calls == [2, 4]
    now = Throttle(calls.append, 200)
    now(5)
    assert calls == [2, 4, 5]  # no delay: at once


def test_classes_view_keeps_its_title_and_names_the_epoch_under_the_plot(qtbot, tmp_path, monkeypatch):
    """A new epoch changes the points and the labels under the plot, not the plot's title (setTitle
    relays the plot out and repaints it every frame); the saved PNG still names the epoch."""
    from PySide6.QtGui import QImage

    from studio.training.events import ProjectionEvent
    from studio.ui.training.projection_view import ProjectionView

    view = ProjectionView()
    qtbot.addWidget(view)
    view.resize(600, 450)
    view.show()
    titles = []
    set_title = view.plot.setTitle
    monkeypatch.setattr(view.plot, "setTitle", lambda *a, **k: (titles.append(a[0]), set_title(*a, **k)))
    rng = np.random.default_rng(1)
    for k in (1, 2, 3):
        view.add_projections([ProjectionEvent(k, "val", "fc2", ["a", "b"], rng.normal(size=(20, 2)),
                                              np.arange(20) % 2, (0.5 + k / 100, 0.2))])
    assert len(titles) == 1 and "fc2" in titles[0]
    assert view.epoch_label.text() == "epoch 3 of 3" and "53%" in view.share_label.text()
    picture = view.buttons.grab_widget.grab()
    assert picture.height() > view.plots.grab().height()  # a caption line above the plot
    path = tmp_path / "classes.png"
    monkeypatch.setattr(file_dialogs, "save_path", lambda *a: str(path))
    assert view.buttons.save_png() and not QImage(str(path)).isNull()


def test_classes_view_maps_the_shown_epoch_with_tsne_on_a_thread(qtbot):
    """t-SNE (scikit-learn) for the epoch shown, computed off the GUI thread from the features the
    epoch carried; an epoch whose features are no longer kept says so; UMAP is listed, and only
    choosable when umap-learn is installed."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from studio.training.embedding import unavailable
    from studio.training.events import ProjectionEvent
    from studio.ui.training.projection_view import FEATURES_KEPT, ProjectionView

    view = ProjectionView()
    qtbot.addWidget(view)
    view.resize(600, 450)
    view.show()
    rng = np.random.default_rng(2)
    labels = np.arange(60) % 3
    centres = rng.normal(size=(3, 8)) * 4
    events = []
    for k in range(1, FEATURES_KEPT + 3):
        features = (centres[labels] + rng.normal(size=(60, 8))).astype(np.float32)
        events.append(ProjectionEvent(k, "val", "fc2", ["a", "b", "c"], features[:, :2], labels, (0.4, 0.2), features))
    view.add_projections(events)
    umap_item = view.method_box.model().item(view.method_box.findData("umap"))
    assert umap_item.isEnabled() == (unavailable("umap") is None)
    view.method_box.setFocus()
    QTest.keyClick(view.method_box, Qt.Key.Key_Down)  # PCA -> t-SNE
    assert view.method == "tsne"
    newest = events[-1]
    qtbot.waitUntil(lambda: ("tsne", newest.epoch) in view._maps, timeout=60000)
    qtbot.waitUntil(lambda: view.share_label.text().startswith("t-SNE:"), timeout=5000)
    shown = np.concatenate([s.getData()[0] for s in view.scatters])
    assert len(shown) == 60 and not np.allclose(np.sort(shown), np.sort(newest.points[:, 0]))
    assert view.rows()[0] == ["epoch", "index", "class", "tsne1", "tsne2"]
    view.slider.setValue(0)  # epoch 1: its features were let go
    assert "kept for the last" in view.share_label.text() and not view.worker.busy
