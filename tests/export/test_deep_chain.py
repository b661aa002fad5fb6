"""A very deep chain (20,000 layers, one after another) exported to TorchScript: it segfaulted,
because TorchScript's interpreter compiles a chain of single-use values by recursing once per node
(studio/export/jit_stack.py says where). The export now runs with a stack sized for the graph, from
the stack one level was measured to take, and the report tells what running the file needs."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studio.export import export
from studio.export.jit_stack import FALLBACK_BYTES_PER_LEVEL, bytes_per_level, stack_for
from tests.conftest import ROOT


def chain_file(folder, layers: int):
    """A project file: Input -> ReLU x layers -> Output, one wire after another."""
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [4]}, "pos": [0, 0]}]
    nodes += [{"id": f"act{i}", "type": "ReLU", "pos": [10.0 * i, 0]} for i in range(layers)]
    nodes.append({"id": "output", "type": "Output", "pos": [10.0 * layers, 0]})
    ids = [n["id"] for n in nodes]
    record = {"format": "netstudio", "version": 1, "name": f"chain of {layers}", "nodes": nodes,
              "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])], "training": {}}
    path = folder / f"chain{layers}.json"
    path.write_text(json.dumps(record))
    return path


def test_the_stack_per_level_is_measured():
    measured = bytes_per_level()
    if sys.platform.startswith("linux"):
        assert 64 <= measured < FALLBACK_BYTES_PER_LEVEL  # read from the thread's stack pages, not the fallback
    assert stack_for(10) == 0 and stack_for(20_000) >= 20_000 * measured


def test_a_chain_of_3000_runs_in_a_sized_thread(tmp_path):
    report = export(chain_file(tmp_path, 3000), "torchscript", tmp_path / "m.pt")
    assert report.check.passed and (tmp_path / "m.pt").is_file()


@pytest.mark.slow
@pytest.mark.fault('export', 'TorchScript export of a 20,000-node chain (a project file; it segfaulted in '
                   "TorchScript's code emitter)",
                   'exported and checked (the check runs with a stack sized from the measured stack per node); '
                   'the report says how much stack running the file needs')
def test_a_chain_of_20000_exports(tmp_path):
    path = chain_file(tmp_path, 20_000)
    done = subprocess.run([sys.executable, "-m", "studio", "export", str(path), "--format", "torchscript", "-o",
                           str(tmp_path / "chain.pt")], capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    assert "passed" in done.stdout and "MB of C stack" in done.stdout, done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.pt", "chain20000.json"]
