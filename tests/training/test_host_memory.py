"""The trainer's use of host memory on the CPU (issue 7): batches gathered per step (no copy of the
split per epoch), freed memory kept for the next step, and a finished trainer freed at once."""
from __future__ import annotations

import gc
import platform
import resource
import weakref

import pytest
import torch

from studio.training import allocator
from studio.training.config import parse_config
from studio.training.datasets.base import classification
from studio.training.step import epoch_order
from studio.training.trainer import Trainer

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _dataset(samples: int, features: int, classes: int = 3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(samples, features, generator=g)
    y = torch.randint(0, classes, (samples,), generator=g)
    return classification("random", "random data", x, y, [str(i) for i in range(classes)])


def _trainer(dataset, batch: int = 32, epochs: int = 2, **training) -> Trainer:
    features, classes = dataset.x.shape[1], dataset.info.num_classes
    model = torch.nn.Sequential(torch.nn.Linear(features, 16), torch.nn.ReLU(), torch.nn.Linear(16, classes))
    config = parse_config({"dataset": {"name": "random"}, "loss": {"type": "CrossEntropyLoss"},
                           "optimizer": {"type": "Adam", "lr": 1e-3}, "epochs": epochs, "batch_size": batch,
                           "device": "cpu", "split": {"val": 0.0}, **training})
    return Trainer(model, dataset, config)


def test_each_step_gets_the_batch_of_the_epochs_order():
    trainer = _trainer(_dataset(100, 4))
    trainer.prepare()
    seen, step = [], trainer.step_fn

    def spy(x, target):
        seen.append((x.clone(), target.clone()))
        return step(x, target)

    spy.name = step.name
    trainer.step_fn = spy
    train, _ = trainer.train_epoch(1)
    perm = epoch_order(len(trainer.train_data), 1, trainer.config.seed)
    data = trainer.train_data
    assert [len(x) for x, _ in seen] == [32, 32, 32, 4]  # the partial last batch too
    for i, (x, t) in enumerate(seen):
        idx = perm[32 * i:32 * (i + 1)]
        assert torch.equal(x, data.x[idx]) and torch.equal(t, data.target[idx])
    assert 0.0 <= train["accuracy"] <= 1.0 and train["loss"] > 0


def test_a_finished_trainer_is_freed_without_the_garbage_collector():
    dataset = _dataset(64, 4)
    _trainer(dataset).fit()  # first use: imports (their frames may sit in a cycle until collected)
    gc.collect()
    gc.disable()
    try:
        trainer = _trainer(dataset)
        trainer.fit()
        ref = weakref.ref(trainer)
        optimizer = weakref.ref(trainer.optimizer)
        del trainer
        assert ref() is None and optimizer() is None  # no cycle holds its model, optimizer state or data
    finally:
        gc.enable()


@pytest.mark.skipif(not GLIBC, reason="page-fault counts of glibc's malloc on Linux")
def test_an_epoch_does_not_copy_the_split():
    # 40 MB of samples: a copy per epoch would be mmap'd and page-faulted in again every epoch
    # (~10,000 faults); batches of 1 MB are reused from the heap
    trainer = _trainer(_dataset(10_000, 1_000), batch=256, epochs=3)
    trainer.prepare()
    trainer.train_epoch(1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    trainer.train_epoch(2)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 3_000, faults


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt")
def test_freed_memory_is_kept_once_per_process_unless_the_person_chose(monkeypatch):
    assert allocator.keep_freed_memory() == "kept"
    assert allocator.keep_freed_memory() == "kept"  # once: the second call changes nothing
    for env, value in (("NETSTUDIO_MALLOC", "default"), ("LD_PRELOAD", "/usr/lib/libjemalloc.so.2"),
                       ("MALLOC_TRIM_THRESHOLD_", "0"), ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")):
        with monkeypatch.context() as m:
            m.setattr(allocator, "_state", None)
            m.setenv(env, value)
            assert allocator.keep_freed_memory() != "kept"


def test_each_cpu_run_asks_to_keep_freed_memory(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(1) or "kept")
    assert _trainer(_dataset(64, 4), epochs=1).fit().status == "finished"
    assert calls == [1]
