"""After each epoch: for classification a confusion matrix and a strip of sample predictions (true
and predicted labels, mistakes in red); for 2-D inputs the decision boundary over the data, like
TensorFlow Playground; for regression predicted against true values."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from ..theme import color
from . import images
from .confusion import ConfusionMatrixView
from .live_label import LiveLabel
from .plot_style import new_plot_widget, style_plot
from .tiles import ImageTile

CLASS_COLORS = ("#3f8ae6", "#f0962f", "#5fc46a", "#e06c75", "#b48ead", "#56b6c2", "#e0b050", "#8fa1b3")
N_SAMPLES = 8


def boundary_image(probs: np.ndarray) -> np.ndarray:
    """[H, W, C] class probabilities -> [H, W, 3] colours: each class its hue, faded by uncertainty."""
    h, w, c = probs.shape
    base = np.array(QColor(color("base")).getRgb()[:3], dtype=np.float32)
    if c == 2:
        return images.DIVERGING[(np.clip(probs[..., 1], 0, 1) * 255).astype(np.uint8)]
    hues = np.array([QColor(CLASS_COLORS[i % len(CLASS_COLORS)]).getRgb()[:3] for i in range(c)], np.float32)
    best = probs.argmax(-1)
    conf = (probs.max(-1) - 1.0 / c) / (1 - 1.0 / c)
    t = np.clip(conf, 0, 1)[..., None] * 0.85
    return (base * (1 - t) + hues[best] * t).astype(np.uint8)


class SampleStrip(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tiles = [ImageTile(self, " ", min_side=40) for _ in range(N_SAMPLES)]
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for t in self.tiles:
            layout.addWidget(t)

    def set_samples(self, samples: list, classes: list[str], task: str) -> int:
        """Returns how many predictions are wrong."""
        wrong = 0
        for i, tile in enumerate(self.tiles):
            if i >= len(samples):
                tile.set_image(None, " ")
                tile.placeholder = ""
                tile.setVisible(i < 4)
                continue
            tile.setVisible(True)
            s = samples[i]
            if task == "classification":
                ok = s["true"] == s["pred"]
                wrong += not ok
                caption = prediction_caption(s, classes)
                tile.placeholder = caption
                tile.set_image(images.sample_image(s["x"]), caption, None if ok else color("error"),
                               None if ok else color("error"))
            else:
                tile.placeholder = "output"
                tile.set_image(images.sample_image(s["pred"]), "output")
        return wrong


def class_name(classes: list[str], k: int) -> str:
    return classes[k] if 0 <= k < len(classes) else str(k)


def prediction_caption(s: dict, classes: list[str]) -> str:
    if s["true"] == s["pred"]:
        return f"✓ {class_name(classes, s['pred'])}"
    return f"{class_name(classes, s['true'])} → {class_name(classes, s['pred'])}"


def predictions_text(samples: list, classes: list[str]) -> str:
    """Rich text for samples that are not pictures (token sequences, feature vectors): one entry per
    sample, "✓ name" when right, "true → predicted" in the error colour when wrong."""
    parts = []
    for i, s in enumerate(samples[:N_SAMPLES]):
        text = prediction_caption(s, classes)
        c = color("text") if s["true"] == s["pred"] else color("error")
        parts.append(f"<span style='color:{color('dim')}'>#{i}</span>&nbsp;<span style='color:{c}'>{text}</span>")
    return "&nbsp;&nbsp; ".join(parts)


class ReconstructionStrip(QWidget):
    """Input above output for the first samples (autoencoders and other same-shape outputs), with
    each pair's mean squared error."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.inputs = [ImageTile(self, "", min_side=32) for _ in range(N_SAMPLES)]
        self.outputs = [ImageTile(self, "", min_side=32) for _ in range(N_SAMPLES)]
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for row, name in ((0, "input"), (1, "output\n(error)")):
            label = QLabel(name)
            label.setObjectName("dim")
            grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for i in range(N_SAMPLES):
            grid.addWidget(self.inputs[i], 0, i + 1)
            grid.addWidget(self.outputs[i], 1, i + 1)

    def set_samples(self, samples: list) -> float:
        """Returns the mean error over the samples shown (NaN when none has a target of its shape)."""
        errors = []
        for i in range(N_SAMPLES):
            top, bottom = self.inputs[i], self.outputs[i]
            if i >= len(samples):
                for t in (top, bottom):
                    t.set_image(None, "")
                    t.setVisible(False)
                continue
            s = samples[i]
            target, pred = np.asarray(s.get("true", s["x"])), np.asarray(s["pred"])
            err = float(np.mean((target.astype(np.float64) - pred) ** 2)) if target.shape == pred.shape else None
            if err is not None:
                errors.append(err)
            for t in (top, bottom):
                t.setVisible(True)
            top.placeholder = bottom.placeholder = "not an image"
            top.set_image(images.sample_image(target), "")
            bottom.set_image(images.sample_image(pred), f"{err:.2g}" if err is not None else "")
        return float(np.mean(errors)) if errors else float("nan")


