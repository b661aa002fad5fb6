"""The 'Classes' dock: how the classes separate. Each epoch's ProjectionEvent (the penultimate
layer's features of the validation samples, PCA to 2-D, computed on the training thread) is kept;
a slider steps through the epochs (Play animates them) and the newest is shown as it comes. The map
can also be t-SNE or UMAP (when installed) of the epoch shown, computed on a thread of its own from
the features of the last FEATURES_KEPT epochs (embedding_worker.py). Saves as PNG, and the shown
epoch's points as CSV."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)

from studio.training.embedding import METHODS, READING, unavailable

from ..theme import color
from .embedding_worker import EmbeddingWorker
from .plot_style import legend_title, new_plot_widget, series_color, set_title, style_plot
from .view_export import ExportButtons

PLAY_MS = 600  # per epoch when animating
KEEP = 200  # epochs kept (a long run keeps its last ones)
PAD = 0.25  # room around the points when the view is fitted to them, as a share of their span
FILL = 0.4  # re-fitted when the points span less than this share of the view (or leave it)
FEATURES_KEPT = 8  # epochs whose features are kept for a t-SNE / UMAP map (a few MB each at most)


def class_color(k: int, n: int) -> QColor:
    """The app's series colours up to eight classes; evenly spaced hues beyond (ten digits)."""
    return QColor(series_color(k)) if n <= 8 else pg.intColor(k, hues=n, values=1, maxValue=230, minValue=150)


