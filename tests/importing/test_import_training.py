"""Issue 17: training an imported project starts from the imported weights."""
from __future__ import annotations

import json

import torch
from safetensors.torch import load_file
from torch import nn

from studio import load_project
from studio.importing import import_module
from studio.training.trainer import Trainer


def test_training_starts_from_the_imported_weights(tmp_path):
    torch.manual_seed(0)
    source = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    out = tmp_path / "mlp.json"
    import_module(source, out, [2], "mlp")
    record = json.loads(out.read_text())
    record["training"] = {"dataset": {"name": "moons", "samples": 200}, "loss": {"type": "CrossEntropyLoss"},
                          "optimizer": {"type": "SGD", "lr": 0.1}, "epochs": 1, "batch_size": 50,
                          "device": "cpu", "seed": 1}
    out.write_text(json.dumps(record))
    saved = load_file(str(tmp_path / "mlp.safetensors"))
    trainer = Trainer.from_project(load_project(out))
    start = trainer.model.state_dict()
    assert set(start) == set(saved) == {"n_0.weight", "n_0.bias", "n_2.weight", "n_2.bias"}
    for key, value in saved.items():
        assert torch.equal(start[key], value), key  # not the trainer's own random initialisation
    assert torch.equal(saved["n_0.weight"], source[0].weight.detach())
    result = trainer.fit()
    assert result.status == "finished"
    assert not torch.equal(trainer.model.state_dict()["n_0.weight"], saved["n_0.weight"])
