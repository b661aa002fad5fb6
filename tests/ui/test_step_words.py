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


def _trainer(precision, chosen, times):
    step = SimpleNamespace(chosen=chosen, name="eager+fused+strided-pool", eager_name="eager+fused", times=times)
    config = SimpleNamespace(precision=precision, optimizer=SimpleNamespace(type="Adam"))
    return SimpleNamespace(step_fn=step, config=config, device="cpu")


def test_bf16_chosen_but_float32_faster_is_said():
    """A person who ticked bf16 learns that it was tried and why the run stays float32."""
    from studio.ui.training.wording import plain_notice

    times = {"eager": 0.010, "strided_pool": 0.008, "bf16": 0.012, "bf16_channels_last": 0.011}
    line = plain_notice("fast path: eager+fused+strided-pool (...)", _trainer("bf16", "strided_pool", times))
    assert line.startswith("Training on CPU, fused Adam, 2x2 max pooling as strided maxima (fastest of 4 tried)")
    assert "bf16 was slower" in line and "float32" in line
    # not said where the person kept float32, or where bf16 was not tried at all (no bf16 hardware)
    assert "bf16" not in plain_notice("fast path: x", _trainer("float32", "strided_pool", times))
    no_bf16 = {"eager": 0.010, "strided_pool": 0.008}
    assert "bf16" not in plain_notice("fast path: x", _trainer("bf16", "strided_pool", no_bf16))


@pytest.mark.parametrize("message, words", [
    ("fast path: steps became 3.4x slower (1 of 2 cores idle); 1 thread instead of 2",
     "; now 1 CPU thread instead of 2: the steps became 3.4x slower (another program is using a core)"),
    ("fast path: cores came free (2 of 2 cores idle); 2 threads instead of 1, steps 1.68x faster",
     "; now 2 CPU threads instead of 1: cores came free, steps 1.68x faster"),
])
def test_a_thread_change_is_said_after_what_the_run_uses(message, words):
    """The watch's notice keeps the chosen step's words and says what changed and why."""
    from studio.ui.training.wording import plain_notice

    line = plain_notice(message, _trainer("float32", "strided_pool", {"eager": 0.01, "strided_pool": 0.008}))
    assert line == "Training on CPU, fused Adam, 2x2 max pooling as strided maxima" + words
