"""`python -m studio bench train [--device D] [--json] [--quick]`: the trainer against the loop most
people write by hand (tensor batches already on the device, a random permutation per epoch,
model(x), loss, zero_grad, backward, step) and against the hand-tuned variants of issue 7, on the same
model, the same data and the same device, in one run.

Variants per case (samples/s, each also as a ratio to the plain loop measured in the same round):
  plain             the hand-written loop (PyTorch's default Adam)
  trainer           Trainer.fit() with the default settings (training.fast_path "auto"), fresh each run
  fast              the trainer's fast path with every candidate timed (fast_path "thorough"), after its
                    selection: the steady state of one long run (train_epoch of a prepared Trainer)
  fast_bf16         the same with training.amp "bf16" (CUDA)
  fused_adam        the plain loop with Adam(fused=True)
  compile_model     the plain loop on torch.compile(model) (mode "reduce-overhead" on CUDA), fused Adam
  compile_step      torch.compile of the whole step, optimizer included ("reduce-overhead" on CUDA)
  cuda_graph        the whole step (forward, backward, capturable fused Adam) in one CUDA graph
  cuda_graph_bf16, compile_step_bf16   the same under bf16 autocast
Variants that cannot run on the device are listed as "n/a (needs CUDA)"; compiled variants are
compiled once (warm-up, not timed) and reused. Rounds are interleaved, the order rotating each round,
so drift and noisy neighbours hit every variant alike; a ratio is the median of the per-round ratios,
with its interquartile range. Only training is timed, never building the model or the optimizer.
On the CPU every variant runs with freed host memory kept for reuse (the trainer's allocator setting,
studio/training/allocator.py, process-wide): set before anything is timed, so it favours no variant;
and every timed run starts after a garbage collection (untimed), whatever the previous variant left.
`--quick` runs three cases (MLP, LeNet, Transformer), the trainer and its fast path (on CUDA also fused
Adam and the CUDA graph), short repeats, on one CPU thread (for tests on shared machines).
"""
from __future__ import annotations

import gc
import json
import statistics

from .train_runners import (NEEDS_CUDA, REFERENCES, FastRunner, Reference, _build, _quartiles, _spread,
                            run_plain, run_trainer)

