"""Export from the window: TorchScript, ONNX, torch.export, state dict, PyTorch source, or the
training checkpoint itself, from the chosen weights. The export runs on a helper thread (the window
stays live) and its report, with the check of the exported file against PyTorch (for ONNX: the
largest difference between onnxruntime's and PyTorch's outputs), is shown when it is done.

Each format suggests its own file name (`<project>.torchscript.pt`, `<project>.ckpt.pt`, ...), so
switching formats never points one export at another's file, and an existing file is replaced
only after the person says so (here, or in the Browse dialog's own question)."""
from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QMessageBox, QPlainTextEdit, QPushButton, QVBoxLayout)

from ..theme import color
from .. import background
from . import file_dialogs
from .session import snapshot

SUFFIX = {"onnx": ".onnx", "torchscript": ".torchscript.pt", "pt2": ".pt2", "state_dict": ".state_dict.pt",
          "code": ".py", "checkpoint": ".ckpt.pt"}  # one per format: no two formats share a default file
FORMATS = tuple((value, f"{label} ({SUFFIX[value]})") for value, label in (
    ("onnx", "ONNX"), ("torchscript", "TorchScript"), ("pt2", "torch.export"), ("state_dict", "State dict"),
    ("code", "PyTorch source"), ("checkpoint", "Training checkpoint")))


def strip_suffix(name: str) -> str:
    """The file name without a format's suffix (the longest that matches), or its last suffix."""
    for suffix in sorted(set(SUFFIX.values()) | {".pt"}, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return Path(name).stem if Path(name).suffix else name


def ask_replace(parent, path: Path) -> bool:
    answer = QMessageBox.question(
        parent, "Replace file?", f"“{path.name}” already exists in {path.parent}.\n\nReplace it with this export?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


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
        self.confirmed = ""  # a path the person already agreed to replace (in the Browse dialog)
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
        current = Path(self.path.text().strip()) if self.path.text().strip() else folder / stem
        self.path.setText(str(current.with_name(strip_suffix(current.name) + SUFFIX[fmt])))
        needs_ckpt = fmt == "checkpoint" and self.weights.currentData() is None
        self.export_button.setEnabled(not self.busy and not needs_ckpt)
        self.export_button.setToolTip("a checkpoint export copies a trained run's checkpoint: train first or "
                                      "pick trained weights" if needs_ckpt else "")

    def _browse(self) -> None:
        fmt = self.format.currentData()
        path = file_dialogs.save_path(self, "Export to", self.path.text(), f"*{SUFFIX[fmt]};;All files (*)")
        if path:
            self.path.setText(path)
            self.confirmed = path  # the file dialog asked before returning an existing file

    def start_export(self) -> None:
        if self.busy:
            return
        fmt, weights, out = self.format.currentData(), self.weights.currentData(), self.path.text().strip()
        if not out:
            self.verdict.setText("Choose a file to export to.")
            return
        target = Path(out).expanduser()
        if out != self.confirmed and target.is_file() and not ask_replace(self, target):
            self.verdict.setText(f"Not exported: {target.name} is kept. Choose another file name to export.")
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

        background.start(work, "netstudio-export")

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
        from studio.export.output import check_output_path, write_checked

        target = check_output_path(out)
        write_checked(target, lambda tmp: shutil.copyfile(weights, tmp))
        return CheckpointCopy(weights, target)
    from studio.export import export

    return export(project, fmt, out, checkpoint=weights)
