"""The CPU fast path's fused Adam, AdamW and SGD without the Python around optimizer.step()
(fastpath/lean_optim.py): the same update, bit for bit, as `optimizer.step()` with the same
settings, through schedules, parameter groups, a loaded checkpoint and a layout change; and every
case where step() would do more goes to step() itself."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from studio.training.fastpath.lean_optim import LeanOptimizer, fits
from studio.training.fastpath.variants import set_layout
from studio.training.step import EagerStep


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 5)
        self.unused = nn.Linear(2, 2)  # in the optimizer, never given a gradient

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


def batches(n):
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 5, (8,), generator=g)) for _ in range(n)]


def pair(cls=torch.optim.Adam, groups=False, **kwargs):
    kwargs.setdefault("lr", 1e-3)
    """Two identical models and optimizers: the reference steps with step(), the other with LeanOptimizer."""
    torch.manual_seed(0)
    model = Net()
    twin = copy.deepcopy(model)

    def params(m):
        if groups:
            return [{"params": m.conv.parameters(), "lr": 0.02}, {"params": m.fc.parameters()}]
        return [p for n, p in m.named_parameters() if not n.startswith("unused")]
    opt = cls(params(model), fused=True, **kwargs)
    ref = cls(params(twin), fused=True, **kwargs)
    return model, opt, twin, ref


def train(model, calls, data):
    for x, y in data:
        calls.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        calls.step()


def assert_same(model, opt, twin, ref):
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert torch.equal(p, q), name
    for p, q in zip([p for g in opt.param_groups for p in g["params"]], [p for g in ref.param_groups for p in g["params"]]):
        a, b = opt.state[p], ref.state[q]
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("cls, kwargs", [
    (torch.optim.Adam, {}),
    (torch.optim.Adam, {"weight_decay": 0.01, "amsgrad": True}),
    (torch.optim.Adam, {"maximize": True, "betas": (0.8, 0.99), "eps": 1e-6}),
    (torch.optim.AdamW, {"weight_decay": 0.05}),
    (torch.optim.AdamW, {"amsgrad": True, "lr": 3e-3}),
    (torch.optim.SGD, {"lr": 0.05}),
    (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3}),
    (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "maximize": True}),
])
def test_each_step_is_the_same_update_and_state_as_optimizer_step(cls, kwargs):
    model, opt, twin, ref = pair(cls, **kwargs)
    data = batches(6)
    train(model, LeanOptimizer(opt), data)
    train(twin, ref, data)
    assert_same(model, opt, twin, ref)


def test_a_schedule_and_parameter_groups_with_their_own_rates_are_followed():
    model, opt, twin, ref = pair(groups=True)
    lean = LeanOptimizer(opt)
    schedules = [torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5) for o in (opt, ref)]
    for x, y in batches(5):
        train(model, lean, [(x, y)])
        train(twin, ref, [(x, y)])
        for s in schedules:
            s.step()
    assert opt.param_groups[0]["lr"] == ref.param_groups[0]["lr"] == 0.02 * 0.5 ** 5
    assert_same(model, opt, twin, ref)


def test_a_loaded_checkpoint_and_a_layout_change_replace_the_state_it_steps():
    model, opt, twin, ref = pair()
    lean = LeanOptimizer(opt)
    data = batches(6)
    train(model, lean, data[:2])
    train(twin, ref, data[:2])
    saved = copy.deepcopy(ref.state_dict())
    train(model, lean, data[2:4])  # steps the load below throws away
    opt.load_state_dict(saved)
    model.load_state_dict(twin.state_dict())
    for m, o in ((model, opt), (twin, ref)):  # new exp_avg tensors for the convolution's weight
        set_layout(EagerStep(m, nn.CrossEntropyLoss(), o, device=torch.device("cpu")), torch.channels_last)
    train(model, lean, data[2:])
    train(twin, ref, data[2:])
    assert_same(model, opt, twin, ref)


@pytest.mark.parametrize("cls, kwargs", [(torch.optim.Adam, {}), (torch.optim.SGD, {"momentum": 0.9})])
def test_where_step_would_do_more_it_is_step_that_runs(cls, kwargs):
    model, opt, twin, ref = pair(cls, **kwargs)
    lean = LeanOptimizer(opt)
    data = batches(3)
    train(model, lean, data[:1])  # the first step creates the state: optimizer.step() itself
    assert all(opt.state[p] for p in model.conv.parameters())  # Adam's moments, SGD's momentum buffers
    seen = []
    handle = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(1))
    train(model, lean, data[1:2])
    handle.remove()
    assert seen == [1]
    train(twin, ref, data[:2])
    model.fc.bias.requires_grad_(False)  # no gradient: Adam leaves it (and its state) as it is
    twin.fc.bias.requires_grad_(False)
    bias, state = model.fc.bias.clone(), copy.deepcopy(opt.state[model.fc.bias])
    train(model, lean, data[2:])
    train(twin, ref, data[2:])
    assert torch.equal(model.fc.bias, bias)
    assert all(torch.equal(value, state[key]) for key, value in opt.state[model.fc.bias].items())
    assert_same(model, opt, twin, ref)


def test_only_fused_adam_adamw_and_sgd_are_taken():
    params = [nn.Parameter(torch.zeros(2))]
    for cls in (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD):
        assert fits(cls(params, lr=0.1, fused=True))
    for opt in (torch.optim.Adam(params), torch.optim.SGD(params, lr=0.1), torch.optim.RMSprop(params)):
        assert not fits(opt)
        with pytest.raises(ValueError, match="fused Adam, AdamW or SGD"):
            LeanOptimizer(opt)

    class Mine(torch.optim.Adam):  # a subclass may step differently
        pass
    assert not fits(Mine(params, fused=True))


def test_zero_grad_without_set_to_none_zeroes_in_place():
    model, opt, _, _ = pair()
    lean = LeanOptimizer(opt)
    train(model, lean, batches(1))
    grad = model.fc.weight.grad
    lean.zero_grad(set_to_none=False)
    assert model.fc.weight.grad is grad and not grad.any()
    lean.zero_grad()
    assert model.fc.weight.grad is None


def test_a_schedule_sees_the_first_step_so_it_does_not_warn(recwarn):
    # plain SGD has no state: only the first call being step() itself tells a schedule it ran
    model, opt, _, _ = pair(torch.optim.SGD, lr=0.1)
    lean = LeanOptimizer(opt)
    schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    for x, y in batches(3):
        train(model, lean, [(x, y)])
        schedule.step()
    assert not [w for w in recwarn if "lr_scheduler.step()" in str(w.message)]
