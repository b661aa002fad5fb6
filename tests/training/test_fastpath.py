"""The trainer's fast path (issue 7): candidate selection by timing (a fake clock), fallbacks with
their reasons, the partial last batch, stop within one step, numerics equal to the plain loop."""
from __future__ import annotations

import pytest
import torch

from studio import load_project
from studio.training.config import parse_config
from studio.training.events import TrainerListener
from studio.training.fastpath import CandidateFailed, FastStep, plan_fast_path
from studio.training.trainer import Trainer

from .conftest import Recorder, chain_project, mlp_project, write_project


def make(tmp_path, record) -> Trainer:
    return Trainer.from_project(load_project(write_project(tmp_path, record)))


# ---- selection by timing, with a fake clock ------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0
        self.factor = 1.0  # the machine's speed: every step costs this much more (a slow spell: > 1)

    def __call__(self):
        return self.now


class FakeStep:
    """A step that costs `cost` seconds of the fake clock per call and records the batches it saw."""

    def __init__(self, name, clock, cost, fail_at=None):
        self.name, self.clock, self.cost, self.fail_at = name, clock, cost, fail_at
        self.batches = []
        self.scaler = None

    def __call__(self, x, t):
        if self.fail_at is not None and len(self.batches) == self.fail_at:
            raise CandidateFailed(f"{self.name} broke")
        self.batches.append(int(x[0, 0]))
        self.clock.now += self.cost * self.clock.factor
        return torch.tensor(0.0), x

    def state_dict(self):
        return {}


def fast_step(costs, clock, *, fail=None, notify=None, **kw):
    eager = FakeStep("eager", clock, costs["eager"])
    built = {}

    def factory(name):
        def build():
            built[name] = FakeStep(name, clock, costs[name], fail_at=(fail or {}).get(name))
            return built[name]
        return build

    factories = {name: factory(name) for name in costs if name != "eager"}
    step = FastStep(eager, factories, list(costs), timer=clock, warm=2, timed=4, notify=notify, **kw)
    return step, eager, built


def batch(i, n=8):
    return torch.full((n, 3), float(i)), torch.zeros(n, dtype=torch.long)


def test_selection_times_each_candidate_on_real_batches_and_keeps_the_fastest():
    clock, notes = Clock(), []
    step, eager, built = fast_step({"eager": 1.0, "cuda_graph": 0.2, "compile": 0.5}, clock, notify=notes.append)
    assert step.name.startswith("timing eager")
    for i in range(30):
        step(*batch(i))
    # each trial trains real consecutive batches: 6 each, in order, nothing repeated or skipped
    assert eager.batches == list(range(0, 6))
    assert built["cuda_graph"].batches[:6] == list(range(6, 12))
    assert built["compile"].batches == list(range(12, 18))
    assert built["cuda_graph"].batches[6:] == list(range(18, 30))  # the winner trains the rest
    assert step.name == "cuda_graph" and step.times == pytest.approx({"eager": 1.0, "cuda_graph": 0.2, "compile": 0.5})
    assert "compiling takes a few seconds" in notes[0]  # before the compile trial's warm-up
    assert len(notes) == 2 and notes[1].startswith("fast path: cuda_graph; per step cuda_graph 200.00 ms")


def test_a_candidate_within_the_noise_of_eager_loses_to_eager():
    clock = Clock()
    step, eager, built = fast_step({"eager": 1.0, "compile": 0.99}, clock)
    for i in range(20):
        step(*batch(i))
    assert step.name == "eager" and eager.batches[-1] == 19


def test_failing_candidate_falls_back_to_eager_for_that_batch_and_says_why():
    clock, notes = Clock(), []
    step, eager, built = fast_step({"eager": 1.0, "compile": 0.1}, clock, fail={"compile": 1}, notify=notes.append)
    for i in range(12):
        step(*batch(i))
    assert step.name == "eager"
    assert built["compile"].batches == [6]  # it trained one batch, then failed on the next ...
    assert 7 in eager.batches  # ... which eager trained instead: no batch is lost or trained twice
    assert sorted(eager.batches + built["compile"].batches) == list(range(12))
    assert "compile (compile broke)" in notes[-1]


