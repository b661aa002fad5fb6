"""Export from the window: TorchScript, ONNX, torch.export, state dict, PyTorch source, or the
training checkpoint itself, from the chosen weights. The export runs on a helper thread (the window
stays live) and its report, with the check of the exported file against PyTorch (for ONNX: the
largest difference between onnxruntime's and PyTorch's outputs), is shown when it is done."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QVBoxLayout)

from ..theme import color
from . import file_dialogs
from .session import snapshot

FORMATS = (("onnx", "ONNX (.onnx)"), ("torchscript", "TorchScript (.pt)"), ("pt2", "torch.export (.pt2)"),
           ("state_dict", "State dict (.pt)"), ("code", "PyTorch source (.py)"),
           ("checkpoint", "Training checkpoint (.pt)"))
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt", "pt2": ".pt2", "state_dict": ".pt", "code": ".py",
          "checkpoint": ".pt"}


class _Relay(QObject):
    done = Signal(object, str)  # ExportReport | None, error message


class ExportDialog(QDialog):
    finished_export = Signal(object)  # the ExportReport (or None after a failure)

    def __init__(self, document, weights: str | None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.setMinimumWidth(560)
        self.document = document
        self.report = None
        self.error = ""
        self.busy = False
        self.format = QComboBox()
        for value, label in FORMATS:
            self.format.addItem(label, value)
        self.weights = QComboBox()
        if weights:
            self.weights.addItem(f"Trained: {weights}", weights)
        self.weights.addItem("Initial (untrained) weights", None)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Weights", self.weights)
        form.addRow("File", row)
        self.result = QPlainTextEdit()
        self.result.setReadOnly(True)
        self.result.setPlaceholderText("The export report appears here: the file, the exporter, and the check "
                                       "of the exported model against PyTorch.")
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setObjectName("primary")
        self.export_button.clicked.connect(self.start_export)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.verdict)
        layout.addWidget(self.result, 1)
        layout.addWidget(buttons)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self.format.currentIndexChanged.connect(lambda _i: self._suggest())
        self.weights.currentIndexChanged.connect(lambda _i: self._suggest())
        self._suggest()

    def _suggest(self) -> None:
        fmt = self.format.currentData()
        project = self.document.project
        folder = project.path.parent if project.path is not None else Path.home()
        stem = project.path.stem if project.path is not None else "model"
        current = self.path.text().strip()
        base = Path(current).with_suffix("") if current else folder / stem
        self.path.setText(str(base.with_suffix(SUFFIX[fmt])))
        needs_ckpt = fmt == "checkpoint" and self.weights.currentData() is None
        self.export_button.setEnabled(not self.busy and not needs_ckpt)
        self.export_button.setToolTip("a checkpoint export copies a trained run's checkpoint: train first or "
                                      "pick trained weights" if needs_ckpt else "")

    def _browse(self) -> None:
        fmt = self.format.currentData()
        path = file_dialogs.save_path(self, "Export to", self.path.text(), f"*{SUFFIX[fmt]};;All files (*)")
        if path:
            self.path.setText(path)

    def start_export(self) -> None:
        if self.busy:
            return
        fmt, weights, out = self.format.currentData(), self.weights.currentData(), self.path.text().strip()
        if not out:
            self.verdict.setText("Choose a file to export to.")
            return
        self.busy = True
        self.export_button.setEnabled(False)
        self.verdict.setStyleSheet("")
        self.verdict.setText(f"Exporting {self.format.currentText()}…")
        self.result.clear()
        project = snapshot(self.document.project)

        def work():
            try:
                report = _export(project, fmt, out, weights)
                self._relay.done.emit(report, "")
            except Exception as exc:  # noqa: BLE001 - shown in the dialog; bugs with their type
                from studio.errors import is_user_error

                self._relay.done.emit(None, str(exc) if is_user_error(exc) else f"{type(exc).__name__}: {exc}")

        threading.Thread(target=work, name="netstudio-export", daemon=True).start()

    def _on_done(self, report, error: str) -> None:
        self.busy = False
        self.report, self.error = report, error
        self._suggest()
        if report is None:
            self.verdict.setText(f"Export failed: {error}")
            self.verdict.setStyleSheet(f"color: {color('error')};")
        else:
            self.result.setPlainText(report.text() if hasattr(report, "text") else str(report))
            check = getattr(report, "check", None)
            if check is not None:
                self.verdict.setText(("✓ " if check.passed else "✗ ") + check.line())
                self.verdict.setStyleSheet(f"color: {'#98c379' if check.passed else color('error')};")
            else:
                self.verdict.setText(f"✓ wrote {report.path}")
                self.verdict.setStyleSheet("color: #98c379;")
        self.finished_export.emit(report)


class CheckpointCopy:
    """The report of a checkpoint export (a copy of a run's checkpoint file)."""

    def __init__(self, source: str, path: Path) -> None:
        self.source, self.path, self.check = source, path, None

    def text(self) -> str:
        return f"copied the training checkpoint {self.source}\n  to {self.path} ({self.path.stat().st_size:,} bytes)"


def _export(project, fmt: str, out: str, weights: str | None):
    if fmt == "checkpoint":
        from studio.core.atomic import atomic_write_with
        from studio.export.prepare import check_output_path

        target = check_output_path(out)
        atomic_write_with(target, lambda tmp: shutil.copyfile(weights, tmp))
        return CheckpointCopy(weights, target)
    from studio.export import export

    return export(project, fmt, out, checkpoint=weights)
