"""Issue 17 item 5 acceptance: fine-tune a pretrained model from a weights file made here (no
download): import it, replace the head for an image folder, freeze the rest, train two epochs; the
frozen weights and the frozen BatchNorm statistics are bit-identical afterwards, the head changed."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from torchvision.models.resnet import BasicBlock

from studio import load_project
from studio.cli import main
from studio.importing import import_module

CLASSES = ("cat", "dog", "owl")


class TinyResNet(nn.Module):
    """torchvision's ResNet at a small width: a stem, two BasicBlocks (one with a projection), a head."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        down = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
        self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 16, stride=2, downsample=down))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.layer1(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def pretrained_weights(path) -> None:
    """A "pretrained" weights file: random weights and BatchNorm statistics that are not the defaults."""
    torch.manual_seed(3)
    model = TinyResNet()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.num_batches_tracked.fill_(1000)
    torch.save(model.state_dict(), path)


def image_folder(root, per_class: int = 4) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 80, (16, 16, 3)) + 60 * k
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")


def imported_project(tmp_path, frozen_batchnorm: str | None = None):
    pretrained_weights(tmp_path / "pretrained.pt")
    model = TinyResNet()
    model.load_state_dict(torch.load(tmp_path / "pretrained.pt", weights_only=True))
    project = tmp_path / "tiny.json"
    import_module(model, project, [3, 16, 16], "tiny")
    image_folder(tmp_path / "imgs")
    record = json.loads(project.read_text())
    record["training"] = {"dataset": {"name": "image_folder", "path": "imgs"}, "epochs": 2, "batch_size": 4,
                          "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
                          "split": {"val": 0.25}, "device": "cpu", "seed": 0}
    if frozen_batchnorm:
        record["training"]["frozen_batchnorm"] = frozen_batchnorm
    project.write_text(json.dumps(record))
    return project


def test_fine_tune_keeps_frozen_weights_bit_identical(tmp_path, capsys):
    project = imported_project(tmp_path)
    tuned = tmp_path / "tuned.json"
    assert main(["finetune", str(project), "--replace-head", "--freeze-backbone", "-o", str(tuned)]) == 0
    said = capsys.readouterr().out
    assert "head 'fc' 10 -> 3 outputs" in said and "frozen" in said
    start = load_file(str(tmp_path / "tuned.safetensors"))
    source = load_file(str(tmp_path / "tiny.safetensors"))
    assert start["fc.weight"].shape == (3, 16)
    for key, value in source.items():  # every other tensor carried from the weights file
        if not key.startswith("fc."):
            assert torch.equal(start[key], value), key
    graph = load_project(tuned).graph
    assert graph.node("layer1_0").frozen and graph.node("conv1").frozen and not graph.node("fc").frozen
    assert not graph.node("relu").frozen  # nothing to freeze in a layer without weights

    assert main(["train", str(tuned), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out = capsys.readouterr().out
    trained = 16 * 3 + 3
    total = sum(v.numel() for k, v in start.items() if "running" not in k and "num_batches" not in k)
    assert f"trains {trained:,} of {total:,} parameters ({total - trained:,} frozen)" in out
    after = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
    assert after["fc.weight"].shape == (3, 16) and not torch.equal(after["fc.weight"], start["fc.weight"])
    buffers = [k for k in start if "running" in k or "num_batches" in k]
    assert len(buffers) == 6 * 3  # bn1, two in each block, the projection's
    for key, value in start.items():
        if not key.startswith("fc."):
            assert torch.equal(after[key], value), f"{key} changed while frozen"


def test_frozen_batchnorm_train_updates_the_statistics_only(tmp_path):
    from studio.training.trainer import Trainer

    project = imported_project(tmp_path, frozen_batchnorm="train")
    tuned = tmp_path / "tuned.json"
    assert main(["finetune", str(project), "--replace-head", "--freeze-backbone", "-o", str(tuned)]) == 0
    trainer = Trainer.from_project(load_project(tuned))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert trainer.fit().status == "finished"
    after = trainer.model.state_dict()
    assert not torch.equal(after["bn1.running_mean"], before["bn1.running_mean"])  # batch statistics, kept
    assert torch.equal(after["bn1.weight"], before["bn1.weight"])  # the frozen affine weights stay
    assert torch.equal(after["layer1_0.conv1.weight"], before["layer1_0.conv1.weight"])


@pytest.mark.fault("finetune", "-o names the source project itself", "refused, naming the file; nothing written")
def test_finetune_never_overwrites_its_source(tmp_path, capsys):
    project = imported_project(tmp_path)
    before = project.read_bytes()
    assert main(["finetune", str(project), "--replace-head", "-o", str(project), "--overwrite"]) == 2
    assert "source project's own file" in capsys.readouterr().err
    assert project.read_bytes() == before


@pytest.mark.fault("training", "a pretrained head with another class count than the dataset",
                   "refused (exit 2) suggesting Replace head / python -m studio finetune")
def test_a_head_that_does_not_fit_the_dataset_suggests_replacing_it(tmp_path, capsys):
    project = imported_project(tmp_path)
    assert main(["train", str(project), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "3 classes" in err and "replace the head: right-click 'fc' > Replace head" in err
    assert "python -m studio finetune PROJECT.json --replace-head -o NEW.json" in err


@pytest.mark.fault("finetune", "--replace-head not a count, 0, or nothing asked",
                   "refused (exit 2) saying what to write; nothing written")
def test_bad_finetune_arguments_are_refused(tmp_path, capsys):
    project = imported_project(tmp_path)
    out = tmp_path / "tuned.json"
    for argv, says in ((["--replace-head", "many"], "must be a class count"),
                       (["--replace-head", "0"], "a class count of at least 1"),
                       ([], "say what to change")):
        assert main(["finetune", str(project), "-o", str(out), *argv]) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err, err
        assert not out.exists() and not out.with_suffix(".safetensors").exists()
