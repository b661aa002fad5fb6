"""The Try it dock: give the trained model an input and see its prediction at once, with the top classes
and their probabilities: draw (or open a picture) for image data sets, edit the feature values for
tabular data, type text for a token model (the next character's top classes and a short continuation);
a regression shows its value, an autoencoder its reconstruction beside the input. "Why" draws the
attribution of the current input over it (studio.training.explain). A sample chosen elsewhere (a click
in the misclassified gallery: `show_sample`) is tried as it is stored, with its Grad-CAM.

The model is the last finished run's (the Probe the training thread handed over as it ended, never the
trainer during a run) or a chosen checkpoint's. Prediction and attribution run on one helper thread
(an attribution takes tens to hundreds of ms on a CPU, Captum's first import a second): the newest
input wins, inputs that came while one was computed are skipped, and `answered` fires when the screen
shows the newest; the time each took is shown (and kept in `last_ms`)."""
from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QScrollArea, QStackedWidget, QVBoxLayout,
                               QWidget)

from . import file_dialogs, images
from .tryit_answer import Request, answer
from .tryit_canvas import DrawCanvas, PictureBox, read_picture

TOP = 5  # classes shown
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum"
WHY = (("Why: off", None), ("Why: saliency", "saliency"), ("Why: integrated gradients", "integrated_gradients"),
       ("Why: Grad-CAM", "gradcam"), ("Why: occlusion", "occlusion"))


class _Relay(QObject):
    done = Signal(int, object)  # (request number, result dict) from the helper thread