CASES = {
    # name: (nodes as (id, type, params), input shape, input dtype, classes, batch size)
    "mlp": ([("input", "Input", {"shape": [1, 28, 28]}), ("flatten", "Flatten", {}),
             ("fc1", "Linear", {"out_features": 128}), ("relu", "ReLU", {}),
             ("fc2", "Linear", {"out_features": 10}), ("output", "Output", {})], 256),
    "lenet": ([("input", "Input", {"shape": [3, 32, 32]}),
               ("conv1", "Conv2d", {"out_channels": 6, "kernel_size": 5}), ("relu1", "ReLU", {}),
               ("pool1", "MaxPool2d", {"kernel_size": 2}),
               ("conv2", "Conv2d", {"out_channels": 16, "kernel_size": 5}), ("relu2", "ReLU", {}),
               ("pool2", "MaxPool2d", {"kernel_size": 2}), ("flatten", "Flatten", {}),
               ("fc1", "Linear", {"out_features": 120}), ("relu3", "ReLU", {}),
               ("fc2", "Linear", {"out_features": 84}), ("relu4", "ReLU", {}),
               ("fc3", "Linear", {"out_features": 10}), ("output", "Output", {})], 256),
    "transformer": ([("tokens", "Input", {"shape": [64], "dtype": "int64"}),
                     ("embed", "Embedding", {"num_embeddings": 20, "embedding_dim": 128}),
                     ("posenc", "PositionalEncoding", {}),
                     ("encoder1", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 512}),
                     ("encoder2", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 512}),
                     ("pool", "SequencePool", {}), ("classifier", "Linear", {"out_features": 4}),
                     ("output", "Output", {})], 64),
    "cnn_bn": ([("input", "Input", {"shape": [3, 32, 32]}),
                ("conv1", "Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
                ("bn1", "BatchNorm2d", {}), ("relu1", "ReLU", {}), ("pool1", "MaxPool2d", {"kernel_size": 2}),
                ("conv2", "Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}),
                ("bn2", "BatchNorm2d", {}), ("relu2", "ReLU", {}), ("pool2", "MaxPool2d", {"kernel_size": 2}),
                ("conv3", "Conv2d", {"out_channels": 64, "kernel_size": 3, "padding": 1}),
                ("bn3", "BatchNorm2d", {}), ("relu3", "ReLU", {}),
                ("gap", "AdaptiveAvgPool2d", {"output_size": 1}), ("flatten", "Flatten", {}),
                ("fc", "Linear", {"out_features": 10}), ("output", "Output", {})], 256),
}
QUICK_CASES = ("mlp", "lenet", "transformer")
ACCEPTANCE = ("trainer", "trainer_bf16")  # the ratios whose spread decides whether more rounds help
TIGHT_IQR = 0.08  # an interquartile range of the per-round ratios this narrow: more rounds move the median little


def _iqr_width(values) -> float:
    lo, hi = _quartiles(values)
    return hi - lo


def build_graph(nodes):
    from studio.core.graph import Graph

    g = Graph()
    prev = None
    for node_id, type_name, params in nodes:
        g.add_node(type_name, params, node_id=node_id)
        if prev is not None:
            g.connect(prev, node_id)
        prev = node_id
    return g


def make_case(name: str, device, samples: int):
    import torch

    from studio.core.analysis import analyze
    from studio.core.compiler import compile_graph, signature
    from studio.training.datasets.base import classification

    nodes, batch = CASES[name]
    graph = build_graph(nodes)
    analysis = analyze(graph)
    if not analysis.ok:
        raise RuntimeError(f"bench case {name}: " + "; ".join(p.line() for p in analysis.errors))
    sig = signature(analysis)
    (_, in_type), (_, out_type) = sig.inputs[0], sig.outputs[0]
    classes = out_type.shape[0]
    torch.manual_seed(0)
    model = compile_graph(graph, analysis=analysis)
    g = torch.Generator().manual_seed(0)
    if in_type.is_float:
        x = torch.randn(samples, *in_type.shape, generator=g)
    else:
        x = torch.randint(0, 20, (samples, *in_type.shape), generator=g)
    y = torch.randint(0, classes, (samples,), generator=g)
    dataset = classification(name, f"random data for the {name} benchmark", x, y, [str(i) for i in range(classes)])
    return model, dataset, batch


def _variants(name: str, model0, dataset, batch: int, device: str, quick: bool, progress=None):
    """name -> runner(epochs) -> samples/s, and name -> note for the variants not run."""
    progress = progress or (lambda text: None)
    cuda = device.startswith("cuda")
    if device == "cpu":
        from .train_cpu import cpu_variants

        return cpu_variants(name, model0, dataset, batch, quick, progress)
    runners = {"plain": lambda e: run_plain(model0, dataset, batch, e, device),
               "trainer": lambda e: run_trainer(model0, dataset, batch, e, device)}
    notes, extra = {}, {}
    wanted = ["fast", "fast_bf16", *REFERENCES]
    if quick:
        wanted = ["fast"] + ([] if not cuda else ["fused_adam", "cuda_graph"])
        for v in ("fast_bf16", *REFERENCES):
            if v not in wanted:
                notes[v] = "skipped (--quick)"
    for v in wanted:
        if v in NEEDS_CUDA and not cuda:
            notes[v] = "n/a (needs CUDA)"
            continue
        progress(f"{name}: warming up {v} (compiling or capturing, untimed)")

        def build(v=v):
            if v not in ("fast", "fast_bf16"):
                return Reference(v.removesuffix("_bf16"), model0, dataset, batch, device, bf16=v.endswith("_bf16")), {}
            runner = FastRunner(model0, dataset, batch, device, "auto" if quick else "thorough",
                                amp="bf16" if v == "fast_bf16" else False)
            return runner, {"path": runner.path, "notes": [n for n in runner.notes if n.startswith("fast path")]}
        _build(v, build, runners, notes, extra)
    return runners, notes, extra


def bench_case(name: str, device: str, quick: bool, progress=None) -> dict:
    """progress(text): where the case is (warm-ups, rounds, about how long is left), for the person
    waiting."""
    import time

    import torch

    progress = progress or (lambda text: None)
    target_s = 0.15 if quick else 0.25  # seconds per timed plain run
    # rounds: at least `fewest` (a median and an IQR), then more only while the acceptance ratios'
    # IQR is wider than TIGHT_IQR (past that, more rounds move the median little; --quick under a minute)
    fewest, most = (4, 6) if quick else (5, 7)
    # the CPU's full suite keeps under 5 minutes: 4 Transformer steps (about 1 s at one thread) a run
    samples = {"mlp": 4096, "lenet": 512, "transformer": 128}.get(name, 512) if quick else \
        {"transformer": 2048 if device != "cpu" else 256, "cnn_bn": 2048 if device != "cpu" else 1024}.get(name, 4096)
    model0, dataset, batch = make_case(name, device, samples)
    runners, notes, extra = _variants(name, model0, dataset, batch, device, quick, progress)
    progress(f"{name}: calibrating")
    # calibrate epochs so one plain run lasts about target_s (this also warms up both loops)
    rate = runners["plain"](1)
    runners["trainer"](1)
    epochs = max(1, round(target_s * rate / len(dataset)))
    names = list(runners)
    rates = {v: [] for v in names}
    ratios = {v: [] for v in names if v != "plain"}
    paths = []
    # before the first round the estimate is every variant running as long as the plain loop
    per_round = len(names) * epochs * len(dataset) / rate
    t_rounds = time.perf_counter()
    for r in range(most):  # the order rotates each round: drift and position effects cancel
        if r:
            per_round = (time.perf_counter() - t_rounds) / r
        progress(f"{name}: round {r + 1}/{most} ({len(names)} variants, {epochs} epochs each; "
                 f"about {per_round * (most - r):.0f} s left in this case)")
        order = names[r % len(names):] + names[:r % len(names)]
        if r % 2:
            order.reverse()
        got = {}
        for v in order:
            # the previous run's cyclic garbage (a deep-copied fx model, its gradients) is collected
            # first, untimed: left for later, it fragments the heap the next run (of any variant)
            # allocates from, or its collection lands inside that run's timing
            gc.collect()
            got[v] = runners[v](epochs)
            if v == "trainer":
                paths.append(getattr(runners[v], "path", None) or run_trainer.last_path)
        for v in names:
            rates[v].append(got[v])
            if v != "plain":
                ratios[v].append(got[v] / got["plain"])
        if r + 1 >= fewest and all(_iqr_width(ratios[v]) <= TIGHT_IQR for v in ACCEPTANCE if v in ratios):
            break
    rounds = len(rates["plain"])
    variants = {}
    for v in names:
        entry = {"rate": statistics.median(rates[v]), "spread": _spread(rates[v])}
        if v != "plain":
            lo, hi = _quartiles(ratios[v])
            entry.update(ratio=statistics.median(ratios[v]), ratio_iqr=[lo, hi])
        entry.update(extra.get(v, {}))
        variants[v] = entry
    for v, note in notes.items():
        variants[v] = {"rate": None, "note": note}
    # the CPU's bar (issue 19): the trainer's pick against the best float32 candidate, paired by round
    from .train_cpu import vs_best_float32

    vs_f32 = vs_best_float32(rates, rounds) if device == "cpu" else None
    refs = {v: variants[v]["rate"] for v in REFERENCES if variants.get(v, {}).get("rate")}
    best = max(refs, key=refs.get) if refs else None
    fast = variants.get("fast", {})
    case = {"model": name, "batch_size": batch, "samples": len(dataset), "epochs": epochs, "rounds": rounds,
            "pairs": rounds, "device": device, "threads": torch.get_num_threads(),
            "trainer": variants["trainer"]["rate"], "plain": variants["plain"]["rate"],
            "ratio": variants["trainer"]["ratio"], "ratio_iqr": variants["trainer"]["ratio_iqr"],
            "trainer_spread": variants["trainer"]["spread"], "plain_spread": variants["plain"]["spread"],
            "trainer_path": statistics.mode(paths) if paths else None,
            "fast": fast.get("rate"), "fast_ratio": fast.get("ratio"), "fast_path": fast.get("path"),
            "best_reference": best, "best_reference_rate": refs.get(best),
            "fast_vs_best": (fast["rate"] / refs[best]) if best and fast.get("rate") else None,
            "trainer_vs_best_float32": vs_f32,
            "variants": variants}
    return case


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def _fmt(entry) -> str:
    if entry.get("rate") is None:
        return f"{entry['note']}"
    text = f"{entry['rate']:>12,.0f}/s  spread {entry['spread']:4.0%}"
    if "ratio" in entry:
        text += f"  x{entry['ratio']:.2f} plain (IQR {entry['ratio_iqr'][0]:.2f}-{entry['ratio_iqr'][1]:.2f})"
    if entry.get("path"):
        text += f"  [{entry['path']}]"
    return text


def run(args) -> int:
    import os
    import time

    import torch

    from studio.training.device import resolve_device

    device = str(resolve_device(args.device or "cpu", field="--device"))
    names = QUICK_CASES if args.quick else tuple(CASES)
    malloc = None
    if device == "cpu":
        # the trainer keeps freed host memory for the next step (studio/training/allocator.py), a
        # process-wide setting: set it before anything is timed so every variant, the plain loop
        # included, runs with the same allocator and the ratios compare the loops alone
        from studio.training.allocator import keep_freed_memory

        malloc = keep_freed_memory()
    threads_why = None
    if device == "cpu":
        # every variant at the same thread count (the ratios compare loops, not thread counts): the
        # trainer's own choice from the idle cores (fastpath/threads.py), made once here and pinned for
        # the trainer's runs through NETSTUDIO_THREADS; --quick: one thread (an OpenMP team with a
        # descheduled thread stalls at every barrier, so a quick run on a shared machine is then
        # disturbed by neighbours far less)
        from studio.training.fastpath.threads import choose_threads

        n, threads_why = (1, "--quick") if args.quick else choose_threads()
        os.environ["NETSTUDIO_THREADS"] = str(n)
        torch.set_num_threads(n)
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    machine = {"device": device, "cpu": _cpu_name(), "nproc": os.cpu_count(), "threads": torch.get_num_threads(),
               "threads_why": threads_why, "load_start": load,
               "torch": torch.__version__, "malloc": malloc,
               "gpu": torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else None}
    from .progress import Progress

    progress = Progress("train")
    cases = []
    t_suite = time.perf_counter()
    for i, name in enumerate(names, 1):
        t_case = time.perf_counter()
        case = bench_case(name, device, args.quick, lambda text, i=i: progress(f"case {i}/{len(names)} {text}"))
        cases.append(case)
        case["seconds"] = round(time.perf_counter() - t_case, 1)
        # progress, also with --json (stdout stays one JSON object)
        extra = (f"; fast path {case['fast_path']} x{case['fast_ratio']:.3f}" if case["fast_ratio"] else "")
        b16 = case["variants"].get("trainer_bf16", {})
        if b16.get("ratio"):
            extra += f"; bf16 [{b16['path']}] x{b16['ratio']:.3f}"
        progress.result(f"{name:12s} trainer x{case['ratio']:.3f} plain (IQR {case['ratio_iqr'][0]:.3f}-"
                        f"{case['ratio_iqr'][1]:.3f}) [{case['trainer_path']}]{extra}")
        if i < len(names):  # cases differ in cost (the Transformer's is the largest): a rough figure
            spent = time.perf_counter() - t_suite
            progress(f"{i} of {len(names)} cases in {spent:.0f} s; about {spent / i * (len(names) - i):.0f} s left")
    machine["seconds"] = round(time.perf_counter() - t_suite, 1)
    machine["load_end"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if args.json:
        print(json.dumps({**machine, "cases": cases}, indent=2))
        return 0
    gpu = f", {machine['gpu']}" if machine["gpu"] else ""
    heap = f"; freed host memory {'kept' if malloc == 'kept' else 'returned (' + malloc + ')'}" if malloc else ""
    print(f"device {device}{gpu}; CPU {machine['cpu']} ({machine['nproc']} cores, {machine['threads']} threads); "
          f"torch {machine['torch']}{heap}; load average {machine['load_start']} -> {machine['load_end']}")
    for c in cases:
        print(f"\n{c['model']} (batch {c['batch_size']}, {c['samples']} samples, {c['epochs']} epochs x "
              f"{c['rounds']} rounds; trainer default path: {c['trainer_path']})")
        for v, entry in c["variants"].items():
            print(f"  {v:18s} {_fmt(entry)}")
            if getattr(args, "verbose", False):
                if entry.get("warmup_s") is not None:
                    print(f"  {'':18s} warm-up {entry['warmup_s']:.2f} s (untimed)")
                for note in entry.get("notes", ()):
                    print(f"  {'':18s} {note}")
        if c.get("trainer_vs_best_float32"):
            b = c["trainer_vs_best_float32"]
            print(f"  trainer / best float32 candidate ({b['best']}, of {', '.join(b['of'])}): x{b['ratio']:.2f} "
                  f"(IQR {b['ratio_iqr'][0]:.2f}-{b['ratio_iqr'][1]:.2f}, paired by round)")
        if c["fast_vs_best"] is not None:
            print(f"  fast path / best hand-tuned ({c['best_reference']}): {c['fast_vs_best']:.2f}")
    return 0
