"""Checks on a parsed JSON record as plain values, before anything is built from it: duplicate keys
(JSON allows them; the last would silently win) and numbers past the bounds in limits.py, each
refused with where it sits (`node 'fc1': params.out_features`, `training.schedule.T_max`)."""
from __future__ import annotations

import json
import math
import sys
from typing import Any, Iterator

from .limits import MAX_INDEX, fmt_int

JsonPath = tuple  # keys and list indices from the record's root


class Duplicates:
    """A json `object_pairs_hook` that keeps the first duplicate key of each object it builds, so
    where the object sits can be named once the whole record is parsed."""

    def __init__(self) -> None:
        self.found: dict[int, tuple[str, Any, Any]] = {}
        self._keep: list = []  # the objects themselves, so their ids stay theirs

    def __call__(self, pairs: list) -> dict:
        out = dict(pairs)  # in C; the slow search below runs only for an object with a duplicate
        if len(out) != len(pairs) and id(out) not in self.found:
            seen: dict = {}
            for key, value in pairs:
                if key in seen:
                    self.found[id(out)] = (key, seen[key], value)
                    self._keep.append(out)
                    break
                seen[key] = value
        return out


class Numbers:
    """`parse_int` / `parse_float` hooks that note whether any number is past the bounds (a JSON
    1e400 parses as infinity), so the record is searched for where only when one is."""

    def __init__(self) -> None:
        self.bad = False

    def int(self, text: str) -> int:
        value = int(text)
        if not -MAX_INDEX - 1 <= value <= MAX_INDEX:
            self.bad = True
        return value

    def float(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            self.bad = True
        return value


def walk(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    """Every value in a JSON record with its path, parents before children (iterative: depth is
    bounded by the parser, not by Python's recursion limit)."""
    stack = [(path, value)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in reversed(list(enumerate(value))))


def where(record: dict, path: JsonPath) -> str:
    """A path as a person reads it: `node 'fc1': params.shape[0]`, `training.epochs`, inside a block
    definition `block 'Basic': node 'conv1': params.stride`."""
    prefix, rest = "", list(path)
    blocks = record.get("blocks")
    if len(rest) >= 2 and rest[0] == "blocks" and isinstance(blocks, dict) and isinstance(blocks.get(rest[1]), dict):
        inner = where(blocks[rest[1]], tuple(rest[2:])) if len(rest) > 2 else ""
        return f"block '{rest[1]:.60}'" + (f": {inner}" if inner else "")
    nodes = record.get("nodes")
    if len(rest) >= 2 and rest[0] == "nodes" and isinstance(nodes, list) and isinstance(rest[1], int):
        node = nodes[rest[1]]
        node_id = node.get("id") if isinstance(node, dict) else None
        prefix = f"node '{node_id:.60}'" if isinstance(node_id, str) else f"node {rest[1] + 1}"
        rest = rest[2:]
        if not rest:
            return prefix
        prefix += ": "
    text = ""
    for part in rest:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return prefix + (text or "the top level")


def check_duplicates(record: Any, dups: Duplicates) -> str | None:
    """The first duplicate key found while parsing, named with where its object sits."""
    if not dups.found:
        return None
    for path, value in walk(record):
        if isinstance(value, dict) and id(value) in dups.found:
            key, first, second = dups.found[id(value)]
            inside = where(record, path) if path else "the top-level object"
            return (f"{inside}: the key {json.dumps(key)} appears twice ({_brief(first)}, then {_brief(second)}); "
                    "keep one (JSON readers disagree on which one wins)")
    return None


def check_numbers(record: dict) -> str | None:
    """The first whole number past MAX_INDEX (no size, count or index can be larger), or number too
    large for a float (JSON's 1e400 parses as infinity), named."""
    for path, value in walk(record):
        if isinstance(value, float) and not math.isfinite(value):
            return (f"{where(record, path)} is a number too large for a float (the largest is "
                    f"{sys.float_info.max:.3g}); write a smaller number")
        if isinstance(value, int) and not isinstance(value, bool) and not -MAX_INDEX - 1 <= value <= MAX_INDEX:
            return (f"{where(record, path)} is {fmt_int(value)}, beyond the largest size or count PyTorch "
                    f"can index ({MAX_INDEX:,}, int64); write a smaller number")
    return None


def freeze(value: Any) -> str:
    """A hashable text of a plain value (its sorted JSON; repr() for what JSON cannot hold)."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _brief(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 30 else text[:29] + "…"
