"""The generated load_data() for every dataset kind the code exporter knows, run on its own."""
from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import TensorDataset

from studio.core.types import TensorType
from studio.export.codegen.data import data_code

CASES = [  # dataset options, model input, expected (x shape per sample, target dtype, classification)
    ({"name": "digits"}, TensorType((1, 8, 8)), (1, 8, 8), torch.int64, True),
    ({"name": "digits"}, TensorType((64,)), (64,), torch.int64, True),  # reshaped to the model's input
    ({"name": "digits", "target": "input"}, TensorType((1, 8, 8)), (1, 8, 8), torch.float32, False),
    ({"name": "iris"}, TensorType((4,)), (4,), torch.int64, True),
    ({"name": "wine"}, TensorType((13,)), (13,), torch.int64, True),
    ({"name": "breast_cancer"}, TensorType((30,)), (30,), torch.int64, True),
    ({"name": "moons", "samples": 300, "noise": 0.2}, TensorType((2,)), (2,), torch.int64, True),
    ({"name": "circles", "samples": 300}, TensorType((2,)), (2,), torch.int64, True),
    ({"name": "spirals", "samples": 300, "classes": 3}, TensorType((2,)), (2,), torch.int64, True),
    ({"name": "linear"}, TensorType((1,)), (1,), torch.float32, False),
    ({"name": "sine"}, TensorType((1,)), (1,), torch.float32, False),
    ({"name": "sequence_sum", "seq_len": 20}, TensorType((20, 1)), (20, 1), torch.float32, False),
    ({"name": "parity", "seq_len": 8, "samples": 200}, TensorType((8, 1)), (8, 1), torch.int64, True),
    ({"name": "tokens", "vocab_size": 20, "seq_len": 32, "num_classes": 4, "samples": 300},
     TensorType((32,), "int64"), (32,), torch.int64, True),
]


def _run(code, in_type):
    scope = {"torch": torch, "math": math, "TensorDataset": TensorDataset, "DATA_ROOT": "data", "SEED": 0,
             "VAL_FRACTION": 0.2, "INPUT_SHAPE": tuple(in_type.shape)}
    exec(compile(code.source, "<generated>", "exec"), scope)
    return scope["load_data"]()


@pytest.mark.parametrize("options,in_type,shape,target_dtype,classification", CASES,
                         ids=[f"{c[0]['name']}-{i}" for i, c in enumerate(CASES)])
def test_generated_loader(options, in_type, shape, target_dtype, classification):
    code = data_code({"dataset": options}, [("input", in_type)], [("output", None)])
    assert code.generated and code.classification == classification
    train, val = _run(code, in_type)
    x, y = train[0]
    assert tuple(x.shape) == shape and x.dtype == getattr(torch, in_type.dtype)
    assert y.dtype == target_dtype
    assert len(train) > len(val) > 0
    if options["name"] == "tokens":  # the label is the marker (1..k) that occurs most often
        xs, ys = train.tensors
        counts = torch.stack([(xs == m).sum(1) for m in range(1, 5)], 1)
        assert torch.equal(counts.argmax(1), ys)


def test_mismatched_shapes_and_unknown_kinds_are_refused_in_the_code():
    for options, in_type in (({"name": "digits"}, TensorType((3, 32, 32))), ({"name": "csv", "path": "a.csv"},
                                                                             TensorType((4,)))):
        code = data_code({"dataset": options}, [("input", in_type)], [("output", None)])
        assert not code.generated and code.notes
        with pytest.raises(NotImplementedError, match="Write load_data"):
            _run(code, in_type)


def test_torchvision_loaders_use_the_projects_normalization():
    """(Not run: they download.) The code names the dataset, the split and the normalization."""
    norm = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    code = data_code({"dataset": {"name": "cifar10", "normalize": norm}}, [("input", TensorType((3, 32, 32)))], [])
    assert "datasets.CIFAR10(root, train=True, download=True" in code.source
    assert "transforms.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25])" in code.source and code.classification
    code = data_code({"dataset": {"name": "mnist"}}, [("input", TensorType((784,)))], [])
    assert "transforms.Lambda(_to_input_shape)" in code.source and "datasets.MNIST(" in code.source
    compile(code.source, "<generated>", "exec")
