"""The training settings form: dataset (with a preview of samples and the shapes), loss, optimizer,
learning rate, schedule, epochs, batch size, seed, mixed precision and device. Every change becomes
one undoable `SetTraining` pushed through the document; the form re-reads the project whenever its
training section changes (`Document.training_changed`: an edit, undo, redo) and when another file is
opened."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox,
                               QVBoxLayout, QWidget)

from . import images
from .commands import SetTraining, with_value
from .tiles import BarsWidget, ImageTile

AMP_CHOICES = (("off", "Off (float32)"), ("auto", "Auto (bf16 or fp16, CUDA)"), ("fp16", "float16 (CUDA)"),
               ("bf16", "bfloat16 (CUDA)"))
PREVIEW = 6
CHOOSE_DATASET = "Choose a dataset…"


def _typed(section, default: str = "") -> tuple[str, dict]:
    if isinstance(section, str):
        return section, {}
    if isinstance(section, dict):
        return str(section.get("type", default)), {k: v for k, v in section.items() if k != "type"}
    return default, {}


class SettingsForm(QWidget):
    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        from studio.training.config import LOSSES, OPTIMIZERS, SCHEDULES
        from studio.training.datasets import list_datasets

        from .devices import list_devices

        self.document = document
        self._loading = False
        self.dataset = QComboBox()
        self.entries = {e.name: e for e in list_datasets()}
        groups = {"embedded": "built in", "generated": "generated", "download": "downloads", "files": "your files"}
        for e in self.entries.values():
            self.dataset.addItem(f"{e.name}  ·  {groups.get(e.group, e.group)}", e.name)
            self.dataset.setItemData(self.dataset.count() - 1, e.description, Qt.ItemDataRole.ToolTipRole)
        self.dataset.setPlaceholderText(CHOOSE_DATASET)  # shown while the project has no dataset
        self.description = QLabel("")
        self.description.setWordWrap(True)
        self.description.setObjectName("dim")
        self.shape = QLabel("")
        self.shape.setWordWrap(True)
        self.preview_tiles = [ImageTile(self, "", min_side=28) for _ in range(PREVIEW)]
        self.preview_bars = BarsWidget(self)
        self.preview_bars.setVisible(False)
        strip = QHBoxLayout()
        strip.setSpacing(3)
        for t in self.preview_tiles:
            strip.addWidget(t)
        strip.addWidget(self.preview_bars)
        data = QGroupBox("Data")
        dl = QVBoxLayout(data)
        dl.addWidget(self.dataset)
        dl.addWidget(self.description)
        dl.addWidget(self.shape)
        dl.addLayout(strip)

        self.loss = QComboBox()
        self.loss.addItems(list(LOSSES))
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        self.lr = QLineEdit()
        validator = QDoubleValidator(1e-9, 100.0, 9, self.lr)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        self.lr.setValidator(validator)
        self.lr.setToolTip("Learning rate, e.g. 0.001 or 1e-3")
        self.schedule = QComboBox()
        self.schedule.addItem("None (constant)", None)
        for name in SCHEDULES:
            self.schedule.addItem(name, name)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000)
        self.batch = QSpinBox()
        self.batch.setRange(1, 1_000_000)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.amp = QComboBox()
        for value, label in AMP_CHOICES:
            self.amp.addItem(label, value)
        # training.precision "bf16" (issue 19): opt-in, off by default; the run's log says what changed
        self.bf16 = QCheckBox("Faster numerics (bf16)")
        self.bf16_note = QLabel()  # what it does on the chosen device (_show_bf16_note); wraps: the dock is narrow
        self.bf16_note.setWordWrap(True)
        self.bf16_note.setObjectName("subtle")  # (the style sheet dims "subtle")
        self.bf16.setToolTip("training.precision: bf16. On a CPU with bf16 hardware the trainer also times bf16 "
                             "steps (autocast, channels-last convolutions, bf16 matrix products) and keeps the "
                             "fastest; results differ slightly from float32. The log names what it changed.")
        self.device = QComboBox()
        self.devices = list_devices()
        for d in self.devices:
            self.device.addItem(d.label, d.value)
            self.device.setItemData(self.device.count() - 1, d.tooltip, Qt.ItemDataRole.ToolTipRole)
        train = QGroupBox("Training")
        form = QFormLayout(train)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, w in (("Loss", self.loss), ("Optimizer", self.optimizer), ("Learning rate", self.lr),
                         ("Schedule", self.schedule), ("Epochs", self.epochs), ("Batch size", self.batch),
                         ("Seed", self.seed), ("Mixed precision", self.amp), ("Device", self.device)):
            form.addRow(label, w)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a field goes below its label when narrow
        precision = QVBoxLayout()
        precision.setSpacing(0)
        precision.addWidget(self.bf16)
        precision.addWidget(self.bf16_note)
        form.insertRow(form.rowCount() - 1, precision)  # both columns: it names itself
        for combo in (self.dataset, self.device):  # names of any length: a narrow box, the list shows them whole
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        for combo in (self.loss, self.optimizer, self.schedule, self.amp):  # a few fixed names: each read
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # whole, the row wraps under
            # its label where the dock is narrow ("CrossEntropyl" in a 1024 px window)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(data)
        layout.addWidget(train)

        self.dataset.currentIndexChanged.connect(lambda _i: self._set_dataset())
        self.loss.currentTextChanged.connect(lambda t: self._set_typed("loss", t, "Loss"))
        self.optimizer.currentTextChanged.connect(lambda t: self._set_typed("optimizer", t, "Optimizer"))
        self.lr.editingFinished.connect(self._set_lr)
        self.schedule.currentIndexChanged.connect(lambda _i: self._set_schedule())
        self.epochs.valueChanged.connect(lambda v: self._push(("epochs",), v, "Epochs"))
        self.batch.valueChanged.connect(lambda v: self._push(("batch_size",), v, "Batch size"))
        self.seed.valueChanged.connect(lambda v: self._push(("seed",), v, "Seed"))
        self.amp.currentIndexChanged.connect(lambda _i: self._push(("amp",), self.amp.currentData(), "Mixed precision"))
        self.device.currentIndexChanged.connect(lambda _i: self._push(("device",), self.device.currentData(), "Device"))
        # the note under the switch says what it does on the chosen device (nothing on a CPU without bf16)
        self.device.currentIndexChanged.connect(lambda _i: self._show_bf16_note())
        self.bf16.toggled.connect(lambda on: self._push(("precision",), "bf16" if on else "float32", "Precision"))
        document.training_changed.connect(self._on_training_changed)
        self.load()
        self._show_bf16_note()

    def _show_bf16_note(self) -> None:
        from .devices import bf16_note, resolved

        self.bf16_note.setText(bf16_note(resolved(self.device.currentData() or "auto", self.devices)))

    def _on_training_changed(self, _section) -> None:  # a method: the connection goes with the form
        self.load()

    # ---- project -> widgets -------------------------------------------------------------------
    def load(self) -> None:
        t = self.document.project.training or {}
        self._loading = True
        try:
            ds = t.get("dataset", {})
            name = ds if isinstance(ds, str) else (ds.get("name") if isinstance(ds, dict) else None)
            if name is not None and self.dataset.findData(name) < 0:  # a name this install does not know
                self.dataset.addItem(f"{name}  ·  not available", name)
            # no dataset: no entry is current, the combo shows its placeholder (picking any entry sets it)
            self.dataset.setCurrentIndex(self.dataset.findData(name) if name is not None else -1)
            self._describe(name)
            self.loss.setCurrentText(_typed(t.get("loss", {}), "CrossEntropyLoss")[0] or "CrossEntropyLoss")
            opt_type, opt = _typed(t.get("optimizer", {}), "Adam")
            self.optimizer.setCurrentText(opt_type or "Adam")
            self.lr.setText(f"{opt.get('lr', 1e-3):g}")
            sched = t.get("schedule")
            self._select(self.schedule, _typed(sched)[0] if sched else None)
            for box, key, default in ((self.epochs, "epochs", 10), (self.batch, "batch_size", 32),
                                      (self.seed, "seed", 0)):
                v = t.get(key, default)
                box.setValue(v if isinstance(v, int) and not isinstance(v, bool) else default)
            amp = t.get("amp", False)
            amp = {False: "off", True: "auto", None: "off"}.get(amp, amp) if isinstance(amp, (bool, type(None))) else amp
            self._select(self.amp, amp)
            self.bf16.setChecked(t.get("precision") in ("bf16", "bfloat16"))
            device = t.get("device", "auto")
            if self.device.findData(device) < 0 and isinstance(device, str):
                self.device.addItem(f"{device} (not on this machine)", device)
            self._select(self.device, device)
        finally:
            self._loading = False

    @staticmethod
    def _select(combo: QComboBox, value) -> None:
        i = combo.findData(value)
        combo.setCurrentIndex(max(i, 0))

    def _describe(self, name) -> None:
        entry = self.entries.get(name)
        if name is None:
            self.description.setText("No dataset yet: choose one above to train on it.")
        else:
            self.description.setText(entry.description if entry else
                                     f"“{name}” is not a dataset this NetStudio knows: choose one above.")

    def show_preview(self, result) -> None:
        """A PreflightResult: shapes and a few samples of the dataset."""
        info = result.info
        if info is None:
            self.shape.setText("")
            for t in self.preview_tiles:
                t.set_image(None, "")
            return
        shape = "[" + ", ".join(str(d) for d in info.input.shape) + "]"
        target = (f"{info.num_classes} classes" if info.task == "classification" else
                  "the input itself" if info.task == "reconstruction" else
                  "[" + ", ".join(str(d) for d in info.target.shape) + "] values")
        self.shape.setText(f"sample {shape} {info.input.dtype} → {target} · {info.size:,} samples")
        imgs = [images.sample_image(p["x"]) for p in result.preview[:PREVIEW]]
        is_image = bool(imgs) and all(i is not None for i in imgs)
        self.preview_bars.setVisible(not is_image and bool(result.preview))
        for i, tile in enumerate(self.preview_tiles):
            tile.setVisible(is_image)
            if is_image and i < len(imgs):
                tile.set_image(imgs[i], str(result.preview[i].get("label", "")))
        if not is_image and result.preview:
            self.preview_bars.set_values(result.preview[0]["x"])
            self.preview_bars.setToolTip("the first sample's values")

    # ---- widgets -> project (undoable) --------------------------------------------------------
    def _push(self, path: tuple, value, label: str) -> None:
        if self._loading:
            return
        training = self.document.project.training or {}
        new = with_value(training, path, value)
        if new == training:
            return
        cmd = SetTraining(self.document.project, new, f"Set {label.lower()}", ".".join(path))
        if not self.document.push(cmd):
            self.load()  # refused (a run holds the document): show the settings as they are

    def _set_dataset(self) -> None:
        name = self.dataset.currentData()
        if name is None:  # back to the placeholder (only load() does that)
            return
        self._describe(name)
        current = (self.document.project.training or {}).get("dataset")
        if isinstance(current, dict) and current.get("name") == name:
            return
        self._push(("dataset",), {"name": name}, "Dataset")

    def _set_typed(self, key: str, type_name: str, label: str) -> None:
        if self._loading or not type_name:
            return
        old_type, old = _typed((self.document.project.training or {}).get(key, {}))
        if old_type == type_name:
            return
        keep = {k: v for k, v in old.items() if k in ("lr", "weight_decay", "l1")} if key == "optimizer" else {}
        self._push((key,), {"type": type_name, **keep}, label)

    def _set_lr(self) -> None:
        try:
            value = float(self.lr.text())
        except ValueError:
            return
        if value > 0:
            self._push(("optimizer", "lr"), value, "Learning rate")

    def _set_schedule(self) -> None:
        name = self.schedule.currentData()
        current = (self.document.project.training or {}).get("schedule")
        if (_typed(current)[0] if current else None) == name:
            return
        self._push(("schedule",), {"type": name} if name else None, "Schedule")
