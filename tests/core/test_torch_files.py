"""Every checkpoint and weights file goes through one reader (studio.core.torch_files): the export's
--checkpoint and a training resume refuse the same hostile files with the same words."""
from __future__ import annotations

import os
import pickle

import pytest
import torch

from studio.core.weights import WeightsError, read_state_dict
from studio.training.checkpoint import load_checkpoint
from studio.training.errors import TrainingError


class _RunsCode:
    """Unpickling it would create a file: proof that code ran."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _both(path) -> tuple[str, str]:
    """The messages of the weights reader and the checkpoint reader for one file."""
    with pytest.raises(WeightsError) as weights:
        read_state_dict(path)
    with pytest.raises(TrainingError) as checkpoint:
        load_checkpoint(path)
    return str(weights.value), str(checkpoint.value)


@pytest.mark.fault('checkpoint', 'a crafted pickle given as weights or as a checkpoint to resume',
                   'refused by both readers with one message; no code runs')
def test_a_pickle_that_runs_code_is_refused_by_both_readers(tmp_path):
    marker, evil = tmp_path / "pwned", tmp_path / "evil.pt"
    torch.save({"model": _RunsCode(marker)}, evil, pickle_protocol=2)  # a real torch zip file, with the bad object
    weights, checkpoint = _both(evil)
    assert weights == checkpoint
    assert weights.startswith(f"{evil}: refused: it holds Python objects that could run code"), weights
    assert not marker.exists()


@pytest.mark.fault('checkpoint', 'a truncated checkpoint file', 'refused by both readers with one message')
def test_a_truncated_file_is_named_by_both_readers(tmp_path):
    good = tmp_path / "good.pt"
    torch.save({"model": {"w": torch.zeros(3)}}, good)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:40])
    weights, checkpoint = _both(cut)
    assert weights == checkpoint
    assert weights.startswith(f"{cut}: is not a readable PyTorch checkpoint ("), weights


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.fault('checkpoint', 'a FIFO given as weights or checkpoint', 'refused at once (never blocks) by both')
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    weights, checkpoint = _both(fifo)
    assert "is a named pipe (FIFO), not a weights file" in weights
    assert "is a named pipe (FIFO), not a checkpoint file" in checkpoint


def test_a_plain_pickle_is_refused_too(tmp_path):
    path = tmp_path / "plain.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"model": _RunsCode(tmp_path / "pwned")}, fh)
    weights, checkpoint = _both(path)
    assert weights == checkpoint and not (tmp_path / "pwned").exists()
