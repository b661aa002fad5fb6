"""Weight sharing (issue 16, item 5): one module called at two places, and a Linear tied to an
Embedding, against hand-built torch modules with the same weights."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import studio
from studio.core import Graph
from studio.core.analysis import analyze
from studio.core.compiler import CompileError, compile_graph
from studio.core.project import ProjectError, loads_project
from studio.core.summary import summarize
from tests.word_language_model import RNNModel


def errors_of(graph: Graph) -> list[str]:
    return [p.message for p in analyze(graph).errors]


def siamese_graph() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [8]}, node_id="left")
    g.add_node("Input", {"shape": [8]}, node_id="right")
    g.add_node("Linear", {"out_features": 16}, node_id="enc1")
    g.add_node("Linear", {"out_features": 16}, node_id="enc2").shares = "enc1"
    g.add_node("Concat", {"dim": 1}, node_id="both")
    g.add_node("Linear", {"out_features": 1}, node_id="head")
    g.add_node("Output", node_id="out")
    for a, b in (("left", "enc1"), ("right", "enc2"), ("enc1", "both"), ("enc2", "both"), ("both", "head"),
                 ("head", "out")):
        g.connect(a, b)
    return g


class Siamese(nn.Module):
    """One encoder applied to both inputs, then a head on the two codes side by side."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Linear(8, 16)
        self.head = nn.Linear(32, 1)

    def forward(self, left, right):
        return self.head(torch.cat([self.enc1(left), self.enc1(right)], 1))


def test_a_siamese_graph_calls_one_encoder_twice_and_matches_the_hand_built_module():
    model = compile_graph(siamese_graph())
    ref = Siamese()
    assert list(model.state_dict()) == ["enc1.weight", "enc1.bias", "head.weight", "head.bias"]
    ref.load_state_dict(model.state_dict())
    a, b = torch.randn(5, 8), torch.randn(5, 8)
    torch.testing.assert_close(model(a, b), ref(a, b))
    assert not hasattr(model, "enc2")
    assert [n.target for n in model.graph.nodes if n.op == "call_module"].count("enc1") == 2
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ref.parameters()) == 177


def test_the_summary_counts_shared_weights_once_and_says_who_shares():
    summary = summarize(siamese_graph())
    rows = {r.id: r for r in summary.rows}
    assert rows["enc2"].params == 0 and rows["enc1"].params == 8 * 16 + 16
    assert summary.total_params == 177
    assert rows["enc2"].shares == "enc1"
    assert summary.to_json()["nodes"][[r.id for r in summary.rows].index("enc2")]["shares"] == "enc1"
    assert "Linear, shares enc1" in summary.table()


def test_sharing_survives_save_and_load_and_follows_a_rename():
    project = studio.core.project.Project("siamese", siamese_graph())
    again = loads_project(project.dumps())
    assert again.graph.node("enc2").shares == "enc1"
    assert again.dumps() == project.dumps()
    again.graph.rename_node("enc1", "encoder")
    assert again.graph.node("enc2").shares == "encoder"
    assert analyze(again.graph).ok


@pytest.mark.fault("project file", "a node's \"shares\" names a node that is not in the file",
                   "refused at load naming the node and the missing id")
def test_a_share_of_a_node_not_in_the_file_is_refused_at_load():
    rec = json.loads(studio.core.project.Project("s", siamese_graph()).dumps())
    rec["nodes"][3]["shares"] = "nowhere"
    with pytest.raises(ProjectError, match=r"node 'enc2': \"shares\" names 'nowhere', which is not a node id"):
        loads_project(json.dumps(rec))
    rec["nodes"][3]["shares"] = 7
    with pytest.raises(ProjectError, match="must be the id of another node, got 7"):
        loads_project(json.dumps(rec))
    rec["nodes"][3]["shares"] = "enc2"
    with pytest.raises(ProjectError, match="cannot share its own weights"):
        loads_project(json.dumps(rec))


