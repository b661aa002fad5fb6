"""The built-in layer library: one module per family, each a list of declarative NodeSpecs.

Registered through the `studio.nodes` entry point (see pyproject.toml); a third-party package adds
node types the same way, with its own entry point."""
from __future__ import annotations

FAMILIES = ("io", "dense", "conv", "pooling", "norm", "activation", "shape", "sequence", "attention", "merge",
            "tensor_ops", "pad_crop", "blockports", "unmapped")


def all_specs() -> list:
    import importlib

    specs = []
    for family in FAMILIES:
        specs.extend(importlib.import_module(f"{__name__}.{family}").SPECS)
    return specs


def register_all(registry) -> None:
    for spec in all_specs():
        registry.register(spec)
