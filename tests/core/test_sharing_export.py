"""Every export format keeps weight sharing (issue 16, item 5): the exporters check each file's
outputs against the compiled model; here also that the shared weights are held once and that the
generated source says so plainly."""
from __future__ import annotations

import pytest
import torch

from studio.export import FORMATS, export
from studio.export.codegen.export import import_file

from test_sharing import siamese_graph, word_language_model  # tests/core is on sys.path (no package)

GRAPHS = {"siamese": siamese_graph, "tied_lm": word_language_model,
          "tied_lm_state": lambda: word_language_model(state=True)}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_every_format_keeps_the_sharing(name, fmt, tmp_path):
    out = tmp_path / f"model.{fmt}"
    report = export(GRAPHS[name](), fmt, out)
    assert out.is_file(), report.text()
    if fmt == "state_dict":
        state = torch.load(out, weights_only=True)
        if name == "siamese":
            assert sorted(state) == ["enc1.bias", "enc1.weight", "head.bias", "head.weight"]
        else:  # both names, as a hand-written tied model's state dict has, over one storage
            assert state["decoder.weight"].untyped_storage().data_ptr() == \
                state["encoder.weight"].untyped_storage().data_ptr()


def test_the_generated_source_ties_and_reuses_plainly(tmp_path):
    export(word_language_model(), "code", tmp_path / "lm.py")
    text = (tmp_path / "lm.py").read_text()
    assert "self.decoder.weight = self.encoder.weight" in text
    net = import_file(tmp_path / "lm.py").ModelNet()
    assert net.decoder.weight is net.encoder.weight
    export(siamese_graph(), "code", tmp_path / "siamese.py")
    text = (tmp_path / "siamese.py").read_text()
    assert text.count("self.enc1(") == 2 and "self.enc2" not in text