@pytest.mark.fault("graph", "a node shares a node of another type, other params, another input shape, "
                   "one that itself shares, or one no longer in the graph",
                   "analyzer error naming both nodes and the difference")
def test_shares_that_cannot_be_made_are_named_with_both_nodes():
    g = siamese_graph()
    g.set_param("enc2", "out_features", 12)
    errors = errors_of(g)
    assert any("Linear 'enc2' shares the weights of Linear 'enc1' but their params differ (out_features 12 vs 16)"
               in m for m in errors), errors
    g.set_param("enc2", "out_features", 16)
    g.set_param("right", "shape", [4])
    errors = errors_of(g)
    assert any("Linear 'enc2' gets [4] but Linear 'enc1', whose weights it shares, gets [8]" in m for m in errors)
    g.set_param("right", "shape", [8])
    g.set_shares("enc2", "both")
    errors = [p for p in analyze(g).errors]
    assert errors[0].node_id == "enc2" and errors[0].field == "shares"
    assert "cannot share the weights of Concat 'both'" in errors[0].message
    g.set_shares("enc2", "head")
    g.set_shares("head", "enc1")
    messages = errors_of(g)
    assert any("shares Linear 'head', which itself shares 'enc1'; share that node directly" in m for m in messages)
    g.set_shares("head", None)
    g.set_shares("enc2", "enc1")
    g.remove_node("enc1")
    messages = errors_of(g)
    assert any("'enc2' shares the weights of 'enc1', which is not in the graph" in m for m in messages)
    with pytest.raises(CompileError):
        compile_graph(g)


# ---- a Linear tied to an Embedding: pytorch/examples' word_language_model RNNModel --------------------
def word_language_model(ntoken=50, width=24, layers=2, bptt=12, state=False) -> Graph:
    """The RNNModel as a graph; `state`: its hidden state in (h0, c0) and out (h_n, c_n), as its
    training loop carries it from one chunk of text to the next."""
    g = Graph()
    g.add_node("Input", {"shape": [bptt], "dtype": "int64"}, node_id="tokens")
    g.add_node("Embedding", {"num_embeddings": ntoken, "embedding_dim": width}, node_id="encoder")
    g.add_node("Dropout", {"p": 0.5}, node_id="drop_emb")
    g.add_node("LSTM", {"hidden_size": width, "num_layers": layers, "dropout": 0.5}, node_id="rnn")
    g.add_node("Dropout", {"p": 0.5}, node_id="drop_out")
    g.add_node("Linear", {"out_features": ntoken}, node_id="decoder").shares = "encoder"
    g.add_node("LogSoftmax", {"dim": -1}, node_id="log_probs")
    g.add_node("Output", node_id="out")
    for a, b in (("tokens", "encoder"), ("encoder", "drop_emb"), ("drop_emb", "rnn"), ("rnn", "drop_out"),
                 ("drop_out", "decoder"), ("decoder", "log_probs"), ("log_probs", "out")):
        g.connect(a, b)
    if state:
        for name, out in (("h0", "h_n"), ("c0", "c_n")):
            g.add_node("Input", {"shape": [layers, width]}, node_id=name)
            g.connect(name, "rnn", None, name)
            g.add_node("Output", node_id=out)
            g.connect("rnn", out, out)
    return g


def test_word_language_model_rnn_tied_matches_the_published_structure_with_the_same_weights():
    model = compile_graph(word_language_model()).eval()
    ref = RNNModel(50, 24, 24, 2, tie_weights=True).eval()
    assert model.decoder.weight is model.encoder.weight
    assert set(model.state_dict()) == set(ref.state_dict())
    model.load_state_dict(ref.state_dict())
    tokens = torch.randint(0, 50, (3, 12))  # batch-first here; the reference is sequence-first
    want, _ = ref(tokens.t(), ref.init_hidden(3))
    got = model(tokens).transpose(0, 1).reshape(-1, 50)
    torch.testing.assert_close(got, want)
    n_ref = sum(p.numel() for p in ref.parameters())
    assert sum(p.numel() for p in model.parameters()) == n_ref
    assert summarize(word_language_model()).total_params == n_ref
    decoder = next(r for r in summarize(word_language_model()).rows if r.id == "decoder")
    assert decoder.params == 50 and decoder.shares == "encoder"  # its own bias only


