"""One editor widget per param kind. The model declares value types (Param.kind); this module alone
maps them to widgets. An editor never touches the graph: it emits `edited(value)` with a candidate
value (or `invalid(reason)` when the text cannot even be read), and the inspector decides."""
from __future__ import annotations

import math
import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QSpinBox, QWidget

from studio.core.spec import Param

INT_LIMIT = 2**31 - 1


def format_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if (abs(value) < 1e-3 and value) or abs(value) >= 1e6 else f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


class TextParseError(ValueError):
    pass


def parse_text(param: Param, text: str):
    """Read what a person typed for `param`: '5', '5, 5', '[1, 28, 28]', '1e-3', ''. Returns the raw
    value (still to be checked by Param.coerce), or raises TextParseError saying what was expected."""
    text = text.strip()
    if text == "":
        if param.optional:
            return None
        raise TextParseError(f"'{param.name}' needs a value")
    kind = param.kind
    if kind == "str":
        return text
    if kind == "float":
        try:
            value = float(text)
        except ValueError:
            raise TextParseError(f"'{param.name}' must be a number such as 0.5 or 1e-3, got “{text}”") from None
        if not math.isfinite(value):
            raise TextParseError(f"'{param.name}' must be a finite number, got “{text}”")
        return value
    if kind == "int":
        return _int(param, text)
    # size / shape / dims: one or several whole numbers, with or without brackets
    inner = text.strip("[]() ")
    parts = [p for p in re.split(r"[,\s]+", inner) if p]
    if not parts:
        raise TextParseError(f"'{param.name}' needs at least one number")
    values = [_int(param, p) for p in parts]
    if kind == "size" and len(values) == 1:
        return values[0]
    return values


def _int(param: Param, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            f = None
        if f is not None and f.is_integer():
            return int(f)
        raise TextParseError(f"'{param.name}' takes whole numbers, got “{text}”") from None


class ParamEditor(QWidget):
    edited = Signal(object)  # a candidate value
    invalid = Signal(str)  # text that cannot be read, with the reason

    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(parent)
        self.param = param
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def set_value(self, value) -> None:  # show a value without emitting
        raise NotImplementedError

    def set_invalid(self, invalid: bool) -> None:
        w = self.focus_widget()
        if w.property("invalid") != invalid:
            w.setProperty("invalid", invalid)
            w.style().unpolish(w)
            w.style().polish(w)

    def focus_widget(self) -> QWidget:
        return self._layout.itemAt(0).widget()


class TextEditor(ParamEditor):
    """float, str, size, shape, dims, and every optional param (empty text = not set)."""

    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit(self)
        hint = {"size": "e.g. 3 or 3, 3", "shape": "e.g. 1, 28, 28", "dims": "e.g. 0, 2, 1",
                "float": "a number", "int": "a whole number", "str": ""}.get(param.kind, "")
        if param.optional:
            default = format_value(param.default) if param.default is not None else "none"
            hint = f"empty: {default}"
        self.line.setPlaceholderText(hint)
        self.line.setClearButtonEnabled(param.optional)
        self._layout.addWidget(self.line)
        self._shown = ""
        self.line.editingFinished.connect(self._commit)

    def set_value(self, value) -> None:
        self._shown = format_value(value)
        if self.line.text() != self._shown:
            self.line.setText(self._shown)

    def _commit(self) -> None:
        try:
            value = parse_text(self.param, self.line.text())
        except TextParseError as exc:
            self.invalid.emit(str(exc))
            return
        self.edited.emit(value)


class IntEditor(ParamEditor):
    """A spin box bounded by the param's range; a typed value outside it says why it is refused."""

    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.spin = QSpinBox(self)
        lo = int(param.min) if param.min is not None else -INT_LIMIT
        hi = int(param.max) if param.max is not None else INT_LIMIT
        self.spin.setRange(max(lo, -INT_LIMIT), min(hi, INT_LIMIT))
        # sized for a value of 5 digits, not for the range's 10: the range's width made the form
        # wider than a 1024 px window's inspector (a sideways scroll bar); a longer value scrolls
        digits = self.spin.fontMetrics().horizontalAdvance("00000")
        self.spin.setMinimumWidth(min(self.spin.minimumSizeHint().width(),
                                      digits + self.spin.minimumSizeHint().width()
                                      - self.spin.fontMetrics().horizontalAdvance(self.spin.textFromValue(hi))))
        self.spin.setKeyboardTracking(False)  # one edit per Enter / focus change / arrow step
        self.spin.setAccelerated(True)
        self._layout.addWidget(self.spin)
        self.spin.valueChanged.connect(self.edited.emit)
        self.spin.lineEdit().textEdited.connect(self._check_typed)

    def _check_typed(self, text: str) -> None:
        try:
            value = int(text.strip())
        except ValueError:
            return
        if not self.spin.minimum() <= value <= self.spin.maximum():
            self.invalid.emit(f"'{self.param.name}' must be {self.param.describe_range()}, got {value}")

    def set_value(self, value) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value != self.spin.value():
            self.spin.blockSignals(True)
            self.spin.setValue(value)
            self.spin.blockSignals(False)


class BoolEditor(ParamEditor):
    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox(self)
        self._layout.addWidget(self.check)
        self._layout.addStretch(1)
        self.check.toggled.connect(self.edited.emit)

    def set_value(self, value) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)


class ChoiceEditor(ParamEditor):
    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        for choice in param.choices:
            self.combo.addItem(str(choice), choice)
        self._layout.addWidget(self.combo)
        self.combo.activated.connect(lambda i: self.edited.emit(self.combo.itemData(i)))

    def set_value(self, value) -> None:
        i = self.combo.findData(value)
        self.combo.blockSignals(True)
        if i >= 0:
            self.combo.setCurrentIndex(i)
        self.combo.blockSignals(False)


def editor_for(param: Param, parent=None) -> ParamEditor:
    """The widget for a param kind (optional params get a clearable text field)."""
    if param.optional or param.kind in ("float", "str", "size", "shape", "dims"):
        return TextEditor(param, parent)
    if param.kind == "int":
        return IntEditor(param, parent)
    if param.kind == "bool":
        return BoolEditor(param, parent)
    if param.kind == "choice":
        return ChoiceEditor(param, parent)
    return TextEditor(param, parent)