def test_partial_last_batch_runs_eagerly_and_the_static_shape_path_never_sees_it():
    clock = Clock()
    step, eager, built = fast_step({"eager": 1.0, "cuda_graph": 0.1}, clock)
    for epoch in range(3):
        for i in range(5):
            step(*batch(100 * epoch + i))
        step(*batch(100 * epoch + 99, n=3))  # the partial last batch of the epoch
    assert step.name == "cuda_graph"
    assert all(b % 100 != 99 for b in built["cuda_graph"].batches)
    assert [b for b in eager.batches if b % 100 == 99] == [99, 199, 299]


def test_compile_is_tried_only_when_the_run_repays_its_warm_up():
    clock = Clock()
    short, _, built = fast_step({"eager": 0.01, "compile": 0.001}, clock, total_steps=1000, compile_min_run_s=300)
    for i in range(20):
        short(*batch(i))
    assert short.name == "eager" and "compile" not in built
    assert "too short to repay" in short.reasons["compile"]
    clock = Clock()
    notices = []
    long, _, built = fast_step({"eager": 0.01, "compile": 0.001}, clock, total_steps=10**6, compile_min_run_s=300,
                               notify=notices.append)
    for i in range(20):
        long(*batch(i))
    assert long.name == "compile"
    assert "compiling takes a few seconds" in notices[0]  # said before the uninterruptible warm-up


def test_a_single_eager_candidate_is_chosen_without_timing():
    clock = Clock()
    step, eager, _ = fast_step({"eager": 1.0}, clock)
    assert step.name == "eager" and step.chosen == "eager"
    step(*batch(0))
    assert step.times == {}


# ---- the plan: what may run where, and why not ----------------------------------------------------
def plan_for(model, device, training=None, **kw):
    config = parse_config({"dataset": "moons", **(training or {})})
    return plan_fast_path(model, config, torch.device(device), **kw)


def test_cpu_plan_fuses_the_optimizer_and_says_why_there_is_no_graph_or_compile():
    plan = plan_for(torch.nn.Linear(2, 2), "cpu")
    # compile is timed on the CPU only when the eager run would repay its warm-up (issue 19)
    assert plan.candidates == ["eager", "compile"] and plan.optimizer_kwargs == {"fused": True}
    assert plan.compile_min_run_s == 600
    assert "CUDA graphs need a CUDA device" in plan.reasons["cuda_graph"]
    assert plan_for(torch.nn.Linear(2, 2), "cpu", {"fast_path": "thorough"}).candidates == ["eager", "compile"]
    assert plan_for(torch.nn.Linear(2, 2), "cpu", {"fast_path": "cuda_graph"}).candidates == ["eager"]
    off = plan_for(torch.nn.Linear(2, 2), "cpu", {"fast_path": "off"})
    assert off.candidates == [] and off.optimizer_kwargs == {}


def test_cuda_plan_excludes_capture_where_it_cannot_work():
    # planning only inspects the model and the config, so this runs without a GPU
    lstm = torch.nn.Sequential(torch.nn.LSTM(2, 4))
    mlp = torch.nn.Sequential(torch.nn.Linear(2, 4))
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))
    plan = plan_for(mlp, "cuda")
    assert plan.candidates == ["eager", "cuda_graph", "compile", "compile_cuda_graph"]
    assert plan.optimizer_kwargs == {"fused": True, "capturable": True} and not plan.tensor_lr
    assert plan.compile_min_run_s > 0 and plan_for(mlp, "cuda", {"fast_path": "thorough"}).compile_min_run_s == 0
    assert "recurrent layers" in plan_for(lstm, "cuda").reasons["cuda_graph"]
    assert "host" in plan_for(mlp, "cuda", {"optimizer": {"type": "Adagrad"}}).reasons["cuda_graph"]
    assert "gradient scaler" in plan_for(mlp, "cuda", scaler=True).reasons["cuda_graph"]
    assert "DDP" in plan_for(mlp, "cuda", distributed=True).reasons["cuda_graph"]
    assert "momentum" in plan_for(mlp, "cuda", {"schedule": {"type": "OneCycleLR"}}).reasons["cuda_graph"]
    assert plan_for(mlp, "cuda", {"schedule": {"type": "StepLR"}}).tensor_lr  # schedules reach the graph
    assert plan_for(conv, "cuda").channels_last and not plan_for(conv, "cpu").channels_last
    assert plan_for(lstm, "cuda", {"fast_path": "cuda_graph"}).candidates == ["eager"]


