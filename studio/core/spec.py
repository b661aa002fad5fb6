"""Declarative node specs: typed params, ports, shape inference and the module factory.

The core knows node types only through these specs; the `nodes` package (or a third-party package)
provides them through the registry. Param kinds are value types, not widgets: the UI maps each kind
to an editor.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .limits import MAX_INDEX, fmt_int, fmt_value, is_finite_number
from .types import ShapeError, TensorType

PARAM_KINDS = ("int", "float", "bool", "choice", "str", "size", "shape", "dims")


class ParamError(ValueError):
    """A param value is refused; the message says what is allowed."""


@dataclass(frozen=True)
class Param:
    """One constructor argument, by its PyTorch name.

    kind: int | float | bool | choice | str | size (an int, or a list of `arity` ints, like
    kernel_size) | shape (a list of positive ints) | dims (a list of ints, negatives allowed).
    """

    name: str
    kind: str
    default: Any
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    optional: bool = False  # None is allowed (and means "not set")
    arity: int = 1  # for kind "size"

    def __post_init__(self):
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"unknown param kind {self.kind!r} for {self.name!r}")

    def describe_range(self) -> str:
        if self.min is not None and self.max is not None:
            return f"between {_num(self.min)} and {_num(self.max)}"
        if self.min is not None:
            return f"at least {_num(self.min)}"
        if self.max is not None:
            return f"at most {_num(self.max)}"
        return ""

    def coerce(self, value: Any) -> Any:
        """Return the value in canonical form, or raise ParamError saying what is allowed."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"'{self.name}' needs a value")
        k = self.kind
        if k == "bool":
            if isinstance(value, bool):
                return value
            raise ParamError(f"'{self.name}' must be true or false, got {value!r}")
        if k == "int":
            return self._ranged(self._int(value))
        if k == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"'{self.name}' must be a number, got {value!r}")
            if not is_finite_number(value):  # math.isfinite raises on an int past the float range
                raise ParamError(f"'{self.name}' must be a finite number, got {fmt_value(value)}")
            return self._ranged(float(value))
        if k == "choice":
            if value in self.choices:
                return value
            opts = ", ".join(repr(c) for c in self.choices)
            raise ParamError(f"'{self.name}' must be one of {opts}; got {value!r}")
        if k == "str":
            if isinstance(value, str):
                return value
            raise ParamError(f"'{self.name}' must be text, got {value!r}")
        if k == "size":
            if isinstance(value, (list, tuple)):
                if len(value) != self.arity:
                    raise ParamError(f"'{self.name}' must be one number or a list of {self.arity}, "
                                     f"got {list(value)!r}")
                items = [self._ranged(self._int(v)) for v in value]
                return items[0] if len(set(items)) == 1 else items
            return self._ranged(self._int(value))
        # shape / dims: lists of ints
        if not isinstance(value, (list, tuple)):
            raise ParamError(f"'{self.name}' must be a list of whole numbers, got {value!r}")
        items = [self._int(v) for v in value]
        if k == "shape":
            if not items or any(v < 1 for v in items):
                raise ParamError(f"'{self.name}' must be a non-empty list of sizes of at least 1, "
                                 f"got {items!r}")
            if math.prod(items) > MAX_INDEX:
                raise ParamError(f"'{self.name}' {[fmt_int(v) for v in items]} holds {fmt_int(math.prod(items))} "
                                 f"elements per sample, more than PyTorch can index ({MAX_INDEX:,}); "
                                 "use smaller sizes")
        if k == "dims" and self.min is not None and len(items) < self.min:
            raise ParamError(f"'{self.name}' needs at least {int(self.min)} entries, got {items!r}")
        return items

    def _int(self, value: Any) -> int:
        if isinstance(value, bool):
            raise ParamError(f"'{self.name}' must be a whole number, got {value!r}")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int):
            raise ParamError(f"'{self.name}' must be a whole number, got {fmt_value(value)}")
        if not -MAX_INDEX - 1 <= value <= MAX_INDEX:  # no size or index PyTorch builds is larger
            raise ParamError(f"'{self.name}' is {fmt_int(value)}, beyond the largest whole number PyTorch "
                             f"can index ({MAX_INDEX:,}); use a smaller number")
        return value

    def _ranged(self, v):
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            raise ParamError(f"'{self.name}' must be {self.describe_range()}, got {_num(v)}")
        return v


