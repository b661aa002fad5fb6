"""Parameter counts and FLOPs per node, computed on the meta device (no memory, no real maths) and
cached by node signature, so re-analysing a large graph after one edit costs almost nothing."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from .analysis import Analysis, NodeInfo


@dataclass(frozen=True)
class NodeStats:
    params: int
    trainable: int
    flops: int  # forward FLOPs for one sample (a multiply-add counts as 2)


ZERO = NodeStats(0, 0, 0)
UNBUILDABLE = 2**63 - 1  # weights torch cannot even describe (their byte size overflows int64)


def node_stats(info: NodeInfo) -> NodeStats | None:
    if info.spec is None or info.params is None or not info.outputs:
        return None
    if info.passthrough:  # switched off inside a block: no layer
        return ZERO
    if info.block is not None:
        return _add(result_stats(r) for r in info.block.copies)
    try:
        key = json.dumps(info.params, sort_keys=True)
    except TypeError:
        key = repr(info.params)
    stats = _cached(info.spec.type, key, tuple(info.inputs), info.spec)
    if info.shares is not None:  # weights another node holds are counted there, once
        if info.shares_whole:
            return NodeStats(0, 0, stats.flops)
        return NodeStats(stats.params - info.shared_numel, stats.trainable - info.shared_numel, stats.flops)
    return stats


@functools.lru_cache(maxsize=8192)
def _cached(type_name, params_key, inputs, spec) -> NodeStats:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    params = json.loads(params_key)
    with torch.device("meta"):
        try:
            module = spec.build(params, list(inputs))
        except RuntimeError:  # shapes that passed analysis but whose weights overflow torch's storage size
            return NodeStats(UNBUILDABLE, UNBUILDABLE, 0)
        if module is None:
            count = trainable = 0
        else:
            count = sum(p.numel() for p in module.parameters())
            trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
        args = [None if t is None  # an unwired optional port
                else torch.empty((1, *t.shape), dtype=getattr(torch, t.dtype)) if t.is_float
                else torch.zeros((1, *t.shape), dtype=getattr(torch, t.dtype)) for t in inputs]
        flops = 0
        if spec.flops is not None:
            return NodeStats(count, trainable, int(spec.flops(params, list(inputs), [])))
        try:
            counter = FlopCounterMode(display=False)
            with counter, torch.no_grad():
                spec.wire(module, args, params)
            flops = counter.get_total_flops()
        except Exception:  # a layer the counter cannot follow on meta tensors: report no FLOPs
            flops = 0
    return NodeStats(count, trainable, int(flops))


def result_stats(result) -> NodeStats:
    """The totals of one analysed block definition (kept on the shared result: computed once)."""
    found = result.memo.get("stats")
    if found is None:
        found = result.memo["stats"] = _add(node_stats(i) or ZERO for i in result.analysis.nodes.values())
    return found


def _add(items) -> NodeStats:
    params = trainable = flops = 0
    for s in items:
        params, trainable, flops = params + s.params, trainable + s.trainable, flops + s.flops
    return NodeStats(params, trainable, flops)


def model_stats(analysis: Analysis) -> dict[str, NodeStats]:
    out = {}
    for node_id, info in analysis.nodes.items():
        s = node_stats(info)
        if s is not None:
            out[node_id] = s
    return out