class ProjectionView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("projectionView")
        self.frames: list = []  # ProjectionEvents, one per epoch
        self.follow = True  # the slider follows the newest epoch until the person moves it
        self._stale = False  # a frame came while hidden: drawn when shown
        self.title = QLabel("After each epoch: the validation samples as the last layer sees them (the input of "
                            "its last Linear), mapped to 2-D and coloured by their true class.")
        self.title.setObjectName("dim")
        self.title.setWordWrap(True)
        self.method = "pca"
        self.method_box = QComboBox()
        self.method_box.setObjectName("projectionMethod")
        for key, name in METHODS.items():
            self.method_box.addItem(name, key)
            why = unavailable(key)
            if why:  # shown, so people learn it exists, but not choosable
                item = self.method_box.model().item(self.method_box.count() - 1)
                item.setEnabled(False)
                item.setToolTip(why)
        self.method_box.setToolTip("PCA is computed after every epoch; t-SNE and UMAP for the epoch shown "
                                   f"(seconds each), from the features of the last {FEATURES_KEPT} epochs")
        self.method_box.currentIndexChanged.connect(lambda _i: self.set_method(self.method_box.currentData()))
        self.buttons = ExportButtons(self, "classes_map", self.rows)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.method_box)
        head.addWidget(self.buttons)
        self._features: dict = {}  # epoch -> features [N, D] (the last FEATURES_KEPT epochs)
        self._maps: dict = {}  # (method, epoch) -> points [N, 2]
        self._errors: dict = {}  # (method, epoch) -> why it failed
        self._generation = 0  # a cleared view ignores maps of the run before
        self._shown_points = None  # what the plot shows now (the CSV's rows, the next map's start)
        self.worker = EmbeddingWorker(self)
        self.worker.done.connect(self._on_map)

        self.plots = new_plot_widget()
        self.plots.setMinimumHeight(220)
        # the plot takes the room there is (its own size hint made the dock scroll its slider away)
        self.plots.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.plot = style_plot(self.plots.addPlot(), "")
        # no axes: PCA's coordinates have no unit worth reading (the label below says each component's
        # share of the variance), and a frame keeps the plot's edge; axes and grid were repainted with
        # every frame's points (3-5 ms of each 5-20 ms paint, software rendering)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.showGrid(x=False, y=False)
        self.plot.getViewBox().setBorder(pg.mkPen(color("border")))
        self._title = None  # the legend's html, set again only when it changes (a relayout of the plot)
        self.scatters: list = []  # one per class
        # the view range is set here, and only moved when the points leave it or shrink in it: with
        # pyqtgraph's auto-range every epoch moved it, and each move regenerates the axes and the
        # grid (8 of the 11 ms a frame's paint took, software rendering)
        self.plot.disableAutoRange()
        self._fitted = False
        self.buttons.grab_widget = SimpleNamespace(grab=self.export_picture)  # the plot, titled with its epoch

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("epochSlider")
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderPressed.connect(lambda: setattr(self, "follow", False))
        self.play_button = QPushButton("Play")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.toggle_play)
        self.epoch_label = QLabel("")
        self.epoch_label.setObjectName("dim")
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.epoch_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(head)
        layout.addWidget(self.plots, 1)
        layout.addLayout(row)
        self.share_label = QLabel("")  # what the two directions are (the plot has no axes)
        self.share_label.setObjectName("dim")
        self.share_label.setWordWrap(True)  # t-SNE's reading note is longer than a narrow dock
        layout.addWidget(self.share_label)
        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_MS)
        self._timer.timeout.connect(self._advance)

    def sizeHint(self) -> QSize:
        return QSize(480, 420)

    def clear(self) -> None:
        self._timer.stop()
        self.play_button.setText("Play")
        self.frames, self.follow, self._fitted, self._title = [], True, False, None
        self._features, self._maps, self._errors, self._shown_points = {}, {}, {}, None
        self._generation += 1
        for item in self.scatters:
            item.setData(pos=np.zeros((0, 2)))
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.play_button.setEnabled(False)
        self.epoch_label.setText("")
        self.share_label.setText("")

    def add_projections(self, events: list) -> None:
        self.keep(events)
        self.show_newest()

    def keep(self, events: list) -> None:
        """Keep each epoch's points (drawn by `show_newest`); the features only for the last
        FEATURES_KEPT epochs (the frames keep the events without them: KEEP epochs of a few MB each
        would stay otherwise)."""
        for e in events:
            if getattr(e, "features", None) is not None:
                self._features[e.epoch] = e.features
        self.frames = (self.frames + [replace(e, features=None) if getattr(e, "features", None) is not None else e
                                      for e in events])[-KEEP:]
        for epoch in sorted(self._features)[:-FEATURES_KEPT]:
            del self._features[epoch]

    def show_newest(self) -> None:
        """The slider spans the kept epochs and, unless the person moved it, shows the newest."""
        if not self.frames:
            return
        n = len(self.frames)
        self.slider.blockSignals(True)
        self.slider.setRange(0, n - 1)
        self.slider.blockSignals(False)
        self.slider.setEnabled(n > 1)
        self.play_button.setEnabled(n > 1)
        if self.follow:
            self.slider.blockSignals(True)
            self.slider.setValue(n - 1)
            self.slider.blockSignals(False)
        self.show_frame(self.slider.value())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.show_frame(self.slider.value())

    def show_frame(self, i: int) -> None:
        """Draw epoch `i`'s points, or only its label while the dock is hidden (behind another tab): the
        scatter's setData and its repaint cost 5-20 ms of GUI time a frame, for nobody to see."""
        if not 0 <= i < len(self.frames):
            return
        e = self.frames[i]
        self.epoch_label.setText(f"epoch {e.epoch} of {self.frames[-1].epoch}")
        self._stale = not self.isVisible()
        if self._stale:
            self.share_label.setText(self._reading(e))
            return
        points = self._points(e)
        self.share_label.setText(self._reading(e))
        if points is None:
            return  # computing (the plot keeps what it shows) or not possible (the label says why)
        labels = np.asarray(e.labels).astype(int)
        points = np.asarray(points, dtype=np.float64)
        self._shown_points = (self.method, e.epoch, points)
        k_max = max(len(e.classes), int(labels.max()) + 1 if len(labels) else 0)
        # one scatter per class, each of one brush: pyqtgraph draws a uniform scatter from one cached
        # symbol, where a brush per point costs a lookup per point (5-10 ms for a few hundred)
        while len(self.scatters) < k_max:
            item = pg.ScatterPlotItem(size=5, pen=None)
            self.plot.addItem(item)
            self.scatters.append(item)
        for k, item in enumerate(self.scatters):
            item.setData(pos=points[labels == k] if k < k_max else np.zeros((0, 2)),
                         brush=pg.mkBrush(class_color(k, k_max)))
        self._fit(points)
        entries = [("●", class_color(k, k_max).name(), c) for k, c in enumerate(e.classes)]
        title = legend_title(f"Input of {e.node_id}", entries)
        if title != self._title:
            self._title = title
            set_title(self.plot, title)

    # ---- the map: PCA, or t-SNE / UMAP of the epoch shown -------------------------------------------
    def set_method(self, method: str) -> None:
        if method == self.method or unavailable(method):
            return
        self.method = method
        self._fitted = False  # another map, another range
        if self.frames:
            self.show_frame(self.slider.value())

    def _points(self, e):
        """The shown epoch's points for the chosen map, or None (asked for, or not possible)."""
        if self.method == "pca":
            return e.points
        key = (self.method, e.epoch)
        if key in self._maps:
            return self._maps[key]
        features = self._features.get(e.epoch)
        if features is not None and key not in self._errors:
            shown = self._shown_points
            init = shown[2] if shown is not None and shown[0] == self.method and len(shown[2]) == len(features) else None
            self.worker.request(self._generation, self.method, e.epoch, features, init)
        return None

    def _reading(self, e) -> str:
        """The line under the plot: what its directions are, or where the map stands."""
        name = METHODS[self.method]
        if self.method == "pca":
            ex = e.explained
            return f"Across: PC 1, {ex[0]:.0%} of the variance; up: PC 2, {ex[1]:.0%}" if len(ex) == 2 else ""
        key = (self.method, e.epoch)
        if key in self._maps:
            return READING[self.method]
        if key in self._errors:
            return f"{name} failed for epoch {e.epoch}: {self._errors[key]}"
        if e.epoch not in self._features:
            return (f"{name} needs the features of epoch {e.epoch}: they are kept for the last {FEATURES_KEPT} "
                    "epochs (PCA has every epoch)")
        return f"Computing {name} for epoch {e.epoch}… (seconds; PCA is instant)"

    def _on_map(self, generation: int, method: str, epoch: int, points, error: str) -> None:
        if generation != self._generation:
            return  # a map of the run before
        if points is None:
            self._errors[(method, epoch)] = error
        else:
            self._maps[(method, epoch)] = points
        if self.frames and method == self.method and self.frames[self.slider.value()].epoch == epoch:
            self.show_frame(self.slider.value())

    def export_picture(self):
        """The saved PNG: the plot with a line above it naming the epoch and the variance shares (on
        screen they are in the labels under the plot, so its title does not relayout every frame)."""
        plot = self.plots.grab()
        if not self.frames:
            return plot
        e = self.frames[self.slider.value()]
        ex = e.explained
        caption = f"Input of {e.node_id}, epoch {e.epoch} of {self.frames[-1].epoch}" + (
            f" · across: PC 1, {ex[0]:.0%} of the variance; up: PC 2, {ex[1]:.0%}" if self.method == "pca" and len(ex) == 2
            else f" · {METHODS[self.method]}")
        fm = self.fontMetrics()
        line = fm.height() + 8
        out = QPixmap(plot.width(), plot.height() + line)
        out.setDevicePixelRatio(plot.devicePixelRatio())
        out.fill(QColor(color("base")))
        painter = QPainter(out)
        painter.setPen(QColor(color("text")))
        painter.setFont(self.font())
        painter.drawText(QRect(6, 0, out.width() - 12, line), int(Qt.AlignmentFlag.AlignVCenter), caption)
        painter.drawPixmap(0, line, plot)
        painter.end()
        return out

    def _fit(self, points: np.ndarray) -> None:
        if not len(points) or not np.isfinite(points).all():
            return
        lo, hi = points.min(0), points.max(0)
        span = np.maximum(hi - lo, 1e-9)
        (x0, x1), (y0, y1) = self.plot.viewRange()
        view_lo, view_hi = np.array([x0, y0]), np.array([x1, y1])
        if self._fitted and (lo >= view_lo).all() and (hi <= view_hi).all() and (span >= FILL * (view_hi - view_lo)).all():
            return
        self.plot.setRange(xRange=(lo[0] - PAD * span[0], hi[0] + PAD * span[0]),
                           yRange=(lo[1] - PAD * span[1], hi[1] + PAD * span[1]), padding=0)
        self._fitted = True

    def _on_slider(self, value: int) -> None:
        self.follow = value == len(self.frames) - 1
        self.show_frame(value)

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.play_button.setText("Play")
            return
        self.follow = False
        if self.slider.value() >= len(self.frames) - 1:
            self.slider.setValue(0)
        self.play_button.setText("Pause")
        self._timer.start()

    def _advance(self) -> None:
        nxt = self.slider.value() + 1
        if nxt >= len(self.frames):
            self.toggle_play()
            self.follow = True
            return
        self.slider.setValue(nxt)

    def rows(self):
        """The shown epoch's points as the plot shows them (PCA's, or the t-SNE / UMAP map once computed)."""
        if not self.frames:
            return None
        e = self.frames[self.slider.value()]
        method, points = "pca", np.asarray(e.points)
        if self.method != "pca" and (self.method, e.epoch) in self._maps:
            method, points = self.method, np.asarray(self._maps[(self.method, e.epoch)])
        x, y = ("pc1", "pc2") if method == "pca" else (f"{method}1", f"{method}2")
        return (["epoch", "index", "class", x, y],
                [[e.epoch, i, e.classes[int(k)] if int(k) < len(e.classes) else int(k), float(p[0]), float(p[1])]
                 for i, (p, k) in enumerate(zip(points, np.asarray(e.labels)))])
