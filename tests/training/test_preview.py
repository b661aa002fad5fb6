"""The live preview's engine (Qt-free): one sample through the compiled graph, a thumbnail per node,
seeded weights per node, caches that give the very values a fresh run gives, notes instead of
tracebacks."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import studio
from studio.core.project import Project
from studio.training.preview import PreviewEngine, PreviewRequest
from studio.training.preview_thumbs import BARS, GRID, HEAT, VALUE, make_thumb

from tests.conftest import ROOT

TEMPLATES = ROOT / "resources" / "templates"


def project(name: str = "cnn_digits") -> Project:
    return studio.load_project(TEMPLATES / f"{name}.json")


def run(engine, proj, **kw):
    return engine.run(PreviewRequest(proj.graph.copy(), proj.training, None, **kw))


def values(result) -> dict:
    return {n: np.array(t.values) for n, t in result.thumbs.items()}


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, equal_nan=True)


def test_every_node_of_cnn_digits_gets_its_thumbnail_from_a_validation_sample():
    r = run(PreviewEngine(), project())
    assert r.note == "" and r.sample_text.startswith("val sample 0 of ")
    assert set(r.thumbs) == set(project().graph.nodes)
    kinds = {n: (t.kind, t.shape) for n, t in r.thumbs.items()}
    assert kinds["input"] == (HEAT, (1, 8, 8)) and kinds["conv1"] == (GRID, (16, 8, 8))
    assert kinds["flatten"] == (HEAT, (128,)) and kinds["fc2"] == (BARS, (10,)) and kinds["output"] == (BARS, (10,))
    assert r.thumbs["relu1"].lo == 0.0  # after a ReLU


def test_values_are_the_models_own_for_the_sample():
    """The logits shown equal the compiled model's output for the same sample and the same weights."""
    proj = project()
    engine = PreviewEngine()
    r = run(engine, proj)
    model = studio.build_model(proj).eval()
    model.load_state_dict({k: v for m_id, (_key, m) in engine._modules.items()
                           for k, v in ((f"{m_id}.{n}", t) for n, t in m.state_dict().items())})
    x = engine.samples.sample(proj.training, None, 0, (1, 8, 8), "float32", 0).x
    with torch.no_grad():
        logits = model(x)[0].numpy()
    assert np.allclose(r.thumbs["fc2"].values, logits, atol=1e-6)
    assert r.thumbs["fc2"].lo == pytest.approx(float(logits.min()))


def test_seeded_per_node_so_an_edit_changes_only_its_node_and_those_after_it():
    proj = project()
    a, b = PreviewEngine(), PreviewEngine()
    first = values(run(a, proj))
    assert all(same(first[n], v) for n, v in values(run(b, proj)).items())  # another engine: the same
    proj.graph.set_param("conv2", "kernel_size", 5)
    edited = values(run(a, proj))
    order = ["input", "conv1", "relu1", "pool1"]
    assert all(same(first[n], edited[n]) for n in order)
    assert all(not same(first[n], edited[n]) for n in ("conv2", "relu2", "pool2", "flatten", "fc1", "fc2"))
    fresh = values(run(PreviewEngine(), proj))  # the caches give exactly what a fresh run gives
    assert all(same(fresh[n], edited[n]) for n in fresh)


def test_input_normalisation_is_the_models_and_changes_every_node():
    proj = project()
    engine = PreviewEngine()
    before = run(engine, proj)
    proj.graph.set_param("input", "mean", 0.5)
    proj.graph.set_param("input", "std", 0.25)
    after = run(engine, proj)
    x = engine.samples.sample(proj.training, None, 0, (1, 8, 8), "float32", 0).x[0].numpy()
    assert after.thumbs["input"].lo == pytest.approx((x.min() - 0.5) / 0.25)
    assert all(not same(before.thumbs[n].values, after.thumbs[n].values) or
               (before.thumbs[n].lo, before.thumbs[n].hi) != (after.thumbs[n].lo, after.thumbs[n].hi)
               for n in before.thumbs)
    model = studio.build_model(proj).eval()
    plain = project()
    plain_model = studio.build_model(plain).eval()
    plain_model.load_state_dict(model.state_dict())
    xb = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(model(xb), plain_model((xb - 0.5) / 0.25), atol=1e-6)