def test_the_tied_model_carries_its_state_from_chunk_to_chunk_as_the_published_loop_does():
    model = compile_graph(word_language_model(state=True)).eval()
    ref = RNNModel(50, 24, 24, 2, tie_weights=True).eval()
    model.load_state_dict(ref.state_dict())
    hidden = ref.init_hidden(3)
    with torch.no_grad():
        for _ in range(2):
            tokens = torch.randint(0, 50, (3, 12))
            want, after = ref(tokens.t(), hidden)  # state [layers, batch, hidden]; ours is batch-first
            got, h_n, c_n = model(tokens, hidden[0].transpose(0, 1), hidden[1].transpose(0, 1))
            torch.testing.assert_close(got.transpose(0, 1).reshape(-1, 50), want)
            torch.testing.assert_close((h_n.transpose(0, 1), c_n.transpose(0, 1)), after)
            hidden = after


def test_a_tied_weight_trains_as_one_tensor_as_in_the_hand_written_model():
    model = compile_graph(word_language_model()).eval()  # eval: no dropout, whose masks follow the layout
    ref = RNNModel(50, 24, 24, 2, tie_weights=True).eval()
    model.load_state_dict(ref.state_dict())
    tokens, target = torch.randint(0, 50, (3, 12)), torch.randint(0, 50, (3, 12))
    for net in (ref, model):
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        if net is ref:
            out, _ = ref(tokens.t(), ref.init_hidden(3))
            loss = F.nll_loss(out, target.t().reshape(-1))
        else:
            loss = F.nll_loss(net(tokens).transpose(0, 1).reshape(-1, 50), target.t().reshape(-1))
        loss.backward()
        opt.step()
    assert model.decoder.weight is model.encoder.weight
    torch.testing.assert_close(model.encoder.weight, ref.encoder.weight)
    torch.testing.assert_close(model.decoder.bias, ref.decoder.bias)


@pytest.mark.fault("graph", "a Linear tied to an Embedding whose table does not fit its weight",
                   "analyzer error naming both nodes, both shapes and the fix")
def test_a_tie_that_does_not_fit_says_both_shapes():
    g = word_language_model()
    g.set_param("decoder", "out_features", 40)
    messages = errors_of(g)
    assert any("Linear 'decoder' ties its weight [40, 24] (out_features, in_features) to the table of "
               "Embedding 'encoder' [50, 24] (num_embeddings, embedding_dim); set out_features to 50" in m
               for m in messages), messages


@pytest.mark.fault("graph", "a layer without weights (ReLU) shares another", "analyzer error: nothing to share")
def test_a_layer_without_weights_has_nothing_to_share():
    g = Graph()
    g.add_node("Input", {"shape": [8]}, node_id="x")
    g.add_node("ReLU", node_id="act1")
    g.add_node("ReLU", node_id="act2").shares = "act1"
    g.connect("x", "act1")
    g.connect("act1", "act2")
    messages = errors_of(g)
    assert any("ReLU 'act2' shares ReLU 'act1', which has no weights to share" in m for m in messages), messages


@pytest.mark.fault("project file", "validate a file whose node shares one of other params",
                   "exit 2, one line naming both nodes")
def test_validate_names_a_share_that_cannot_be_made(tmp_path, capsys):
    from studio.cli import main

    g = siamese_graph()
    g.set_param("enc2", "out_features", 12)
    path = studio.core.project.Project("s", g).save(tmp_path / "s.json")
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr()
    assert "'enc2' shares the weights of Linear 'enc1' but their params differ" in out.out + out.err
