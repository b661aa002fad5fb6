"""The character-level text dataset (issue 16, item 7): next-character windows over Python's help
text, a vocabulary built from the text, a split by whole topics that does not leak, and the text a
language model writes after each epoch (the trainer's event, `train`'s output)."""
from __future__ import annotations

import json

import pytest
import torch

from studio.cli import main
from studio.core.project import loads_project
from studio.training.datasets import load_dataset
from studio.training.datasets.text import SEPARATOR, assign_pieces, python_help_topics
from studio.training.errors import TrainingError
from studio.training.sampling import TextSampling, sample_text
from studio.training.trainer import Trainer

from .conftest import write_project

VOCAB = len(set(SEPARATOR.join(python_help_topics())))


def lstm_lm(max_chars=20_000, epochs=1, seq_len=32, **dataset) -> dict:
    """A small tied LSTM language model on the help text."""
    nodes = [{"id": "tokens", "type": "Input", "params": {"shape": [seq_len], "dtype": "int64"}},
             {"id": "encoder", "type": "Embedding", "params": {"num_embeddings": VOCAB, "embedding_dim": 32}},
             {"id": "rnn", "type": "LSTM", "params": {"hidden_size": 32}},
             {"id": "decoder", "type": "Linear", "params": {"out_features": VOCAB}, "shares": "encoder"},
             {"id": "out", "type": "Output"}]
    ids = [n["id"] for n in nodes]
    return {"format": "netstudio", "version": 1, "name": "lstm lm", "nodes": nodes,
            "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])],
            "training": {"dataset": {"name": "python_help", "max_chars": max_chars, "seq_len": seq_len,
                                     "sample_length": 40, **dataset},
                         "loss": {"type": "CrossEntropyLoss"}, "optimizer": {"type": "Adam", "lr": 0.005},
                         "epochs": epochs, "batch_size": 32, "device": "cpu", "metrics": ["accuracy"]}}


def test_windows_predict_the_next_character_with_the_texts_own_vocabulary():
    ds = load_dataset({"name": "python_help", "seq_len": 16, "max_chars": 5000})
    sampling = ds.extra["sampling"]
    text = SEPARATOR.join(python_help_topics())
    assert sampling.vocabulary == "".join(sorted(set(text)))  # all of it, whatever max_chars cuts
    assert ds.info.input.shape == ds.info.target.shape == (16,) and ds.info.num_classes == VOCAB
    assert torch.equal(ds.x[:, 1:], ds.y[:, :-1])  # the target is the window one character on
    first = sampling.decode(ds.x[0].tolist() + [ds.y[0, -1].item()])
    assert text.startswith(first)
    assert sampling.decode(ds.x[1].tolist()) == text[16:32]  # windows side by side (stride = seq_len)


def test_the_split_gives_whole_pieces_to_one_part_so_nothing_leaks():
    ds = load_dataset({"name": "python_help", "seq_len": 32})
    docs, sampling = ds.extra["documents"], ds.extra["sampling"]
    assert SEPARATOR.join(docs) == SEPARATOR.join(python_help_topics())  # pieces of whole paragraphs
    splits = ds.split(0.1, 0.1, seed=3)
    parts = assign_pieces([len(d) for d in docs], 0.1, 0.1, seed=3)
    assert sorted(parts["train"] + parts["val"] + parts["test"]) == list(range(len(docs)))
    for name in ("train", "val", "test"):
        part = getattr(splits, name)
        # windows side by side: read one after another they are the part's own pieces, and nothing else
        written = sampling.decode(part.x.reshape(-1).tolist())
        own = SEPARATOR.join(docs[i] for i in parts[name])
        assert own.startswith(written) and len(own) - len(written) <= 2 * 32, name
    total = sum(len(d) for d in docs)
    assert 0.09 * total < len(splits.val) * 32 < 0.12 * total
    again = ds.split(0.1, 0.1, seed=3)
    assert torch.equal(again.val.x, splits.val.x)
    assert not torch.equal(ds.split(0.1, 0.1, seed=4).val.x, splits.val.x)


@pytest.mark.fault("dataset", "python_help: a prompt with characters the text never uses, a window longer "
                   "than the text", "refused naming the option and the fix")
def test_options_that_cannot_work_are_refused_by_name():
    with pytest.raises(TrainingError, match=r"training.dataset.prompt holds '☃'"):
        load_dataset({"name": "python_help", "prompt": "☃ "})
    with pytest.raises(TrainingError, match="too few for windows of 4000"):
        load_dataset({"name": "python_help", "max_chars": 100, "seq_len": 4000})
    with pytest.raises(TrainingError, match="not an option of dataset 'python_help'"):
        load_dataset({"name": "python_help", "vocab": 3})


class NextOfLast(torch.nn.Module):
    """Scores at each position: certainty that the next id is this position's id + 1."""

    def __init__(self, vocab: int):
        super().__init__()
        self.vocab = vocab

    def forward(self, ids):
        return torch.nn.functional.one_hot((ids + 1) % self.vocab, self.vocab).float() * 50


def test_sampling_reads_the_context_s_last_position_and_slides_the_window():
    sampling = TextSampling("abcdefgh", "ab", 20, 0.5, seq_len=4)
    text = sample_text(NextOfLast(8), sampling, "cpu", seed=0)
    assert text == "cdefghabcdefghabcdef"  # each character follows the last, past the window's end
    flat = TextSampling("abcd", "a", 200, 1.0, seq_len=8)
    uniform = type("Uniform", (torch.nn.Module,), {"forward": lambda self, ids: torch.zeros(*ids.shape, 4)})()
    once, twice = (sample_text(uniform, flat, "cpu", seed=5) for _ in range(2))
    assert once == twice and len(set(once)) == 4 and sample_text(uniform, flat, "cpu", seed=6) != once


def test_a_language_model_learns_and_writes_after_every_epoch():
    project = loads_project(json.dumps(lstm_lm(epochs=2)))
    trainer = Trainer.from_project(project)
    events = []
    trainer.add_listener(events.append)
    result = trainer.fit()
    assert result.status == "finished", result.message
    kinds = [e.kind for e in events if e.kind in ("epoch", "text_sample")]
    assert kinds == ["epoch", "text_sample"] * 2
    samples = [e for e in events if e.kind == "text_sample"]
    assert all(len(s.text) == 40 and s.prompt == "The " and s.temperature == 0.8 for s in samples)
    assert set("".join(s.text for s in samples)) <= set(trainer.dataset.extra["sampling"].vocabulary)
    val = [r for r in result.history if r["split"] == "val"]
    assert val[-1]["loss"] < val[0]["loss"] and 0 < val[-1]["accuracy"] < 1


def test_train_prints_the_sample_after_each_epoch_line(tmp_path, capsys):
    path = write_project(tmp_path, lstm_lm(max_chars=8000, epochs=2, prompt="def "))
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err.splitlines()
    epochs = [i for i, line in enumerate(err) if line.startswith("epoch ") and "/2" in line]
    samples = [i for i, line in enumerate(err) if line.startswith("sample (epoch ")]
    assert len(epochs) == len(samples) == 2 and all(s == e + 1 for e, s in zip(epochs, samples)), err
    assert "temperature 0.8): 'def ' + '" in err[samples[0]]
