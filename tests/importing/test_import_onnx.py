"""Issue 17: an `.onnx` file imports as a project whose compiled model computes what onnxruntime
computes from the file (1e-4), with blocks where the exported model repeated a class, and what does
not map is named with its ONNX node."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

import studio

from .test_import_refusals import _run
from .onnx_helpers import agree, export_onnx, mnist_net, onnxruntime_of, repeated, repeated_blocks
from .test_import_models import _busy_statistics


@pytest.fixture(scope="module")
def mnist_onnx(tmp_path_factory):
    """One export of the MNIST Net, weights inside the file, for the tests of this file (an export takes
    seconds); the others keep torch.onnx's default, weights in a .data file beside it."""
    return export_onnx(mnist_net(), [1, 28, 28], tmp_path_factory.mktemp("mnist") / "mnist.onnx",
                       external_data=False)


def _copy(mnist_onnx, folder):
    import shutil

    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(mnist_onnx, folder / "m.onnx"))


def test_mnist_net_from_its_onnx_export_through_the_cli(tmp_path, capsys, mnist_onnx):
    source, path = mnist_net(), mnist_onnx
    rc, err = _run(capsys, str(path), "-o", str(tmp_path / "mnist.json"))  # the input size is the file's
    assert rc == 0, err
    project = studio.load_project(tmp_path / "mnist.json")
    # torch.onnx writes no Dropout for a model in eval mode; the rest is the published Net
    assert [n.type for n in project.graph.nodes.values()] == [
        "Input", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear",
        "LogSoftmax", "Output"]
    assert {"conv1", "conv2", "fc1", "fc2"} <= set(project.graph.nodes)  # ids from the weights' names
    agree(tmp_path / "mnist.json", onnxruntime_of(path), [1, 28, 28])
    agree(tmp_path / "mnist.json", source, [1, 28, 28], batch=3)  # a fixed-batch export, any batch after


def test_a_repeated_class_becomes_one_block_definition(tmp_path):
    from studio.importing import import_model

    source = repeated()
    path = export_onnx(source, [3, 8, 8], tmp_path / "rep.onnx")
    result = import_model(str(path), tmp_path / "rep.json")
    assert result.blocks == ["Block"]
    # the exporter folds each BatchNorm into its conv: the block holds the conv, the add and the relu
    assert repeated_blocks(tmp_path / "rep.json") == ([("blocks", 3)],
                                                      ["Conv2d", "Add", "ReLU", "BlockInput", "BlockOutput"])
    agree(tmp_path / "rep.json", onnxruntime_of(path), [3, 8, 8])
    agree(tmp_path / "rep.json", source, [3, 8, 8])


@pytest.mark.fault("import", "an .onnx file whose metadata names a module class with odd characters",
                   "the block definition gets a short identifier made from it")
def test_a_class_name_from_the_file_is_made_an_identifier(tmp_path):
    import onnx

    from studio.importing import import_model

    path = export_onnx(repeated(), [3, 8, 8], tmp_path / "rep.onnx", external_data=False)
    model = onnx.load(str(path))
    for node in model.graph.node:
        for prop in node.metadata_props:
            if prop.key == "pkg.torch.onnx.class_hierarchy":
                prop.value = prop.value.replace("onnx_helpers.Block", "x.Bad name/" + "é" * 300)
    path.write_bytes(model.SerializeToString())
    (name,) = import_model(str(path), tmp_path / "odd.json").blocks
    assert name == "Bad_name"  # the odd characters made underscores, cut to 64 and trimmed


def test_a_linear_on_a_sequence_is_matmul_and_add_in_onnx_and_one_linear_again(tmp_path):
    """torch.onnx writes a Linear on a 3-D input as MatMul + Add: the pair becomes one Linear with its bias."""
    from studio.importing import import_model

    torch.manual_seed(6)
    source = torch.nn.Sequential(torch.nn.Linear(6, 3), torch.nn.GELU(), torch.nn.Flatten(), torch.nn.Linear(12, 2),
                                 torch.nn.Softmax(dim=1)).eval()
    path = export_onnx(source, [4, 6], tmp_path / "seq.onnx")
    import_model(str(path), tmp_path / "seq.json")
    graph = studio.load_project(tmp_path / "seq.json").graph
    assert [(n.type, n.params) for n in graph.nodes.values()] == [
        ("Input", {"shape": [4, 6]}), ("Linear", {"out_features": 3}), ("GELU", {}), ("Flatten", {}),
        ("Linear", {"out_features": 2}), ("Softmax", {"dim": 1}), ("Output", {})]
    agree(tmp_path / "seq.json", onnxruntime_of(path), [4, 6])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the older exporter says it is older
def test_a_torchscript_export_imports_flat_with_ids_from_its_paths(tmp_path):
    """torch.onnx's older exporter (dynamo=False) keeps module paths in node names but no classes: the
    graph is flat (docs/import.md says so), its ids the paths, its outputs onnxruntime's."""
    from studio.importing import import_model

    source = repeated()
    path = export_onnx(source, [3, 8, 8], tmp_path / "old.onnx", dynamo=False)
    assert import_model(str(path), tmp_path / "old.json").blocks == []
    ids = set(studio.load_project(tmp_path / "old.json").graph.nodes)
    assert {"stem", "blocks_0_conv", "blocks_0_add", "blocks_2_relu", "head"} <= ids, ids
    agree(tmp_path / "old.json", onnxruntime_of(path), [3, 8, 8])


