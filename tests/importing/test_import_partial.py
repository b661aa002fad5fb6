"""Issue 17 item 4: a partial import. Each call with no node type becomes an Unmapped node that keeps
the op, its module path, the source line and its shapes, and refuses to compile with the message the
import stops with; without --partial the import still stops and writes nothing."""
from __future__ import annotations

import json

import pytest
import torch

import studio
from studio.cli import main
from studio.core.analysis import analyze

from .test_import_refusals import SPECTRAL


def _line():
    return SPECTRAL.splitlines().index("        return torch.fft.rfft(x).real") + 1


@pytest.mark.fault("import", "--partial with an op that has no node type (torch.fft.rfft)",
                   "the project is written with an Unmapped node per part, each naming the op, module path "
                   "and line; validate and compile refuse it with the same message")
def test_partial_import_writes_marked_nodes_that_refuse_to_compile(tmp_path, capsys):
    path = tmp_path / "spectral.py"
    path.write_text(SPECTRAL)
    out = tmp_path / "spectral.json"
    rc = main(["import", f"{path}:Model", "-o", str(out), "--input-shape", "8"])
    refusal = capsys.readouterr().err
    assert rc == 2 and not out.exists()  # without --partial: the list, and nothing written
    torch.manual_seed(1)
    assert main(["import", f"{path}:Model", "-o", str(out), "--input-shape", "8", "--partial"]) == 0
    printed = capsys.readouterr().out
    project = studio.load_project(out)
    graph = project.graph
    marked = {n.id: n.params for n in graph.nodes.values() if n.type == "Unmapped"}
    assert marked == {
        "spectrum_rfft": {"op": "torch.fft.rfft", "module": "spectrum", "line": f"{path}:{_line()}",
                          "reason": "has no node type", "input_shapes": "[8]", "output_shapes": "[5]"},
        "spectrum_real": {"op": "Tensor.real", "module": "spectrum", "line": f"{path}:{_line()}",
                          "reason": "has no node type", "input_shapes": "[5]", "output_shapes": "[5]"}}
    assert [(e.source, e.target) for e in graph.edges] == [
        ("x", "fc"), ("fc", "spectrum_rfft"), ("spectrum_rfft", "spectrum_real"), ("spectrum_real", "output")]
    # each node refuses with the import's own message, every one of them (not only the first)
    errors = {p.node_id: p.message for p in analyze(graph).errors}
    for node_id, what in (("spectrum_rfft", "torch.fft.rfft"), ("spectrum_real", "Tensor.real")):
        message = f"spectrum: {what}: has no node type (at {path}:{_line()})"
        assert message in refusal and message in errors[node_id] and f"{node_id}: {message}" in printed
    rc = main(["validate", str(out)])
    assert rc == 2 and "spectrum_real: error: Unmapped" in capsys.readouterr().err
    with pytest.raises(Exception, match="torch.fft.rfft: has no node type"):
        studio.build_model(project)
    # the mapped layer's weights came along, under the key the compiled project will use
    from safetensors.torch import load_file

    torch.manual_seed(1)
    state = load_file(tmp_path / "spectral.safetensors")
    assert sorted(state) == ["fc.bias", "fc.weight"]
    assert json.loads(out.read_text())["weights"] == "spectral.safetensors"
