"""The training panels on their own (no run): steady plot ranges, legends that never cover the
curves, no drawing while hidden, one lane of drawing per frame, vectors of one or a few values,
token inputs, reconstructions, and 2-D decision boundaries without pyqtgraph overflow warnings."""
from __future__ import annotations

import warnings
from types import SimpleNamespace as NS

import numpy as np
import pyqtgraph as pg
import pytest

from studio.training.events import (ActivationEvent, EpochEvent, ErrorsEvent, NormsEvent, ProjectionEvent, ReportEvent,
                                    StepEvent)
from studio.ui.training.curves import CurvesView
from studio.ui.training.events_queue import EventQueue
from studio.ui.training.feature_maps import FeatureMapView
from studio.ui.training.ranges import SteadyRange, nice_ceil
from studio.ui.training.report_view import ReportView
from studio.ui.training.series import EmaState, ema
from studio.ui.training.session import LANES, TrainingSession
from studio.ui.training.tiles import BarsWidget, TokenGrid


def steps(start: int, n: int, epoch: int = 1) -> list:
    return [NS(kind="step", global_step=i, loss=2.0 * np.exp(-i / 300) + 0.05, lr=1e-3, epoch=epoch, step=i,
               steps_per_epoch=50, samples_per_s=1000.0, eta_s=1.0) for i in range(start, start + n)]


def epoch_event(e: int) -> NS:
    return NS(kind="epoch", epoch=e, epochs=30, train={"loss": 1.0 / e, "accuracy": 0.5 + 0.01 * e},
              val={"loss": 0.9 / e, "accuracy": 0.6 + 0.01 * e, "f1": 0.55 + 0.01 * e}, lr=1e-3)


@pytest.fixture
def curves(qtbot):
    view = CurvesView()
    qtbot.addWidget(view)
    view.resize(560, 440)
    view.show()
    qtbot.waitExposed(view)
    view.on_started(NS(steps_per_epoch=50, start_epoch=0, epochs=30))
    return view


def test_nice_ceil():
    assert [nice_ceil(x) for x in (0.9, 1.0, 1.1, 7, 45, 260, 999)] == [1.0, 1.0, 1.2, 8, 50, 300, 1000]


def test_steady_range_moves_a_few_times_while_a_curve_grows(qtbot):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    r = SteadyRange(w.getPlotItem())
    r.x_cap = 3000.0
    xs = np.arange(3000, dtype=float)
    ys = 2.0 * np.exp(-xs / 500) + 0.1
    for n in range(10, 3001, 10):  # 300 frames of new points
        r.update(xs[:n], ys[:n])
    assert r.changes < 25  # auto-range would have moved the view (and redrawn the axes) 300 times
    (x0, x1), (y0, y1) = w.getPlotItem().viewRange()
    assert x0 == 0 and x1 == 3000  # capped at the run's last step
    assert y0 <= ys.min() and y1 >= ys.max() and y0 >= 0  # the whole curve, no axis below zero


def test_steady_range_leaves_a_panned_view_alone_until_double_click(qtbot):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    r = SteadyRange(w.getPlotItem())
    r.update(np.arange(10.0), np.arange(10.0))
    w.getPlotItem().getViewBox().sigRangeChangedManually.emit([True, True])  # what a drag or wheel sends
    assert not r.follow and not r.update(np.arange(100.0), np.arange(100.0))
    r.hand_back()
    assert r.update(np.arange(100.0), np.arange(100.0))


def test_legends_are_in_titles_and_metrics_have_one_colour_each(curves):
    curves.add_steps(steps(0, 50))
    for e in range(1, 4):
        curves.add_epoch(epoch_event(e))
        curves.add_epoch(epoch_event(e))  # creation is spread: at most two new curves per call
    for plot in (curves.loss_plot, curves.metric_plot, curves.lr_plot):
        assert plot.legend is None  # nothing drawn over the curves
    title = curves.metric_plot.titleLabel.text
    assert "accuracy" in title and "f1" in title and "train" in title
    assert "validation" in curves.loss_plot.titleLabel.text
    pens = {k: item.opts["pen"].color().name() for k, item in curves._metric_items.items()}
    assert pens[("train", "accuracy")] == pens[("val", "accuracy")] != pens[("val", "f1")]


def test_smoothed_loss_lags_by_steps_not_by_reports():
    """Coarse reports (every 25 steps) and fine ones (every step) give the same smoothed line, and it
    trails a falling loss by about its half-life, not by five reports."""
    loss = lambda x: 2.0 - x / 100  # noqa: E731
    fine_x = np.arange(0, 201, 1.0)
    coarse_x = np.arange(0, 201, 25.0)
    fine = ema(fine_x, loss(fine_x), halflife=10)
    coarse = ema(coarse_x, loss(coarse_x), halflife=10)
    assert abs(fine[-1] - coarse[-1]) < 0.1
    assert 0 < fine[-1] - loss(200) < 0.2  # behind by ~10-15 steps of a 0.01-per-step fall
    assert coarse[0] == loss(0)  # bias-corrected: the first point is not pulled to zero
    state = EmaState(10)
    halves = state.update(fine_x[:100], loss(fine_x[:100])) + state.update(fine_x[100:], loss(fine_x[100:]))
    assert np.allclose(halves, fine)  # point by point equals the whole series at once
    assert EmaState(10).update([0, 1, 2], [1.0, float("nan"), 1.0])[1] == 1.0  # NaN keeps the average


def test_hidden_curves_keep_data_and_draw_it_when_shown(curves, qtbot):
    curves.add_steps(steps(0, 10))
    curves.hide()
    curves.add_steps(steps(10, 40))
    assert len(curves.raw) == 50 and len(curves.raw_item.xData) == 10  # kept, not drawn
    curves.show()
    qtbot.waitUntil(lambda: len(curves.raw_item.xData) == 50)


