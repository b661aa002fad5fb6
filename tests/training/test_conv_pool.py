"""A convolution and the 2x2 max pool after it as one stride-2 convolution, on the CPU fast path
(fastpath/conv_pool.py): the values and gradients of convolution + pool up to summation order (any
kernel, padding, odd sizes, channels-last, no bias, ties), only for the chains it can stand in for,
never while a hook watches them, timed per chain, and gone from the model when training ends."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import fx, nn

from studio.training.fastpath import conv_pool, pooling

from .test_fastpath_cpu import cnn_project, plan_for, run

TOL = {"rtol": 1e-5, "atol": 1e-5}  # float32 summed in another order


def close(got, want, rel=1e-5):
    """Equal up to float32 summation order: within `rel` of the largest magnitude (a gradient summed
    over thousands of products differs in its last bits, which is large for its small elements)."""
    assert got.shape == want.shape
    scale = max(1.0, float(want.abs().max()))
    assert float((got - want).abs().max()) <= rel * scale, float((got - want).abs().max())


def reference(x, w, b, padding):
    return F.max_pool2d(F.conv2d(x, w, b, padding=padding), 2)


def both(x, w, b, padding, x_grad=True):
    out = []
    for way in (reference, conv_pool.conv_max_pool):
        leaves = [t.detach().clone().requires_grad_() if t is not None else None for t in (x, w, b)]
        leaves[0].requires_grad_(x_grad)
        y = way(*leaves, padding)
        y.backward(torch.linspace(-1, 1, y.numel()).reshape(y.shape))
        out.append((y.detach(), *[t.grad if t is not None else None for t in leaves]))
    return out


@pytest.mark.parametrize("kernel, padding, size", [(5, (0, 0), (32, 32)), (5, (0, 0), (14, 14)), (3, (1, 1), (8, 8)),
                                                   (3, (0, 0), (9, 7)), (1, (0, 0), (6, 6)), (3, (1, 0), (10, 11)),
                                                   ((3, 5), (1, 2), (9, 12)), ((2, 4), (0, 1), (7, 8))])
def test_values_and_gradients_are_those_of_convolution_then_pooling(kernel, padding, size):
    kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    g = torch.Generator().manual_seed(kernel[0] * 100 + kernel[1] * 10 + size[0])
    x = torch.randn(4, 3, *size, generator=g)
    w, b = torch.randn(5, 3, *kernel, generator=g), torch.randn(5, generator=g)
    (y_ref, *grads_ref), (y, *grads) = both(x, w, b, padding)
    assert y.shape == y_ref.shape
    torch.testing.assert_close(y, y_ref, **TOL)
    for got, want in zip(grads, grads_ref):
        close(got, want)


def test_channels_last_no_bias_unbatched_and_a_first_layer():
    x = torch.randn(2, 3, 12, 12).contiguous(memory_format=torch.channels_last)
    w = torch.randn(6, 3, 5, 5).contiguous(memory_format=torch.channels_last)
    (y_ref, *ref), (y, *got) = both(x, w, None, (0, 0), x_grad=False)
    torch.testing.assert_close(y, y_ref, **TOL)
    assert got[0] is None and got[2] is None  # the input needs no gradient: only the weight's is computed
    close(got[1], ref[1])
    assert conv_pool.fused_weight(w).is_contiguous(memory_format=torch.channels_last)
    (y_ref, *ref), (y, *got) = both(torch.randn(3, 9, 9), torch.randn(4, 3, 3, 3), torch.randn(4), (1, 1))
    torch.testing.assert_close(y, y_ref, **TOL)  # an unbatched input
    close(got[0], ref[0])


def test_ties_send_the_gradient_where_pytorchs_pooling_does():
    """A blank image: every window's four outputs are the bias exactly; the first position takes it."""
    x = torch.zeros(2, 1, 8, 8)
    x[:, :, 4:, 4:] = 1.0  # and a flat patch: ties inside it too
    w, b = torch.ones(2, 1, 3, 3), torch.tensor([0.5, -0.25])
    (y_ref, *ref), (y, *got) = both(x, w, b, (1, 1))
    assert torch.equal(y, y_ref)
    for g, want in zip(got, ref):
        close(g, want)


# ---- which chains qualify -----------------------------------------------------------------------
class Chain(nn.Module):
    def __init__(self, conv=None, middle=None, pool=None) -> None:
        super().__init__()
        self.conv = conv or nn.Conv2d(3, 6, 5)
        self.relu = middle if middle is not None else nn.ReLU()
        self.pool = pool or nn.MaxPool2d(2)
        self.head = nn.LazyLinear(4)

    def forward(self, x):
        return self.head(self.pool(self.relu(self.conv(x))).flatten(1))


