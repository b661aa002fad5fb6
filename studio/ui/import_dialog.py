"""File > Import: a model (torchvision, a class in a .py file / module, an .onnx or .pt2 file) becomes
a project through studio.importing, then opens. Importing a .py file or module runs its code, so the
dialog says so and Import stays off until the person ticks that they trust it; a model file is data."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QVBoxLayout, QWidget)

from studio.importing.sources import file_kind

from . import dialogs


class ImportDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a Model")
        self.source = QLineEdit()
        self.source.setPlaceholderText("torchvision:resnet18  or  path/to/model.py:Net  or  model.onnx / model.pt2")
        # wide enough to read the hint whole (and a typical path)
        self.source.setMinimumWidth(self.source.fontMetrics().horizontalAdvance(self.source.placeholderText()) + 24)
        choose = QPushButton("Model File…")
        choose.setToolTip("Choose an .onnx file or a torch.export .pt2 file")
        choose.clicked.connect(self._choose_file)
        source_row = _row(self.source, choose)
        self.shape = QLineEdit()
        self.shape.setPlaceholderText("C,H,W of one sample (torchvision: 3,224,224; a model file: its own)")
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("torchvision: DEFAULT or a weights name (IMAGENET1K_V1); empty: random")
        self.args = QLineEdit()
        self.args.setPlaceholderText('constructor arguments as JSON, e.g. {"num_classes": 10}')
        self.output = QLineEdit()
        self.output.setPlaceholderText("where to write the project (*.json); its weights go beside it")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        out_row = _row(self.output, browse)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.trust = QCheckBox("I trust this code: run it to import the model")
        self.partial = QCheckBox("Import what maps; mark each part with no node type as an Unmapped node")
        self.partial.setToolTip("Without it, a part with no node type stops the import and nothing is written. "
                                "With it, the project opens with an Unmapped node per such part, named in "
                                "Problems; it compiles once they are replaced.")
        form = QFormLayout()
        form.addRow("Model:", source_row)
        form.addRow("Input shape:", self.shape)
        form.addRow("Weights:", self.weights)
        form.addRow("Arguments:", self.args)
        form.addRow("Project file:", out_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addWidget(self.partial)
        layout.addWidget(self.trust)
        layout.addWidget(self.buttons)
        for field in (self.source, self.output):
            field.textChanged.connect(self._update)
        self.trust.toggled.connect(self._update)
        self._update()

    def runs_code(self) -> bool:
        text = self.source.text().strip()
        return ":" in text and not text.startswith("torchvision:") and file_kind(text) is None

    def _update(self) -> None:
        runs = self.runs_code()
        where = self.source.text().strip().rpartition(":")[0]
        self.warning.setText(f"Importing runs the code in {where} as Python would, with your permissions. "
                             "Import only code you trust." if runs else "")
        self.warning.setVisible(runs)
        self.trust.setVisible(runs)
        if not runs:
            self.trust.setChecked(False)
        text = self.source.text().strip()
        ready = (":" in text or file_kind(text) is not None) and bool(self.output.text().strip())
        self.import_button.setEnabled(ready and (not runs or self.trust.isChecked()))

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a model file", "", "Model files (*.onnx *.pt2)")
        if path:
            self.source.setText(path)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Import into", "", "NetStudio project (*.json)")
        if path:
            self.output.setText(path if path.endswith(".json") else path + ".json")

    def request(self) -> dict:
        return {"source": self.source.text().strip(), "output": self.output.text().strip(),
                "shape": self.shape.text().strip() or None, "args": self.args.text().strip() or None,
                "partial": self.partial.isChecked(),
                "weights": self.weights.text().strip() or None}


def _row(field: QLineEdit, button: QPushButton) -> QWidget:
    """A text field with its button beside it, as one form row."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(field, 1)
    layout.addWidget(button)
    return row


def run_import(window, request: dict) -> bool:
    """Import as `request` says and open the project; a refusal shows its message and opens nothing.
    An existing project file is replaced only after the person agrees."""
    from studio.importing import ImportRefused, import_model, parse_shape
    from studio.importing.sources import WeightsUnavailable, parse_args_json

    out = Path(request["output"])
    taken = [p for p in (out, out.with_suffix(".safetensors")) if p.exists()]
    if taken and not ask_replace(window, taken):
        return False
    if not window.files.maybe_save():  # the current project's unsaved changes first
        return False
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        shape = parse_shape(request["shape"]) if request["shape"] else None
        args = parse_args_json(request["args"])
        try:
            import_model(request["source"], out, shape, request.get("weights"), args, overwrite=bool(taken),
                         partial=bool(request.get("partial")))
        except WeightsUnavailable as exc:  # offline: random weights only if the person agrees
            QApplication.restoreOverrideCursor()
            if not dialogs.ask_random_weights(window, str(exc)):
                return False
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            import_model(request["source"], out, shape, None, args, overwrite=bool(taken),
                         partial=bool(request.get("partial")))
    except ImportRefused as exc:
        dialogs.show_error(window, "Cannot import the model", str(exc))
        return False
    finally:
        QApplication.restoreOverrideCursor()
    return window.files.open_path(out, ask=False)


def ask_replace(parent, paths: list[Path]) -> bool:
    names = ", ".join(p.name for p in paths)
    answer = QMessageBox.question(parent, "Replace files", f"{names} already exist{'s' if len(paths) == 1 else ''} "
                                  "in that folder. Replace with the imported model?",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def import_model_dialog(window) -> bool:
    dialog = ImportDialog(window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    return run_import(window, dialog.request())
