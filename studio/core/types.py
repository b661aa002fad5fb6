"""Tensor types flowing along wires, and the error raised when they do not fit."""
from __future__ import annotations

from dataclasses import dataclass

FLOAT = "float32"
INT = "int64"
DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "bool")


class ShapeError(ValueError):
    """A node cannot accept what flows into it. The message is in a person's words, without the
    node's name (the analyzer prefixes "<Type> '<id>'"), and says how to fix it where it can."""


@dataclass(frozen=True)
class TensorType:
    """The shape of one sample (no batch dimension) and its dtype."""

    shape: tuple[int, ...]
    dtype: str = FLOAT

    def __str__(self) -> str:  # "[16, 5, 5]" or "[64] int64"
        text = "[" + ", ".join(str(d) for d in self.shape) + "]"
        return text if self.dtype == FLOAT else f"{text} {self.dtype}"

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def is_float(self) -> bool:
        return self.dtype.startswith(("float", "bfloat"))

    @property
    def kind(self) -> str:
        """What flows, for colouring wires: tokens, vector, sequence, image or tensor."""
        if not self.is_float:
            return "tokens"
        return {1: "vector", 2: "sequence", 3: "image"}.get(self.rank, "tensor")

    def with_shape(self, *shape: int) -> "TensorType":
        return TensorType(tuple(int(d) for d in shape), self.dtype)


def fmt_shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"
