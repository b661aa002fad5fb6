"""One edit command, one analysis: a paste of 20 nodes, a splice or a delete of many re-analyses
the graph once (on redo and on undo), while the scene still hears every change as it happens."""
from __future__ import annotations

import pytest

from studio.core.graph import Edge, Graph, GraphEventKind
from studio.core.project import Project
from studio.ui import commands
from studio.ui.document import Document


def chain(n: int) -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [8]}, node_id="x")
    prev = "x"
    for i in range(n):
        g.add_node("Linear", {"out_features": 8}, node_id=f"fc{i}")
        g.connect(prev, f"fc{i}")
        prev = f"fc{i}"
    return g


@pytest.fixture
def counted(qtbot):
    doc = Document(Project(graph=chain(20)))
    runs, emitted, events = [], [], []
    real = doc.analyzer._run
    doc.analyzer._run = lambda: runs.append(1) or real()
    doc.analysis_changed.connect(emitted.append)
    doc.graph_changed.connect(events.append)
    return doc, runs, emitted, events


def test_a_paste_of_20_nodes_runs_the_analysis_once(counted):
    doc, runs, emitted, events = counted
    data = doc.graph.subgraph_data([f"fc{i}" for i in range(20)])
    assert len(data["nodes"]) == 20 and len(data["edges"]) == 19
    doc.push(commands.Paste(doc.graph, data))
    assert len(doc.graph) == 41
    assert len(runs) == 1 and len(emitted) == 1
    added = [e for e in events if e.kind == GraphEventKind.NODE_ADDED]
    assert len(added) == 20 and events[-1].kind == GraphEventKind.EDIT_DONE  # the views hear each change
    assert emitted[-1] is doc.analysis and len(emitted[-1].nodes) == 41
    doc.undo_stack.undo()
    assert len(doc.graph) == 21 and len(runs) == 2 and len(emitted) == 2
    doc.undo_stack.redo()
    assert len(doc.graph) == 41 and len(runs) == 3


def test_a_splice_and_a_delete_of_many_run_it_once(counted):
    doc, runs, emitted, _ = counted
    add = commands.AddNode(doc.graph, "ReLU", (0, 0), node_id="act")
    doc.push(commands.splice(doc.graph, add, Edge("fc3", "fc4"), "act", None, None))
    assert ("fc3", "act") in {(e.source, e.target) for e in doc.graph.edges}
    assert len(runs) == 1 and len(emitted) == 1
    doc.push(commands.RemoveNodes(doc.graph, [f"fc{i}" for i in range(10, 20)]))
    assert len(runs) == 2 and len(emitted) == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert len(runs) == 4 and len(doc.graph.edges) == 20


def test_a_single_change_outside_a_command_is_analysed_at_once(counted):
    doc, runs, emitted, _ = counted
    doc.graph.set_param("fc0", "out_features", 4)  # a script editing the graph directly
    assert len(runs) == 1 and len(emitted) == 1
    assert emitted[-1].nodes["fc0"].output.shape == (4,)