def traced(module=None, shape=(2, 3, 16, 16), **parts) -> fx.GraphModule:
    net = module or Chain(**parts)
    net(torch.zeros(shape))  # the lazy head takes its size
    return fx.symbolic_trace(net)


class NoRelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.pool, self.head = nn.Conv2d(3, 6, 3, padding="same"), nn.MaxPool2d(2), nn.LazyLinear(4)

    def forward(self, x):
        return self.head(self.pool(self.conv(x)).flatten(1))


class TwoUsers(NoRelu):
    def forward(self, x):
        y = self.conv(x)
        return self.head(self.pool(y).flatten(1)) + y.mean()


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_only_chains_it_can_stand_in_for_qualify():
    assert len(conv_pool.chains(traced())) == 1
    assert len(conv_pool.chains(traced(NoRelu()))) == 1  # convolution straight into the pool
    for parts in ({"middle": nn.BatchNorm2d(6)}, {"conv": nn.Conv2d(3, 6, 3, stride=2)},
                  {"conv": nn.Conv2d(3, 6, 3, dilation=2)}, {"conv": nn.Conv2d(3, 6, 3, groups=3)},
                  {"conv": nn.Conv2d(3, 6, 3, padding=1, padding_mode="reflect")},
                  {"conv": nn.Conv2d(3, 6, 4, padding="same")}, {"pool": nn.MaxPool2d(3, 2)},
                  {"pool": nn.MaxPool2d(2, ceil_mode=True)}, {"middle": nn.GELU()}):
        assert conv_pool.chains(traced(**parts)) == [], parts
    assert conv_pool.chains(traced(TwoUsers())) == []  # the full-size output is needed elsewhere
    assert conv_pool.chains(nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.MaxPool2d(2))) == []  # not traced


def choose(monkeypatch, choice="fused", gap=1.0):
    """Every chain's probe says `choice`, the other way `gap` slower (clear of CONTESTED by default)."""
    calls = []
    monkeypatch.setattr(conv_pool, "faster", lambda conv, x: calls.append(tuple(x.shape)) or (choice, gap))
    return calls


def test_installed_it_trains_the_same_and_runs_as_written_outside_training(monkeypatch):
    calls = choose(monkeypatch)
    model = traced()
    x = torch.randn(4, 3, 16, 16)
    before = model(x)
    assert conv_pool.install(model) == 1 and conv_pool.install(model) == 0  # once
    model.train()
    out = model(x)
    torch.testing.assert_close(out, before, **TOL)
    assert calls == [(4, 3, 16, 16)]  # timed once, on its first training call
    fused = []
    monkeypatch.setattr(conv_pool, "conv_max_pool", lambda *a: fused.append(1) or pooling.MaxOfFour.apply(
        F.conv2d(a[0], conv_pool.fused_weight(a[1]), a[2].repeat(4), stride=2, padding=a[3]),
        conv_pool._phases, conv_pool._all))
    model(x).sum().backward()
    assert fused == [1]
    with torch.no_grad():
        model(x)
    model.eval()
    model(x)
    model.train()
    seen = []
    handle = model.relu.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape)))
    torch.testing.assert_close(model(x), before, **TOL)
    handle.remove()
    assert fused == [1] and seen == [(4, 6, 12, 12)]  # eval, no_grad and a watching hook: as written
    conv_pool.remove(model)
    assert not any(k.startswith("_netstudio") or "forward" in m.__dict__ for m in model.modules() for k in m.__dict__)
    assert torch.equal(model(x), model.head(model.pool(model.relu(model.conv(x))).flatten(1)))


def test_with_the_relu_after_the_pool_and_the_strided_pool_too(monkeypatch):
    from studio.training.fastpath import relu_pool

    choose(monkeypatch)
    model = traced()
    x = torch.randn(4, 3, 16, 16)
    before = model(x)
    relu_pool.install(model)
    pooling.install(model)
    conv_pool.install(model)
    torch.testing.assert_close(model(x), before, **TOL)
    conv_pool.remove(model)  # the others stay as they were
    assert "forward" in model.pool.__dict__ and pooling.PASSING not in model.pool.__dict__
    assert torch.equal(model(x), before)


def test_a_chain_keeps_the_faster_way_on_its_input_and_says_by_how_much():
    conv = nn.Conv2d(3, 6, 5)
    way, gap = conv_pool.faster(conv, torch.randn(8, 3, 32, 32))
    assert way in ("fused", "plain") and 0 <= gap < math.inf
    assert conv_pool.faster(conv, torch.randn(1, 3, 5, 5)) == ("plain", math.inf)  # too small for the stride-2 kernel


