"""Property: whatever strings a block holds (its name, its port names, its doc, its exposed params'
names and values, an instance's `first`), exporting the project as code either refuses with a person's
message or writes a file that parses; the payload never runs, not at export, not on import, not when
the script trains."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import template
from .test_codegen_property import export_hostile, hostile, value

WHERE = ["block name", "port name", "doc", "param name", "param value", "first", "inner id"]


def _rename_node(definition: dict, old: str, new) -> None:
    for n in definition["nodes"]:
        if n["id"] == old:
            n["id"] = new
    for e in definition["edges"]:
        for end in ("source", "target"):
            if e[end] == old:
                e[end] = new
    for p in definition["params"]:
        for t in p["targets"]:
            if t["node"] == old:
                t["node"] = new


def _mutate(record: dict, where: str, key, val) -> None:
    blocks = record["blocks"]
    block = blocks["BasicBlock"]
    instances = [n for n in record["nodes"] if n.get("block") == "BasicBlock"]
    if where == "block name":
        blocks[key] = blocks.pop("BasicBlock")
        for n in instances:
            n["block"] = key
    elif where == "port name":
        _rename_node(block, "x", key)
    elif where == "inner id":
        _rename_node(block, "conv1", key)
    elif where == "doc":
        block["doc"] = key
    elif where == "param name":
        block["params"][0]["name"] = key
        for n in instances:
            n["params"] = {key if k == "planes" else k: v for k, v in n["params"].items()}
    elif where == "param value":
        instances[1]["params"]["planes"] = val
    elif where == "first":
        instances[1]["first"] = {key: val}


@pytest.mark.fault("export code", "random hostile strings in a block's name, ports, doc and exposed params (property)",
                   "refused with a message, or a file that parses; the payload never runs; the script trains")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(WHERE), key=hostile, val=value)
def test_hostile_block_strings_never_run_and_never_break_the_file(where, key, val):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        record = json.loads(template("resnet_digits").read_text(encoding="utf-8"))
        record["training"]["epochs"] = 1
        _mutate(record, where, key, val)
        project = folder / "net.json"
        project.write_text(json.dumps(record, ensure_ascii=True), encoding="utf-8")
        export_hostile(project, folder, f"{where}: ")
