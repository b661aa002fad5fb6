"""The panel says in words what the chosen step does, for every path the fast path can pick."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from studio.ui.training.wording import step_words


@pytest.mark.parametrize("chosen, name, words", [
    ("eager", "eager+fused", "fused Adam"),
    ("channels_last", "eager+fused+channels-last", "fused Adam, channels-last convolutions"),
    ("strided_pool", "eager+fused+strided-pool", "fused Adam, 2x2 max pooling as strided maxima"),
    ("strided_pool", "eager+fused+relu-after-pool+strided-pool",
     "fused Adam, 2x2 max pooling as strided maxima"),  # the exact rewrites stay in the tooltip
    ("conv_pool", "eager+fused+relu-after-pool+conv-pool",
     "fused Adam, convolution and max pooling as one stride-2 convolution"),
    ("bf16_channels_last", "eager+fused+bf16-channels-last", "fused Adam, bf16 autocast with channels-last convolutions"),
    ("compile", "compile", "compiled with torch.compile"),
    (None, "timing eager+fused, channels_last", "fused Adam"),
    ("eager", "eager", "the standard step"),
])
def test_the_chosen_step_in_words(chosen, name, words):
    step = SimpleNamespace(chosen=chosen, name=name, eager_name=name if chosen == "eager" else "eager+fused")
    assert step_words(step, "Adam") == words