def test_chains_whose_two_ways_timed_close_are_contested_and_settled_ones_probe_no_more(monkeypatch):
    a, b, c = nn.Conv2d(3, 6, 3), nn.Conv2d(6, 6, 3), nn.Conv2d(6, 6, 3)
    near, far = conv_pool.CONTESTED / 2, conv_pool.CONTESTED * 2
    votes = {a: [("fused", near)], b: [("plain", far), ("plain", near), ("plain", far)],
             c: [("fused", far), ("plain", near), ("plain", near)]}
    assert conv_pool.contested(votes) == [a, c]  # the median gap of each chain's probes
    calls = choose(monkeypatch, "plain")
    model = traced()
    model.train()
    conv_pool.install(model, conv_pool.settled({model.conv: "fused"}))
    model(torch.randn(4, 3, 16, 16))
    assert calls == [] and conv_pool.choices(model) == {model.conv: "fused"}
    assert conv_pool.contested(conv_pool.votes(model)) == []  # a settled chain is not contested again


# ---- in the trainer ------------------------------------------------------------------------------
def lenet_project(training):
    nodes = [("input", "Input", {"shape": [1, 8, 8]}),
             ("conv", "Conv2d", {"out_channels": 6, "kernel_size": 3, "padding": 1}), ("relu", "ReLU", {}),
             ("pool", "MaxPool2d", {"kernel_size": 2}), ("flatten", "Flatten", {}),
             ("fc", "Linear", {"out_features": 10}), ("output", "Output", {})]
    project = cnn_project(training)
    return project | {"nodes": [{"id": i, "type": t, "params": p, "pos": [0, 0]} for i, t, p in nodes],
                      "edges": [{"source": a[0], "target": b[0]} for a, b in zip(nodes, nodes[1:])]}


def test_the_plan_times_it_in_place_of_the_strided_pool_where_a_chain_qualifies(tmp_path):
    from studio import load_project
    from studio.training.trainer import Trainer

    from .conftest import write_project

    trainer = Trainer.from_project(load_project(write_project(tmp_path, lenet_project({}))))
    plan = plan_for(trainer.model)
    assert "conv_pool" in plan.candidates and "strided_pool" not in plan.candidates
    bn = Trainer.from_project(load_project(write_project(tmp_path, cnn_project({}), "bn.json"))).model
    assert "conv_pool" not in plan_for(bn).candidates and "strided_pool" in plan_for(bn).candidates
    assert plan_for(bn, {"fast_path": "conv_pool"}).candidates == ["eager"]
    assert "no stride-1 Conv2d" in plan_for(bn, {"fast_path": "conv_pool"}).reasons["conv_pool"]