class TryItView(QWidget):
    answered = Signal()  # the screen shows the answer for the newest input

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("tryit")
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tryit")
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_answer)
        self._seq = 0  # the newest request's number
        self._busy = False
        self._pending: tuple | None = None  # the newest request that came while one was computed
        self.destroyed.connect(lambda *_: self._pool.shutdown(wait=False, cancel_futures=True))
        self.subject = None  # studio.training.explain.Subject
        self.source = ""
        self.last_probs: np.ndarray | None = None
        self.last_attribution = None
        self.last_output: np.ndarray | None = None  # a regression's values, an autoencoder's reconstruction
        self.last_ms: dict[str, float] = {}
        self._range = (0.0, 1.0)  # the stored samples' value range (what a drawn 0..1 maps to)
        self._bright_on_dark = True
        self.sample_index: int | None = None  # a chosen sample of the shown split, tried as stored

        self.caption = QLabel("Train the model (or choose a checkpoint), then draw or type an input here.")
        self.caption.setObjectName("subtle")
        self.caption.setWordWrap(True)
        self.checkpoint_button = QPushButton("Checkpoint…")
        self.checkpoint_button.setToolTip("Try the weights of a checkpoint file instead of the last run's")
        self.open_button = QPushButton("Open image…")
        self.clear_button = QPushButton("Clear")
        self.why = QComboBox()
        self.why.setObjectName("tryitWhy")
        for text, method in WHY:
            self.why.addItem(text, method)
        self.why.setToolTip("Why: draw an attribution of the current input over it")
        # as wide as its longest choice: "Why: integrated gradients" reads whole once chosen
        self.why.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.node = QComboBox()
        self.node.setToolTip("The conv layer Grad-CAM looks at")
        self.node.setVisible(False)
        # the tools in a column between the input and the answer: the bottom row is ~180 px high in a
        # 1024x700 window (~230 px at 1440x900), where a row of tools above the canvas crushed it
        tools = QVBoxLayout()
        tools.setSpacing(2)
        pair = QHBoxLayout()
        pair.setSpacing(2)
        pair.addWidget(self.open_button)
        pair.addWidget(self.clear_button)
        tools.addWidget(self.checkpoint_button)
        tools.addLayout(pair)
        for w in (self.why, self.node):
            tools.addWidget(w)
        tools.addStretch(1)

        self.canvas = DrawCanvas()
        self.reconstruction = PictureBox()  # an autoencoder's output, beside the input
        self.reconstruction.setObjectName("tryitReconstruction")
        self.reconstruction.setVisible(False)
        self.pictures = QWidget()
        pictures = QHBoxLayout(self.pictures)
        pictures.setContentsMargins(0, 0, 0, 0)
        pictures.addWidget(self.canvas)
        pictures.addWidget(self.reconstruction)
        # the feature boxes and a continuation scroll in their page: however many or long, the row
        # keeps its height (a page taller than the dock would make the whole dock scroll)
        boxes = QWidget()
        self.feature_form = QFormLayout(boxes)
        self.features = _scrolled(boxes)
        self.spins: list[QDoubleSpinBox] = []
        self.text_page = QWidget()
        self.text = QLineEdit()
        self.text.setObjectName("tryitText")
        self.text.setPlaceholderText("Type some text: the model predicts the next character")
        self.continuation = QLabel("")
        self.continuation.setObjectName("tryitContinuation")
        self.continuation.setWordWrap(True)
        self.continuation.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.continuation.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        tl = QVBoxLayout(self.text_page)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.text)
        tl.addWidget(_scrolled(self.continuation), 1)
        self.stack = QStackedWidget()
        for page in (self.pictures, self.features, self.text_page):
            self.stack.addWidget(page)

        self.prediction = QLabel("")
        self.prediction.setObjectName("tryitPrediction")
        font = self.prediction.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.prediction.setFont(font)
        self.prediction.setVisible(False)  # until there is an answer
        grid = QGridLayout()
        grid.setVerticalSpacing(2)  # five rows and the prediction in the ~165 px of a 1024x700 window's row
        self.class_labels, self.bars = [], []
        for i in range(TOP):
            label, bar = QLabel(""), QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            bar.setFormat("")
            bar.setMaximumHeight(self.fontMetrics().height() + 4)  # five rows that fit a low dock
            label.setVisible(False)
            bar.setVisible(False)  # until there is an answer: the caption says what to do
            grid.addWidget(label, i, 0)
            grid.addWidget(bar, i, 1)
            self.class_labels.append(label)
            self.bars.append(bar)
        self.note = QLabel("")
        self.note.setObjectName("subtle")
        self.note.setWordWrap(True)
        answer = QWidget()
        side = QVBoxLayout(answer)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.prediction)
        side.addLayout(grid)
        side.addWidget(self.caption)  # under the answer: before any, the first line of the column
        side.addWidget(self.note)
        side.addStretch(1)
        # the answer (and what is said about it: the caption and the note wrap onto several lines)
        # scrolls on its own in a low dock, so the canvas keeps the dock's whole height
        self.answer_scroll = _scrolled(answer)
        self.answer_scroll.setMinimumWidth(self.fontMetrics().horizontalAdvance("MSE 0.0000") * 2)
        layout = QHBoxLayout(self)  # side by side: each column has the dock's whole height
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addWidget(self.stack, 3)
        layout.addLayout(tools, 0)
        layout.addWidget(self.answer_scroll, 3)
        self.stack.installEventFilter(self)  # a picture is as wide as the row is high (_fit_pictures)

        self.canvas.stroke_done.connect(self._edited)
        self.text.textChanged.connect(self._edited)
        self.canvas.file_dropped.connect(self.load_picture)
        self.clear_button.clicked.connect(self._clear)
        self.open_button.clicked.connect(self.open_image)
        self.why.currentIndexChanged.connect(self._why_changed)
        self.node.currentIndexChanged.connect(self.refresh)
        self._enable(False)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.stack and event.type() == QEvent.Type.Resize:
            self._fit_pictures()
        return super().eventFilter(obj, event)

    def _fit_pictures(self) -> None:
        """The pictures page no wider than its pictures at the row's height: the answer gets the rest
        (the canvas paints a square in whatever it is given; the room beside it would be lost)."""
        image_page = self.kind == "image"
        self.layout().setStretchFactor(self.stack, 12 if image_page else 3)  # to its square first
        if not image_page:
            self.stack.setMaximumWidth(QWIDGETSIZE_MAX)
            return
        image = self.canvas.image
        shown = 2 if self.reconstruction.isVisibleTo(self) else 1
        width = shown * self.stack.height() * image.width() / image.height() + (shown - 1) * 6
        self.stack.setMaximumWidth(max(self.stack.minimumSizeHint().width(), round(width)))

    @property
    def kind(self) -> str:
        """What the input is: "image", "features" or "text"."""
        return {self.features: "features", self.text_page: "text"}.get(self.stack.currentWidget(), "image")

    # ---- the model --------------------------------------------------------------------------------
    def set_subject(self, subject, source: str) -> None:
        """Try `subject` (a Subject: model and shown split) from now on; `source` says whose weights."""
        from studio.training.explain import conv_nodes

        self.subject, self.source = subject, source
        self.sample_index = None
        self._clear_answer()  # the last model's answer says nothing about this one
        shape = tuple(subject.info.input.shape)
        x = subject.part.x
        self._range = (float(x.min()), float(x.max()))
        lo, hi = self._range
        self._bright_on_dark = float(x.float().mean()) < (lo + hi) / 2  # the digits: white ink on black
        image = len(shape) == 3 and shape[0] in (1, 3)  # [C, H, W] grey or colour
        task = subject.info.task
        self.node.blockSignals(True)
        self.node.clear()
        self.node.addItems(conv_nodes(subject.model))
        self.node.setCurrentIndex(self.node.count() - 1)
        self.node.blockSignals(False)
        self.reconstruction.setVisible(image and task == "reconstruction")
        self.reconstruction.set_picture(None)
        if image:
            self.canvas.set_input_size(shape[1], shape[2])
            self.stack.setCurrentWidget(self.pictures)
            what = "Draw with the mouse (or open a picture)"
        elif len(shape) == 1 and x.is_floating_point():
            self._build_features(shape[0])
            self.stack.setCurrentWidget(self.features)
            what = "Change the feature values"
        elif subject.sampling is not None:
            self.stack.setCurrentWidget(self.text_page)
            self.text.blockSignals(True)
            self.text.setText(self.text.text() or subject.sampling.prompt)
            self.text.blockSignals(False)
            what = "Type some text"
        else:
            self.subject = None
            self.say(f"Try it takes images, feature values or text; this model's input is {list(shape)} "
                     f"{subject.info.input.dtype}.")
            self._enable(False)
            return
        says = {"reconstruction": "reconstructs it beside it", "regression": "gives its value"}.get(
            task, "predicts the next character" if self.kind == "text" else "predicts at once")
        self.caption.setText(f"{what}: the model ({source}) {says}. Dataset: {subject.info.name}, "
                             f"input {list(shape)}.")
        self._enable(True, image)
        self._fit_pictures()
        self.refresh()

    def _clear_answer(self) -> None:
        self._seq += 1  # an answer still computing for the last model is dropped when it comes
        self.last_probs = self.last_output = self.last_attribution = None
        self.prediction.setText("")
        self.prediction.setVisible(False)
        self._hide_bars()
        self.note.setText("")
        self.continuation.setText("")
        self.canvas.set_overlay(None)

    def _hide_bars(self) -> None:
        for label, bar in zip(self.class_labels, self.bars):
            label.setText("")
            label.setVisible(False)
            bar.setVisible(False)

    def say(self, problem: str, label: QLabel | None = None) -> None:
        """Put `problem` in the caption (or the note), scrolled into view: under the answer it may be
        below the fold of a short dock."""
        label = label or self.caption
        label.setText(problem)
        self.answer_scroll.widget().layout().activate()  # (the label where its new text puts it)
        self.answer_scroll.ensureWidgetVisible(label)

    def _enable(self, on: bool, image: bool = True) -> None:
        # Why explains a class or a value of a float input: not an autoencoder's picture, not token ids
        task = self.subject.info.task if self.subject is not None else ""
        self.why.setEnabled(on and task != "reconstruction" and self.kind != "text")
        if not self.why.isEnabled():
            self.why.setCurrentIndex(0)
        self.open_button.setEnabled(on and image)
        self.clear_button.setEnabled(on and image)
        self.canvas.setEnabled(on)

    def _build_features(self, n: int) -> None:
        while self.feature_form.rowCount():
            self.feature_form.removeRow(0)
        x = self.subject.part.x.float()
        lo, hi, start = x.min(0).values, x.max(0).values, x[0]
        self.spins = []
        for i in range(n):
            span = float(hi[i] - lo[i]) or 1.0
            spin = QDoubleSpinBox()
            spin.setDecimals(3)
            spin.setRange(float(lo[i]) - span, float(hi[i]) + span)  # the data's range, with room either side
            spin.setSingleStep(span / 20)
            spin.setValue(float(start[i]))
            spin.valueChanged.connect(self._edited)
            self.feature_form.addRow(f"feature {i}", spin)
            self.spins.append(spin)

    # ---- the input ----------------------------------------------------------------------------------
    def _edited(self, *_args) -> None:
        """The person changed the input: it is theirs now, not the chosen sample."""
        self.sample_index = None
        self.refresh()

    def show_sample(self, split: str, index: int) -> None:
        """Try sample `index` of `split` as it is stored (a click in the misclassified gallery), shown on
        the canvas (or in the feature boxes), with Grad-CAM at the last conv when Why was off."""
        subject = self.subject
        if subject is None:
            self.say("Try it takes the model when the run ends: click the sample again then.")
            return
        if split != subject.split or not 0 <= index < len(subject):
            self.say(f"Sample {index} of the {split} split is not among the {len(subject)} samples of "
                     f"the {subject.split} split tried here (the weights: {self.source}).")
            return
        raw = subject.part.x[index]
        if self.kind == "image":
            picture = images.sample_image(raw.float().numpy())
            if picture is not None:
                self.canvas.set_picture(picture, emit=False)
        elif self.kind == "features":
            for spin, v in zip(self.spins, raw.float().tolist()):
                spin.blockSignals(True)
                spin.setValue(v)
                spin.blockSignals(False)
        elif self.kind == "text" and subject.sampling is not None:
            self.text.blockSignals(True)
            self.text.setText(subject.sampling.decode(raw.tolist()))
            self.text.blockSignals(False)
        if self.why.currentData() is None and self.why.isEnabled():
            self.why.blockSignals(True)  # one answer below, not one for the choice and one for the sample
            self.why.setCurrentIndex(self.why.findData("gradcam" if self.node.count() else "saliency"))
            self.why.blockSignals(False)
            self.node.setVisible(self.why.currentData() == "gradcam")
        _x, label = subject.sample(index)
        self.sample_index = index
        self.caption.setText(f"Sample {index} of the {split} split" + (f" (labelled {label})" if label else "")
                             + f", as stored; draw on it to change it. Weights: {self.source}.")
        self.refresh()

    def current_input(self):
        """The tried input as the one-sample batch the model takes (a token model: the typed text)."""
        import torch

        subject = self.subject
        if self.kind == "text":
            return self.text.text()
        if self.sample_index is not None:
            return subject.sample(self.sample_index)[0]
        if self.kind == "features":
            raw = torch.tensor([[s.value() for s in self.spins]], dtype=subject.part.x.dtype)
            return subject.prepare(raw)
        ink = self.canvas.pixels()  # [3, H, W] in 0..1
        channels = subject.part.x.shape[1]  # as stored (before the transform)
        ink = ink.mean(0, keepdims=True) if channels == 1 else ink
        if not self._bright_on_dark and channels == 1:
            ink = 1.0 - ink
        lo, hi = self._range
        raw = torch.from_numpy(lo + ink * (hi - lo))[None]
        if not subject.part.x.is_floating_point():
            raw = raw.round().to(subject.part.x.dtype)
        return subject.prepare(raw)

    def open_image(self) -> None:
        path = file_dialogs.open_path(self, "Open an image", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif)")
        if path:
            self.load_picture(path)

    def load_picture(self, path: str) -> None:
        """Put the picture file `path` on the canvas (opened or dropped); a file that is not one (or is
        cut short, or would unpack past Qt's allocation limit) is said with the reader's reason."""
        grey = self._bright_on_dark and self.subject is not None and self.subject.part.x.shape[1] == 1
        picture, problem = read_picture(path, light_ink_on_black=grey)
        if picture is None:
            self.say(problem, self.note)
            return
        self.canvas.set_picture(picture)

    def _clear(self) -> None:
        self.canvas.clear()  # (its stroke_done makes the input the person's again)

    def _why_changed(self) -> None:
        self.node.setVisible(self.why.currentData() == "gradcam" and self.node.count() > 0)
        self.refresh()

    # ---- prediction and why -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask for the current input's answer (the helper thread computes it; `answered` when shown)."""
        if self.subject is None:
            return
        self._seq += 1
        s = self.subject
        request = Request(self._seq, s.model, self.current_input(), s.info.task, self.why.currentData(),
                          self.node.currentText() or None, s.sampling if self.kind == "text" else None)
        if self._busy:
            self._pending = request  # the newest wins: older waiting inputs are skipped
        else:
            self._submit(request)

    def _submit(self, request: Request) -> None:
        self._busy = True
        relay = self._relay
        self._pool.submit(lambda: relay.done.emit(request.seq, answer(request)))

    def _on_answer(self, seq: int, out: dict) -> None:
        self._busy = False
        if self._pending is not None:
            request, self._pending = self._pending, None
            self._submit(request)
        if "bug" in out:
            raise out["bug"]
        if seq != self._seq or self.subject is None:
            return  # a newer input is on its way (or nothing is tried any more)
        self.last_ms, self.last_probs = out["ms"], out.get("probs")
        self.last_output = out.get("output")
        self._show_output(out)
        self.prediction.setVisible(bool(self.prediction.text()))
        a = self.last_attribution = out.get("attribution")
        note = str(out.get("problem", ""))
        if a is None:
            self.canvas.set_overlay(None)
        else:
            note = a.note
            if self.kind == "image":
                self.canvas.set_overlay(a.values if a.values.ndim == 2 else a.values.sum(0))
            else:
                note = "  ".join(f"f{i}: {v:+.3g}" for i, v in enumerate(a.values.reshape(-1))) + "\n" + note
        timing = ", ".join(f"{k} {v:.0f} ms" for k, v in self.last_ms.items())
        self.note.setText(f"{note}\n({timing}; weights: {self.source})".strip())
        self.answered.emit()

    def _show_output(self, out: dict) -> None:
        if "continuation" in out:
            self.continuation.setText(f"{self.text.text()}\u2503{out['continuation']}")
            self.continuation.setToolTip(f"What the model writes next ({len(out['continuation'])} characters, "
                                         f"temperature {self.subject.sampling.temperature:g}); the bar marks "
                                         "where your text ends")
        if out.get("probs") is not None:
            self._show_probs(out["probs"])
            return
        self._hide_bars()
        value = out.get("output")
        if value is None:
            self.prediction.setText("")
        elif self.subject.info.task == "reconstruction":
            shown = np.asarray(self.current_input()[0].float())
            mse = float(np.mean((value.reshape(shown.shape) - shown) ** 2)) if value.size == shown.size else float("nan")
            self.reconstruction.set_picture(images.sample_image(value.reshape(shown.shape))
                                            if value.size == shown.size else None)
            self.prediction.setText(f"MSE {mse:.4g}")
            self.prediction.setToolTip("The reconstruction's mean squared error against the input")
        else:  # regression: the value (or the first few of several)
            flat = value.reshape(-1)
            self.prediction.setText("  ".join(f"{float(v):.4g}" for v in flat[:TOP]))

    def _show_probs(self, probs: np.ndarray) -> None:
        top = np.argsort(probs)[::-1][:TOP]
        self.prediction.setText(f"{self.subject.class_name(int(top[0]))}  ({float(probs[top[0]]):.0%})")
        for i, (label, bar) in enumerate(zip(self.class_labels, self.bars)):
            bar.setVisible(i < len(top))
            label.setVisible(i < len(top))
            if i < len(top):
                k = int(top[i])
                label.setText(self.subject.class_name(k))
                bar.setValue(round(float(probs[k]) * 1000))
                bar.setFormat(f"{float(probs[k]):.1%}")

    def shown_top(self) -> list[tuple[str, float]]:
        """The classes and probabilities on screen, best first (for tests and people alike)."""
        return [(lab.text(), bar.value() / 1000) for lab, bar in zip(self.class_labels, self.bars)
                if bar.isVisible() and lab.text()]


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def install_tryit(ui) -> TryItView:
    """Fill the Try it dock of the training UI `ui`: the last finished run's model is tried as each run
    ends; the Checkpoint… button tries a checkpoint's weights on the open project instead."""
    from studio.training.explain import Subject

    view = TryItView()
    ui.window.add_dock("tryit", ui.docks["tryit"].windowTitle(), view)

    def on_ended(end) -> None:
        if end.probe is not None:
            subject = Subject.from_probe(end.probe)
            # its own copy: the feature maps' forward hooks on the probe's model (GUI thread) and
            # Captum's (the helper thread) never meet on one module
            subject.model = copy.deepcopy(subject.model)
            view.set_subject(subject, f"run at epoch {end.probe.epochs_done}")

    def choose_checkpoint() -> None:
        from studio.errors import is_user_error

        root = ui.runs_root()  # the project's runs: each holds its best.pt and checkpoint.pt
        path = file_dialogs.open_path(view, "Try a checkpoint", str(root) if root.is_dir() else "",
                                      "Checkpoints (*.pt *.pth);;All files (*)")
        if not path:
            return
        try:
            subject = Subject.from_project(ui.document.project, path)
        except Exception as exc:  # noqa: BLE001 - a file that does not fit is said, not raised
            if not is_user_error(exc):
                raise
            view.say(f"{path}: {exc}")
            return
        view.set_subject(subject, f"checkpoint {path}")

    ui.session.ended.connect(on_ended)
    view.checkpoint_button.clicked.connect(choose_checkpoint)
    return view
