"""The bf16 variants' dropout (fastpath/dropout.py): PyTorch's dropout in distribution (the drop rate
to 1/65536, the 1 / (1 - p) scale, NaN kept), its gradient, the run's seed deciding the masks, and
only in training, only in bf16 variants, gone when their trial ends."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.training.fastpath import dropout
from studio.training.fastpath.variants import EagerVariant


def test_the_mask_drops_p_of_the_elements_and_scales_the_rest():
    torch.manual_seed(0)
    n, p = 1 << 20, 0.1
    x = torch.ones(n, requires_grad=True)
    y = dropout.dropout(x, p)
    kept = y != 0
    rate = 1 - kept.float().mean().item()
    assert abs(rate - round(p * 65536) / 65536) < 5 * (p * (1 - p) / n) ** 0.5  # five standard errors
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / (1 - p)))
    g = torch.arange(n, dtype=torch.float32)
    y.backward(g)
    assert torch.equal(x.grad, (g * kept).mul_(1 / (1 - p)))  # the same mask, the same scale
    for q in (0.5, 0.9):
        assert abs((dropout.dropout(torch.ones(n), q) == 0).float().mean().item() - q) < 0.01


def test_nan_stays_nan_where_dropped_and_the_seed_decides_the_masks():
    x = torch.full((4096,), float("nan"))
    assert dropout.dropout(x, 0.5).isnan().all()  # x * 0 is NaN, as with PyTorch's dropout
    torch.manual_seed(7)
    a = dropout.keep_mask((64, 33), 0.3)
    torch.manual_seed(7)
    b = dropout.keep_mask((64, 33), 0.3)
    assert torch.equal(a, b) and a.shape == (64, 33)
    assert not torch.equal(a, dropout.keep_mask((64, 33), 0.3))


def test_it_acts_in_training_only_and_leaves_a_plain_module():
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.Dropout1d(0.5))
    assert dropout.install(model, "fast16") == 1  # nn.Dropout only
    x = torch.randn(16, 8)
    model.eval()
    assert torch.equal(model(x), model[0](x))
    model.train()
    assert (model[1](torch.ones(1000)) == 0).any()
    dropout.remove(model)
    assert "forward" not in model[1].__dict__ and dropout.MARK not in model[1].__dict__


# PyTorch's own masks are drawn with MKL on an Intel CPU: there the exact masks are not used
needs_exact = pytest.mark.skipif(not dropout.exact_masks_here(),
                                 reason="PyTorch draws dropout masks with MKL on this CPU; the bulk masks are off")


@needs_exact
@pytest.mark.parametrize("shape", [(64, 64, 512), (7, 3), (2, 6, 5, 5)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_exact_masks_are_pytorchs_bit_for_bit_and_leave_the_generator_where_it_would_be(shape, dtype):
    x = torch.randn(shape).to(dtype)
    if len(shape) == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    for p in (0.1, 0.5, 0.9):
        torch.manual_seed(3)
        want, after = F.dropout(x, p, True), torch.rand(4)
        torch.manual_seed(3)
        got = dropout.exact_dropout(x, p)
        assert torch.equal(got, want) and torch.equal(torch.rand(4), after)


@needs_exact
def test_a_transposed_input_takes_the_exact_masks_too_and_a_strided_one_pytorchs(monkeypatch):
    """A Transformer layer's attention output is transposed (dense, not contiguous): the module draws
    the exact masks for it; a view with gaps keeps PyTorch's own dropout. Both as F.dropout would."""
    layer = nn.Dropout(0.2)
    dropout.install(layer, "exact")
    base = torch.randn(16, 12, 32)
    calls = []
    real = dropout.exact_dropout
    monkeypatch.setattr(dropout, "exact_dropout", lambda t, p: calls.append(t.shape) or real(t, p))
    for x, exact in ((base.transpose(0, 1), True), (base.permute(2, 0, 1), True), (base[:, ::2], False)):
        assert dropout.dense(x) is exact
        torch.manual_seed(5)
        want = F.dropout(x, 0.2, True)
        torch.manual_seed(5)
        got = layer(x)
        assert torch.equal(got, want) and got.stride() == want.stride()
        assert bool(calls) is exact
        calls.clear()


@needs_exact
def test_a_run_with_exact_masks_is_the_run_without_them(tmp_path, monkeypatch):
    from .test_fastpath_cpu import dense_project, run

    project = dense_project({"epochs": 2, "fast_path": "eager"})
    project["nodes"].insert(3, {"id": "drop", "type": "Dropout", "params": {"p": 0.3}, "pos": [0, 0]})
    project["edges"] = [{"source": a["id"], "target": b["id"]} for a, b in zip(project["nodes"], project["nodes"][1:])]
    trainer, _, bulk = run(tmp_path, project, "a.json")
    assert trainer.step_fn.name == "eager+fused+bulk-dropout"
    assert not any(dropout.MARK in m.__dict__ for m in trainer.model.modules())  # removed when fit ended
    monkeypatch.setattr(dropout, "has_dropout", lambda model: False)
    plain_trainer, _, plain = run(tmp_path, project, "b.json")
    assert plain_trainer.step_fn.name == "eager+fused"
    assert [h["loss"] for h in bulk.history] == [h["loss"] for h in plain.history]


def test_where_pytorch_draws_other_masks_the_run_keeps_them_and_says_why(tmp_path, monkeypatch):
    from .test_fastpath_cpu import dense_project, run

    monkeypatch.setattr(dropout, "exact_masks_here", lambda: False)  # an Intel CPU with MKL
    project = dense_project({"epochs": 1, "fast_path": "eager"})
    project["nodes"].insert(3, {"id": "drop", "type": "Dropout", "params": {"p": 0.3}, "pos": [0, 0]})
    project["edges"] = [{"source": a["id"], "target": b["id"]} for a, b in zip(project["nodes"], project["nodes"][1:])]
    trainer, rec, _ = run(tmp_path, project, "a.json")
    assert trainer.step_fn.name == "eager+fused"
    assert "MKL" in trainer.fast_plan.reasons["bulk_dropout"]
    assert any("bulk_dropout (PyTorch draws its dropout masks with MKL" in n.message for n in rec.of("notice"))


def test_the_check_matches_pytorchs_masks_here_or_finds_them_different():
    # what the check compares, drawn here on the default generator (PyTorch's masks against the bits)
    torch.manual_seed(8)
    want = torch.empty(5000).bernoulli_(0.7)
    torch.manual_seed(8)
    got = (dropout.exact_dropout(torch.ones(5000), 0.3) != 0).float()  # kept where the mask is 1
    assert torch.equal(got, want) is dropout.exact_masks_here()


def test_only_the_bf16_variants_draw_their_masks_this_way():
    class Eager:  # what a variant touches of the eager step
        def __init__(self):
            self.model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
            self.channels_last, self.amp_dtype, self.params, self.optimizer = False, None, [], None
            self.input_dtype = None

    for name, fast in (("bf16", True), ("bf16_matmul", True), ("strided_pool", False)):
        eager = Eager()
        variant = EagerVariant(eager, name)
        assert (dropout.MARK in eager.model[1].__dict__) is fast, name
        variant.undo()
        assert dropout.MARK not in eager.model[1].__dict__
    eager = Eager()
    eager.dropout_mode = "exact"  # the float32 steps' masks: put back when a bf16 trial ends
    dropout.install(eager.model, "exact")
    variant = EagerVariant(eager, "bf16")
    assert eager.model[1].__dict__[dropout.MARK] == "fast16"
    variant.undo()
    assert eager.model[1].__dict__[dropout.MARK] == "exact"