def test_training_with_it_reaches_the_eager_loss(tmp_path, monkeypatch):
    choose(monkeypatch)  # fused whatever the timing says here
    fused = []
    real = conv_pool.conv_max_pool
    monkeypatch.setattr(conv_pool, "conv_max_pool", lambda *a: fused.append(1) or real(*a))
    trainer, _, result = run(tmp_path, lenet_project({"epochs": 2, "fast_path": "conv_pool"}), "a.json")
    _, _, off = run(tmp_path, lenet_project({"epochs": 2, "fast_path": "off"}), "b.json")
    assert trainer.step_fn.name == "eager+fused+relu-after-pool+conv-pool"
    assert len(fused) == len(result.history) * -(-1797 // 32)  # every step (digits: 1,797 samples)
    for mine, plain in zip(result.history, off.history):
        assert mine["loss"] == pytest.approx(plain["loss"], abs=1e-4)
    assert not any("forward" in m.__dict__ for m in trainer.model.modules())  # removed when fit ended


def test_under_bf16_autocast_it_computes_what_bf16_convolution_then_pooling_does():
    """The bf16 variant (channels-last) fuses too, where it times faster: the same bf16 numbers up to
    bf16 rounding of another summation order."""
    x = torch.randn(4, 3, 16, 16).contiguous(memory_format=torch.channels_last)
    w = torch.randn(6, 3, 5, 5).contiguous(memory_format=torch.channels_last)
    b = torch.randn(6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (y_ref, *ref), (y, *got) = both(x, w, b, (0, 0))
    assert y.dtype == y_ref.dtype == torch.bfloat16
    close(y.float(), y_ref.float(), rel=2e-2)
    for g, want in zip(got, ref):
        close(g, want, rel=2e-2)


def test_the_log_names_the_fused_layers_and_a_trial_that_fused_none_is_not_called_fused(tmp_path, monkeypatch):
    choose(monkeypatch, "fused")
    trainer, rec, _ = run(tmp_path, lenet_project({"fast_path": "conv_pool"}), "a.json")
    (notice,) = [n.message for n in rec.of("notice") if n.message.startswith("fast path:")]
    assert "fused: conv" in notice, notice
    choose(monkeypatch, "plain")  # slower fused here: the variant is the strided pool alone
    trainer, rec, _ = run(tmp_path, lenet_project({"fast_path": "conv_pool"}), "b.json")
    (notice,) = [n.message for n in rec.of("notice") if n.message.startswith("fast path:")]
    assert trainer.step_fn.name == "eager+fused+relu-after-pool+strided-pool"
    assert "fused:" not in notice and "stride-2 convolution" not in notice, notice


def test_each_chain_is_timed_once_per_application_of_its_variant(tmp_path, monkeypatch):
    from studio.training.fastpath import FastStep

    calls = choose(monkeypatch, "fused")
    monkeypatch.setattr(FastStep, "_finish", lambda self: self._choose("conv_pool"))  # whatever the timing says
    trainer, _, _ = run(tmp_path, lenet_project({"epochs": 2, "fast_path": "auto"}), "a.json")
    assert trainer.step_fn.name == "eager+fused+relu-after-pool+conv-pool"
    assert {"conv_pool", "channels_last"} <= set(trainer.step_fn.times), trainer.step_fn.reasons
    # in the conv_pool trial, in the channels-last one, and once more when conv_pool is put on to win
    assert len(calls) == 3


def test_a_chain_settles_on_the_majority_of_its_probes(monkeypatch):
    answers = iter([("plain", 0.1), ("fused", 0.2), ("fused", 0.1)])
    calls = []
    monkeypatch.setattr(conv_pool, "faster", lambda conv, x: calls.append(1) or next(answers))
    model = traced()
    model.train()
    x = torch.randn(4, 3, 16, 16)
    votes = {}
    for _ in range(conv_pool.PROBES + 2):  # a variant put on and taken off, as the trials and rounds do
        conv_pool.install(model, votes)
        model(x)
        votes = conv_pool.votes(model)
        conv_pool.remove(model)
    assert len(calls) == conv_pool.PROBES  # one probe per application, then settled
    assert conv_pool.choices(model, votes) == {model.conv: "fused"}
    assert conv_pool.majority([("plain", 0.1), ("fused", 0.3)]) == "plain"  # a tie: the first probe


def test_each_pool_is_timed_once_per_trial_and_not_again_when_its_variant_wins(tmp_path, monkeypatch):
    from studio.training.fastpath import FastStep

    choose(monkeypatch, "plain")  # the chain unfused: its pool computes, and times itself
    timed = []
    monkeypatch.setattr(pooling, "faster", lambda x: timed.append(tuple(x.shape)) or "strided")
    tried = []
    real_choose = FastStep._choose
    monkeypatch.setattr(FastStep, "_finish", lambda self: (tried.append(set(self.times)), real_choose(self, "conv_pool")))
    trainer, _, _ = run(tmp_path, lenet_project({"epochs": 2, "fast_path": "auto"}), "a.json")
    assert trainer.step_fn.name == "eager+fused+relu-after-pool+strided-pool"
    pooled = {"strided_pool", "conv_pool", "channels_last"} & tried[0]
    assert len(pooled) >= 2, tried  # the variants that install the timed pool, each tried once
    assert len(timed) == len(pooled)  # once in each of their trials, not again after conv_pool won


def test_a_variant_whose_chain_timed_close_has_a_twin_the_other_way_round(monkeypatch):
    from studio.training.fastpath.variants import EagerVariant
    from studio.training.step import EagerStep

    x, y = torch.randn(4, 3, 16, 16), torch.randint(0, 4, (4,))
    for gap, twinned in ((conv_pool.CONTESTED / 2, True), (conv_pool.CONTESTED * 2, False)):
        calls = choose(monkeypatch, "fused", gap)
        model = traced()
        model.train()
        eager = EagerStep(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()), device=torch.device("cpu"))
        variant = EagerVariant(eager, "conv_pool")  # a trial: on, one step, off
        variant(x, y)
        variant.undo()
        twin = variant.alternative()
        assert (twin is not None) == twinned
        if not twinned:
            continue
        assert twin.name == "conv_pool" and variant.detail() == "fused: conv" and twin.detail() == ""
        for step, way in ((twin, "plain"), (variant, "fused"), (twin, "plain")):  # the rounds' blocks
            step.apply()
            step(x, y)
            assert conv_pool.choices(model) == {model.conv: way}
            step.undo()
        assert len(calls) == 1  # both settled on their ways: the rounds time them, not the probe
        assert twin.label == "strided_pool"  # nothing fused: not called fused
