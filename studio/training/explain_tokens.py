"""Try it for token models and autoencoders, Qt-free: the next token's probabilities after a typed
text and a short continuation (written as the training run's text samples are, studio.training.sampling),
and a model's raw output (an autoencoder's reconstruction, a regression's values)."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .explain import ExplainError, _device, _logits
from .sampling import TextSampling, sample_text

CONTINUATION = 40  # characters written after the typed text: ~40 forward passes, tens of ms on a CPU
SEED = 0  # the continuation's draws: the same text gives the same continuation


def encode(sampling: TextSampling, text: str) -> list[int]:
    """The ids of `text`; a character the vocabulary lacks is named."""
    unknown = sorted(set(text) - set(sampling.vocabulary))
    if unknown:
        raise ExplainError(f"the text holds {''.join(unknown)!r}, which this model's vocabulary "
                           f"({len(sampling.vocabulary)} characters) does not have; leave them out")
    if not text:
        raise ExplainError("type some text: the model predicts the character after it")
    return sampling.encode(text)


@torch.no_grad()
def next_token(model: torch.nn.Module, sampling: TextSampling, text: str) -> np.ndarray:
    """The probabilities of each next character after `text` (its last `seq_len` characters), read
    as sample_text reads them: the window zero-padded after the context, the scores at its last place."""
    context = encode(sampling, text)[-sampling.seq_len:]
    window = torch.zeros((1, sampling.seq_len), dtype=torch.int64)
    window[0, :len(context)] = torch.tensor(context, dtype=torch.int64)
    was_training = model.training
    model.eval()
    try:
        scores = model(window.to(_device(model)))[0, len(context) - 1].float().cpu()
    finally:
        model.train(was_training)
    return torch.softmax(scores, 0).numpy()


def continuation(model: torch.nn.Module, sampling: TextSampling, text: str, length: int = CONTINUATION) -> str:
    """`length` characters the model writes after `text`, at the dataset's sampling temperature."""
    encode(sampling, text)
    asked = dataclasses.replace(sampling, prompt=text, length=length)
    return sample_text(model, asked, _device(model), SEED)


@torch.no_grad()
def raw_output(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """The model's output for the one-sample batch `x`, as it is (no softmax), without the batch axis."""
    was_training = model.training
    model.eval()
    try:
        out = model(x.to(_device(model)))
    finally:
        model.train(was_training)
    if isinstance(out, (tuple, list, dict)):
        out = _logits(out)
    return out[0].float().cpu().numpy()
