"""Feature maps: the activations of the node selected on the canvas for one chosen sample, updated
live while training (a grid of channels for conv outputs, a heatmap for 2-D, bars for a vector),
beside the input sample itself."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QStackedWidget, QVBoxLayout, QWidget

from . import images
from .live_label import LiveLabel
from .tiles import BarsWidget, ImageTile, TokenGrid

MAX_CHANNELS = 64
MAX_BARS = 128


def describe(value: np.ndarray) -> str:
    return "[" + ", ".join(str(d) for d in value.shape) + "]"


class FeatureMapView(QWidget):
    sample_changed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.node_id: str | None = None
        self.last_event = None
        self.title = LiveLabel("Select a layer on the canvas to see its activations")
        self.title.setObjectName("dim")
        self.sample = QSpinBox()
        self.sample.setRange(0, 0)
        self.sample.setPrefix("sample ")
        self.sample.setToolTip("Which validation sample to feed through the model")
        self.sample.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # the title takes the rest
        self.sample.valueChanged.connect(self.sample_changed)
        head = QHBoxLayout()
        head.setContentsMargins(4, 2, 4, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.sample)

        self.input_tile = ImageTile(self, "input", min_side=64)
        self.input_tile.placeholder = "input"
        self.input_tile.setMaximumWidth(150)
        self.input_bars = BarsWidget(self)
        self.input_stack = QStackedWidget()
        self.input_tokens = TokenGrid(self)
        self.input_stack.addWidget(self.input_tile)
        self.input_stack.addWidget(self.input_bars)
        self.input_stack.addWidget(self.input_tokens)
        self.input_stack.setMaximumWidth(150)
        self.map_tile = ImageTile(self, "", min_side=96)
        self.map_tile.placeholder = "Train (or select a layer) to see activations"
        self.bars = BarsWidget(self)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.map_tile)
        self.stack.addWidget(self.bars)
        body = QHBoxLayout()
        body.setContentsMargins(4, 0, 4, 4)
        body.addWidget(self.input_stack, 1)
        body.addWidget(self.stack, 4)
        self.note = QLabel("")
        self.note.setObjectName("dim")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addLayout(body, 1)
        layout.addWidget(self.note)

    # ---- what to show -------------------------------------------------------------------------
    def set_node(self, node_id: str | None, label: str = "") -> None:
        if node_id != self.node_id:
            self.node_id = node_id
            self.last_event = None
            self.map_tile.set_image(None, "")
            self.bars.set_values([])
            self.note.setText("")
        self.map_tile.placeholder = ("Train (or select a layer) to see activations" if node_id is None
                                     else "Train the model to see this layer's activations")
        self.map_tile.update()
        self.title.setText(label or (node_id or "Select a layer on the canvas to see its activations"))

    def set_sample_count(self, n: int) -> None:
        self.sample.blockSignals(True)
        self.sample.setRange(0, max(0, n - 1))
        self.sample.blockSignals(False)

    def set_input(self, x, caption: str = "input") -> None:
        if x is None:
            self.input_tile.set_image(None, caption)
            self.input_stack.setCurrentWidget(self.input_tile)
            return
        x = np.asarray(x)
        if np.issubdtype(x.dtype, np.integer) and x.ndim <= 2:  # token ids: a grid of numbered cells
            self.input_tokens.set_ids(x, caption.replace("input", f"input: {x.size} tokens", 1))
            self.input_stack.setCurrentWidget(self.input_tokens)
            return
        image = images.sample_image(x)
        if image is not None:
            self.input_tile.set_image(image, caption)
            self.input_stack.setCurrentWidget(self.input_tile)
        else:
            self.input_bars.set_values(x.reshape(-1)[:MAX_BARS])
            self.input_stack.setCurrentWidget(self.input_bars)

    def show_activation(self, event) -> None:
        """An ActivationEvent (or anything with node_id, value, global_step, epoch)."""
        if self.node_id is not None and event.node_id != self.node_id:
            return  # a late event for the layer selected before
        self.last_event = event
        value = np.asarray(event.value)
        step = f" · step {event.global_step:,}" if getattr(event, "global_step", 0) else ""
        self.title.setText(f"{event.node_id} · {describe(value)}{step}")
        self.title.setObjectName("")
        self.note.setText(self._render(value))

    def has_image(self) -> bool:
        return (self.stack.currentWidget() is self.map_tile and self.map_tile.has_image()) or \
            (self.stack.currentWidget() is self.bars and len(self.bars.values) > 0)

    # ---- rendering ----------------------------------------------------------------------------
    def _render(self, v: np.ndarray) -> str:
        if v.ndim == 3 and v.shape[1] * v.shape[2] > 1:
            c = v.shape[0]
            shown = v[:MAX_CHANNELS]
            box = self.map_tile.size()
            aspect = (box.width() / max(box.height(), 1)) * (v.shape[1] / v.shape[2])
            _rows, cols = images.grid_shape(len(shown), aspect)
            gap = 1 if v.shape[1] < 16 else 2
            self.map_tile.set_image(images.channel_grid(shown, cols, gap), f"{c} channels")
            self.stack.setCurrentWidget(self.map_tile)
            more = f"; the first {MAX_CHANNELS} of {c} shown" if c > MAX_CHANNELS else ""
            return f"each channel scaled to its own range (dark: low, bright: high){more}"
        if v.ndim == 2 and min(v.shape) > 1:
            self.map_tile.set_image(images.colormap(v), f"{v.shape[0]} × {v.shape[1]}")
            self.stack.setCurrentWidget(self.map_tile)
            return f"heatmap, range {v.min():.3g} … {v.max():.3g}"
        flat = v.reshape(-1)
        if flat.size <= MAX_BARS:
            labels = [str(i) for i in range(flat.size)] if flat.size <= 16 else None
            self.bars.set_values(flat, labels)
            self.stack.setCurrentWidget(self.bars)
            if flat.size == 1:
                return f"one value: {flat[0]:.4g}"
            return f"{flat.size} values, range {flat.min():.3g} … {flat.max():.3g}"
        side = int(np.ceil(np.sqrt(flat.size)))
        padded = np.full(side * side, np.nan)
        padded[:flat.size] = flat
        self.map_tile.set_image(images.colormap(np.nan_to_num(padded.reshape(side, side), nan=float(flat.min()))),
                                f"{flat.size} values")
        self.stack.setCurrentWidget(self.map_tile)
        return f"{flat.size} values laid out row by row, range {flat.min():.3g} … {flat.max():.3g}"

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.last_event is not None and np.asarray(self.last_event.value).ndim == 3:
            self._render(np.asarray(self.last_event.value))  # the grid's columns follow the box's shape
