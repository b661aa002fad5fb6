"""The bf16 channels-last variant casts the model's input to bf16 before its channels-last copy,
where only convolutions read the input (fastpath/variants.py): those are the values autocast gives
the convolutions anyway, so the step's loss and gradients are bit for bit the same, and the copy
moves half the bytes. Where anything else reads the input it reaches the model as it was given."""
from __future__ import annotations

import copy

import torch
from torch import fx, nn

from studio.training.fastpath.variants import EagerVariant
from studio.training.step import EagerStep


def convolved_first():
    return fx.symbolic_trace(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                           nn.Linear(4 * 4 * 4, 5)))


class AlsoReadRaw(nn.Module):
    """The input feeds a convolution and, as it is, the classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 4, 3), nn.Linear(4 * 8 * 8 + 3 * 10 * 10, 5)

    def forward(self, x):
        return self.fc(torch.cat([self.conv(x).flatten(1), x.flatten(1)], 1))


def step_for(model):
    return EagerStep(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                     device=torch.device("cpu"))


def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, 3, 10, 10, generator=g), torch.randint(0, 5, (8,), generator=g)


def test_where_only_convolutions_read_the_input_it_is_cast_first_with_the_same_loss_and_gradients():
    torch.manual_seed(0)
    model = convolved_first()
    reference_model = copy.deepcopy(model)
    x, y = batch()
    variant = EagerVariant(step_for(model), "bf16_channels_last")
    prepared = variant.eager.prepare_input(x)
    assert prepared.dtype == torch.bfloat16 and prepared.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(prepared, x.to(torch.bfloat16))

    reference = EagerVariant(step_for(reference_model), "bf16_channels_last")
    reference.eager.input_dtype = None  # float32 in: autocast casts it at the convolution
    assert reference.eager.prepare_input(x).dtype == torch.float32

    loss, _ = variant(x, y)
    want, _ = reference(x, y)
    assert loss.dtype == want.dtype and torch.equal(loss, want)
    for (name, p), q in zip(model.named_parameters(), reference_model.parameters()):
        assert torch.equal(p, q), name  # the same update from the same gradients
    variant.undo()
    assert variant.eager.input_dtype is None  # the next trial gets the input as given


def test_an_input_read_by_anything_else_or_outside_bf16_channels_last_is_left_as_given():
    x, _ = batch()
    raw = EagerVariant(step_for(fx.symbolic_trace(AlsoReadRaw())), "bf16_channels_last")
    assert raw.eager.prepare_input(x).dtype == torch.float32
    for name in ("bf16", "channels_last", "bf16_matmul"):
        variant = EagerVariant(step_for(convolved_first()), name)
        assert variant.eager.prepare_input(x).dtype == torch.float32, name
    untraced = EagerVariant(step_for(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(256, 5))),
                            "bf16_channels_last")
    assert untraced.eager.prepare_input(x).dtype == torch.float32  # no graph to read the input's users from
