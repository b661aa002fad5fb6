"""Regenerate resources/templates/*.json (the example projects). Run: python tools/make_templates.py

Chains wrap onto a new row every few nodes so that a template reads at 100% zoom on the canvas."""
from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "resources" / "templates"
COL, ROW, WRAP = 230, 170, 4


def chain(spec, wrap=WRAP, origin=(0, 0)):
    nodes, edges = [], []
    prev = None
    for i, item in enumerate(spec):
        node_id, type_name, params = item[0], item[1], item[2] if len(item) > 2 else {}
        row, col = divmod(i, wrap)
        node = {"id": node_id, "type": type_name}
        if params:
            node["params"] = params
        node["pos"] = [origin[0] + col * COL, origin[1] + row * ROW]
        nodes.append(node)
        if prev:
            edges.append({"source": prev, "target": node_id})
        prev = node_id
    return nodes, edges


def project(name, description, nodes, edges, training):
    return {"format": "netstudio", "version": 1, "name": name, "description": description,
            "nodes": nodes, "edges": edges, "training": training}


def classification(dataset, optimizer, epochs, batch_size=64, schedule=None, **extra):
    t = {"dataset": dataset, "loss": {"type": "CrossEntropyLoss"}, "optimizer": optimizer,
         "epochs": epochs, "batch_size": batch_size, "device": "auto", "seed": 0,
         "metrics": ["accuracy", "f1"]}
    if schedule:
        t["schedule"] = schedule
    t.update(extra)
    return t


def regression(dataset, optimizer, epochs, batch_size=32, loss="MSELoss"):
    return {"dataset": dataset, "loss": {"type": loss}, "optimizer": optimizer, "epochs": epochs,
            "batch_size": batch_size, "device": "auto", "seed": 0, "metrics": ["mse", "mae", "r2"]}


def char_transformer_lm():
    """A causal Transformer language model over Python's help text, its decoder tied to the embedding;
    the vocabulary size comes from the text (issue 16, item 7)."""
    import sys

    sys.path.insert(0, str(OUT.parents[1]))
    from studio.training.datasets.text import SEPARATOR, python_help_topics

    vocab = len(set(SEPARATOR.join(python_help_topics())))
    block = {"nhead": 4, "dim_feedforward": 128, "dropout": 0.0, "causal": True}
    n, e = chain([("tokens", "Input", {"shape": [64], "dtype": "int64"}),
                  ("encoder", "Embedding", {"num_embeddings": vocab, "embedding_dim": 64}),
                  ("posenc", "PositionalEncoding", {"max_len": 512}),
                  ("block1", "TransformerEncoderLayer", dict(block)), ("block2", "TransformerEncoderLayer", dict(block)),
                  ("decoder", "Linear", {"out_features": vocab}), ("output", "Output")])
    decoder = next(node for node in n if node["id"] == "decoder")
    decoder["shares"] = "encoder"  # tied: the decoder's weight is the embedding table
    decoder["pos"] = decoder.pop("pos")  # after "shares", where a saved project has it
    training = classification({"name": "python_help", "seq_len": 64, "prompt": "The ", "sample_length": 200,
                               "temperature": 0.8}, {"type": "AdamW", "lr": 0.006}, 6, 64)
    training["metrics"] = ["accuracy"]
    return project("Character Transformer language model", "A causal Transformer writes Python's help text one "
                   "character at a time; its decoder shares the embedding's weights (tied), and it shows what it "
                   "writes after each epoch.", n, e, training)


