"""`python -m studio bench train`: the trainer keeps up with a hand-written loop (ratio >= 0.95), and
the report carries every variant, figure and ratio."""
from __future__ import annotations

import argparse
import json

import pytest
import torch


@pytest.mark.slow
def test_bench_train_quick_json(capsys):
    from studio.bench import train as bench

    threads = torch.get_num_threads()
    try:
        rc = bench.run(argparse.Namespace(device="cpu", json=True, quick=True))  # sets one thread
    finally:
        torch.set_num_threads(threads)
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report["device"] == "cpu" and report["nproc"] >= 1 and report["cpu"]
    cases = {c["model"]: c for c in report["cases"]}
    assert set(cases) == {"mlp", "lenet", "transformer"}
    for name, c in cases.items():
        variants = c["variants"]
        assert c["trainer"] > 0 and c["plain"] > 0 and variants["fused_adam"]["rate"] > 0
        assert variants["trainer"]["ratio"] == pytest.approx(c["ratio"])
        # the default trainer times channels-last and the strided pool where they apply (issue 19)
        # (LeNet's ReLU -> max-pool pairs run as pool -> ReLU in every CPU step: relu_pool.py,
        # and the Transformer's dropouts draw PyTorch's masks in bulk: dropout.py)
        from studio.training.fastpath.dropout import exact_masks_here

        bulk = "+bulk-dropout" if exact_masks_here() else ""  # not on an Intel CPU, where MKL draws them
        swap = {"lenet": "+relu-after-pool", "transformer": bulk}.get(name, "")
        picks = tuple(f"eager+fused{swap}{v}" for v in ("", "+channels-last", "+strided-pool", "+conv-pool"))
        assert c["trainer_path"] in picks and c["threads"] == 1
        assert (variants["channels_last"]["rate"] or 0) > 0 if name == "lenet" else \
            variants["channels_last"]["note"] == "n/a (no convolutions)"
        assert variants["fast"]["note"] == "skipped (--quick)" and variants["cuda_graph"]["note"] == "n/a (needs CUDA)"
        assert c["trainer_vs_best_float32"]["ratio"] > 0
        attempts = [c["ratio"]]
        while c["ratio"] < 0.95 and len(attempts) < 3:  # shared machines are noisy: measure again before judging
            c = bench.bench_case(name, "cpu", quick=True)
            attempts.append(c["ratio"])
        assert c["ratio"] >= 0.95, (name, attempts, c)


@pytest.mark.slow
def test_references_that_need_cuda_are_listed_not_faked():
    from studio.bench import train as bench
    from studio.training.fastpath.variants import cpu_bf16_hardware

    model, dataset, batch = bench.make_case("mlp", "cpu", 512)
    runners, notes, extra = bench._variants("mlp", model, dataset, 256, "cpu", quick=False)
    assert {v: notes[v] for v in bench.NEEDS_CUDA} == {v: "n/a (needs CUDA)" for v in bench.NEEDS_CUDA}
    bf16 = {"trainer_bf16", "bf16_autocast", "bf16_matmul"}
    assert set(runners) == {"plain", "trainer", "fast", "fused_adam"} | \
        (set() if cpu_bf16_hardware() else bf16)
    if cpu_bf16_hardware():  # a clear note where the CPU has no bf16 hardware
        assert all(notes[v].startswith("n/a (this CPU has no bf16") for v in bf16)
    assert runners["fused_adam"](1) > 0 and runners["fast"](1) > 0
    assert extra["fast"]["path"] in ("eager+fused", "compile")  # "thorough" times compile on the CPU too


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bench_quick_on_cuda_times_the_graph_reference():
    from studio.bench import train as bench

    case = bench.bench_case("mlp", "cuda", quick=True)
    assert case["variants"]["cuda_graph"]["rate"] > 0 and case["fast"] > 0
    assert case["ratio"] >= 1.0, case  # the default is at least the plain loop on a GPU


def test_bench_cases_build_and_both_loops_train_the_same_model():
    from studio.bench.train import CASES, make_case, run_plain, run_trainer

    for name in CASES:
        model, dataset, batch = make_case(name, "cpu", 64)
        out = model(dataset.x[:2])
        assert out.shape == (2, dataset.info.num_classes)
    model, dataset, batch = make_case("mlp", "cpu", 256)
    before = [p.clone() for p in model.parameters()]
    assert run_trainer(model, dataset, 64, 1, "cpu") > 0 and run_plain(model, dataset, 64, 1, "cpu") > 0
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # each loop trains its own copy


@pytest.mark.slow
def test_bench_train_shows_which_case_and_round_on_stderr(capsys, monkeypatch):
    from studio.bench import train as bench
    from studio.cli import main

    monkeypatch.setattr(bench, "QUICK_CASES", ("mlp",))
    threads = torch.get_num_threads()
    try:
        assert main(["bench", "train", "--quick", "--json"]) == 0
    finally:
        torch.set_num_threads(threads)
    out, err = capsys.readouterr()
    case = json.loads(out)["cases"][0]  # stdout stays one JSON object
    assert case["model"] == "mlp"
    lines = err.splitlines()
    assert "bench train: case 1/1 mlp: warming up trainer (selection, compiling; untimed)" in lines
    rounds = [line for line in lines if line.startswith("bench train: case 1/1 mlp: round ")]
    # 4 to 6 rounds (fewer when the ratios' IQR is already tight), a line each with what is left
    assert 4 <= case["rounds"] <= 6 and len(rounds) == case["rounds"]
    assert [line.split("round ")[1].split(" ")[0] for line in rounds] == [f"{r}/6" for r in range(1, len(rounds) + 1)]
    assert all(line.endswith(" s left in this case)") and "about " in line for line in rounds)
    assert lines[-1].startswith("mlp          trainer x")
