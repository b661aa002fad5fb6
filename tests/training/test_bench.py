"""`python -m studio bench train`: the trainer keeps up with a hand-written loop (ratio >= 0.95)."""
from __future__ import annotations

import argparse
import json

import pytest


@pytest.mark.slow
def test_bench_train_quick_json(capsys):
    from studio.bench import train as bench

    rc = bench.run(argparse.Namespace(device="cpu", json=True, quick=True))
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    cases = {c["model"]: c for c in report["cases"]}
    assert set(cases) == {"mlp", "lenet", "transformer"}
    for name, c in cases.items():
        assert c["trainer"] > 0 and c["plain"] > 0 and c["ratio"] == pytest.approx(c["ratio"])
        attempts = [c["ratio"]]
        while c["ratio"] < 0.95 and len(attempts) < 3:  # shared machines are noisy: measure again before judging
            c = bench.bench_case(name, "cpu", quick=True)
            attempts.append(c["ratio"])
        assert c["ratio"] >= 0.95, (name, attempts, c)


def test_bench_cases_build_and_both_loops_train_the_same_model():
    import torch

    from studio.bench.train import CASES, make_case, run_plain, run_trainer

    for name in CASES:
        model, dataset, batch = make_case(name, "cpu", 64)
        out = model(dataset.x[:2])
        assert out.shape == (2, dataset.info.num_classes)
    model, dataset, batch = make_case("mlp", "cpu", 256)
    before = [p.clone() for p in model.parameters()]
    assert run_trainer(model, dataset, 64, 1, "cpu") > 0 and run_plain(model, dataset, 64, 1, "cpu") > 0
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # each loop trains its own copy
