"""File > Import with pretrained weights (issue 17 item 5): offline without them, the window asks
before importing with random weights; "No" writes nothing, "Yes" imports and opens the project."""
from __future__ import annotations

import pytest

from studio.ui import dialogs
from studio.ui.import_dialog import run_import

from .window_helpers import dialog_log, isolated, window  # noqa: F401  (fixtures)


@pytest.mark.fault("import", "the window asks for pretrained weights offline",
                   "a question; No: nothing written; Yes: imported with random weights and opened")
@pytest.mark.parametrize("agree", [False, True])
def test_offline_weights_ask_before_random_weights(window, tmp_path, monkeypatch, agree):
    from tests.importing.test_import_refusals import go_offline

    go_offline(tmp_path, monkeypatch)
    asked = []
    monkeypatch.setattr(dialogs, "ask_random_weights", lambda parent, why: asked.append(why) or agree)
    out = tmp_path / "r.json"
    request = {"source": "torchvision:resnet18", "output": str(out), "shape": "3,32,32", "args": None,
               "weights": "DEFAULT"}
    assert run_import(window, request) is agree
    assert len(asked) == 1 and "is not in torch's cache" in asked[0] and "get_model('resnet18'" in asked[0]
    assert out.exists() is agree and out.with_suffix(".safetensors").exists() is agree
    if agree:
        assert window.document.project.path == out
