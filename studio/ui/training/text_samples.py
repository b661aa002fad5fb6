"""The Samples dock: what a language model writes after each epoch (TextSampleEvent), newest first,
each under a line saying the epoch, the prompt it started from and the temperature."""
from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

KEEP = 30  # samples kept in view (a long run's first epochs scroll away)


class TextSamplesView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("textSamples")
        self.samples: list = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        self.caption = QLabel("A language model's samples appear here after each epoch "
                              "(a project training on a text, such as the character Transformer template).")
        self.caption.setObjectName("subtle")
        self.caption.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setObjectName("sampleText")
        self.text.setReadOnly(True)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(font)
        layout.addWidget(self.caption)
        layout.addWidget(self.text, 1)

    def clear(self) -> None:
        self.samples = []
        self.text.clear()

    def show_sample(self, event) -> None:
        self.samples = [event, *self.samples][:KEEP]
        self.caption.setText(f"Epoch {event.epoch}: written from the prompt {event.prompt!r} at temperature "
                             f"{event.temperature:g} (draw seed {event.seed}); earlier epochs below.")
        blocks = [f"── epoch {e.epoch} ──\n{e.prompt}{e.text}" for e in self.samples]
        self.text.setPlainText("\n\n".join(blocks))

    def shown_text(self) -> str:
        return self.text.toPlainText()


def install_text_samples(ui) -> TextSamplesView:
    """Fill the Samples dock of the training UI `ui` and feed it from the session; the dock comes to
    the front with a run's first sample."""
    view = TextSamplesView()
    dock = ui.docks["samples"]
    ui.window.add_dock("samples", dock.windowTitle(), view)
    first = {"pending": True}

    def on_started(_event) -> None:
        view.clear()
        first["pending"] = True

    def on_sample(event) -> None:
        view.show_sample(event)
        if first["pending"]:
            first["pending"] = False
            dock.raise_()

    ui.session.started.connect(on_started)
    ui.session.text_sample.connect(on_sample)
    return view
