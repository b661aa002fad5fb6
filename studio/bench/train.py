"""`python -m studio bench train [--device D] [--json] [--quick]`: the trainer against the loop most
people write by hand (tensor batches already on the device, a random permutation per epoch,
model(x), loss, zero_grad, backward, step), on the same model, the same data and the same device, in
one run. Repeats are interleaved (trainer, plain, plain, trainer, ...) so drift and noisy neighbours hit
both alike; the ratio is the median of the paired ratios, and its interquartile range shows the noise.
Only the training loop is timed: building the model and the optimizer is not, for either. `--quick`
runs three cases with short repeats on one CPU thread (for tests on shared machines).
"""
from __future__ import annotations

import copy
import json
import statistics
import sys
import time

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
    "transformer": ([("tokens", "Input", {"shape": [32], "dtype": "int64"}),
                     ("embed", "Embedding", {"num_embeddings": 20, "embedding_dim": 64}),
                     ("posenc", "PositionalEncoding", {}),
                     ("encoder1", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 128}),
                     ("encoder2", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 128}),
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


def run_trainer(model0, dataset, batch: int, epochs: int, device: str) -> float:
    """Samples/s of Trainer.fit() with the default settings (no validation split: the plain loop has none)."""
    from studio.training.config import parse_config
    from studio.training.trainer import Trainer

    config = parse_config({"dataset": {"name": dataset.info.name}, "loss": {"type": "CrossEntropyLoss"},
                           "optimizer": {"type": "Adam", "lr": 1e-3}, "epochs": epochs, "batch_size": batch,
                           "device": device, "split": {"val": 0.0}})
    trainer = Trainer(copy.deepcopy(model0), dataset, config)
    trainer.prepare()
    _sync(trainer.device)
    t0 = time.perf_counter()
    result = trainer.fit()
    _sync(trainer.device)
    elapsed = time.perf_counter() - t0
    if result.status != "finished":
        raise RuntimeError(f"trainer did not finish: {result.message}")
    return len(trainer.train_data) * epochs / elapsed


def run_plain(model0, dataset, batch: int, epochs: int, device: str) -> float:
    """The hand-written loop, on the same (training) samples as the trainer."""
    import torch

    dev = torch.device(device)
    model = copy.deepcopy(model0).to(dev)
    x, y = dataset.x.to(dev), dataset.y.to(dev)
    n = x.shape[0]
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, device=dev)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    _sync(dev)
    return n * epochs / (time.perf_counter() - t0)


def _sync(device) -> None:
    import torch

    if getattr(device, "type", str(device)).startswith("cuda"):
        torch.cuda.synchronize()


def _quartiles(values):
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def bench_case(name: str, device: str, quick: bool) -> dict:
    import torch

    target_s = 0.15 if quick else 0.3  # seconds per timed run
    pairs = 8 if quick else 10
    samples = {"mlp": 4096, "lenet": 1024, "transformer": 512}.get(name, 1024) if quick else \
        {"transformer": 2048, "cnn_bn": 2048}.get(name, 4096)
    model0, dataset, batch = make_case(name, device, samples)
    # calibrate epochs so one timed run lasts about target_s (this also warms up both loops)
    run_plain(model0, dataset, batch, 1, device)
    rate = run_trainer(model0, dataset, batch, 1, device)
    epochs = max(1, round(target_s * rate / len(dataset)))
    trainer_rates, plain_rates, ratios = [], [], []
    for r in range(pairs):  # ABBA order: drift and first-or-second effects cancel
        if r % 2 == 0:
            t = run_trainer(model0, dataset, batch, epochs, device)
            p = run_plain(model0, dataset, batch, epochs, device)
        else:
            p = run_plain(model0, dataset, batch, epochs, device)
            t = run_trainer(model0, dataset, batch, epochs, device)
        trainer_rates.append(t)
        plain_rates.append(p)
        ratios.append(t / p)
    lo, hi = _quartiles(ratios)
    return {"model": name, "batch_size": batch, "samples": len(dataset), "epochs": epochs, "pairs": pairs,
            "trainer": statistics.median(trainer_rates), "plain": statistics.median(plain_rates),
            "ratio": statistics.median(ratios), "ratio_iqr": [lo, hi],
            "trainer_spread": _spread(trainer_rates), "plain_spread": _spread(plain_rates),
            "device": device, "threads": torch.get_num_threads()}


def _spread(values) -> float:
    """(max - min) / median, a plain measure of how noisy the runs were."""
    return (max(values) - min(values)) / statistics.median(values)


def run(args) -> int:
    from studio.training.device import resolve_device

    import torch

    device = str(resolve_device(args.device or "cpu", field="--device"))
    names = QUICK_CASES if args.quick else tuple(CASES)
    if args.quick and device == "cpu":
        # one thread: a quick run on a shared machine is then disturbed by neighbours far less
        # (an OpenMP team with a descheduled thread stalls at every barrier)
        torch.set_num_threads(1)
    cases = []
    for name in names:
        case = bench_case(name, device, args.quick)
        cases.append(case)
        if not args.json:
            print(f"{name:12s} trainer {case['trainer']:>10,.0f}/s  plain {case['plain']:>10,.0f}/s  "
                  f"ratio {case['ratio']:.3f} (IQR {case['ratio_iqr'][0]:.3f}-{case['ratio_iqr'][1]:.3f})",
                  file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"device": device, "cases": cases}, indent=2))
    else:
        print(f"{'model':12s} {'trainer/s':>12s} {'plain/s':>12s} {'ratio':>7s}  spread (trainer, plain)")
        for c in cases:
            print(f"{c['model']:12s} {c['trainer']:>12,.0f} {c['plain']:>12,.0f} {c['ratio']:>7.3f}  "
                  f"{c['trainer_spread']:.0%}, {c['plain_spread']:.0%}")
    return 0