def _num(x) -> str:
    if isinstance(x, int):
        return fmt_int(x)
    return str(int(x)) if float(x).is_integer() else repr(float(x))



@dataclass(frozen=True)
class Port:
    name: str
    doc: str = ""
    multi: bool = False  # accepts several wires (merge nodes), in the order they were connected
    optional: bool = False  # may stay unwired: infer, build and wire then get None in its place


Infer = Callable[[Mapping[str, Any], Sequence[TensorType | None]], Sequence[TensorType | None]]
Build = Callable[[Mapping[str, Any], Sequence[TensorType | None]], Any]
Wire = Callable[[Callable, Sequence[Any], Mapping[str, Any]], Sequence[Any]]


def call_module(call: Callable, inputs: Sequence[Any], params: Mapping[str, Any]) -> list:
    """Default wiring: the module takes the inputs in port order and returns the one output."""
    return [call(*inputs)]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per type
class NodeSpec:
    """A node type.

    infer(params, inputs) -> output types, one per output port; raises ShapeError.
        For a `multi` input port, `inputs` holds one entry per wire; for an `optional` port left
        unwired it holds None. An output type may be None: the node does not produce that output
        with these params (a wire from it is reported).
    build(params, inputs) -> torch.nn.Module, or None for pure functions (see wire).
    wire(call, inputs, params) -> outputs: how the node's outputs follow from calling its module;
        it is run on real tensors and on torch.fx proxies, so it must use only tensor operations.
        `call` is None when build returns None.
    """

    type: str
    category: str
    doc: str
    infer: Infer
    build: Build
    params: tuple[Param, ...] = ()
    inputs: tuple[Port, ...] = (Port("in"),)
    outputs: tuple[Port, ...] = (Port("out"),)
    wire: Wire = call_module
    key_params: tuple[str, ...] = ()
    torch_name: str | None = None  # "torch.nn.Linear" where the type is a torch.nn class
    flops: Callable[[Mapping[str, Any], Sequence[TensorType | None], Sequence[TensorType | None]], int] | None = None
    validate: Callable[[Mapping[str, Any]], None] | None = None  # cross-param checks; raise ParamError
    _by_name: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self._by_name.update({p.name: p for p in self.params})

    def param(self, name: str) -> Param | None:
        return self._by_name.get(name)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def resolve_params(self, given: Mapping[str, Any]) -> dict:
        """Defaults overlaid with `given`, each coerced; raises ParamError naming the field."""
        unknown = [k for k in given if k not in self._by_name]
        if unknown:
            known = ", ".join(self._by_name) or "none"
            raise ParamError(f"has no param '{unknown[0]}' (its params: {known})")
        out = {}
        for p in self.params:
            out[p.name] = p.coerce(given[p.name]) if p.name in given else p.default
        if self.validate:
            self.validate(out)
        return out

    def input_port(self, name: str | None) -> Port | None:
        if name is None:
            return self.inputs[0] if self.inputs else None
        return next((p for p in self.inputs if p.name == name), None)

    def output_port(self, name: str | None) -> Port | None:
        if name is None:
            return self.outputs[0] if self.outputs else None
        return next((p for p in self.outputs if p.name == name), None)

    def output_index(self, name: str | None) -> int:
        port = self.output_port(name)
        return self.outputs.index(port) if port else 0


__all__ = ["Param", "ParamError", "Port", "NodeSpec", "ShapeError", "TensorType", "call_module"]
