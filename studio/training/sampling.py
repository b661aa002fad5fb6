"""Text a character (token) language model writes on its own, after each epoch.

The model takes a window of `seq_len` ids and scores the next id at every position ([seq_len,
vocabulary] per sample). Sampling starts from the prompt the dataset names (the person sees it
beside the text): the context sits at the start of the window, the rest is padding, and the next
character is drawn from the scores at the context's last position, which in a causal model depend on
nothing after it. Once the context fills the window it slides. The draw is tempered
(softmax(scores / temperature), the same for logits and log-probabilities) and seeded by the run's
seed and the epoch, so a run's samples repeat.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .events import TextSampleEvent


@dataclass(frozen=True)
class TextSampling:
    vocabulary: str  # the characters, by id
    prompt: str
    length: int  # characters to write
    temperature: float
    seq_len: int

    def encode(self, text: str) -> list[int]:
        index = {c: i for i, c in enumerate(self.vocabulary)}
        return [index[c] for c in text]

    def decode(self, ids) -> str:
        return "".join(self.vocabulary[int(i)] for i in ids)


@torch.no_grad()
def sample_text(model: torch.nn.Module, sampling: TextSampling, device, seed: int) -> str:
    """`sampling.length` characters written by `model` after the prompt (eval mode for the draw)."""
    gen = torch.Generator(device="cpu").manual_seed(seed % 2**63)
    context = sampling.encode(sampling.prompt)[-sampling.seq_len:]
    written: list[int] = []
    was_training = model.training
    model.eval()
    window = torch.zeros((1, sampling.seq_len), dtype=torch.int64, device=device)
    try:
        for _ in range(sampling.length):
            n = len(context)
            window[0, :n] = torch.tensor(context, dtype=torch.int64)
            scores = model(window)[0, n - 1].float().cpu()
            probs = torch.softmax(scores / sampling.temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=gen))
            written.append(nxt)
            context = (context + [nxt])[-sampling.seq_len:]
    finally:
        model.train(was_training)
    return sampling.decode(written)


class TextSampler:
    """Made by the trainer when its dataset says how to sample (`extra["sampling"]`)."""

    def __init__(self, sampling: TextSampling, seed: int) -> None:
        self.sampling, self.seed = sampling, seed

    @classmethod
    def for_dataset(cls, dataset, seed: int) -> "TextSampler | None":
        sampling = getattr(dataset, "extra", {}).get("sampling")
        return cls(sampling, seed) if isinstance(sampling, TextSampling) else None

    def event(self, model, device, epoch: int) -> TextSampleEvent:
        seed = self.seed * 1_000_003 + epoch
        text = sample_text(model, self.sampling, device, seed)
        return TextSampleEvent(epoch, self.sampling.prompt, text, self.sampling.temperature, seed)
