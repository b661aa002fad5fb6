"""`bench train --device cpu`: the CPU's variants (issue 19), beside studio/bench/train.py (the
cases, the rounds and the report) and train_runners.py (the loops)."""
from __future__ import annotations

import statistics

# the float32 references the trainer's pick is held against (issue 19: within 5% of the best)
FLOAT32 = ("fused_adam", "channels_last", "compile_model", "fast")


def cpu_variants(name, model0, dataset, batch, quick, progress):
    """The CPU's variants (issue 19). `trainer` is the default trainer's steady state after its
    selection by timing (a person's run of many epochs), `trainer_bf16` the same with
    training.precision "bf16"; `fast` times every candidate (compile included) in the full bench.
    compile_step and compile_model are left out on the CPU: each costs another cold compile per case
    (20-50 s here), compile_step lost to compile_model in every case measured (docs/performance.md),
    and `fast` times compile on the same batches."""
    import torch

    from studio.training.fastpath.variants import cpu_bf16_hardware

    from .train_runners import NEEDS_CUDA, FastRunner, Reference, _build, run_plain

    conv = any(isinstance(m, torch.nn.Conv2d) for m in model0.modules())
    runners = {"plain": lambda e: run_plain(model0, dataset, batch, e, "cpu")}
    notes = {v: "n/a (needs CUDA)" for v in NEEDS_CUDA}
    notes["compile_step"] = "not run on the CPU (lost to compile_model in every case measured)"
    extra = {}
    no_bf16 = cpu_bf16_hardware()
    wanted = ["trainer", "fused_adam"] + (["channels_last"] if conv else [])
    if not conv:
        notes["channels_last"] = "n/a (no convolutions)"
    bf16 = ["trainer_bf16", "bf16_autocast"] + ([] if conv else ["bf16_matmul"])
    if not quick:
        wanted += ["fast"] + ([] if no_bf16 else bf16)
    else:
        notes["fast"] = "skipped (--quick)"
    # compile's figure comes from `fast` (which times it, and keeps it where it wins): a second cold
    # compile per case for compile_model would cost the full suite 1-3 minutes on a 2-core CPU
    notes["compile_model"] = "not run on the CPU (fast times compile; its per-step time is in timed_ms)"
    for v in bf16:
        if quick:
            notes[v] = "skipped (--quick)"
        elif no_bf16:
            notes[v] = f"n/a ({no_bf16})"
    for v in wanted:
        progress(f"{name}: warming up {v} (selection, compiling; untimed)")

        def build(v=v):
            if v not in ("trainer", "trainer_bf16", "fast"):
                kind = {"bf16_autocast": "fused_adam"}.get(v, v)
                return Reference(kind, model0, dataset, batch, "cpu", bf16=v == "bf16_autocast"), {}
            # the default trainer as on a run under compile's gate (10 min eager): `fast` shows what
            # compile adds; FastRunner's open-ended run would otherwise always pass the gate
            runner = FastRunner(model0, dataset, batch, "cpu", "thorough" if v == "fast" else "auto",
                                precision="bf16" if v == "trainer_bf16" else "float32", compile_gate=v != "fast")
            step = runner.trainer.step_fn
            return runner, {"path": runner.path, "threads": step.threads,
                            "timed_ms": {k: t * 1e3 for k, t in getattr(step, "times", {}).items()},
                            "notes": [n for n in runner.notes if n.startswith("fast path")]}
        _build(v, build, runners, notes, extra)
    return runners, notes, extra


def vs_best_float32(rates: dict, rounds: int):
    """The trainer against the fastest float32 reference (the highest median rate), paired round by
    round so that drift cancels: the median and IQR of trainer / that reference, or None. Not against
    the fastest reference of each round: the maximum of several noisy figures is raised by the noise
    itself, and read the trainer as 5-8% behind a reference running its very path. Picking the best
    by median from the same rounds still leans low, by about 2% at this machine's noise (simulated in
    tests/training/test_bench_vs_best.py), against the bar's 5%."""
    from .train_runners import _quartiles

    f32 = [v for v in FLOAT32 if v in rates]
    if not f32 or "trainer" not in rates:
        return None
    best = max(f32, key=lambda v: statistics.median(rates[v]))
    per_round = [rates["trainer"][r] / rates[best][r] for r in range(rounds)]
    return {"ratio": statistics.median(per_round), "ratio_iqr": list(_quartiles(per_round)), "of": f32, "best": best}
