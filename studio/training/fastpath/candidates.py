"""The steps the fast path can time against the eager step. Each takes the eager step it speeds up
(same model, loss, optimizer, AMP, clipping and L1 penalty) and runs exactly one optimizer step per
call, on the batch it is given, so trying a candidate is training, not a detour.

A candidate that cannot run raises `CandidateFailed` before it has changed any weight; the caller
then runs that batch eagerly and says why."""
from __future__ import annotations

import torch


class CandidateFailed(Exception):
    pass


class GraphStep:
    """The whole step (zero_grad is outside: the graph's backward writes the .grad tensors it owns;
    forward, loss, backward, clipping, a capturable optimizer step) captured in one CUDA graph and
    replayed on static input/target buffers. The first `warmup` calls train eagerly on a side stream
    (so lazy state exists before capture: optimizer moments, cuDNN plans); the next call captures and
    replays. Loss and output are cloned out of the graph's buffers (the loop keeps them)."""

    name = "cuda_graph"

    def __init__(self, eager, *, warmup: int = 2) -> None:
        self.eager = eager
        self.warmup = warmup
        self.calls = 0
        self.graph = None

    def __call__(self, x, target):
        if self.graph is None:
            if self.calls < self.warmup:
                self.calls += 1
                stream = torch.cuda.Stream()
                stream.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(stream):
                    loss, out = self.eager(x, target)
                torch.cuda.current_stream().wait_stream(stream)
                return loss, out
            self._capture(x, target)
        self.static_x.copy_(x)
        self.static_t.copy_(target)
        self.graph.replay()
        return self.static_loss.clone(), self.static_out.clone()

    def _capture(self, x, target) -> None:
        eager, opt = self.eager, self.eager.optimizer
        device = x.device
        for group in opt.param_groups:  # a float lr would be baked into the graph
            if getattr(self, "tensor_lr", False) and not isinstance(group["lr"], torch.Tensor):
                group["lr"] = torch.tensor(float(group["lr"]), device=device)
        self.static_x = eager.prepare_input(x).clone()
        self.static_t = target.clone()
        torch.cuda.synchronize(device)
        opt.zero_grad(set_to_none=True)  # backward allocates the .grad tensors inside the graph's pool
        graph = torch.cuda.CUDAGraph()
        eager.autocast_cache = False
        try:
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                loss, objective, out = eager.forward_loss(self.static_x, self.static_t)
                eager.backward_update(objective)
        except Exception as exc:
            opt.zero_grad(set_to_none=True)
            raise CandidateFailed(f"capture failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from exc
        self.graph = graph
        self.static_loss, self.static_out = loss.detach(), out.detach()
        eager.set_to_none = False  # the graph owns the .grad tensors from now on


class _Objective(torch.nn.Module):
    """model + loss (+ L1) as one module, so the compiler fuses the loss with the last layers."""

    def __init__(self, eager) -> None:
        super().__init__()
        self.model, self.loss_fn = eager.model, eager.loss_fn
        self.eager = eager

    def forward(self, x, target):
        return self.eager.forward_loss(x, target)


class CompiledStep:
    """torch.compile of forward + loss (its backward compiled by AOTAutograd); the fused optimizer
    steps eagerly (one kernel per parameter group). mode="reduce-overhead" also runs the compiled
    forward and backward under CUDA graphs (outputs cloned: the next replay overwrites them)."""

    def __init__(self, eager, *, mode: str | None = None) -> None:
        self.eager = eager
        self.mode = mode
        self.name = "compile_cuda_graph" if mode == "reduce-overhead" else "compile"
        self.fn = torch.compile(_Objective(eager), mode=mode, dynamic=False)
        self.calls = 0

    def __call__(self, x, target):
        eager = self.eager
        eager.optimizer_calls.zero_grad(set_to_none=eager.set_to_none)
        x = eager.prepare_input(x)
        if self.calls < 2:  # compiles on the first call(s): a failure leaves the weights untouched
            try:
                if self.mode == "reduce-overhead":
                    torch.compiler.cudagraph_mark_step_begin()
                loss, objective, out = self.fn(x, target)
                eager.backward_update(objective)  # the backward graph compiles on its first call
            except Exception as exc:
                eager.optimizer_calls.zero_grad(set_to_none=eager.set_to_none)
                raise CandidateFailed(f"torch.compile failed ({type(exc).__name__}: "
                                      f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from exc
            self.calls += 1
        else:
            if self.mode == "reduce-overhead":
                torch.compiler.cudagraph_mark_step_begin()
            loss, objective, out = self.fn(x, target)
            eager.backward_update(objective)
        if self.mode == "reduce-overhead":
            return loss.detach().clone(), out.detach().clone()
        return loss.detach(), out.detach()
