"""Attributions match Captum called directly on the same model and input (cnn_digits, moons_mlp)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import studio
from studio.training.explain import IG_STEPS, METHODS, ExplainError, Subject, explain, sliding_window

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


def _subject(name: str) -> Subject:
    torch.manual_seed(0)
    return Subject.from_project(studio.load_project(TEMPLATES / f"{name}.json"))


def _captum(model, x, method, target, node=None):
    import captum.attr as ca

    model.eval()
    if method == "saliency":
        out = ca.Saliency(model).attribute(x, target=target, abs=True)
    elif method == "integrated_gradients":
        out = ca.IntegratedGradients(model).attribute(x, baselines=torch.zeros_like(x), target=target,
                                                      n_steps=IG_STEPS)
    elif method == "occlusion":
        window, strides = sliding_window(tuple(x.shape[1:]))
        out = ca.Occlusion(model).attribute(x, sliding_window_shapes=window, strides=strides, baselines=0.0,
                                            target=target)
    else:
        cam = ca.LayerGradCam(model, model.get_submodule(node)).attribute(x, target=target, relu_attributions=True)
        out = ca.LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="bilinear")
    return out[0].detach().numpy()


@pytest.mark.parametrize("method", METHODS)
def test_cnn_digits_attributions_equal_captum_direct(method):
    subject = _subject("cnn_digits")
    x, _ = subject.sample(5)
    a = explain(subject.model, x, method, node="conv1" if method == "gradcam" else None)
    target = int(subject.model(x).argmax())
    assert a.target == target and a.note
    expected = _captum(subject.model, x, method, target, node="conv1")
    assert a.values.shape == (expected.shape if method != "gradcam" else (1, 8, 8))
    np.testing.assert_allclose(a.values, expected, rtol=1e-5, atol=1e-7)
    assert np.abs(a.values).sum() > 0  # something was attributed
    assert abs(a.probs.sum() - 1) < 1e-5


def test_gradcam_defaults_to_the_last_conv():
    subject = _subject("cnn_digits")
    x, _ = subject.sample(0)
    assert explain(subject.model, x, "gradcam").node == "conv2"


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "occlusion"])
def test_tabular_attributions_equal_captum_direct(method):
    subject = _subject("moons_mlp")
    x, label = subject.sample(2)
    assert label in subject.info.classes
    a = explain(subject.model, x, method, target=1)
    expected = _captum(subject.model, x, method, 1)
    assert a.values.shape == (2,)
    np.testing.assert_allclose(a.values, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.fault("explain", "gradcam on a model without a conv", "error names the choices")
def test_gradcam_without_conv_says_so():
    subject = _subject("moons_mlp")
    x, _ = subject.sample(0)
    with pytest.raises(ExplainError, match="no conv|has none"):
        explain(subject.model, x, "gradcam")


@pytest.mark.fault("explain", "gradcam on a node that is not a conv", "error names the conv nodes")
def test_gradcam_on_a_relu_names_the_convs():
    subject = _subject("cnn_digits")
    x, _ = subject.sample(0)
    with pytest.raises(ExplainError, match=r"'relu1' is a ReLU.*conv1, conv2"):
        explain(subject.model, x, "gradcam", node="relu1")
    with pytest.raises(ExplainError, match="no node 'nope'"):
        explain(subject.model, x, "gradcam", node="nope")


@pytest.mark.fault("explain", "sample index out of range", "error gives the range")
def test_bad_sample_index():
    subject = _subject("cnn_digits")
    with pytest.raises(ExplainError, match=r"sample 99999 does not exist.*0\.\."):
        subject.sample(99999)
    with pytest.raises(ExplainError):
        subject.sample(-1)
