"""A Document caught in a garbage cycle: Python's collector clears the cycle's objects one at a time
(tp_clear), so the Document's instance dict can be gone while its C++ object, its undo stack and
their connections still live, and a C++ destructor that runs in the same collection may still move
the stack's clean state. A slot PySide registered per instance (a plain method connected to a
signal) lived in that dict: Qt then called a slot the Document's meta-object no longer had, and
pytest-qt reported "Slot 'Document::' not found" in whichever later test the collection ran."""
from __future__ import annotations

import gc
import weakref

from PySide6.QtCore import QObject

from studio.core.project import load_project
from studio.ui.document import Document

from .window_helpers import TEMPLATES


def test_the_clean_state_relay_survives_the_collector_clearing_the_document(qtbot):
    Document()  # the first one freezes the start-up heap (gc.freeze): what exists then is never collected
    doc = Document(load_project(TEMPLATES / "mlp_digits.json"))
    stack = doc.undo_stack
    stack.resetClean()  # modified (as a restored autosave is); no command holds the document alive
    assert doc.modified
    said = []
    doc.modified_changed.connect(said.append)
    # Freed when the collector clears the Document's dict (after the entries PySide put there), its
    # C++ destructor marks the stack clean, as a window's destructor may in the same collection.
    last = QObject()
    last.destroyed.connect(stack.setClean)
    doc.last_to_go = last
    doc.cycle = doc  # garbage once the test lets go of it
    gone = weakref.ref(doc)
    del doc, last
    with qtbot.captureExceptions() as exceptions:
        gc.collect()
    assert gone() is None
    assert [str(e[1]) for e in exceptions] == []
    assert said == [False]  # the relay ran: modified -> not modified
