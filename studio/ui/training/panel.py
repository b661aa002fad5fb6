"""The Training dock: the settings form, the pre-flight verdict, Train / Pause / Resume / Stop, the
progress of the run, the starting weights, and the project's earlier runs (tick one to overlay it
on the curves)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QApplication, QGridLayout, QGroupBox, QLabel, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from studio.training.progress import fmt_time

from ..theme import color
from ..wheel import guard_wheel
from .settings_form import SettingsForm
from .wording import device_words


READY, NOT_READY, CHECKING = "Ready to train", "Not ready to train: see above", "Checking the dataset…"
PENDING = "Starting as soon as the dataset is checked… (Stop cancels)"
IDLE_TEXTS = (READY, NOT_READY, CHECKING, PENDING)


def checking(reason: str) -> bool:
    """The verdict is still to come: the first check (importing torch, loading the data) takes seconds."""
    return reason.startswith("checking")


def _idle_text(can_train: bool, reason: str, pending: bool = False) -> str:
    if can_train:
        return READY
    if checking(reason):
        return PENDING if pending else CHECKING
    return NOT_READY


class TrainingPanel(QScrollArea):
    overlays_changed = Signal(list)  # run folder names ticked for overlay

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.form = SettingsForm(document, body)
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.setVisible(False)
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("primary")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        buttons = QGridLayout()  # two rows: the dock is narrow beside the canvas
        buttons.setSpacing(4)
        buttons.addWidget(self.train_button, 0, 0)
        buttons.addWidget(self.stop_button, 0, 1)
        buttons.addWidget(self.pause_button, 1, 0)
        buttons.addWidget(self.resume_button, 1, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.status = QLabel(CHECKING)
        self.status.setWordWrap(True)
        self.notice = QLabel("")  # what the run chose (device, step) in plain words
        self.notice.setObjectName("dim")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.metrics = QLabel("")
        self.metrics.setObjectName("dim")
        self.metrics.setWordWrap(True)
        run = QGroupBox("Run")
        rl = QVBoxLayout(run)
        rl.addWidget(self.problems)
        rl.addLayout(buttons)
        rl.addWidget(self.progress)
        rl.addWidget(self.status)
        rl.addWidget(self.notice)
        rl.addWidget(self.metrics)

        self.weights_label = QLabel("Starting weights: fresh (random)")
        self.weights_label.setWordWrap(True)
        self.weights_label.setObjectName("dim")
        self.load_button = QPushButton("Load checkpoint…")
        self.load_button.setToolTip("Start the next run (and exports) from a checkpoint's weights")
        self.clear_weights_button = QPushButton("Fresh weights")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("TorchScript, ONNX, torch.export, state dict, PyTorch source, checkpoint")
        wl = QGridLayout()
        wl.addWidget(self.load_button, 0, 0, 1, 2)  # the widest on a row of its own: the dock is narrow
        wl.addWidget(self.clear_weights_button, 1, 0)
        wl.addWidget(self.export_button, 1, 1)
        self.runs = QListWidget()
        self.runs.setMinimumHeight(90)
        # a run's line wraps in the narrow dock instead of scrolling sideways ("(10 ep, A" in 260 px)
        self.runs.setWordWrap(True)
        self.runs.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.runs.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.runs.setToolTip("Earlier runs of this project: tick a run to overlay its curves")
        self.runs.itemChanged.connect(self._on_item_changed)
        runs_box = QGroupBox("Weights and runs")
        rb = QVBoxLayout(runs_box)
        rb.addWidget(self.weights_label)
        rb.addLayout(wl)
        rb.addWidget(QLabel("Earlier runs (tick to overlay):"))
        rb.addWidget(self.runs, 1)

        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(run)
        layout.addWidget(self.form)
        layout.addWidget(runs_box, 1)
        self.setWidget(body)
        guard_wheel(body)  # the wheel scrolls the panel; it changes a value only in the focused field

    # ---- verdict and state --------------------------------------------------------------------
    def set_problems(self, problems: list[str], notes: list[str] | None = None) -> None:
        text = "\n".join(problems)
        if problems:
            self.problems.setText("Cannot train yet:\n" + text)
            self.problems.setStyleSheet(f"color: {color('error')};")
        elif notes:
            self.problems.setText("\n".join(notes))
            self.problems.setStyleSheet(f"color: {color('warning')};")
        self.problems.setVisible(bool(problems or notes))

    def set_state(self, state: str, can_train: bool, reason: str, pending: bool = False) -> None:
        """`pending`: Train was pressed while the dataset is still being checked; the run starts when
        the check passes (Train is pressable while checking, so that first click is not lost)."""
        idle = state == "idle"
        wait = idle and not can_train and checking(reason)
        if idle:
            self.train_button.setToolTip("Train the model on the dataset" if can_train else
                                         "Starts as soon as the dataset is checked" if wait else reason)
        else:
            self.train_button.setToolTip("A run is in progress")
        enabled = {self.train_button: idle and (can_train or wait and not pending),
                   self.pause_button: state in ("preparing", "running"),
                   self.resume_button: state == "paused",
                   self.stop_button: state in ("preparing", "running", "paused") or wait and pending,
                   self.form: idle, self.load_button: idle, self.clear_weights_button: idle, self.export_button: idle}
        # Enable first, move the focus off what is about to be disabled, then disable: a focused widget
        # that is disabled hands the focus to the next one in the tab order and the scroll area scrolls
        # to show it (Train pressed -> the form, then the runs list: the Run buttons left the view).
        for w, on in enabled.items():
            if on:
                w.setEnabled(True)
        focus = QApplication.focusWidget()
        if focus is not None and self.isAncestorOf(focus) and any(
                not on and (w is focus or w.isAncestorOf(focus)) for w, on in enabled.items()):
            order = {"paused": self.resume_button, "idle": self.train_button}.get(state, self.pause_button)
            following = next((b for b in (order, self.pause_button, self.resume_button, self.stop_button,
                                          self.train_button) if enabled[b]), self.widget())
            following.setFocus(Qt.FocusReason.OtherFocusReason)
        for w, on in enabled.items():
            if not on:
                w.setEnabled(False)
        if idle and self.status.text() in IDLE_TEXTS:  # a run's verdict stays until the next run or edit
            self.status.setText(_idle_text(can_train, reason, pending))
        self._verdict = (can_train, reason)
        if state == "preparing":
            self.status.setText("Preparing: loading the data and building the model…")
            self.progress.setRange(0, 0)  # busy
        elif state == "paused":
            self.status.setText("Paused")
        elif state == "stopping":
            self.status.setText("Stopping after this step…")

    # ---- progress -----------------------------------------------------------------------------
    def on_started(self, e) -> None:
        self._spe = max(e.steps_per_epoch, 1)
        self._start = e.start_epoch
        self._epochs = e.epochs
        self.progress.setRange(0, max(1, (e.epochs - e.start_epoch) * self._spe))
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status.setText(f"Training on {device_words(e.device)}: {e.train_size:,} samples, {e.epochs - e.start_epoch} "
                            f"epochs of {e.steps_per_epoch} steps")

    def on_steps(self, events: list) -> None:
        e = events[-1]
        done = (e.epoch - 1 - self._start) * self._spe + e.step
        self.progress.setValue(min(done, self.progress.maximum()))
        self.status.setText(f"Epoch {e.epoch}/{self._epochs} · step {e.step}/{e.steps_per_epoch} · "
                            f"{e.samples_per_s:,.0f} samples/s · ETA {fmt_time(e.eta_s)}")

    def on_epoch(self, e) -> None:
        if hasattr(self, "_spe"):  # a short run may end before its first step report: epochs move the bar too
            done = (e.epoch - self._start) * self._spe
            self.progress.setValue(max(self.progress.value(), min(done, self.progress.maximum())))
        parts = [f"epoch {e.epoch}: train loss {e.train.get('loss', float('nan')):.4f}"]
        for k, v in (e.val or {}).items():
            if isinstance(v, float):
                parts.append(f"val {k} {v:.4f}")
        self.metrics.setText(" · ".join(parts))

    def on_ended(self, end) -> None:
        self.progress.setRange(0, max(self.progress.maximum(), 1))
        if end.status == "finished":
            self.progress.setValue(self.progress.maximum())
        verdict = {"finished": "Finished", "stopped": "Stopped", "failed": "Failed"}.get(end.status, end.status)
        message = end.message.split("\n\n")[0]
        self.status.setText(f"{verdict}: {message}")
        self.status.setStyleSheet(f"color: {color('error')};" if end.status == "failed" else "")
        self.status.setToolTip(end.message if message != end.message else "")
        self._failed = end.status == "failed"

    def reset_status(self) -> None:
        self.status.setStyleSheet("")
        self.status.setToolTip("")
        self._failed = False
        self.notice.setVisible(False)

    _failed = False
    _verdict = (True, "")

    def show_notice(self, line: str, details: str) -> None:
        """A notice from the run: the plain line under the progress bar, the trainer's words on hover."""
        self.notice.setText(line)
        self.notice.setToolTip(details if details != line else "")
        self.notice.setVisible(bool(line))

    def clear_failure(self) -> None:
        """A setting or the graph changed since the run failed: its message no longer applies."""
        if self._failed:
            self.reset_status()
            self.status.setText(_idle_text(*self._verdict))

    # ---- runs ---------------------------------------------------------------------------------
    def set_runs(self, records: list, ticked: set[str]) -> None:
        self.runs.blockSignals(True)
        self.runs.clear()
        for rec in reversed(records):  # newest first
            item = QListWidgetItem(rec.label())
            item.setData(Qt.ItemDataRole.UserRole, rec.name)
            item.setToolTip(str(rec.path))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if rec.name in ticked else Qt.CheckState.Unchecked)
            self.runs.addItem(item)
        self.runs.blockSignals(False)

    def ticked(self) -> list[str]:
        return [self.runs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.runs.count())
                if self.runs.item(i).checkState() == Qt.CheckState.Checked]

    def _on_item_changed(self, _item) -> None:
        self.overlays_changed.emit(self.ticked())
