"""The character-level causal Transformer language model template (issue 16, item 7): causal and
tied as drawn, and (slow) its loss falls below the unigram entropy of its text within its default
epochs on one CPU core, writing a sample after every epoch."""
from __future__ import annotations

import math
import time
from collections import Counter

import pytest
import torch

import studio
from studio.core.summary import summarize
from studio.training.datasets.text import SEPARATOR, python_help_topics
from studio.training.trainer import Trainer

from .conftest import TEMPLATES

LM = TEMPLATES / "char_transformer_lm.json"


def unigram_entropy_nats(text: str) -> float:
    """The loss of the best model that ignores context: each character at its frequency in the text."""
    counts, n = Counter(text), len(text)
    return -sum(c / n * math.log(c / n) for c in counts.values())


def test_the_template_is_causal_and_tied():
    project = studio.load_project(LM)
    model = studio.build_model(project).eval()
    assert model.decoder.weight is model.encoder.weight
    vocab = model.encoder.num_embeddings
    assert vocab == len(set(SEPARATOR.join(python_help_topics())))
    x = torch.randint(0, vocab, (2, 64))
    later = x.clone()
    later[:, 40:] = torch.randint(0, vocab, (2, 24))
    with torch.no_grad():
        a, b = model(x), model(later)
    torch.testing.assert_close(a[:, :40], b[:, :40])  # a later character never changes an earlier score
    assert not torch.allclose(a[:, 40:], b[:, 40:])
    rows = {r.id: r for r in summarize(project.graph).rows}
    assert rows["decoder"].shares == "encoder" and rows["decoder"].params == vocab  # its bias only


@pytest.mark.slow
def test_the_template_learns_below_the_unigram_entropy_in_its_default_epochs_on_one_core():
    entropy = unigram_entropy_nats(SEPARATOR.join(python_help_topics()))
    print(f"unigram entropy of the help text: {entropy:.3f} nats per character")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        project = studio.load_project(LM)
        trainer = Trainer.from_project(project, {"device": "cpu"})
        samples = []
        trainer.add_listener(lambda e: samples.append(e) if e.kind == "text_sample" else None)
        start = time.perf_counter()
        result = trainer.fit()
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    assert result.status == "finished", result.message
    val = [r["loss"] for r in result.history if r["split"] == "val"]
    print(f"validation loss by epoch: {', '.join(f'{v:.3f}' for v in val)}; {seconds:.0f} s")
    print(f"last sample: {samples[-1].prompt!r} + {samples[-1].text!r}")
    assert len(val) == project.training["epochs"] == len(samples)
    assert val[-1] < entropy
    assert all(len(s.text) == 200 for s in samples)
