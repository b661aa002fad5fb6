"""The 'Where it errs' dock: the confusion matrix with a per-class table beside it (precision,
recall, F1, support), a gallery of the validation samples the model gets wrong (most confident
first; a click chooses the sample: `sample_chosen(split, index)`), and for two classes the ROC and
precision-recall curves with their AUC. Fed only by the trainer's events (ErrorsEvent, and the
ReportEvent's confusion matrix); each part saves as PNG and CSV."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QScrollArea, QSizePolicy,
                               QTableView, QVBoxLayout, QWidget)

from ..theme import color
from .confusion import ConfusionMatrixView
from .gallery import CELL, Gallery
from .plot_style import new_plot_widget, series_color, style_plot
from .view_export import ExportButtons

COLUMNS = ("class", "precision", "recall", "F1", "support")


def class_name(classes: list[str], k: int) -> str:
    return str(classes[k]) if 0 <= k < len(classes) else str(k)


def sample_caption(s: dict, classes: list[str]) -> str:
    return f"{class_name(classes, s['true'])} → {class_name(classes, s['pred'])}\n{s['confidence']:.0%}"


def _header(title: QLabel, buttons: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(title, 1)
    row.addWidget(buttons)
    return row


def _title() -> QLabel:
    label = QLabel("")
    label.setObjectName("dim")
    label.setWordWrap(True)
    label.setMinimumWidth(160)  # wraps onto a few lines, not one word a line
    return label


class ErrorsView(QWidget):
    sample_chosen = Signal(str, int)  # (split, index): the person clicked a misclassified sample

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("errorsView")
        self.last = None  # the newest ErrorsEvent
        self.confusion_event = None

        # the confusion matrix and the per-class table, side by side
        self.classes_part = QWidget()
        self.classes_title = _title()
        self.classes_title.setText("After each epoch: the confusion matrix and, per class, precision, recall, "
                                   "F1 and support on the validation split.")
        self.confusion = ConfusionMatrixView()
        # a view on a model of its own (a QTableWidget here would be the window's first QTableWidget
        # child, which the shortcuts dialog's test and tools look for)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # the number columns sized once per run, when the rows appear (sizing them to their contents
        # re-measured every cell at each of the 50 edits); the class names take the rest
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setMinimumWidth(260)
        self.table_buttons = ExportButtons(self, "per_class", self.table_rows, grab=self.classes_part)
        side = QHBoxLayout()
        side.addWidget(self.confusion, 3)
        side.addWidget(self.table, 2, Qt.AlignmentFlag.AlignTop)
        cl = QVBoxLayout(self.classes_part)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addLayout(_header(self.classes_title, self.table_buttons))
        cl.addLayout(side, 1)

        # the misclassified gallery
        self.gallery_part = QWidget()
        self.gallery_title = _title()
        self.gallery = Gallery()
        self.gallery.setObjectName("errorsGallery")
        self.gallery.clicked.connect(self._on_item)
        self.gallery_scroll = QScrollArea()
        self.gallery_scroll.setWidgetResizable(True)
        self.gallery_scroll.setWidget(self.gallery)
        self.gallery_scroll.setMinimumHeight(CELL.height() + 8)
        self.gallery_buttons = ExportButtons(self, "misclassified", self.gallery_rows, grab=self.gallery_part)
        gl = QVBoxLayout(self.gallery_part)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addLayout(_header(self.gallery_title, self.gallery_buttons))
        gl.addWidget(self.gallery_scroll, 1)

        # ROC and precision-recall, two classes only
        self.curves_part = QWidget()
        self.curves_title = _title()
        self.curves_title.setText("Two classes: the ROC and precision-recall curves of class 1's probability.")
        self.plots = new_plot_widget()
        self.plots.setMinimumHeight(180)
        self.plots.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)  # takes the room left
        self.roc_plot = style_plot(self.plots.addPlot(), "ROC", left="true positive rate", bottom="false positive rate")
        self.pr_plot = style_plot(self.plots.addPlot(), "Precision-recall", left="precision", bottom="recall")
        for plot in (self.roc_plot, self.pr_plot):
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            plot.setMouseEnabled(False, False)
        chance = pg.mkPen(QColor(color("dim")), width=1, style=Qt.PenStyle.DashLine)
        self.roc_plot.plot([0, 1], [0, 1], pen=chance)
        self.roc_curve = self.roc_plot.plot(pen=pg.mkPen(series_color(0), width=2))
        self.pr_curve = self.pr_plot.plot(pen=pg.mkPen(series_color(1), width=2))
        self.curves_buttons = ExportButtons(self, "roc_pr", self.curve_rows, grab=self.curves_part)
        pl = QVBoxLayout(self.curves_part)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addLayout(_header(self.curves_title, self.curves_buttons))
        pl.addWidget(self.plots, 1)
        self.curves_part.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.classes_part, 3)
        layout.addWidget(self.gallery_part, 2)
        layout.addWidget(self.curves_part, 3)

    def sizeHint(self) -> QSize:
        return QSize(640, 520)

    # ---- the events ---------------------------------------------------------------------------
    def clear(self) -> None:
        self.last = self.confusion_event = None
        self.confusion.set_matrix(None, [])
        self.model.setRowCount(0)
        self.gallery.set_samples([], [], [])
        self.gallery_title.setText("")
        self.curves_part.setVisible(False)

    def show_report(self, e) -> None:
        """The ReportEvent's confusion matrix (the same the Epoch report shows)."""
        if e.task != "classification" or e.confusion is None:
            return
        self.confusion_event = e
        split = "validation" if e.split == "val" else "training"
        acc = np.trace(e.confusion) / max(np.sum(e.confusion), 1)
        self.confusion.set_matrix(e.confusion, e.classes, f"Confusion matrix · {split}, epoch {e.epoch} · "
                                                           f"accuracy {acc:.1%}")

    def show_errors(self, e) -> None:
        self.last = e
        split = "validation" if e.split == "val" else "training"
        self.classes_title.setText(f"Per class on the {split} split ({e.size} samples), epoch {e.epoch}")
        self._fill_table(e)
        self._fill_gallery(e, split)
        self._fill_curves(e)

    def _fill_table(self, e) -> None:
        t = e.table
        n = len(t.get("support", []))
        self.table.setUpdatesEnabled(False)
        new_rows = n != self.model.rowCount()
        self.model.setRowCount(n)
        for k in range(n):
            cells = (class_name(e.classes, k), f"{t['precision'][k]:.3f}", f"{t['recall'][k]:.3f}",
                     f"{t['f1'][k]:.3f}", str(t["support"][k]))
            for c, text in enumerate(cells):
                item = self.model.item(k, c)
                if item is None:
                    item = QStandardItem()
                    if c:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.model.setItem(k, c, item)
                item.setText(text)
        if new_rows:
            header = self.table.horizontalHeader()
            widths = [max(self.table.sizeHintForColumn(i), header.sectionSizeHint(i)) + 4 for i in range(len(COLUMNS))]
            for i, w in enumerate(widths[1:], 1):
                header.resizeSection(i, w)
            width = sum(widths)
            self.table.setMinimumWidth(width + self.table.verticalScrollBar().sizeHint().width() + 6)
            # no taller than its rows (and the matrix beside it): the room below went empty while the
            # gallery under it scrolled out of a 45%-high dock
            rows = header.height() + n * self.table.verticalHeader().defaultSectionSize() + 2 * self.table.frameWidth() + 2
            self.table.setFixedHeight(rows)
            self.classes_part.setMaximumHeight(max(rows, self.confusion.minimumHeight())
                                               + self.classes_title.sizeHint().height() + 8)
        self.table.setUpdatesEnabled(True)

    def _fill_gallery(self, e, split: str) -> None:
        tips = [f"{split} sample {s['index']}: true {class_name(e.classes, s['true'])}, predicted "
                f"{class_name(e.classes, s['pred'])} with {s['confidence']:.1%} confidence. Click to choose it."
                for s in e.wrong]
        self.gallery.set_samples(e.wrong, [sample_caption(s, e.classes) for s in e.wrong], tips)
        shown = len(e.wrong)
        more = f" (the {shown} most confident shown)" if shown < e.wrong_count else ""
        self.gallery_title.setText(f"{e.wrong_count} of {e.size} {split} samples wrong{more}, most confident "
                                   "first: true → predicted, confidence. Click one to choose it.")

    def _fill_curves(self, e) -> None:
        c = e.curves
        self.curves_part.setVisible(c is not None)
        if c is None:
            return
        self.roc_curve.setData(c["roc"]["x"], c["roc"]["y"])
        self.pr_curve.setData(c["pr"]["x"], c["pr"]["y"])
        self.roc_plot.setTitle(f"ROC · AUC {c['roc']['auc']:.3f}", color=color("text"), size="9pt")
        self.pr_plot.setTitle(f"Precision-recall · AUC {c['pr']['auc']:.3f}", color=color("text"), size="9pt")

    def _on_item(self, i: int) -> None:
        e = self.last
        if e is not None and 0 <= i < len(e.wrong):
            self.sample_chosen.emit(e.split, int(e.wrong[i]["index"]))

    # ---- the data, for CSV --------------------------------------------------------------------
    def table_rows(self):
        e = self.last
        if e is None:
            return None
        t = e.table
        return (list(COLUMNS), [[class_name(e.classes, k), t["precision"][k], t["recall"][k], t["f1"][k],
                                 t["support"][k]] for k in range(len(t["support"]))])

    def gallery_rows(self):
        e = self.last
        if e is None:
            return None
        return (["split", "index", "true", "predicted", "confidence"],
                [[e.split, s["index"], class_name(e.classes, s["true"]), class_name(e.classes, s["pred"]),
                  s["confidence"]] for s in e.wrong])

    def curve_rows(self):
        e = self.last
        if e is None or e.curves is None:
            return None
        rows = []
        for name, xname, yname in (("roc", "false positive rate", "true positive rate"),
                                   ("pr", "recall", "precision")):
            c = e.curves[name]
            rows += [[name, xname, float(x), yname, float(y), c["auc"]] for x, y in zip(c["x"], c["y"])]
        return (["curve", "x is", "x", "y is", "y", "auc"], rows)
