"""The strided 2x2 max pool of the CPU fast path (fastpath/pooling.py): the same values and the same
gradients as PyTorch's pooling, bit for bit (ties, NaN, odd sizes, inf gradients), only for the
pooling it can stand in for, and gone from the model when training ends."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.training.fastpath.pooling import StridedMaxPool2x2, eligible, install, remove

from .test_fastpath_cpu import cnn_project, plan_for, run


def inputs(kind: str, shape) -> torch.Tensor:
    g = torch.Generator().manual_seed(hash((kind, shape)) % 2**31)
    x = torch.randn(shape, generator=g)
    if kind == "relu":  # many all-zero windows: ties everywhere
        x = x.clamp_min(0)
    elif kind == "ties":
        x = torch.randint(0, 3, shape, generator=g).float()
    elif kind == "nan":
        x[x > 1.2] = float("nan")
    elif kind == "inf":
        x[x > 1.5] = float("inf")
        x[x < -1.5] = float("-inf")
    return x


def both(x: torch.Tensor, g: torch.Tensor):
    out = []
    for pool in (lambda t: F.max_pool2d(t, 2), StridedMaxPool2x2.apply):
        t = x.clone().requires_grad_()
        y = pool(t)
        y.backward(g)
        out.append((y.detach(), t.grad))
    return out


@pytest.mark.parametrize("shape", [(8, 6, 28, 28), (4, 16, 10, 10), (3, 2, 7, 9), (5, 6, 6)])
@pytest.mark.parametrize("kind", ["randn", "relu", "ties", "nan", "inf"])
def test_values_and_gradients_are_those_of_pytorchs_pooling(shape, kind):
    x = inputs(kind, shape)
    g = torch.randn(*shape[:-2], shape[-2] // 2, shape[-1] // 2)
    (y_aten, g_aten), (y, grad) = both(x, g)
    assert torch.equal(y.isnan(), y_aten.isnan()) and torch.equal(y.nan_to_num(), y_aten.nan_to_num())
    assert torch.equal(grad, g_aten)  # the same position of each window takes the gradient


@pytest.mark.parametrize("kind", ["randn", "relu", "ties", "nan"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_channels_last_and_bf16_inputs_too(kind, dtype):
    x = inputs(kind, (4, 6, 12, 10)).to(dtype).contiguous(memory_format=torch.channels_last)
    g = torch.randn(4, 6, 6, 5).to(dtype)
    (y_aten, g_aten), (y, grad) = both(x, g)
    assert torch.equal(y.isnan(), y_aten.isnan()) and torch.equal(y.nan_to_num(), y_aten.nan_to_num())
    assert torch.equal(grad, g_aten) and grad.dtype == dtype
    assert grad.is_contiguous(memory_format=torch.channels_last)  # the convolution before takes it as is


def test_each_pool_keeps_the_faster_of_the_two_on_its_first_training_call(monkeypatch):
    import studio.training.fastpath.pooling as pooling

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Conv2d(2, 2, 1), nn.MaxPool2d(2))
    install(model)
    calls = []
    monkeypatch.setattr(pooling, "faster", lambda x: calls.append(x.shape) or ("strided" if len(calls) == 1 else "aten"))
    x = torch.randn(2, 1, 18, 18)
    with torch.no_grad():
        model(x)  # no gradient: nothing timed yet
    assert calls == []
    model(x).sum().backward()
    model(x)
    assert calls == [(2, 2, 16, 16), (2, 2, 8, 8)]  # once each, on its own input
    assert model[1].__dict__[pooling.MARK] == "strided" and model[3].__dict__[pooling.MARK] == "aten"
    assert pooling.faster(torch.randn(2, 3, 8, 8, requires_grad=True)) in ("strided", "aten")


def test_a_non_finite_gradient_reaches_only_the_maximum():
    x = inputs("randn", (2, 3, 8, 8))
    g = torch.randn(2, 3, 4, 4)
    g[0, 0, 0, 0], g[1, 2, 3, 3] = float("inf"), float("nan")
    (_, g_aten), (_, grad) = both(x, g)
    assert torch.equal(grad.isnan(), g_aten.isnan()) and torch.equal(grad.nan_to_num(), g_aten.nan_to_num())


def test_only_the_pooling_it_computes_is_replaced():
    assert eligible(nn.MaxPool2d(2)) and eligible(nn.MaxPool2d((2, 2), stride=2))
    for other in (nn.MaxPool2d(3, 2), nn.MaxPool2d(2, 1), nn.MaxPool2d(2, padding=1), nn.MaxPool2d(2, dilation=2),
                  nn.MaxPool2d(2, ceil_mode=True), nn.MaxPool2d(2, return_indices=True), nn.AvgPool2d(2)):
        assert not eligible(other), other


def test_install_and_remove_leave_a_plain_module():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.MaxPool2d(3, 2))
    x = torch.randn(2, 1, 12, 12)
    before = model(x)
    assert install(model) == 1 and install(model) == 0
    assert "forward" in model[1].__dict__ and "forward" not in model[2].__dict__
    assert torch.equal(model(x), before)
    remove(model)
    assert "forward" not in model[1].__dict__
    assert model[1].forward.__func__ is nn.MaxPool2d.forward  # nothing left for an export to trip on


def test_the_plan_times_it_only_where_a_pool_qualifies():
    pooled = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
    assert "strided_pool" in plan_for(pooled).candidates
    assert "strided_pool" not in plan_for(nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(3, 2))).candidates
    assert plan_for(pooled, {"fast_path": "strided_pool"}).candidates == ["strided_pool"]


def test_training_with_it_is_training_without_it_bit_for_bit(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSTUDIO_THREADS", "1")  # both runs at one thread count (the summation order)
    threads = torch.get_num_threads()
    try:
        trainer, _, result = run(tmp_path, cnn_project({"epochs": 2, "fast_path": "strided_pool"}), "a.json")
        _, _, eager = run(tmp_path, cnn_project({"epochs": 2, "fast_path": "eager"}), "b.json")
    finally:
        torch.set_num_threads(threads)
    assert trainer.step_fn.name == "eager+fused+relu-after-pool+strided-pool"
    assert [h["loss"] for h in result.history] == [h["loss"] for h in eager.history]
    assert not any("forward" in m.__dict__ for m in trainer.model.modules())  # removed when fit ended
