"""The runners `bench train` times (studio/bench/train.py has the cases, the rounds and the report;
train_cpu.py the CPU's variants): the default trainer, the fast path's steady state, the plain loop
people write by hand and the hand-tuned references, and the helpers they share. Both import this
module and not each other."""
from __future__ import annotations

import copy
import statistics
import time


def _config(dataset, batch: int, epochs: int, device: str, fast_path: str = "auto", amp=False,
            precision: str = "float32"):
    from studio.training.config import parse_config

    return parse_config({"dataset": {"name": dataset.info.name}, "loss": {"type": "CrossEntropyLoss"},
                         "optimizer": {"type": "Adam", "lr": 1e-3}, "epochs": epochs, "batch_size": batch,
                         "device": device, "split": {"val": 0.0}, "fast_path": fast_path, "amp": amp,
                         "precision": precision})


def run_trainer(model0, dataset, batch: int, epochs: int, device: str) -> float:
    """Samples/s of Trainer.fit() with the default settings (no validation split: the plain loop has
    none). On CUDA the default's selection by timing runs inside the timed fit, as a person's run does."""
    from studio.training.trainer import Trainer

    trainer = Trainer(copy.deepcopy(model0), dataset, _config(dataset, batch, epochs, device))
    trainer.prepare()
    _sync(trainer.device)
    t0 = time.perf_counter()
    result = trainer.fit()
    _sync(trainer.device)
    elapsed = time.perf_counter() - t0
    if result.status != "finished":
        raise RuntimeError(f"trainer did not finish: {result.message}")
    run_trainer.last_path = trainer.step_fn.name
    return len(trainer.train_data) * epochs / elapsed


class FastRunner:
    """A prepared Trainer on the fast path, kept across runs: warm-up trains until the selection has
    picked a step (compilation included), then each run times whole epochs of its hot loop."""

    def __init__(self, model0, dataset, batch: int, device: str, fast_path: str = "thorough", amp=False,
                 precision: str = "float32", compile_gate: bool = False) -> None:
        from studio.training.trainer import Trainer

        self.trainer = Trainer(copy.deepcopy(model0), dataset,
                               _config(dataset, batch, 10**6, device, fast_path, amp, precision))
        self.trainer.prepare()
        step = self.trainer.step_fn
        if compile_gate and hasattr(step, "queue"):  # the default trainer as on a run under compile's gate
            for name in [n for n in step.queue if n.startswith("compile")]:
                step.queue.remove(name)
                step.reasons[name] = "not tried here: the bench times compile in its `fast` variant"
        self.trainer._fit_t0 = time.perf_counter()
        self.notes: list[str] = []
        self.trainer.add_listener(lambda e: self.notes.append(e.message) if e.kind == "notice" else None)
        self.epoch = 0
        t0 = time.perf_counter()
        # until the selection has picked; twice its most steps: the partial last batch of an epoch
        # runs outside every trial
        limit = 2 * step.most_selection_steps() if hasattr(step, "most_selection_steps") else 0
        while getattr(step, "chosen", "eager") is None:
            if self.trainer.global_step > limit:
                raise RuntimeError(f"the fast path's selection did not end within {limit} steps")
            self._epoch()
        self._epoch()
        self.trainer.listeners.clear()  # no reports in the timed runs (the plain loop has none)
        self.warmup_s = time.perf_counter() - t0
        self.path = self.trainer.step_fn.name

    def _epoch(self) -> None:
        self.epoch += 1
        if self.trainer.train_epoch(self.epoch) is None:
            raise RuntimeError("fast-path trainer stopped")

    def __call__(self, epochs: int) -> float:
        _sync(self.trainer.device)
        t0 = time.perf_counter()
        for _ in range(epochs):
            self._epoch()
        _sync(self.trainer.device)
        return len(self.trainer.train_data) * epochs / (time.perf_counter() - t0)


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


