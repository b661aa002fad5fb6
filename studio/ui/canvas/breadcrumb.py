"""The bar over the canvas's top-left corner while a block is open: "Model › layer2 (BasicBlock)".
Each crumb but the last goes back up to its level (so does Escape on the canvas). Hidden at the
root, where there is nothing to go back to."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

SEPARATOR = "›"


class Breadcrumb(QFrame):
    def __init__(self, view) -> None:
        super().__init__(view)
        self.setObjectName("breadcrumb")
        self.view = view
        self.document = view.document
        self.setAutoFillBackground(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 3, 8, 3)
        self._layout.setSpacing(4)
        self.buttons: list[QToolButton] = []
        self.document.level_changed.connect(self.refresh)
        self.refresh()

    def texts(self) -> list[str]:
        """The crumbs as shown, root first (for tests and the status bar)."""
        return [b.text() for b in self.buttons]

    def refresh(self) -> None:
        while self._layout.count():
            w = self._layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.buttons = []
        crumbs = self.document.crumbs()
        if not crumbs:
            self.hide()
            return
        names = ["Model"] + [f"{iid} ({name})" for iid, name in crumbs]
        repeat = self.document.repeat_shown()
        if repeat > 1:  # a repeated block shows the shapes of its first copy
            names[-1] += f" · copy 0 of {repeat}"
        for depth, text in enumerate(names):
            if depth:
                sep = QLabel(SEPARATOR, self)
                sep.setObjectName("subtle")
                self._layout.addWidget(sep)
            button = QToolButton(self)
            button.setText(text)
            button.setAutoRaise(True)
            last = depth == len(names) - 1
            button.setEnabled(not last)
            if not last:
                button.setCursor(Qt.CursorShape.PointingHandCursor)
                button.setToolTip("Go back up to this level (Esc goes up one)")
                button.clicked.connect(lambda _c=False, d=depth: self.document.go_to_level(d))
            else:
                button.setObjectName("crumbHere")
                bold = button.font()  # (a font, not the style sheet's weight: the size then fits it)
                bold.setBold(True)
                button.setFont(bold)
            self._layout.addWidget(button)
            self.buttons.append(button)
        for button in self.buttons:
            button.ensurePolished()
        self.ensurePolished()
        self.adjustSize()
        self.move(10, 10)
        self.show()
        self.raise_()