@pytest.fixture(scope="module")
def torchvision_export(tmp_path_factory):
    """Each model exported once, when a test first asks for it (vgg11_bn alone takes most of a minute)."""
    folder, made = tmp_path_factory.mktemp("tv"), {}

    def get(name, shape):
        if name not in made:
            torch.manual_seed(0)
            model = _busy_statistics(torchvision.models.get_model(name))
            made[name] = (model, export_onnx(model, shape, folder / f"{name}.onnx"))
        return made[name]
    return get


# vgg11_bn at 224: below that its AdaptiveAvgPool2d(7) gets a smaller map, and torch.onnx writes that
# pooling as Gather/Where index arithmetic, which has no node type (the import names those nodes)
@pytest.mark.slow
@pytest.mark.parametrize("name, shape, blocks", [
    ("resnet18", [3, 64, 64], ["BasicBlock", "BasicBlock_2"]),
    ("mobilenet_v2", [3, 64, 64], ["Conv2dNormActivation", "InvertedResidual", "InvertedResidual_2",
                                   "InvertedResidual_3"]),
    ("vgg11_bn", [3, 224, 224], []),
])
def test_torchvision_models_from_their_onnx_export(tmp_path, torchvision_export, name, shape, blocks):
    from studio.importing import import_model

    source, path = torchvision_export(name, shape)
    result = import_model(str(path), tmp_path / f"{name}.json")
    assert sorted(result.blocks) == blocks
    agree(tmp_path / f"{name}.json", onnxruntime_of(path), shape)
    agree(tmp_path / f"{name}.json", source, shape)
    if name == "resnet18":  # BasicBlock instances named after their module paths; layer1's two copies
        graph = studio.load_project(tmp_path / f"{name}.json").graph  # of one definition: one instance x2
        instances = [n for n in graph.nodes.values() if n.type == "Block"]
        assert [n.id for n in instances] == ["layer1", *(f"layer{i}_{j}" for i in range(2, 5) for j in range(2))]
        assert instances[0].repeat == 2


class Cumulative(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(6, 6)

    def forward(self, x):
        return torch.cumsum(self.fc(x), dim=1)


@pytest.mark.fault("import", "an .onnx file with an op that has no node type (CumSum)",
                   "refused (exit 2) naming the ONNX node and its op type; nothing written")
def test_an_onnx_op_without_a_node_type_is_named(tmp_path, capsys):
    path = export_onnx(Cumulative().eval(), [6], tmp_path / "cum.onnx")
    rc, err = _run(capsys, str(path), "-o", str(tmp_path / "cum.json"))
    assert rc == 2
    assert "ONNX CumSum node 'node_cumsum': has no node type" in err
    assert not list(tmp_path.glob("*.json")) and not list(tmp_path.glob("*.safetensors"))


@pytest.mark.fault("import", "a corrupt or truncated .onnx file", "refused (exit 2) in one line; nothing written")
def test_a_corrupt_onnx_file_is_one_line(tmp_path, capsys, mnist_onnx):
    path = _copy(mnist_onnx, tmp_path)
    path.write_bytes(path.read_bytes()[:5000])
    rc, err = _run(capsys, str(path), "-o", str(tmp_path / "m.json"))
    assert rc == 2 and ("is not a readable ONNX file" in err or "is not a valid ONNX model" in err), err
    assert len(err.strip().splitlines()) == 1
    (tmp_path / "junk.onnx").write_bytes(b"\x00not a protobuf" * 10)
    rc, err = _run(capsys, str(tmp_path / "junk.onnx"), "-o", str(tmp_path / "m.json"))
    assert rc == 2 and "junk.onnx" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.json").exists()


@pytest.mark.fault("import", "an .onnx file whose external data names a path outside its folder",
                   "refused (exit 2) naming the tensor and the path; the file is never opened")
def test_external_data_outside_the_models_folder_is_refused(tmp_path, capsys, mnist_onnx):
    import onnx

    path = _copy(mnist_onnx, tmp_path / "evil")
    model = onnx.load(str(path))
    secret = tmp_path / "secret.bin"  # a file beside the model's folder, not in it
    secret.write_bytes(bytes(200_000))
    weight = model.graph.initializer[0]
    weight.ClearField("raw_data")
    weight.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", "../secret.bin"), ("offset", "0"), ("length", str(4 * 32 * 9))):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    path.write_bytes(model.SerializeToString())
    rc, err = _run(capsys, str(path), "-o", str(tmp_path / "m.json"))
    assert rc == 2 and f"tensor {weight.name!r} names external data '../secret.bin' outside the model's folder" in err
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("argv, says", [
    (["--input-shape", "1,32,32"], "differs from the file's input size [1, 28, 28]; leave --input-shape out"),
    (["--weights", "DEFAULT"], "--weights and --args are for torchvision and class sources"),
    (["--args", '{"num_classes": 3}'], "--weights and --args are for torchvision and class sources"),
])
@pytest.mark.fault("import", "--input-shape that contradicts an .onnx file's input size, or --weights / --args "
                   "with a model file", "refused (exit 2) saying what to leave out; nothing written")
def test_options_that_do_not_fit_a_model_file_are_refused(tmp_path, capsys, mnist_onnx, argv, says):
    rc, err = _run(capsys, str(mnist_onnx), "-o", str(tmp_path / "m.json"), *argv)
    assert rc == 2 and says in err, err
    assert list(tmp_path.iterdir()) == []
