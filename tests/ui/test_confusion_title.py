"""The confusion matrix's title reads as the captions beside it (the widget's own font, the text
colour), in both themes: drawn at 8.5 pt it looked faint next to them in the light theme."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.theme import apply_theme
from studio.ui.training.confusion import ConfusionMatrixView

TITLE = "Confusion matrix · validation, epoch 3 · accuracy 91.0%"


def _ink_rows(image, top: int, bottom: int, background: QColor) -> tuple[int, int]:
    """(first, last) row in [top, bottom) with a pixel far from the background."""
    a = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    a = a[:, :image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3].astype(int)
    bg = np.array(background.getRgb()[:3])
    ink = np.abs(a[top:bottom] - bg).sum(-1) > 120
    rows = np.nonzero(ink.any(1))[0]
    return int(rows[0]) + top, int(rows[-1]) + top


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_title_is_as_large_as_a_caption(qtbot, theme):
    apply_theme(theme)
    try:
        host = QWidget()
        qtbot.addWidget(host)
        layout = QVBoxLayout(host)
        caption = QLabel(TITLE)
        view = ConfusionMatrixView()
        layout.addWidget(caption)
        layout.addWidget(view)
        view.set_matrix(np.eye(4, dtype=int) * 9 + 1, ["a", "b", "c", "d"], TITLE)
        host.resize(460, 420)
        host.show()
        qtbot.waitExposed(host)
        background = host.palette().color(host.backgroundRole())
        shot = view.grab().toImage().convertToFormat(view.grab().toImage().Format.Format_RGB32)
        first, last = _ink_rows(shot, 0, 4 + view.fontMetrics().height(), background)
        label = caption.grab().toImage().convertToFormat(shot.Format.Format_RGB32)
        l_first, l_last = _ink_rows(label, 0, label.height(), background)
        assert last - first >= (l_last - l_first) - 1, (last - first, l_last - l_first)
    finally:
        apply_theme("dark")
