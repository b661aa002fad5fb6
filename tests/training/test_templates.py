"""Every template trains for an epoch on the CPU (MNIST and CIFAR-10 from tiny files in torchvision's
layout), so the examples a person opens first always work."""
from __future__ import annotations

import pytest

from studio import load_project
from studio.training.trainer import Trainer

from .conftest import TEMPLATES, own_images, template, write_project
from .test_datasets import write_cifar, write_mnist


SLOW = {"resnet18"}  # 11.7 M parameters on the CPU, even at 64 x 64


@pytest.mark.parametrize("path", [pytest.param(p, marks=[pytest.mark.slow] if p.stem in SLOW else [])
                                  for p in sorted(TEMPLATES.glob("*.json"))], ids=lambda p: p.stem)
def test_template_trains_one_epoch(tmp_path, path):
    record = template(path.stem)
    name = record["training"]["dataset"]["name"]
    if name == "mnist":
        write_mnist(tmp_path / "data", n=100)
    elif name == "cifar10":
        write_cifar(tmp_path / "data", n=20)
    elif name == "image_folder":  # resnet18: the person's images (a tiny folder, smaller pictures)
        own_images(record, tmp_path)
    trainer = Trainer.from_project(load_project(write_project(tmp_path, record)), {"epochs": 1, "device": "cpu"})
    result = trainer.fit()
    assert result.status == "finished", result.message
    val = [r for r in result.history if r["split"] == "val"]
    assert val and val[0]["loss"] == val[0]["loss"]  # a number, not NaN