class ReportView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.last = None
        self.points: tuple[np.ndarray, np.ndarray] | None = None  # (x [N, 2], labels [N]) for 2-D data
        self.stack = QStackedWidget(self)
        self.empty = QLabel("After each epoch: a confusion matrix and sample predictions (classification), the "
                            "decision boundary (2-D data), or predicted against true values (regression).")
        self.empty.setObjectName("dim")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.empty)

        self.classify = QWidget()
        self.confusion = ConfusionMatrixView(self.classify)
        self.strip = SampleStrip(self.classify)
        self.strip_title = LiveLabel("")
        self.strip_title.setObjectName("dim")
        cl = QVBoxLayout(self.classify)
        cl.setContentsMargins(2, 2, 2, 2)
        cl.setSpacing(2)
        cl.addWidget(self.confusion, 1)
        cl.addWidget(self.strip_title)
        cl.addWidget(self.strip)
        self.strip.setFixedHeight(84)
        self.strip_text = QLabel("")
        self.strip_text.setTextFormat(Qt.TextFormat.RichText)
        self.strip_text.setWordWrap(True)
        cl.addWidget(self.strip_text)
        self.stack.addWidget(self.classify)

        self.plane = new_plot_widget()
        self.plane_plot = style_plot(self.plane.addPlot(), "Decision boundary", left="x₂", bottom="x₁")
        self.plane_plot.setAspectLocked(False)
        self.boundary_item = pg.ImageItem(axisOrder="row-major")
        self.plane_plot.addItem(self.boundary_item)
        self.scatter = pg.ScatterPlotItem(size=5, pen=pg.mkPen(QColor(20, 20, 20, 160), width=0.6))
        self.plane_plot.addItem(self.scatter)
        self.stack.addWidget(self.plane)

        self.reg = new_plot_widget()
        self.reg_plot = style_plot(self.reg.addPlot(), "Predicted vs true", left="predicted", bottom="true")
        self.reg_scatter = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(QColor(79, 143, 247, 150)))
        self.reg_line = self.reg_plot.plot(pen=pg.mkPen(QColor(color("dim")), width=1, style=Qt.PenStyle.DashLine))
        self.reg_plot.addItem(self.reg_scatter)
        self.stack.addWidget(self.reg)

        self.recon = QWidget()
        self.recon_title = LiveLabel("")
        self.recon_strip = ReconstructionStrip(self.recon)
        rl = QVBoxLayout(self.recon)
        rl.setContentsMargins(4, 4, 4, 4)
        rl.addWidget(self.recon_title)
        rl.addWidget(self.recon_strip, 1)
        self.stack.addWidget(self.recon)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def clear(self) -> None:
        self.last = None
        self.stack.setCurrentWidget(self.empty)
        self.confusion.set_matrix(None, [])

    def set_points(self, x, labels) -> None:
        """The data behind a decision boundary (a sample of the training split)."""
        self.points = None if x is None else (np.asarray(x, dtype=np.float64), np.asarray(labels))

    def show_report(self, e) -> None:
        self.last = e
        if e.boundary is not None:
            self._show_boundary(e)
        elif e.task == "classification":
            self._show_classification(e)
        elif e.regression is not None:
            self._show_regression(e)
        elif e.samples:
            split = "validation" if e.split == "val" else "training"
            err = self.recon_strip.set_samples(e.samples)
            mean = f" · mean squared error {err:.3g}" if err == err else ""
            self.recon_title.setText(f"Input and output of the first {split} samples, epoch {e.epoch}{mean}")
            self.stack.setCurrentWidget(self.recon)

    def _show_classification(self, e) -> None:
        split = "validation" if e.split == "val" else "training"
        if e.confusion is not None:
            acc = np.trace(e.confusion) / max(np.sum(e.confusion), 1)
            title = f"Confusion matrix · {split}, epoch {e.epoch} · accuracy {acc:.1%}"
        else:
            title = f"Epoch {e.epoch} (no validation split: no confusion matrix)"
        self.confusion.set_matrix(e.confusion, e.classes, title)
        wrong = self.strip.set_samples(e.samples, e.classes, e.task)
        pictures = any(images.sample_image(s["x"]) is not None for s in e.samples[:N_SAMPLES])
        self.strip.setVisible(pictures)  # token sequences, feature vectors: a line of text instead
        self.strip_text.setVisible(not pictures)
        if not pictures:
            self.strip_text.setText(predictions_text(e.samples, e.classes))
        n = min(len(e.samples), N_SAMPLES)
        self.strip_title.setText(f"First {n} {split} samples, true → predicted: {n - wrong} right, {wrong} wrong")
        self.stack.setCurrentWidget(self.classify)

    def _show_boundary(self, e) -> None:
        b = e.boundary
        # float64: float32 ranges make pyqtgraph's ViewBox compare them with its +-1e307 limits in
        # float32 ("overflow encountered in cast" warnings on every 2-D data set)
        xs, ys = np.asarray(b["xs"], dtype=np.float64), np.asarray(b["ys"], dtype=np.float64)
        probs = np.asarray(b["probs"])
        self.boundary_item.setImage(boundary_image(probs), autoLevels=False, levels=(0, 255))
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        self.boundary_item.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy))
        if self.points is not None:
            x, labels = self.points
            brushes = [pg.mkBrush(CLASS_COLORS[int(k) % len(CLASS_COLORS)]) for k in labels]
            self.scatter.setData(x[:, 0], x[:, 1], brush=brushes)
        self.plane_plot.setTitle(f"Decision boundary · epoch {e.epoch}", color=color("text"), size="9pt")
        self.plane_plot.setRange(xRange=(float(xs[0]), float(xs[-1])), yRange=(float(ys[0]), float(ys[-1])),
                                 padding=0)
        self.stack.setCurrentWidget(self.plane)

    def _show_regression(self, e) -> None:
        t = np.asarray(e.regression["true"], dtype=np.float64).reshape(len(e.regression["true"]), -1)[:, 0]
        pr = np.asarray(e.regression["pred"], dtype=np.float64).reshape(len(e.regression["pred"]), -1)[:, 0]
        self.reg_scatter.setData(t, pr)
        lo, hi = float(min(t.min(), pr.min())), float(max(t.max(), pr.max()))
        self.reg_line.setData([lo, hi], [lo, hi])
        ss = float(((t - t.mean()) ** 2).sum())
        r2 = 1 - float(((t - pr) ** 2).sum()) / ss if ss > 0 else float("nan")
        split = "validation" if e.split == "val" else "training"
        self.reg_plot.setTitle(f"Predicted vs true · {split}, epoch {e.epoch} · R² {r2:.3f}", color=color("text"),
                               size="9pt")
        self.stack.setCurrentWidget(self.reg)