class Reference:
    """A hand-tuned loop, built and warmed up once and reused across runs: the same batching as the
    plain loop, a different step. kind: fused_adam | compile_model | compile_step | cuda_graph, with
    bf16 autocast when `bf16`."""

    def __init__(self, kind: str, model0, dataset, batch: int, device: str, bf16: bool = False) -> None:
        import torch

        self.dev = dev = torch.device(device)
        cuda = dev.type == "cuda"
        self.model = model = copy.deepcopy(model0).to(dev)
        conv = any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
        if conv and (cuda or kind == "channels_last" or bf16):  # bf16 convolutions only pay off NHWC
            model.to(memory_format=torch.channels_last)
            self.channels_last = True
        else:
            self.channels_last = False
        self.x, self.y = dataset.x.to(dev), dataset.y.to(dev)
        self.batch = batch
        loss_fn = torch.nn.CrossEntropyLoss()
        autocast = (lambda: torch.autocast(dev.type, dtype=torch.bfloat16, cache_enabled=False)) if bf16 else \
            (lambda: _null())

        model.train()
        mode = "reduce-overhead" if cuda else None
        if kind == "compile_step":
            opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(1e-3, device=dev) if cuda else 1e-3,
                                   capturable=cuda)
        else:
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True, capturable=kind == "cuda_graph")

        def train_step(forward):
            def step(xb, yb):
                opt.zero_grad(set_to_none=True)
                with autocast():
                    loss = loss_fn(forward(xb), yb)
                loss.backward()
                opt.step()
                return loss
            return step

        def marking_each_step(step):
            """compile's reduce-overhead mode replays CUDA graphs: each step must say it starts anew."""
            if not cuda:
                return step

            def marked(xb, yb):
                torch.compiler.cudagraph_mark_step_begin()
                return step(xb, yb)
            return marked

        eager_step = train_step(model)
        if kind == "bf16_matmul":  # float32 matmuls computed in bf16 by oneDNN, backward included
            from studio.training.fastpath.variants import matmul_bf16

            def eager_step(xb, yb, step=eager_step):
                with matmul_bf16():
                    return step(xb, yb)
        if kind in ("fused_adam", "channels_last", "bf16_matmul"):
            self.step = eager_step
        elif kind == "compile_model":
            self.step = marking_each_step(train_step(torch.compile(model, mode=mode, dynamic=False)))
        elif kind == "compile_step":
            self.step = marking_each_step(torch.compile(eager_step, mode=mode, dynamic=False))
        elif kind == "cuda_graph":
            self.step = self._graph_step(eager_step, opt, loss_fn, autocast)
        else:
            raise ValueError(kind)
        t0 = time.perf_counter()
        self(2)  # warm-up: compilation, capture
        self.warmup_s = time.perf_counter() - t0

    def _graph_step(self, eager_step, opt, loss_fn, autocast):
        import torch

        xb, yb = self._batch(torch.arange(self.batch, device=self.dev))
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                eager_step(xb, yb)
        torch.cuda.current_stream().wait_stream(stream)
        static_x, static_y = xb.clone(), yb.clone()
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            with autocast():
                static_loss = loss_fn(self.model(static_x), static_y)
            static_loss.backward()
            opt.step()

        def step(xb, yb):
            static_x.copy_(xb)
            static_y.copy_(yb)
            graph.replay()
            return static_loss
        return step

    def _batch(self, idx):
        import torch

        xb, yb = self.x[idx], self.y[idx]
        if self.channels_last and xb.dim() == 4:
            xb = xb.contiguous(memory_format=torch.channels_last)
        return xb, yb

    def __call__(self, epochs: int) -> float:
        import torch

        n, bs = self.x.shape[0], self.batch
        _sync(self.dev)
        t0 = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(n, device=self.dev)
            for i in range(0, n - n % bs, bs):  # whole batches (the bench's sizes are multiples)
                self.step(*self._batch(perm[i:i + bs]))
        _sync(self.dev)
        return (n - n % bs) * epochs / (time.perf_counter() - t0)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _sync(device) -> None:
    import torch

    if getattr(device, "type", str(device)).startswith("cuda"):
        torch.cuda.synchronize()


def _quartiles(values):
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def _spread(values) -> float:
    """(max - min) / median, a plain measure of how noisy the runs were."""
    return (max(values) - min(values)) / statistics.median(values)


REFERENCES = ("fused_adam", "compile_model", "compile_step", "cuda_graph", "compile_step_bf16", "cuda_graph_bf16")
NEEDS_CUDA = ("cuda_graph", "compile_step_bf16", "cuda_graph_bf16", "fast_bf16")
def _build(v: str, build, runners: dict, notes: dict, extra: dict) -> None:
    """runners[v], extra[v] from build() -> (runner, details); a variant that fails is reported in
    notes[v], not hidden."""
    try:
        runner, details = build()
    except Exception as exc:
        notes[v] = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
        return
    runners[v] = runner
    extra[v] = {"warmup_s": runner.warmup_s, **details}
