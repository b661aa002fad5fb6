"""The trainer's fast path (issues 7 and 19): fused optimizers (on the CPU, fused Adam, AdamW and SGD
without step()'s Python: lean_optim.py), channels-last convolutions (always on
CUDA, timed on the CPU), whole-step capture (a CUDA graph of the whole step, torch.compile, or both),
on the CPU a thread count from the idle cores and, when the person chose training.precision "bf16",
bf16 variants; picked per model by timing a few real steps of each candidate, with a stated reason
for every path not used.

    plan = plan_fast_path(model, config, device)          # before the optimizer is built
    optimizer = build_optimizer(..., impl=plan.optimizer_kwargs)
    step = build_fast_step(plan, model, loss_fn, optimizer, ...)

See docs/performance.md ("Trainer") for what each part measured.
"""
from __future__ import annotations

from ..step import EagerStep
from . import lean_optim
from .candidates import CandidateFailed, CompiledStep, GraphStep
from .plan import CANDIDATES, MODES, FastPlan, plan_fast_path
from .select import MIN_TIMED_S, FastStep, device_sync
from .variants import BF16_VARIANTS, FLOAT32_VARIANTS, EagerVariant, describe

__all__ = ["CANDIDATES", "MODES", "CandidateFailed", "CompiledStep", "FastPlan", "FastStep", "GraphStep",
           "build_fast_step", "plan_fast_path", "restore_modules"]


def restore_modules(model) -> None:
    """Take away the instance forwards the CPU step gave the model's modules (strided pooling, fused
    convolution + pooling, ReLU after pooling, the dropouts), so the model leaves training as a plain
    module (for export and saving)."""
    from . import conv_pool, dropout, pooling, relu_pool

    conv_pool.remove(model)
    relu_pool.remove(model)
    pooling.remove(model)
    dropout.remove(model)


def build_fast_step(plan: FastPlan, model, loss_fn, optimizer, *, device, amp_dtype=None, grad_clip=None,
                    l1=0.0, total_steps: int = 0, notify=None, timer=None) -> FastStep:
    if plan.relu_after_pool:
        from .relu_pool import install

        install(model)  # taken away again when fit ends (restore_modules)
    if plan.bulk_dropout:
        from .dropout import install as bulk

        bulk(model, "exact")
    eager = EagerStep(model, loss_fn, optimizer, device=device, amp_dtype=amp_dtype, grad_clip=grad_clip, l1=l1,
                      channels_last=plan.channels_last, autocast_cache=False)
    eager.dropout_mode = "exact" if plan.bulk_dropout else None  # what a bf16 variant's trial puts back
    if device.type == "cpu" and lean_optim.fits(optimizer):  # the same update; on CUDA a graph replaces it
        eager.optimizer_calls = lean_optim.LeanOptimizer(optimizer)

    def graph():
        step = GraphStep(eager)
        step.tensor_lr = plan.tensor_lr
        return step

    factories = {"cuda_graph": graph,
                 "compile": lambda: CompiledStep(eager),
                 "compile_cuda_graph": lambda: CompiledStep(eager, mode="reduce-overhead")}
    for name in (*FLOAT32_VARIANTS, *BF16_VARIANTS):
        factories[name] = (lambda n: lambda: EagerVariant(eager, n))(name)
    kwargs = {} if timer is None else {"timer": timer}
    return FastStep(eager, factories, plan.candidates, eager_name=plan.eager_name, reasons=plan.reasons,
                    total_steps=total_steps, compile_min_run_s=plan.compile_min_run_s, sync=device_sync(device),
                    notify=notify, threads=plan.threads, threads_why=plan.threads_why, describe=describe,
                    per_step=device.type == "cpu", min_timed_s=MIN_TIMED_S, **kwargs)