def test_bad_fast_path_value_names_the_field():
    from studio.training.errors import TrainingError

    with pytest.raises(TrainingError, match="training.fast_path must be one of auto, thorough, off"):
        parse_config({"dataset": "moons", "fast_path": "fastest"})
    assert parse_config({"dataset": "moons", "fast_path": False}).fast_path == "off"


# ---- end to end on the CPU -------------------------------------------------------------------------
def _run(tmp_path, fast_path, **training):
    base = {"epochs": 2, "batch_size": 48, "split": {"val": 0.0}, "fast_path": fast_path}  # 320 samples: partial batch
    base.update(training)
    trainer = make(tmp_path, mlp_project(training=base))
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert result.status == "finished", result.message
    return trainer, rec, result


def test_default_path_on_cpu_is_reported_and_trains_like_the_plain_loop(tmp_path):
    trainer, rec, result = _run(tmp_path, "auto", schedule={"type": "StepLR", "step_size": 1})
    _, _, plain = _run(tmp_path, "off", schedule={"type": "StepLR", "step_size": 1})
    assert rec.of("started")[0].step_path == "eager+fused"
    assert trainer.optimizer.param_groups[0]["fused"] is True
    assert any("CUDA graphs need a CUDA device" in n.message for n in rec.of("notice"))
    assert result.history[-1]["loss"] == pytest.approx(plain.history[-1]["loss"], rel=1e-4)


def test_resume_keeps_this_runs_optimizer_implementation(tmp_path):
    trainer, _, _ = _run(tmp_path, "off", epochs=1)
    path = tmp_path / "ckpt.pt"
    torch.save(trainer.checkpoint_state(), path)
    resumed = make(tmp_path, mlp_project(training={"epochs": 2, "fast_path": "auto", "split": {"val": 0.0}}))
    resumed.load_checkpoint(path)
    assert resumed.fit().status == "finished"
    assert resumed.optimizer.param_groups[0]["fused"] is True


def test_compile_failure_falls_back_to_eager_with_the_reason(tmp_path, monkeypatch):
    from studio.training.fastpath import candidates

    def broken_compile(module, **kw):
        def run(*a):
            raise RuntimeError("inductor exploded")
        return run

    monkeypatch.setattr(candidates.torch, "compile", broken_compile)
    trainer, rec, result = _run(tmp_path, "compile")
    _, _, plain = _run(tmp_path, "off")
    notes = " ".join(n.message for n in rec.of("notice"))
    assert trainer.step_fn.name == "eager+fused" and "compile (torch.compile failed (RuntimeError: inductor exploded))" in notes
    assert result.history[-1]["loss"] == pytest.approx(plain.history[-1]["loss"], rel=1e-4)  # no batch lost


class StopAt(TrainerListener):
    def __init__(self, trainer, step):
        self.trainer, self.at = trainer, step

    def on_step(self, e):
        if e.global_step == self.at:
            self.trainer.stop()


@pytest.mark.parametrize("fast_path", ["auto", "thorough"])
def test_stop_acts_within_one_step_on_the_fast_path(tmp_path, fast_path, monkeypatch):
    from studio.training.fastpath import candidates

    # the thorough path times a compiled candidate; a stand-in compile keeps this test fast
    monkeypatch.setattr(candidates.torch, "compile", lambda module, **kw: module)
    trainer = make(tmp_path, mlp_project(training={"epochs": 50, "report_interval": 1e-9, "fast_path": fast_path}))
    trainer.add_listener(StopAt(trainer, 9))  # mid-selection for "thorough" (warm 3 + timed 10 per candidate)
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert result.status == "stopped" and trainer.global_step == 9
    assert rec.of("stopped")[0].step == 9


def test_nan_is_caught_on_the_fast_path(tmp_path):
    trainer = make(tmp_path, mlp_project(training={"optimizer": {"type": "SGD", "lr": 1e30}, "epochs": 3}))
    rec = Recorder()
    trainer.add_listener(rec)
    result = trainer.fit()
    assert rec.of("started")[0].step_path == "eager+fused"
    assert result.status == "failed" and result.reason == "nan"


