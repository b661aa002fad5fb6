"""ReLU after max pooling on the CPU fast path (fastpath/relu_pool.py): the same outputs and the same
gradients as ReLU before pooling, bit for bit (ties, zeros, NaN, padding, ceil mode, with the strided
pool too), only for pairs it may swap, never while a person's view watches the ReLU, and gone from
the model when training ends."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import fx, nn

from studio.training.fastpath import pooling, relu_pool

from .test_fastpath_cpu import cnn_project, plan_for, run


class Net(nn.Module):
    def __init__(self, pool: nn.Module, dims: int = 2) -> None:
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
        self.conv, self.relu, self.pool = conv(2, 3, 3, padding=1), nn.ReLU(), pool
        self.head = nn.LazyLinear(4)

    def forward(self, x):
        return self.head(self.pool(self.relu(self.conv(x))).flatten(1))


def traced(pool, dims=2, shape=(1, 2, 8, 8)) -> fx.GraphModule:
    net = Net(pool, dims)
    net(torch.zeros(shape))  # the lazy head takes its size
    return fx.symbolic_trace(net)


def inputs(kind: str, shape) -> torch.Tensor:
    g = torch.Generator().manual_seed(abs(hash((kind, shape))) % 2**31)
    x = torch.randn(shape, generator=g)
    if kind == "ties":  # after the convolution: all-negative windows and equal maxima
        x = torch.randint(-2, 2, shape, generator=g).float()
    elif kind == "nan":
        x[x > 1.5] = float("nan")
    return x


def outputs_and_grads(model, x):
    model.zero_grad(set_to_none=True)
    out = model(x)
    out.square().sum().backward()
    return out.detach(), [p.grad.clone() for p in model.parameters()]


def same(a, b) -> bool:
    return torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num())


POOLS = [(lambda: nn.MaxPool2d(2), 2, (4, 2, 12, 12)), (lambda: nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), 2, (3, 2, 11, 9)),
         (lambda: nn.MaxPool1d(2), 1, (4, 2, 15)), (lambda: nn.MaxPool3d(2), 3, (2, 2, 6, 6, 6))]


@pytest.mark.parametrize("make_pool,dims,shape", POOLS)
@pytest.mark.parametrize("kind", ["randn", "ties", "nan"])
@pytest.mark.parametrize("strided", [False, True])
def test_outputs_and_gradients_are_those_of_relu_before_pooling(make_pool, dims, shape, kind, strided):
    model = traced(make_pool(), dims, shape)
    if kind == "ties":  # integer weights: the convolution's outputs tie and many windows are <= 0
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randint(-1, 2, p.shape).float())
    swapped = copy.deepcopy(model)
    assert relu_pool.install(swapped) == 1
    if strided:
        pooling.install(swapped)  # both on one pool: the strided maxima, then the ReLU
    x = inputs(kind, shape)
    (y0, g0), (y1, g1) = outputs_and_grads(model, x), outputs_and_grads(swapped, x)
    assert same(y0, y1)
    assert all(same(a, b) for a, b in zip(g0, g1, strict=True))


def test_only_a_relu_that_feeds_nothing_but_a_max_pool_moves():
    class Skip(nn.Module):  # the ReLU's output also goes elsewhere
        def __init__(self):
            super().__init__()
            self.relu, self.pool = nn.ReLU(), nn.MaxPool2d(2)

        def forward(self, x):
            r = self.relu(x)
            return self.pool(r), r

    class Shared(nn.Module):  # one ReLU called twice
        def __init__(self):
            super().__init__()
            self.relu, self.pool, self.pool2 = nn.ReLU(), nn.MaxPool2d(2), nn.MaxPool2d(2)

        def forward(self, x):
            return self.pool(self.relu(x)) + self.pool2(self.relu(x))

    def chain(*mods):
        return fx.symbolic_trace(nn.Sequential(*mods))

    assert relu_pool.pairs(chain(nn.ReLU(), nn.MaxPool2d(2)))
    for model in (fx.symbolic_trace(Skip()), fx.symbolic_trace(Shared()), chain(nn.LeakyReLU(), nn.MaxPool2d(2)),
                  chain(nn.ReLU(), nn.AvgPool2d(2)), chain(nn.ReLU(), nn.MaxPool2d(2, return_indices=True)),
                  nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))):  # not an fx graph: nothing to read the wiring from
        assert relu_pool.pairs(model) == [], model


def test_a_watched_relu_and_eval_mode_run_as_written():
    model = traced(nn.MaxPool2d(2))
    relu_pool.install(model)
    x = inputs("randn", (2, 2, 8, 8))
    seen = []
    handle = model.relu.register_forward_hook(lambda _m, _i, out: seen.append(out))
    model(x)  # training, with gradients, but watched: the ReLU computes its own output
    handle.remove()
    assert seen[0].min() >= 0 and torch.equal(seen[0], torch.relu(model.conv(x)))
    plain = traced(nn.MaxPool2d(2))
    plain.load_state_dict(model.state_dict())
    for ctx in (torch.no_grad(), torch.enable_grad()):
        with ctx:
            model.eval(), plain.eval()
            assert torch.equal(model(x), plain(x))


def test_install_and_remove_leave_plain_modules(tmp_path):
    model = traced(nn.MaxPool2d(2))
    assert relu_pool.install(model) == 1 and relu_pool.install(model) == 0
    pooling.install(model)
    relu_pool.remove(model)
    assert "forward" not in model.relu.__dict__ and model.pool.forward.func is pooling.pool_forward
    pooling.remove(model)
    assert not any("forward" in m.__dict__ or relu_pool.MARK in m.__dict__ for m in model.modules())


def test_the_cpu_step_swaps_the_pair_and_training_is_the_same_bit_for_bit(tmp_path, monkeypatch):
    project = cnn_project({"epochs": 2, "fast_path": "eager"})  # conv -> bn -> relu -> pool
    trainer, _, swapped = run(tmp_path, project, "a.json")
    assert trainer.step_fn.name == "eager+fused+relu-after-pool"
    assert not any("forward" in m.__dict__ for m in trainer.model.modules())  # removed when fit ended
    monkeypatch.setattr(relu_pool, "has_pairs", lambda model: False)
    plain_trainer, _, plain = run(tmp_path, project, "b.json")
    assert plain_trainer.step_fn.name == "eager+fused"
    assert [h["loss"] for h in swapped.history] == [h["loss"] for h in plain.history]
    assert all(torch.equal(a, b) for a, b in zip(trainer.model.state_dict().values(),
                                                  plain_trainer.model.state_dict().values(), strict=True))


def test_the_plan_names_it_only_on_the_cpu_and_only_where_a_pair_qualifies():
    lenet = fx.symbolic_trace(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2)))
    assert plan_for(lenet).relu_after_pool and "relu-after-pool" in plan_for(lenet).eager_name
    assert not plan_for(fx.symbolic_trace(nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2)))).relu_after_pool
