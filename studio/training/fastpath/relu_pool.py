"""ReLU after max pooling instead of before it, on the CPU fast path: the same values and gradients,
with the ReLU (and its backward) on a tensor a quarter of the size.

max is monotone, so maxpool(relu(x)) == relu(maxpool(x)) for every window. The gradients are the
same too: where the window's maximum is positive, the first (or with NaN the last NaN) position
holding it is the same in x and in relu(x), so the pool's backward routes the gradient to the same
element; where it is zero or negative, ReLU's backward gives zero in both orders. On this machine
ReLU + pool on 256x6x28x28 (LeNet's first) took 4.4 ms forward + backward in NCHW and 2.1 ms swapped
(with the strided pool), 3.1 against 2.6 ms in NHWC (docs/performance.md, "session 7").

A pair qualifies where a `nn.ReLU` feeds only a `MaxPool1d/2d/3d` (no returned indices) in one of
the model's fx graphs, and each module is called once in the whole model. The swap acts only while
training with gradients: in eval or under no_grad (feature maps, reports, hooks watching the ReLU's
output) both modules run as written. `install` gives the pair instance forwards; `remove` takes them
away again (the trainer calls it when `fit` ends, so no exported or saved model carries them)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import pooling
from .fx_calls import call_counts, calls_alone, single_use_calls

POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
MARK = "_netstudio_relu_after_pool"


class _Pair:
    """The ReLU's decision for this call, read by the pool that follows it (its only consumer)."""

    def __init__(self, relu: nn.ReLU, pool: nn.Module) -> None:
        self.relu, self.pool = relu, pool
        self.pending = False

    def relu_forward(self, x):
        relu = self.relu
        self.pending = (torch.is_grad_enabled() and relu.training and self.pool.training
                        and not relu._forward_hooks and not relu._forward_pre_hooks)
        return x if self.pending else F.relu(x, inplace=relu.inplace)

    def pool_forward(self, x):
        out = pooling.pool_forward(self.pool, x)
        if self.pending:
            self.pending = False
            return torch.relu(out)
        return out


def pairs(model) -> list[tuple[nn.ReLU, nn.Module]]:
    """(relu, pool) pairs whose order can be swapped (see the module docstring)."""
    counts, found = call_counts(model), []
    for gm, node, relu in single_use_calls(model):
        (user,) = node.users
        if type(relu) is not nn.ReLU or not calls_alone(gm, user, node, POOLS):
            continue
        pool = gm.get_submodule(user.target)
        if not pool.return_indices and counts[id(relu)] == counts[id(pool)] == 1:
            found.append((relu, pool))
    return found


def install(model) -> int:
    """Swap every qualifying pair of `model`; the number swapped."""
    n = 0
    for relu, pool in pairs(model):
        if MARK in relu.__dict__:
            continue
        pair = _Pair(relu, pool)
        relu.forward = pair.relu_forward
        setattr(relu, MARK, pair)
        setattr(pool, MARK, pair)
        pooling.set_forward(pool, pair.pool_forward)
        n += 1
    return n


def remove(model) -> None:
    for module in model.modules():
        pair = module.__dict__.pop(MARK, None)
        if pair is None:
            continue
        if module is pair.relu:
            module.__dict__.pop("forward", None)
        else:
            pooling.set_forward(module, None)


def has_pairs(model) -> bool:
    return bool(pairs(model))
