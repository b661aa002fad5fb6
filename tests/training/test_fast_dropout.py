"""The bf16 variants' dropout (fastpath/dropout.py): PyTorch's dropout in distribution (the drop rate
to 1/65536, the 1 / (1 - p) scale, NaN kept), its gradient, the run's seed deciding the masks, and
only in training, only in bf16 variants, gone when their trial ends."""
from __future__ import annotations

import torch
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
    assert dropout.install(model) == 1 and dropout.install(model) == 0  # nn.Dropout only
    x = torch.randn(16, 8)
    model.eval()
    assert torch.equal(model(x), model[0](x))
    model.train()
    assert (model[1](torch.ones(1000)) == 0).any()
    dropout.remove(model)
    assert "forward" not in model[1].__dict__ and dropout.MARK not in model[1].__dict__


def test_only_the_bf16_variants_draw_their_masks_this_way():
    class Eager:  # what a variant touches of the eager step
        def __init__(self):
            self.model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))
            self.channels_last, self.amp_dtype, self.params, self.optimizer = False, None, [], None

    for name, fast in (("bf16", True), ("bf16_matmul", True), ("strided_pool", False)):
        eager = Eager()
        variant = EagerVariant(eager, name)
        assert (dropout.MARK in eager.model[1].__dict__) is fast, name
        variant.undo()
        assert dropout.MARK not in eager.model[1].__dict__
