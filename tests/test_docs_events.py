"""docs/training.md names every event the trainer sends (its `kind`, in the list of events)."""
from __future__ import annotations

import re

from studio.training import events

from .conftest import ROOT


def _event_classes():
    todo, out = [events.Event], []
    while todo:
        for sub in todo.pop().__subclasses__():
            out.append(sub)
            todo.append(sub)
    return out


def test_the_training_docs_list_every_event_kind():
    text = (ROOT / "docs" / "training.md").read_text()
    start = text.index("Events (`studio.training.events`) carry plain data:")
    listed = set(re.findall(r"`(\w+)`", text[start:text.index("\n\n", start)]))
    kinds = {cls.kind for cls in _event_classes() if cls.__module__ == events.__name__}
    assert kinds and kinds <= listed, f"not in docs/training.md's list of events: {sorted(kinds - listed)}"
