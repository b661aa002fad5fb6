"""Save a view as a PNG and its data as CSV: two small buttons for a view's header. The paths come
from the save dialog (studio.ui.training.file_dialogs), which asks before it replaces a file."""
from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QMessageBox, QPushButton, QWidget

from . import file_dialogs


def write_csv(path: str | Path, header: list[str], rows) -> None:
    """Rows to `path` (written whole to a sibling, then moved: a failed write leaves no half file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)


class ExportButtons(QWidget):
    """'PNG…' and 'CSV…' for `view`: `grab` renders the widget to save; `table()` returns
    (header, rows) or None when there is nothing to save yet."""

    def __init__(self, view: QWidget, stem: str, table, grab: QWidget | None = None, parent=None) -> None:
        super().__init__(parent)
        self.view, self.stem, self.table, self.grab_widget = view, stem, table, grab or view
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.png_button = QPushButton("PNG…")
        self.csv_button = QPushButton("CSV…")
        for b, tip in ((self.png_button, "Save this view as a picture"),
                       (self.csv_button, "Save the numbers behind this view as CSV")):
            b.setToolTip(tip)
            b.setObjectName("small")
            layout.addWidget(b)
        self.png_button.clicked.connect(self.save_png)
        self.csv_button.clicked.connect(self.save_csv)

    def save_png(self) -> str:
        path = file_dialogs.save_path(self.view, "Save the view as PNG", f"{self.stem}.png", "PNG image (*.png)")
        if not path:
            return ""
        if not self.grab_widget.grab().save(path, "PNG"):
            QMessageBox.warning(self.view, "Not saved", f"Could not write {path}: check the folder exists and "
                                                        "is writable, then save again.")
            return ""
        return path

    def save_csv(self) -> str:
        data = self.table()
        if data is None:
            QMessageBox.information(self.view, "Nothing to save", "This view has no data yet: train first.")
            return ""
        path = file_dialogs.save_path(self.view, "Save the data as CSV", f"{self.stem}.csv", "CSV (*.csv)")
        if not path:
            return ""
        try:
            write_csv(path, *data)
        except OSError as exc:
            QMessageBox.warning(self.view, "Not saved", f"Could not write {path}: {exc.strerror or exc}. "
                                                        "Choose another folder and save again.")
            return ""
        return path
