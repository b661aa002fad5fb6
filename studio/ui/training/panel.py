"""The Training dock: the settings form, the pre-flight verdict, Train / Pause / Resume / Stop, the
progress of the run, the starting weights, and the project's earlier runs (tick one to overlay it
on the curves)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QLabel, QListWidget, QListWidgetItem, QProgressBar,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from studio.training.progress import fmt_time

from ..theme import color
from .settings_form import SettingsForm


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
        self.status = QLabel("Ready to train")
        self.status.setWordWrap(True)
        self.metrics = QLabel("")
        self.metrics.setObjectName("dim")
        self.metrics.setWordWrap(True)
        run = QGroupBox("Run")
        rl = QVBoxLayout(run)
        rl.addWidget(self.problems)
        rl.addLayout(buttons)
        rl.addWidget(self.progress)
        rl.addWidget(self.status)
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
        wl.addWidget(self.load_button, 0, 0)
        wl.addWidget(self.clear_weights_button, 0, 1)
        wl.addWidget(self.export_button, 1, 0, 1, 2)
        self.runs = QListWidget()
        self.runs.setMinimumHeight(90)
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

    def set_state(self, state: str, can_train: bool, reason: str) -> None:
        idle = state == "idle"
        self.train_button.setEnabled(idle and can_train)
        if idle:
            self.train_button.setToolTip("Train the model on the dataset" if can_train else reason)
        else:
            self.train_button.setToolTip("A run is in progress")
        self.pause_button.setEnabled(state in ("preparing", "running"))
        self.resume_button.setEnabled(state == "paused")
        self.stop_button.setEnabled(state in ("preparing", "running", "paused"))
        self.form.setEnabled(idle)
        for b in (self.load_button, self.clear_weights_button, self.export_button):
            b.setEnabled(idle)
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
        self.status.setText(f"Training on {e.device}: {e.train_size:,} samples, {e.epochs - e.start_epoch} "
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

    def reset_status(self) -> None:
        self.status.setStyleSheet("")

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
