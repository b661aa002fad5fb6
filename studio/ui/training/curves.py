"""Live training curves (pyqtgraph): the training loss per step (raw, faint, and EMA-smoothed), the
validation loss per epoch on the same step axis, the metrics per epoch, and the learning rate.
Log-scale toggle, a read-out of the values under the mouse, earlier runs overlaid (dashed), and
the plots saved as PNG or their data as CSV.

Drawing cost (the GUI thread paints these ~30 times a second while a run trains): the view ranges
are set by `SteadyRange`, not auto-range, so the axes (cached as pixmaps) are redrawn only when a
range jumps; each plot's legend is a line of coloured text in its title (never over the curves,
and no legend items to lay out); nothing is redrawn while the panel is hidden (a tab behind
Gradients, a closed dock): the data is kept and drawn once when it shows again."""
from __future__ import annotations

import csv
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ..theme import color
from . import file_dialogs
from .live_label import LiveLabel
from .plot_style import (OVERLAY_COLORS, legend_title, new_plot_widget, restyle, series_color, set_title,
                         style_plot)
from .ranges import SteadyRange
from .series import EmaState, Series, ema, smoothing_halflife

VAL_COLOR = "#e5915a"
LR_COLOR = "#98c379"


class CurvesView(QWidget):
    status_message = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.raw, self.smooth, self.lr = Series(), Series(), Series()
        self._ema = EmaState()
        self.epoch_series: dict[tuple[str, str], Series] = {}  # (split, metric) -> (epoch, value)
        self.steps_per_epoch = 0
        self.start_epoch = 0
        self._epoch_step: dict[int, int] = {}  # epoch -> global step at its end
        self._metric_items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._metric_keys: list[str] = []  # one colour per metric; solid for validation, dotted for training
        self._overlays: dict[str, list] = {}
        self._stale = False  # data arrived while hidden: draw it when the panel shows
        self._overlay_xy: list = []

        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Show the loss on a logarithmic axis")
        self.log_box.toggled.connect(self.set_log)
        self.readout = LiveLabel("")
        self.readout.setObjectName("dim")
        self.png_button = QPushButton("PNG…")
        self.png_button.setToolTip("Save the plots as a PNG image")
        self.png_button.clicked.connect(self.ask_save_png)
        self.csv_button = QPushButton("CSV…")
        self.csv_button.setToolTip("Save the data behind the plots as CSV (one row per value)")
        self.csv_button.clicked.connect(self.ask_save_csv)
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        top.addWidget(self.log_box)
        top.addWidget(self.readout, 1)
        top.addWidget(self.png_button)
        top.addWidget(self.csv_button)

        self.plots = new_plot_widget(self)
        self.plots.setToolTip("Drag to pan, wheel to zoom; double-click a plot to follow the run again")
        self.loss_plot = style_plot(self.plots.addPlot(row=0, col=0, colspan=2), "Loss", bottom="step")
        self.metric_plot = style_plot(self.plots.addPlot(row=1, col=0), "Metrics per epoch", bottom="epoch")
        self.lr_plot = style_plot(self.plots.addPlot(row=1, col=1), "Learning rate", bottom="step")
        self.plots.ci.layout.setRowStretchFactor(0, 3)
        self.plots.ci.layout.setRowStretchFactor(1, 2)
        self.plots.ci.layout.setColumnStretchFactor(0, 3)  # metrics (with their legend) wider than the rate
        self.plots.ci.layout.setColumnStretchFactor(1, 2)
        for plot in (self.metric_plot, self.lr_plot):
            # the columns split by their stretch alone: a plot's preferred width follows its tick labels
            # and title, and letting it move the split redraws every plot at each change
            plot.setPreferredWidth(0)
        self.loss_range = SteadyRange(self.loss_plot)
        self.lr_range = SteadyRange(self.lr_plot, y_from_zero=True)
        self.metric_range = SteadyRange(self.metric_plot, x_from_zero=False)
        self.metric_range.x_margin = 0.4  # whole epochs: room for the first and last point's marker
        self.plots.scene().sigMouseClicked.connect(self._on_click)
        self.raw_item = self.loss_plot.plot()
        self.smooth_item = self.loss_plot.plot()
        val = QColor(VAL_COLOR)
        self.val_item = self.loss_plot.plot(pen=pg.mkPen(val, width=2), symbol="o", symbolSize=6,
                                            symbolBrush=val, symbolPen=None)
        self.lr_item = self.lr_plot.plot(pen=pg.mkPen(QColor(LR_COLOR), width=1.6))
        for item in (self.raw_item, self.smooth_item, self.lr_item):
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self._theme_pens()
        self.cursor.setVisible(False)
        self.loss_plot.addItem(self.cursor, ignoreBounds=True)
        self._mouse = pg.SignalProxy(self.plots.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.plots, 1)

    def _theme_pens(self) -> None:
        accent = QColor(color("accent"))
        faint = QColor(accent)
        faint.setAlpha(70)
        self.raw_item.setPen(pg.mkPen(faint, width=1))
        self.smooth_item.setPen(pg.mkPen(accent, width=2))
        self.cursor.setPen(pg.mkPen(QColor(color("dim")), width=1, style=Qt.PenStyle.DashLine))
        self._set_titles()

    def set_theme(self) -> None:
        """Redraw in the theme now current (the window switched it)."""
        restyle(self)
        self._theme_pens()

    # ---- data ---------------------------------------------------------------------------------
    def clear(self) -> None:
        for s in (self.raw, self.smooth, self.lr):
            s.clear()
        self._ema.reset()
        self.epoch_series.clear()
        self._epoch_step.clear()
        for item in self._metric_items.values():
            self.metric_plot.removeItem(item)
        self._metric_items.clear()
        self._metric_keys.clear()
        self.val_item.setData([], [])
        for r in (self.loss_range, self.lr_range, self.metric_range):
            r.reset()
        for r in (self.loss_range, self.lr_range):
            r.x_cap, r.x_min_span = None, 1.0
        self._set_titles()
        self._redraw_steps()

    def on_started(self, event) -> None:
        self.clear()
        self.steps_per_epoch = event.steps_per_epoch
        self.start_epoch = event.start_epoch
        spe = max(event.steps_per_epoch, 1)
        self._ema.halflife = smoothing_halflife(event.epochs * spe)
        for r in (self.loss_range, self.lr_range):
            r.x_cap, r.x_min_span = float(event.epochs * spe), float(min(spe, 100))
        self.metric_range.x_cap, self.metric_range.x_min_span = float(event.epochs), float(min(event.epochs, 4))

    _pending_metrics = False

    def add_steps(self, events: list) -> None:
        if self._pending_metrics:
            self._redraw_metrics()
        xs = [e.global_step for e in events]
        ys = [e.loss for e in events]
        self.raw.extend(xs, ys)
        self.smooth.extend(xs, self._ema.update(xs, ys))
        self.lr.extend(xs, [e.lr for e in events])
        self._redraw_steps()

    def add_epoch(self, event) -> None:
        step = event.epoch * max(self.steps_per_epoch, 1)  # the global step at the end of this epoch
        self._epoch_step[event.epoch] = step
        loss = event.train.get("loss")
        if isinstance(loss, float) and math.isfinite(loss) and (not len(self.raw) or self.raw.x[-1] < step):
            # a short epoch may end before its first step report: its mean loss keeps the curve going
            self.raw.append(step, loss)
            self.smooth.append(step, self._ema.update([step], [loss])[0])
            self.lr.append(step, event.lr)
            self._redraw_steps()
        for split, values in (("train", event.train), ("val", event.val or {})):
            for key, value in values.items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self.epoch_series.setdefault((split, key), Series(64)).append(event.epoch, float(value))
        self._redraw_metrics()

    def show_run(self, rec) -> None:
        """An earlier run (a RunRecord) drawn as the current one: a reopened project shows its last run."""
        self.clear()
        spe = rec.settings.get("steps_per_epoch")
        self.steps_per_epoch = spe if isinstance(spe, int) and spe > 0 else 0
        xs = [float(s) for s, _ in rec.steps]
        if xs:
            self._ema.halflife = smoothing_halflife(xs[-1])
            ys = [l for _, l in rec.steps]
            self.raw.extend(xs, ys)
            self.smooth.extend(xs, self._ema.update(xs, ys))
        for row in rec.epochs:
            epoch, split = row.get("epoch"), row.get("split")
            if not isinstance(epoch, int) or split not in ("train", "val"):
                continue
            self._epoch_step[epoch] = epoch * max(self.steps_per_epoch, 1)
            for key, value in row.items():
                if key in ("epoch", "split") or isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                if not math.isfinite(value):
                    continue
                if key == "lr":
                    self.lr.append(self._epoch_step[epoch], float(value))
                else:
                    self.epoch_series.setdefault((split, key), Series(64)).append(epoch, float(value))
        self._redraw_steps()
        self._redraw_metrics()
        while self._pending_metrics and self._drawable():  # every curve now, not two per frame
            self._redraw_metrics()

    def has_points(self) -> bool:
        return len(self.raw) > 0

    # ---- drawing ------------------------------------------------------------------------------
    def _drawable(self) -> bool:
        if self.isVisible():
            return True
        self._stale = True
        return False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self._redraw_steps()
            self._redraw_metrics()

    def _redraw_steps(self) -> None:
        if not self._drawable():
            return
        self.raw_item.setData(self.raw.x, self.raw.y)
        self.smooth_item.setData(self.smooth.x, self.smooth.y)
        self.lr_item.setData(self.lr.x, self.lr.y)
        log = self.log_box.isChecked()
        self._fit_loss(log)
        self.lr_range.update(self.lr.x, self.lr.y, log_y=log)

    def _fit_loss(self, log: bool) -> None:
        val_x, val_y = self._val_points()
        over = self._overlay_xy
        self.loss_range.update([self.raw.x, val_x] + [x for x, _ in over],
                               self.raw.y, val_y, *[y for _, y in over], log_y=log)

    def _val_points(self):
        val = self.epoch_series.get(("val", "loss"))
        if val is None or not len(val):
            return None, None
        return np.array([self._epoch_step.get(int(e), e * self.steps_per_epoch) for e in val.x], float), val.y

    def _redraw_metrics(self) -> None:
        """New metric curves are created at most two per frame (a new pyqtgraph curve costs a few ms)."""
        self._pending_metrics = False
        if not self._drawable():
            return
        val_x, val_y = self._val_points()
        if val_x is not None:
            self.val_item.setData(val_x, val_y)
            self._fit_loss(self.log_box.isChecked())
        budget = 2
        added = False
        for (split, key), s in sorted(self.epoch_series.items()):
            if key == "loss":
                continue
            item = self._metric_items.get((split, key))
            if item is None:
                if budget == 0:
                    self._pending_metrics = True
                    continue
                budget -= 1
                if key not in self._metric_keys:
                    self._metric_keys.append(key)
                c = QColor(self._metric_color(key))
                style = Qt.PenStyle.SolidLine if split == "val" else Qt.PenStyle.DotLine
                item = self.metric_plot.plot(pen=pg.mkPen(c, width=2, style=style), symbol="o", symbolSize=5,
                                             symbolBrush=c if split == "val" else None,
                                             symbolPen=None if split == "val" else pg.mkPen(c, width=1))
                self._metric_items[(split, key)] = item
                added = True
            item.setData(s.x, s.y)
        if added:
            self._set_titles()
        shown = [s for (split, key), s in self.epoch_series.items() if key != "loss" and len(s)]
        if shown:
            self.metric_range.update([s.x for s in shown], *[s.y for s in shown])

    def _metric_color(self, key: str) -> str:
        return series_color(self._metric_keys.index(key) + 2)  # after the loss's blue and orange

    def _set_titles(self) -> None:
        accent = color("accent")
        loss = [("━", accent, "train (smoothed)"), ("─", color("dim"), "per report"),
                ("●", VAL_COLOR, "validation")]
        metrics = [("━", self._metric_color(k), k) for k in self._metric_keys]
        if any(split == "train" for split, _ in self._metric_items):
            metrics.append(("┈", color("dim"), "train"))  # dotted: the training split, solid: validation
        for name, items in self._overlays.items():
            c = items[0][2] if items else color("dim")
            loss.append(("┅", c, name))
        set_title(self.loss_plot, legend_title("Loss", loss))
        set_title(self.metric_plot, legend_title("Metrics", metrics))
        set_title(self.lr_plot, legend_title("Learning rate", []))

    def set_log(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.lr_plot.setLogMode(y=on)
        for r in (self.loss_range, self.lr_range):
            r.hand_back()
        self._redraw_steps()

    def _on_click(self, event) -> None:
        if not event.double():
            return
        pos = event.scenePos()
        for plot, r in ((self.loss_plot, self.loss_range), (self.lr_plot, self.lr_range),
                        (self.metric_plot, self.metric_range)):
            if plot.sceneBoundingRect().contains(pos):
                r.hand_back()
                self._redraw_steps()
                self._redraw_metrics()
                event.accept()
                return

    # ---- earlier runs -------------------------------------------------------------------------
    def set_overlays(self, records: list) -> None:
        """Overlay earlier runs (studio.ui.training.runs.RunRecord), replacing the previous set."""
        for items in self._overlays.values():
            for plot, item, _c in items:
                plot.removeItem(item)
        self._overlays.clear()
        self._overlay_xy: list = []  # (x, y) of the overlaid loss curves, so the view range holds them
        for i, rec in enumerate(records):
            c = OVERLAY_COLORS[i % len(OVERLAY_COLORS)]
            pen = pg.mkPen(QColor(c), width=1.6, style=Qt.PenStyle.DashLine)
            items = []
            if rec.steps:
                xs = np.array([s for s, _ in rec.steps], float)
                ys = ema(xs, [l for _, l in rec.steps], smoothing_halflife(xs[-1]))
                self._overlay_xy.append((xs, ys))
                items.append((self.loss_plot, self.loss_plot.plot(xs, ys, pen=pen), c))
            ex, ey = rec.series("val", "loss")
            spe = rec.settings.get("steps_per_epoch") or self.steps_per_epoch or 1
            if ex:
                vx = np.array([e * spe for e in ex], float)
                self._overlay_xy.append((vx, np.asarray(ey, float)))
                items.append((self.loss_plot, self.loss_plot.plot(vx, ey, pen=pen, symbol="t", symbolSize=6,
                                                                   symbolBrush=QColor(c), symbolPen=None), c))
            for key in ("accuracy", "r2"):
                mx, my = rec.series("val", key)
                if mx:
                    items.append((self.metric_plot, self.metric_plot.plot(mx, my, pen=pen), c))
            self._overlays[rec.name] = items
        self._set_titles()
        self.loss_range.hand_back()
        self._redraw_steps()
        self._redraw_metrics()

    def overlay_names(self) -> list[str]:
        return list(self._overlays)

    # ---- read-out -----------------------------------------------------------------------------
    def _on_mouse(self, args) -> None:
        pos = args[0]
        if self.loss_plot.sceneBoundingRect().contains(pos):
            x = self.loss_plot.vb.mapSceneToView(pos).x()
            self.readout.setText(self.readout_at_step(x))
            i = self.raw.nearest(x)
            if i is not None:
                self.cursor.setPos(self.raw.x[i])
                self.cursor.setVisible(True)
        elif self.metric_plot.sceneBoundingRect().contains(pos):
            self.readout.setText(self.readout_at_epoch(self.metric_plot.vb.mapSceneToView(pos).x()))
            self.cursor.setVisible(False)
        elif self.lr_plot.sceneBoundingRect().contains(pos):
            self.readout.setText(self.readout_at_step(self.lr_plot.vb.mapSceneToView(pos).x()))
        else:
            self.cursor.setVisible(False)

    def readout_at_step(self, x: float) -> str:
        i = self.raw.nearest(x)
        if i is None:
            return ""
        step = int(self.raw.x[i])
        text = f"step {step:,} · loss {self.raw.y[i]:.4g} · smoothed {self.smooth.y[i]:.4g} · lr {self.lr.y[i]:.3g}"
        val = self.epoch_series.get(("val", "loss"))
        if val is not None and len(val):
            steps = [self._epoch_step.get(int(e), 0) for e in val.x]
            j = min(range(len(steps)), key=lambda k: abs(steps[k] - step))
            text += f" · val loss {val.y[j]:.4g} (epoch {int(val.x[j])})"
        return text

    def readout_at_epoch(self, x: float) -> str:
        epoch = int(round(x))
        parts = [f"epoch {epoch}"]
        for (split, key), s in sorted(self.epoch_series.items()):
            hits = [v for e, v in zip(s.x, s.y) if int(e) == epoch]
            if hits:
                parts.append(f"{split} {key} {hits[0]:.4g}")
        return " · ".join(parts) if len(parts) > 1 else ""

    # ---- saving -------------------------------------------------------------------------------
    def ask_save_png(self) -> None:
        path = file_dialogs.save_path(self, "Save plots as PNG", "training_curves.png", "PNG images (*.png)")
        if path:
            ok = self.save_png(path)
            self.status_message.emit(f"Saved the plots to {path}" if ok else f"Could not write {path}")

    def ask_save_csv(self) -> None:
        path = file_dialogs.save_path(self, "Save plot data as CSV", "training_curves.csv", "CSV files (*.csv)")
        if path:
            try:
                self.save_csv(path)
            except OSError as exc:
                self.status_message.emit(f"Could not write {path}: {exc.strerror or exc}")
            else:
                self.status_message.emit(f"Saved the plot data to {path}")

    def save_png(self, path) -> bool:
        return self.plots.grab().save(str(path), "PNG")

    def save_csv(self, path) -> None:
        """Long format: series, x_name, x, value (train loss / smoothed / lr per step; metrics per epoch)."""
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["series", "x_name", "x", "value"])
            for name, s in (("train_loss", self.raw), ("train_loss_smoothed", self.smooth), ("lr", self.lr)):
                for x, y in zip(s.x, s.y):
                    w.writerow([name, "step", int(x), f"{y:.8g}"])
            for (split, key), s in sorted(self.epoch_series.items()):
                for x, y in zip(s.x, s.y):
                    w.writerow([f"{split}_{key}", "epoch", int(x), f"{y:.8g}"])
