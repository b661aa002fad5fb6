"""The node-type registry. Node types arrive through the entry-point group `studio.nodes`: each entry
point names a callable that takes the registry and registers its specs, so a third-party package can
add node types without touching this repository."""
from __future__ import annotations

from importlib.metadata import entry_points
from typing import Iterable

from .spec import NodeSpec

ENTRY_POINT_GROUP = "studio.nodes"
CATEGORIES = ("io", "dense", "conv", "pooling", "norm", "activation", "shape", "sequence",
              "attention", "merge", "unmapped")  # unmapped: a partial import's marked nodes (nodes/unmapped.py)


class RegistryError(ValueError):
    pass


class Registry:
    def __init__(self) -> None:
        self._specs: dict[str, NodeSpec] = {}

    def register(self, spec: NodeSpec) -> NodeSpec:
        if spec.type in self._specs:
            raise RegistryError(f"node type '{spec.type}' is registered twice; type names must be unique")
        self._specs[spec.type] = spec
        return spec

    def get(self, type_name: str) -> NodeSpec | None:
        return self._specs.get(type_name)

    def __getitem__(self, type_name: str) -> NodeSpec:
        spec = self._specs.get(type_name)
        if spec is None:
            raise KeyError(type_name)
        return spec

    def __contains__(self, type_name: str) -> bool:
        return type_name in self._specs

    def __iter__(self):
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def types(self) -> list[str]:
        return list(self._specs)

    def by_category(self) -> dict[str, list[NodeSpec]]:
        out: dict[str, list[NodeSpec]] = {}
        for spec in self._specs.values():
            out.setdefault(spec.category, []).append(spec)
        order = {c: i for i, c in enumerate(CATEGORIES)}
        return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))

    def suggest(self, type_name: str) -> str | None:
        """The closest known type name, for "did you mean" messages."""
        import difflib

        lowered = {t.lower(): t for t in self._specs}
        if type_name.lower() in lowered:
            return lowered[type_name.lower()]
        hit = difflib.get_close_matches(type_name, list(self._specs), n=1, cutoff=0.6)
        return hit[0] if hit else None

    def load_entry_points(self, groups: Iterable = ()) -> "Registry":
        for ep in groups or entry_points(group=ENTRY_POINT_GROUP):
            ep.load()(self)
        return self


_default: Registry | None = None


def default_registry() -> Registry:
    """The registry of every installed node type (loaded once, on first use)."""
    global _default
    if _default is None:
        registry = Registry().load_entry_points()
        if not len(registry):
            raise RegistryError("no node types are installed: the 'studio.nodes' entry points are "
                                "missing; install NetStudio with `pip install -e .`")
        _default = registry
    return _default
