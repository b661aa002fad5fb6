"""Graph.check_connect: the one place that says whether a wire may be made, and why not. The wire
drag and the splice ask it; `connect` refuses only what cannot be stored (the analyzer reports a
cycle or a second wire that a file holds)."""
from __future__ import annotations

import pytest

from studio.core import Graph, analyze
from studio.core.graph import Edge, GraphError, GraphEventKind
from studio.core.registry import default_registry


@pytest.fixture
def g():
    g = Graph()
    g.add_node("Input", {"shape": [8]}, node_id="x")
    g.add_node("Linear", {"out_features": 8}, node_id="fc1")
    g.add_node("Linear", {"out_features": 8}, node_id="fc2")
    g.add_node("Add", {}, node_id="add")
    g.add_node("TransformerDecoderLayer", {"nhead": 2}, node_id="dec")
    g.connect("x", "fc1")
    g.connect("fc1", "fc2")
    return g


def check(g, *args, **kw):
    return g.check_connect(*args, registry=default_registry(), **kw)


def test_a_free_input_may_take_a_wire(g):
    assert check(g, "x", "add") is None
    assert check(g, "fc2", "dec", None, "memory") is None


@pytest.mark.fault("editing", "a wire from or to a node that does not exist", "refused naming the node")
def test_an_unknown_node_is_named(g):
    assert check(g, "x", "nope") == "there is no node 'nope'"
    with pytest.raises(GraphError, match="there is no node 'ghost'"):
        g.connect("ghost", "fc1")


@pytest.mark.fault("editing", "a node wired into itself", "refused: it cannot be wired to itself")
def test_a_node_cannot_take_its_own_output(g):
    assert check(g, "fc1", "fc1") == "'fc1' cannot be wired to itself"


@pytest.mark.fault("editing", "the same wire made twice", "refused by check_connect and by connect")
def test_the_same_wire_twice_is_refused_and_not_stored(g):
    assert check(g, "x", "fc1") == "'x' is already wired to 'fc1' there"
    with pytest.raises(GraphError, match="already wired"):
        g.connect("x", "fc1")


@pytest.mark.fault("editing", "a wire that closes a cycle", "refused with the nodes named; connect keeps "
                   "it (a file may hold one) and the analyzer reports it")
def test_a_wire_back_upstream_would_make_a_cycle(g):
    reason = check(g, "fc2", "fc1")
    assert reason == "Wiring 'fc2' into 'fc1' would make a cycle; a network must flow one way"
    g2 = g.copy()
    g2.connect("fc2", "fc1")  # stored all the same, as a loaded file would
    assert any("part of a cycle" in p.message for p in analyze(g2).problems)


def test_re_plugging_a_wire_is_asked_without_that_wire(g):
    # fc1 -> fc2 moved to x -> fc2: the old wire no longer counts as taking fc2's input
    assert check(g, "x", "fc2") is not None
    assert check(g, "x", "fc2", replacing=Edge("fc1", "fc2")) is None
    # and the wire itself dropped back where it was is no duplicate
    assert check(g, "fc1", "fc2", replacing=Edge("fc1", "fc2")) is None


@pytest.mark.fault("editing", "a second wire into an input that takes one", "refused: drag that wire off, "
                   "or merge with Add or Concat")
def test_an_input_that_takes_one_wire_is_taken(g):
    assert check(g, "x", "fc2").startswith("The input of 'fc2' already has a wire")
    g.connect("x", "dec", None, "tgt")
    assert check(g, "fc1", "dec", None, "tgt").startswith("The input 'tgt' of 'dec' already has a wire")
    assert check(g, "fc1", "dec", None, "memory") is None
    g.connect("x", "add")
    assert check(g, "fc1", "add") is None  # Add takes several


@pytest.mark.fault("editing", "a wire naming a port the node does not have", "refused in the analyzer's words, "
                   "listing the ports it has")
def test_an_unknown_port_is_refused_in_the_analyzers_words(g):
    reason = check(g, "x", "dec", None, "query")
    assert reason == ("TransformerDecoderLayer 'dec' has no input port 'query' (its inputs: tgt, memory, "
                      "tgt_key_padding_mask, memory_key_padding_mask)")
    g2 = g.copy()
    g2.connect("x", "dec", None, "query")
    assert reason in [p.message for p in analyze(g2).problems]


@pytest.mark.fault("editing", "a wire from an input port, or into a node without inputs",
                   "refused: a wire runs from an output to an input")
def test_output_to_output_and_input_to_input_are_refused(g):
    assert "a wire runs from an output to an input" in check(g, "dec", "add", "tgt", None)
    assert check(g, "fc1", "x") == "Input 'x' has no inputs"


def test_without_a_registry_only_the_wiring_is_checked(g):
    assert g.check_connect("x", "dec", None, "query") is None  # ports unknown without node types
    assert g.check_connect("fc2", "x") is not None  # x -> fc1 -> fc2: a cycle all the same


def test_the_answer_follows_edits(g):
    assert check(g, "fc2", "fc1") is not None
    g.disconnect(Edge("fc1", "fc2"))
    assert check(g, "fc2", "fc1") is not None  # fc1 still has x's wire: taken, not a cycle
    assert "cycle" not in check(g, "fc2", "fc1")
    g.disconnect(Edge("x", "fc1"))
    assert check(g, "fc2", "fc1") is None


def test_an_edit_of_many_changes_ends_with_one_edit_done():
    g, kinds = Graph(), []
    g.subscribe(lambda e: kinds.append((e.kind, g.holding)))
    with g.edit():
        g.add_node("Input", {"shape": [8]}, node_id="x")
        with g.edit():  # nested: still one edit
            g.add_node("Linear", {"out_features": 8}, node_id="fc")
            g.connect("x", "fc")
    assert kinds == [(GraphEventKind.NODE_ADDED, True), (GraphEventKind.NODE_ADDED, True),
                     (GraphEventKind.EDGE_ADDED, True), (GraphEventKind.EDIT_DONE, False)]
    revision = g.revision
    with g.edit():
        pass  # nothing changed: nothing to announce
    assert len(kinds) == 4 and g.revision == revision
    assert kinds[0][0] == "node_added"  # a str Enum: the plain name still compares equal
