"""Character-level text for a language model: next-character prediction windows.

The text is Python's own help (`pydoc_data.topics`, what `help("if")` prints): about 465,000
characters of English prose with code examples in 79 topics, shipped with every CPython (no
download), large enough that a small model cannot learn it by heart in a few epochs yet small
enough for an epoch on one CPU core in well under a minute. The vocabulary is built from the text
(its distinct characters, in code-point order), from the whole text
even when a run takes only its first `max_chars`.

A sample is `seq_len` character ids; its target is the same window shifted by one (the next
character at every position). Windows never cross between the splits: whole topics go to the
validation (and test) split, chosen with the seed, so no character a model is validated on was in a
training window.
"""
from __future__ import annotations

import numpy as np
import torch

from ...core.types import TensorType
from ..errors import TrainingError
from ..sampling import TextSampling
from .base import CLASSIFICATION, ArrayDataset, DatasetInfo, Part, Splits
from .registry import float_option, int_option, register

SEPARATOR = "\n\n"  # between topics, and between paragraphs within one
PIECE_CHARS = 2000  # the split assigns pieces of about this size (whole paragraphs) to its parts


def python_help_topics() -> list[str]:
    """The topics of Python's help, in name order."""
    from pydoc_data.topics import topics

    return [topics[name] for name in sorted(topics)]


def _label(ch: str) -> str:
    """A character as a class name a person can read (the newline and the space are invisible)."""
    return {"\n": "\\n", " ": "space", "\t": "\\t"}.get(ch, ch)


class TextWindows(ArrayDataset):
    """Windows of a text made of pieces; `split` assigns whole pieces to each part."""

    def split(self, val: float, test: float, seed: int) -> Splits:
        docs = self.extra["documents"]
        parts = assign_pieces([len(d) for d in docs], val, test, seed)
        made = {}
        for name, picked in parts.items():
            if not picked:
                made[name] = None
                continue
            x, y = self.windows([docs[i] for i in picked])
            if len(x) == 0:
                raise TrainingError(f"dataset {self.info.name!r}: its {name} split holds "
                                    f"{sum(len(docs[i]) for i in picked)} characters, less than one window of "
                                    f"{self.extra['seq_len'] + 1}; lower training.dataset.seq_len or the split")
            made[name] = Part(x, y)
        if made["train"] is None:
            raise TrainingError(f"dataset {self.info.name!r}: no text is left for training after the validation "
                                f"({val:g}) and test ({test:g}) shares; make them smaller")
        return Splits(made["train"], made["val"], made["test"])

    def preview(self, n: int = 8) -> list[dict]:
        """The first windows: ids, the next-character ids, and the window as text (its caption)."""
        sampling = self.extra["sampling"]
        return [{"x": self.x[i].numpy(), "y": self.y[i].numpy(), "label": sampling.decode(self.x[i].tolist())}
                for i in range(min(n, len(self)))]

    def windows(self, docs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return text_windows(SEPARATOR.join(docs), self.extra["index"], self.extra["seq_len"], self.extra["stride"])


def assign_pieces(sizes: list[int], val: float, test: float, seed: int) -> dict[str, list[int]]:
    """Which pieces (by index, in text order) go to each part: in an order shuffled with the seed,
    the test and validation parts take pieces until each holds its share of the characters."""
    total = sum(sizes)
    parts: dict[str, list[int]] = {"test": [], "val": [], "train": []}
    held = {"test": 0, "val": 0}
    for i in np.random.default_rng(seed).permutation(len(sizes)):
        part = next((p for p, share in (("test", test), ("val", val)) if held[p] < share * total), "train")
        parts[part].append(int(i))
        held[part] = held.get(part, 0) + sizes[i]
    return {name: sorted(picked) for name, picked in parts.items()}


def pieces(docs: list[str], size: int = PIECE_CHARS) -> list[str]:
    """Each document cut into runs of whole paragraphs of at least `size` characters (a short
    document, or its short tail, stays one piece)."""
    out = []
    for doc in docs:
        run: list[str] = []
        for para in doc.split(SEPARATOR):
            run.append(para)
            if sum(map(len, run)) >= size:
                out.append(SEPARATOR.join(run))
                run = []
        if run:
            out.append(SEPARATOR.join(run))
    return out


def text_windows(text: str, index: dict, seq_len: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y): [N, seq_len] ids of each window and of the window one character on."""
    ids = torch.tensor([index[c] for c in text], dtype=torch.int64)
    starts = torch.arange(0, max(0, len(ids) - seq_len), stride)
    if not len(starts):
        return torch.zeros((0, seq_len), dtype=torch.int64), torch.zeros((0, seq_len), dtype=torch.int64)
    span = starts[:, None] + torch.arange(seq_len + 1)[None, :]
    chunk = ids[span]
    return chunk[:, :-1].contiguous(), chunk[:, 1:].contiguous()


@register("python_help", "Python's own help text (pydoc_data, shipped with Python): predict each next character",
          "embedded", CLASSIFICATION, seq_len=64, stride=0, max_chars=0, prompt="The ", sample_length=200,
          temperature=0.8)
def load_python_help(options: dict, ctx) -> TextWindows:
    docs = python_help_topics()
    seq_len = int_option(options, "seq_len", 1, 4096)
    stride = int_option(options, "stride", 0, 4096) or seq_len  # 0: windows side by side
    max_chars = int_option(options, "max_chars", 0)
    # from the whole text, so a shorter run (max_chars) keeps the model's sizes
    vocabulary = "".join(sorted(set(SEPARATOR.join(docs))))
    if max_chars:  # the first topics up to this many characters (a shorter run)
        kept, size = [], 0
        for d in docs:
            if size >= max_chars:
                break
            kept.append(d[:max_chars - size])
            size += len(kept[-1])
        docs = kept
    text = SEPARATOR.join(docs)
    index = {c: i for i, c in enumerate(vocabulary)}
    prompt = options["prompt"]
    if not isinstance(prompt, str) or not prompt:
        raise TrainingError(f"training.dataset.prompt must be some text to start the samples from, got {prompt!r}")
    unknown = sorted(set(prompt) - set(vocabulary))
    if unknown:
        raise TrainingError(f"training.dataset.prompt holds {''.join(unknown)!r}, which the text never uses; "
                            "write the prompt with characters of the text")
    sampling = TextSampling(vocabulary, prompt, int_option(options, "sample_length", 1, 100_000),
                            float_option(options, "temperature", 1e-3, 100.0), seq_len)
    x, y = text_windows(text, index, seq_len, stride)
    if len(x) < 2:
        raise TrainingError(f"dataset 'python_help' holds {len(text)} characters: too few for windows of {seq_len}; "
                            "lower training.dataset.seq_len or raise max_chars")
    ids = TensorType((seq_len,), "int64")
    info = DatasetInfo("python_help", f"Python's help text: {len(text):,} characters in {len(docs)} topics, "
                       f"{len(vocabulary)} distinct; windows of {seq_len}", CLASSIFICATION, ids, ids,
                       tuple(_label(c) for c in vocabulary), len(x))
    return TextWindows(info, x, y, extra={"documents": pieces(docs), "index": index, "seq_len": seq_len, "stride": stride,
                                          "sampling": sampling})