@pytest.mark.fault("preview", "an Input normalised with std 0, or token ids given a mean",
                   "the Input's error names the field and the fix; the preview shows a note, no traceback")
def test_bad_normalisation_is_an_error_of_the_input_and_a_note():
    proj = project()
    proj.graph.set_param("input", "std", 0.0)
    r = run(PreviewEngine(), proj)
    assert r.thumbs == {} and r.note.startswith("no preview")
    from studio.core.analysis import analyze

    assert "'std' is 0" in analyze(proj.graph).nodes["input"].error
    lm = project("char_transformer_lm")
    lm.graph.set_param(next(n for n, x in lm.graph.nodes.items() if x.type == "Input"), "mean", 1.0)
    assert "token ids" in next(p.message for p in analyze(lm.graph).errors)


@pytest.mark.fault("preview", "a chosen weights file that is missing or is not a checkpoint",
                   "a note on the preview (no thumbnails), never a traceback")
def test_missing_or_bad_checkpoint_is_a_note(tmp_path):
    proj = project()
    r = run(PreviewEngine(), proj, checkpoint=tmp_path / "gone.pt")
    assert r.thumbs == {} and r.note.startswith("no preview")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    r = run(PreviewEngine(), proj, checkpoint=bad)
    assert r.thumbs == {} and r.note.startswith("no preview")


def test_trained_weights_where_shapes_match(tmp_path):
    proj = project()
    model = studio.build_model(proj)
    with torch.no_grad():
        model.fc2.bias.fill_(3.0)
        model.fc2.weight.zero_()
    path = tmp_path / "w.pt"
    torch.save(model.state_dict(), path)
    r = run(PreviewEngine(), proj, checkpoint=path)
    assert np.allclose(r.thumbs["fc2"].values, 3.0) and "trained weights" in r.weights_text
    proj.graph.set_param("fc1", "out_features", 32)  # fc1 and fc2 no longer match: seeded weights
    r = run(PreviewEngine(), proj, checkpoint=path)
    assert not np.allclose(r.thumbs["fc2"].values, 3.0)


def test_a_graph_with_errors_shows_a_note_and_the_sample_chooser_clamps():
    proj = project()
    proj.graph.set_param("fc2", "out_features", 0)
    assert run(PreviewEngine(), proj).note.startswith("no preview")
    r = run(PreviewEngine(), project(), sample=10 ** 6)
    assert r.sample_index == r.sample_count - 1 and r.thumbs


def test_dataset_that_cannot_load_gives_a_seeded_random_input_and_says_so():
    proj = project("mlp_mnist")  # MNIST is not downloaded here, and a preview never downloads it
    a, b = run(PreviewEngine(), proj), run(PreviewEngine(), proj)
    if a.sample_count:
        pytest.skip("MNIST is on this machine")
    assert a.sample_text.startswith("random input (") and "download" in a.sample_text
    assert same(a.thumbs["input"].values, b.thumbs["input"].values)


def test_an_opened_block_shows_its_inner_nodes():
    proj = project("resnet_digits")
    r = run(PreviewEngine(), proj, trail=("layer1",))
    assert {"conv1", "bn1", "conv2", "bn2"} <= set(r.thumbs)
    top = run(PreviewEngine(), proj)
    assert top.thumbs["layer1"].kind == GRID


def test_thumbnail_kinds():
    assert make_thumb(np.float32(2.5)).kind == VALUE and make_thumb(np.float32(2.5)).range_text == "= 2.5"
    t = make_thumb(np.arange(64, dtype=np.float32).reshape(4, 4, 4))
    assert t.kind == GRID and (t.lo, t.hi) == (0.0, 63.0) and np.isnan(t.values).any()  # gaps between tiles
    t = make_thumb(np.ones((40, 3, 3)))
    assert t.note == "16 of 40 channels"
    t = make_thumb(np.array([1.0, np.inf, -2.0]))
    assert t.kind == BARS and (t.lo, t.hi) == (-2.0, 1.0) and "1 not finite" in t.note
    assert make_thumb(np.zeros(500)).kind == HEAT