@pytest.mark.slow
def test_compiled_step_trains_to_the_same_loss_as_eager_on_the_cpu(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # compiles faster on a busy 2-core machine
    try:
        trainer, rec, result = _run(tmp_path, "compile", epochs=3)
        _, _, plain = _run(tmp_path, "off", epochs=3)
    finally:
        torch.set_num_threads(threads)
    assert trainer.step_fn.name == "compile", [n.message for n in rec.of("notice")]
    assert result.history[-1]["loss"] == pytest.approx(plain.history[-1]["loss"], rel=1e-3)
    assert result.history[-1]["accuracy"] == pytest.approx(plain.history[-1]["accuracy"], abs=0.01)


# ---- CUDA: run when a GPU is present ---------------------------------------------------------------
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@cuda
@pytest.mark.parametrize("schedule", [None, {"type": "StepLR", "step_size": 1, "gamma": 0.5}])
def test_cuda_graph_trains_to_the_same_loss_as_eager(tmp_path, schedule):
    extra = {"device": "cuda", "epochs": 3, "schedule": schedule}
    trainer, rec, result = _run(tmp_path, "cuda_graph", **extra)
    _, _, plain = _run(tmp_path, "off", **extra)
    assert trainer.step_fn.name == "cuda_graph", [n.message for n in rec.of("notice")]
    assert result.history[-1]["loss"] == pytest.approx(plain.history[-1]["loss"], rel=1e-3, abs=1e-4)
    assert result.history[-1]["lr"] == pytest.approx(plain.history[-1]["lr"])


@cuda
def test_cuda_auto_picks_a_path_by_timing_and_stop_still_acts(tmp_path):
    trainer, rec, result = _run(tmp_path, "auto", device="cuda", epochs=4)
    assert rec.of("started")[0].step_path.startswith("timing eager+fused, cuda_graph")
    assert any(n.message.startswith("fast path: ") for n in rec.of("notice"))
    assert trainer.step_fn.chosen in ("eager", "cuda_graph")  # compile: not tried on so short a run
    trainer = make(tmp_path, mlp_project(training={"epochs": 50, "report_interval": 1e-9, "device": "cuda",
                                                   "fast_path": "cuda_graph"}))
    trainer.add_listener(StopAt(trainer, 20))
    assert trainer.fit().status == "stopped" and trainer.global_step == 20


@cuda
def test_cuda_graph_falls_back_for_an_lstm(tmp_path):
    nodes = [("input", "Input", {"shape": [8, 1]}), ("lstm", "LSTM", {"hidden_size": 8}),
             ("last", "SequencePool", {}), ("fc", "Linear", {"out_features": 2}), ("output", "Output", {})]
    record = chain_project(nodes, {"dataset": {"name": "parity", "samples": 256, "seq_len": 8}, "epochs": 1,
                                   "device": "cuda", "fast_path": "cuda_graph"})
    trainer = make(tmp_path, record)
    rec = Recorder()
    trainer.add_listener(rec)
    assert trainer.fit().status == "finished"
    assert trainer.step_fn.name.startswith("eager")
    assert any("recurrent layers" in n.message for n in rec.of("notice"))


def test_a_pause_or_a_partial_batch_inside_a_timed_trial_is_left_out_of_its_time():
    clock = Clock()
    step, eager, built = fast_step({"eager": 1.0, "compile": 0.5}, clock)
    for i in range(4):
        step(*batch(i))  # eager: 2 warm + 2 of 4 timed
    clock.now += 100.0  # a pause between steps ...
    step.exclude(100.0)  # ... which the loop reports
    step(*batch(99, n=3))  # a partial batch inside the window (eager, 1.0 s)
    for i in range(4, 20):
        step(*batch(i))
    assert step.times["eager"] == pytest.approx(1.0) and step.name == "compile"


def test_checkpoints_carry_no_implementation_flags_and_load_into_any_path(tmp_path):
    trainer, _, _ = _run(tmp_path, "auto", epochs=1)
    state = trainer.checkpoint_state()
    assert not {"fused", "capturable", "foreach"} & set(state["optimizer"]["param_groups"][0])
    path = tmp_path / "ckpt.pt"
    torch.save(state, path)
    plain = make(tmp_path, mlp_project(training={"epochs": 2, "fast_path": "off", "split": {"val": 0.0}}))
    plain.load_checkpoint(path)
    assert plain.fit().status == "finished"
    assert not plain.optimizer.param_groups[0]["fused"]