class _Recorder:
    def __init__(self, session: TrainingSession) -> None:
        self.frames: list[list[str]] = []
        self._now: list[str] = []
        for lane in LANES:
            getattr(session, {"epochs": "epoch"}.get(lane, lane)).connect(lambda *_a, k=lane: self._now.append(k))
        session.frame.connect(self._end)

    def _end(self) -> None:
        self.frames.append(self._now)
        self._now = []


def test_each_frame_draws_one_lane_and_epochs_follow_their_steps(qtbot):
    class Doc:
        def set_locked(self, _on):
            pass

    session = TrainingSession(Doc())
    session.worker = NS(queue=EventQueue())
    rec = _Recorder(session)
    q = session.worker.queue
    for e in steps(0, 5):  # the queue takes the trainer's typed events (their class says how they merge)
        q.put(StepEvent(e.epoch, e.step, e.steps_per_epoch, e.global_step, e.loss, e.lr, e.samples_per_s, e.eta_s, 1.0))
    ev = epoch_event(1)
    q.put(EpochEvent(1, ev.epochs, ev.train, ev.val, ev.lr, 1.0, 100.0, 1.0, "loss", 1, 0.9, True))
    q.put(NormsEvent(1, 5, {}))
    q.put(ActivationEvent("conv1", 1, 5, 0, np.zeros((2, 4, 4))))
    q.put(ReportEvent(1, "val", "classification", ["a", "b"]))
    q.put(ErrorsEvent(1, "val", ["a", "b"], 10, 0))
    q.put(ProjectionEvent(1, "val", "fc", ["a", "b"], np.zeros((2, 2)), np.zeros(2)))
    for _ in range(10):
        session.drain()
    drawn = [lanes for lanes in rec.frames if lanes]
    assert all(len(lanes) == 1 for lanes in drawn), drawn
    order = [lanes[0] for lanes in drawn]
    assert sorted(order) == sorted(LANES) and order.index("steps") < order.index("epochs")


@pytest.mark.parametrize("n", [1, 3, 16, 100])
def test_bars_for_one_few_and_many_values(qtbot, n):
    bars = BarsWidget()
    qtbot.addWidget(bars)
    bars.resize(200, 120)
    bars.set_values(np.linspace(-1, 2, n))
    image = bars.grab().toImage()
    assert not image.isNull()
    # something is drawn in the accent colour and the orange of negative values (n > 1), or the number
    colours = {image.pixelColor(x, y).name() for x in range(0, 200, 2) for y in range(0, 120, 2)}
    assert len(colours) > 3


def test_token_inputs_are_a_grid_of_cells(qtbot):
    view = FeatureMapView()
    qtbot.addWidget(view)
    view.set_input(np.arange(32, dtype=np.int64) % 20, "input · token 3")
    assert view.input_stack.currentWidget() is view.input_tokens
    assert isinstance(view.input_tokens, TokenGrid) and len(view.input_tokens.ids) == 32
    assert "32 tokens" in view.input_tokens.caption


def test_one_value_activation_reads_as_a_number(qtbot):
    view = FeatureMapView()
    qtbot.addWidget(view)
    view.set_node("linear")
    view.show_activation(NS(node_id="linear", value=np.array([-0.0521], dtype=np.float32), global_step=3, epoch=1))
    assert view.stack.currentWidget() is view.bars
    assert view.note.text() == "one value: -0.0521"


def test_reconstructions_show_input_above_output_with_the_error(qtbot):
    view = ReportView()
    qtbot.addWidget(view)
    x = np.random.rand(1, 8, 8).astype(np.float32)
    samples = [{"x": x, "true": x, "pred": x * 0.5} for _ in range(8)]
    view.show_report(NS(epoch=2, split="val", task="reconstruction", classes=[], confusion=None, samples=samples,
                        boundary=None, regression=None))
    assert view.stack.currentWidget() is view.recon
    assert view.recon_strip.inputs[0].has_image() and view.recon_strip.outputs[0].has_image()
    err = float(np.mean((x - x * 0.5) ** 2))
    assert f"{err:.3g}" in view.recon_title.text()


def test_token_predictions_are_text_not_empty_tiles(qtbot):
    view = ReportView()
    qtbot.addWidget(view)
    view.show()
    samples = [{"x": np.arange(32), "true": i % 4, "pred": (i % 4) if i else 1} for i in range(8)]
    view.show_report(NS(epoch=1, split="val", task="classification", classes=["a", "b", "c", "d"],
                        confusion=np.eye(4, dtype=int), samples=samples, boundary=None, regression=None))
    assert not view.strip.isVisible() and view.strip_text.isVisible()
    assert "a → b" in view.strip_text.text() and "✓ b" in view.strip_text.text()


def test_decision_boundary_from_float32_grids_raises_no_overflow_warning(qtbot):
    view = ReportView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    xs = np.linspace(-1.5, 2.5, 60, dtype=np.float32)
    ys = np.linspace(-1, 1.5, 60, dtype=np.float32)
    probs = np.random.rand(60, 60, 2).astype(np.float32)
    view.set_points(np.random.rand(50, 2).astype(np.float32), np.random.randint(0, 2, 50))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        view.show_report(NS(epoch=1, split="val", task="classification", classes=["0", "1"], confusion=None,
                            samples=[], boundary={"xs": xs, "ys": ys, "probs": probs}, regression=None))
        view.plane.grab()  # paint: the ViewBox checks its range against its limits here too
    assert view.stack.currentWidget() is view.plane