def main():
    T = {}
    n, e = chain([("input", "Input", {"shape": [1, 28, 28]}), ("flatten", "Flatten"),
                  ("fc1", "Linear", {"out_features": 128}), ("relu", "ReLU"),
                  ("fc2", "Linear", {"out_features": 10}), ("output", "Output")])
    T["mlp_mnist"] = project("MLP on MNIST", "The classic first network: a 784-128-10 perceptron on handwritten digits.",
                             n, e, classification({"name": "mnist", "root": "data"},
                                                  {"type": "SGD", "lr": 0.01, "momentum": 0.9}, 5))
    n, e = chain([("input", "Input", {"shape": [3, 32, 32]}),
                  ("conv1", "Conv2d", {"out_channels": 6, "kernel_size": 5}), ("relu1", "ReLU"),
                  ("pool1", "MaxPool2d", {"kernel_size": 2}),
                  ("conv2", "Conv2d", {"out_channels": 16, "kernel_size": 5}), ("relu2", "ReLU"),
                  ("pool2", "MaxPool2d", {"kernel_size": 2}), ("flatten", "Flatten"),
                  ("fc1", "Linear", {"out_features": 120}), ("relu3", "ReLU"),
                  ("fc2", "Linear", {"out_features": 84}), ("relu4", "ReLU"),
                  ("fc3", "Linear", {"out_features": 10}), ("output", "Output")])
    T["cnn_cifar10"] = project("LeNet on CIFAR-10", "The CNN of PyTorch's CIFAR-10 tutorial (62,006 parameters).",
                               n, e, classification({"name": "cifar10", "root": "data",
                                                     "normalize": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}},
                                                    {"type": "Adam", "lr": 0.001}, 10))
    n, e = chain([("input", "Input", {"shape": [1]}), ("linear", "Linear", {"out_features": 1}),
                  ("output", "Output")])
    T["linear_regression"] = project("Linear regression", "Fit y = w x + b to noisy synthetic data.", n, e,
                                     regression({"name": "linear"}, {"type": "SGD", "lr": 0.01}, 100))
    n, e = chain([("input", "Input", {"shape": [1, 8, 8]}), ("flatten", "Flatten"),
                  ("fc1", "Linear", {"out_features": 64}), ("relu", "ReLU"),
                  ("fc2", "Linear", {"out_features": 10}), ("output", "Output")])
    T["mlp_digits"] = project("MLP on digits", "A small perceptron on scikit-learn's 8x8 digits (no download).",
                              n, e, classification({"name": "digits"}, {"type": "Adam", "lr": 0.003}, 10, 32))
    n, e = chain([("input", "Input", {"shape": [1, 8, 8]}),
                  ("conv1", "Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), ("relu1", "ReLU"),
                  ("pool1", "MaxPool2d", {"kernel_size": 2}),
                  ("conv2", "Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}), ("relu2", "ReLU"),
                  ("pool2", "MaxPool2d", {"kernel_size": 2}), ("flatten", "Flatten"),
                  ("fc1", "Linear", {"out_features": 64}), ("relu3", "ReLU"),
                  ("fc2", "Linear", {"out_features": 10}), ("output", "Output")])
    T["cnn_digits"] = project("CNN on digits", "A small CNN on scikit-learn's 8x8 digits: trains in seconds on a CPU.",
                              n, e, classification({"name": "digits"}, {"type": "Adam", "lr": 0.002}, 10, 32))
    n, e = chain([("input", "Input", {"shape": [2]}), ("fc1", "Linear", {"out_features": 16}), ("act1", "Tanh"),
                  ("fc2", "Linear", {"out_features": 16}), ("act2", "Tanh"),
                  ("fc3", "Linear", {"out_features": 2}), ("output", "Output")])
    T["moons_mlp"] = project("Two moons", "Separate two interleaving half-circles, as in TensorFlow Playground.",
                             n, e, classification({"name": "moons", "samples": 1000, "noise": 0.15},
                                                  {"type": "Adam", "lr": 0.01}, 30, 32))
    n = [{"id": "input", "type": "Input", "params": {"shape": [20, 1]}, "pos": [0, 0]},
         {"id": "lstm", "type": "LSTM", "params": {"hidden_size": 32}, "pos": [COL, 0]},
         {"id": "head", "type": "Linear", "params": {"out_features": 1}, "pos": [2 * COL, 40]},
         {"id": "output", "type": "Output", "pos": [3 * COL, 40]}]
    e = [{"source": "input", "target": "lstm"}, {"source": "lstm", "target": "head", "source_port": "hidden"},
         {"source": "head", "target": "output"}]
    T["lstm_sequence"] = project("LSTM: sum of a sequence", "An LSTM reads 20 numbers and predicts their sum "
                                 "from its last hidden state.", n, e,
                                 regression({"name": "sequence_sum", "seq_len": 20}, {"type": "Adam", "lr": 0.005}, 20))
    n, e = chain([("tokens", "Input", {"shape": [32], "dtype": "int64"}),
                  ("embed", "Embedding", {"num_embeddings": 20, "embedding_dim": 64}),
                  ("posenc", "PositionalEncoding", {"max_len": 512}),
                  ("encoder1", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 128, "dropout": 0.1}),
                  ("encoder2", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 128, "dropout": 0.1}),
                  ("pool", "SequencePool", {"mode": "mean"}), ("classifier", "Linear", {"out_features": 4}),
                  ("output", "Output")])
    T["transformer_encoder"] = project("Transformer encoder", "Classify token sequences: which marker token "
                                       "appears most often.", n, e,
                                       classification({"name": "tokens", "vocab_size": 20, "seq_len": 32,
                                                       "num_classes": 4}, {"type": "AdamW", "lr": 0.001}, 15, 64))
    # the main path wraps onto three rows; the skip wire runs above the branch into the Add
    grid = {"input": (0, 0), "stem": (1, 0), "stem_bn": (2, 0), "stem_relu": (3, 0),
            "conv_a": (0, 1), "bn_a": (1, 1), "relu_a": (2, 1), "conv_b": (3, 1), "bn_b": (4, 1), "add": (5, 1),
            "relu_out": (0, 2), "gap": (1, 2), "flatten": (2, 2), "fc": (3, 2), "output": (4, 2)}
    kinds = {"input": ("Input", {"shape": [1, 8, 8]}),
             "stem": ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
             "stem_bn": ("BatchNorm2d", {}), "stem_relu": ("ReLU", {}),
             "conv_a": ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), "bn_a": ("BatchNorm2d", {}),
             "relu_a": ("ReLU", {}), "conv_b": ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
             "bn_b": ("BatchNorm2d", {}), "add": ("Add", {}), "relu_out": ("ReLU", {}),
             "gap": ("AdaptiveAvgPool2d", {"output_size": 1}), "flatten": ("Flatten", {}),
             "fc": ("Linear", {"out_features": 10}), "output": ("Output", {})}
    n = []
    for node_id, (col, row) in grid.items():
        type_name, params = kinds[node_id]
        node = {"id": node_id, "type": type_name, **({"params": params} if params else {}),
                "pos": [col * COL, row * ROW]}
        n.append(node)
    order = list(grid)
    e = [{"source": a, "target": b} for a, b in zip(order, order[1:])]
    e.append({"source": "stem_relu", "target": "add"})
    T["resnet_block"] = project("Residual block", "conv-bn-relu-conv-bn with an identity skip connection "
                                "(He et al., 2015) on the digits.", n, e,
                                classification({"name": "digits"}, {"type": "SGD", "lr": 0.05, "momentum": 0.9},
                                               10, 32, {"type": "CosineAnnealingLR", "T_max": 10}))
    n, e = chain([("input", "Input", {"shape": [1, 8, 8]}), ("flatten", "Flatten"),
                  ("enc1", "Linear", {"out_features": 32}), ("enc_relu", "ReLU"),
                  ("bottleneck", "Linear", {"out_features": 8}), ("bottleneck_relu", "ReLU"),
                  ("dec1", "Linear", {"out_features": 32}), ("dec_relu", "ReLU"),
                  ("dec2", "Linear", {"out_features": 64}), ("sigmoid", "Sigmoid"),
                  ("unflatten", "Unflatten", {"dim": 1, "unflattened_size": [1, 8, 8]}), ("output", "Output")])
    T["autoencoder_digits"] = project("Autoencoder on digits", "Squeeze 8x8 digits through an 8-number code and "
                                      "rebuild them.", n, e,
                                      regression({"name": "digits", "target": "input"}, {"type": "Adam", "lr": 0.003},
                                                 30, 32))
    T["char_transformer_lm"] = char_transformer_lm()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rec in T.items():
        (OUT / f"{name}.json").write_text(json.dumps(rec, indent=2) + "\n")
    print(f"wrote {len(T)} templates to {OUT}")


if __name__ == "__main__":
    main()
