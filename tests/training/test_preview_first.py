"""The live preview's first run in a fresh process: nothing it does not use (torch._dynamo, which the
first FLOP count imports: seconds on a loaded machine), and a model too large to build refused
before any layer is allocated, naming the layer."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

import studio
from studio.core.graph import Graph
from studio.core.project import Project
from studio.training.preview import PreviewEngine, PreviewRequest

from tests.conftest import ROOT

FIRST_RUN = """
import sys, studio
from studio.training.preview import PreviewEngine, PreviewRequest
p = studio.load_project(sys.argv[1])
r = PreviewEngine().run(PreviewRequest(p.graph.copy(), p.training, None))
assert r.note == "" and r.thumbs, r.note
print("torch._dynamo" in sys.modules, sorted(getattr(r, "phases", {})))
"""


def test_first_run_in_a_fresh_process_imports_no_flop_counter_machinery():
    out = subprocess.run([sys.executable, "-c", FIRST_RUN, str(ROOT / "resources/templates/cnn_digits.json")],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    dynamo, phases = out.stdout.strip().split(" ", 1)
    assert dynamo == "False"
    assert phases == str(sorted(["analyse", "build", "sample", "forward", "thumbnails"]))


@pytest.mark.fault("preview", "a layer too large to build (4.1 billion weights)",
                   "a note naming the layer, before any weight is allocated")
def test_a_model_too_large_to_build_is_a_note_naming_the_layer():
    g = Graph()
    g.add_node("Input", {"shape": [4096]}, node_id="input")
    g.add_node("Linear", {"out_features": 1_000_000}, node_id="huge")
    g.add_node("Output", node_id="output")
    g.connect("input", "huge")
    g.connect("huge", "output")
    t0 = time.perf_counter()
    r = PreviewEngine().run(PreviewRequest(g, None, None))
    assert time.perf_counter() - t0 < 5  # (allocating 16 GB of weights would take far longer, or fail)
    assert r.thumbs == {} and "huge" in r.note and "too large to build" in r.note, r.note


def test_phases_add_up_to_the_run():
    p: Project = studio.load_project(ROOT / "resources/templates/cnn_digits.json")
    r = PreviewEngine().run(PreviewRequest(p.graph.copy(), p.training, None))
    assert r.note == "" and sum(r.phases.values()) <= r.ms + 1e-6
    assert sum(r.phases.values()) > 0.9 * r.ms
