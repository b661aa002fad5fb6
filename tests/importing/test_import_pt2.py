"""Issue 17: an ExportedProgram `.pt2` imports (blocks from its nn_module_stack), torch.export takes over
where torch.fx cannot trace, and a hostile `.pt2` runs none of its contents."""
from __future__ import annotations

import json
import pickle
import zipfile

import pytest
import torch
from torch import nn

import studio
from studio.importing import import_module, import_model

from .test_import_refusals import _run
from .onnx_helpers import Block, agree, mnist_net, repeated, repeated_blocks


def _save(model, shape, path):
    program = torch.export.export(model, (torch.randn(1, *shape),))
    torch.export.save(program, str(path))
    return path


def _rewrite(path, change):
    """The archive with `change(name, data) -> data` applied to each member."""
    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w") as z:
        for info, data in members:
            z.writestr(info, change(info.filename, data))


@pytest.fixture(scope="module")
def mnist_pt2(tmp_path_factory):
    return _save(mnist_net(), [1, 28, 28], tmp_path_factory.mktemp("pt2") / "mnist.pt2")


def test_mnist_net_from_its_exported_program(tmp_path, capsys, mnist_pt2):
    rc, err = _run(capsys, str(mnist_pt2), "-o", str(tmp_path / "mnist.json"))
    assert rc == 0, err
    project = studio.load_project(tmp_path / "mnist.json")
    assert [n.type for n in project.graph.nodes.values()] == [
        "Input", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Dropout", "Flatten", "Linear", "ReLU",
        "Dropout", "Linear", "LogSoftmax", "Output"]
    assert project.graph.node("dropout").params == {"p": 0.25}
    agree(tmp_path / "mnist.json", mnist_net(), [1, 28, 28], batch=3, tolerance=1e-5)


def test_a_repeated_class_in_a_pt2_becomes_one_block(tmp_path):
    source = repeated()
    path = _save(source, [3, 8, 8], tmp_path / "rep.pt2")
    result = import_model(str(path), tmp_path / "rep.json")
    assert result.blocks == ["Block"]
    assert repeated_blocks(tmp_path / "rep.json") == (
        [("blocks", 3)], ["Conv2d", "BatchNorm2d", "Add", "ReLU", "BlockInput", "BlockOutput"])
    agree(tmp_path / "rep.json", source, [3, 8, 8], tolerance=1e-5)


class Branchy(nn.Module):
    """A forward torch.fx cannot trace (Python control flow on the input's rank) and torch.export can."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Block(3), Block(3))
        self.fc = nn.Linear(3 * 6 * 6, 4)

    def forward(self, x):
        if x.dim() == 4:
            x = self.blocks(x)
        return self.fc(x.flatten(1))


def test_torch_export_takes_over_where_fx_cannot_trace(tmp_path):
    torch.manual_seed(2)
    source = Branchy().eval()
    with pytest.raises(torch.fx.proxy.TraceError):
        torch.fx.symbolic_trace(source)
    result = import_module(source, tmp_path / "b.json", [3, 6, 6])
    assert result.blocks == ["Block"]
    agree(tmp_path / "b.json", source, [3, 6, 6], batch=2, tolerance=1e-5)


class DataDependent(nn.Module):
    def forward(self, x):
        return x * 2 if x.sum() > 0 else x


@pytest.mark.fault("import", "a forward that neither torch.fx nor torch.export can capture (if on a value)",
                   "refused (exit 2) with both reasons; nothing written")
def test_a_model_neither_can_capture_is_refused_with_both_reasons(tmp_path):
    from studio.importing import ImportRefused

    with pytest.raises(ImportRefused) as caught:
        import_module(DataDependent(), tmp_path / "d.json", [4])
    assert "torch.fx could not trace" in str(caught.value) and "torch.export could not capture it" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


class Marker:
    """Unpickling this writes a file: what a hostile .pt2 would do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.write_text, (pathlib.Path(self.path), "the file's code ran"))


@pytest.mark.fault("import", "a .pt2 whose weight is a pickle (torch.export.load would unpickle it)",
                   "refused (exit 2) before torch reads it; the pickle never runs")
def test_a_pickled_weight_in_a_pt2_is_refused_unread(tmp_path, capsys, mnist_pt2):
    import shutil

    path = shutil.copy(mnist_pt2, tmp_path / "evil.pt2")
    marker = tmp_path / "ran.txt"

    def change(name, data):
        if name.endswith("model_weights_config.json"):
            config = json.loads(data)
            first = next(iter(config["config"]))
            config["config"][first]["use_pickle"] = True
            return json.dumps(config).encode()
        if name.endswith("/data/weights/weight_0"):
            return pickle.dumps(Marker(str(marker)))
        return data
    _rewrite(path, change)
    rc, err = _run(capsys, str(path), "-o", str(tmp_path / "e.json"))
    assert rc == 2 and "'conv1.weight' is a pickled object" in err, err
    assert not marker.exists() and not (tmp_path / "e.json").exists()


@pytest.mark.fault("import", "a .pt2 with Python in its guards_code or a shape expression (exec / sympify)",
                   "guards dropped unrun, the import goes on; a shape expression that is not arithmetic is refused")
def test_code_in_a_pt2_program_never_runs(tmp_path, capsys, mnist_pt2):
    import shutil

    marker = tmp_path / "ran.txt"
    code = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran') or True"
    guarded = shutil.copy(mnist_pt2, tmp_path / "guards.pt2")

    def guards(name, data):
        if name.endswith("models/model.json"):
            program = json.loads(data)
            program["guards_code"] = [code]
            return json.dumps(program).encode()
        return data
    _rewrite(guarded, guards)
    rc, err = _run(capsys, str(guarded), "-o", str(tmp_path / "g.json"))
    assert rc == 0, err
    assert not marker.exists()
    shaped = shutil.copy(mnist_pt2, tmp_path / "shape.pt2")

    def expression(name, data):
        if name.endswith("models/model.json"):
            program = json.loads(data)
            program["graph_module"]["graph"]["sym_int_values"] = {"s9": {"as_expr": {"expr_str": code}}}
            return json.dumps(program).encode()
        return data
    _rewrite(shaped, expression)
    rc, err = _run(capsys, str(shaped), "-o", str(tmp_path / "s.json"))
    assert rc == 2 and "a shape expression is not plain arithmetic" in err
    assert not marker.exists() and not (tmp_path / "s.json").exists()


class Cumulative(nn.Module):
    def forward(self, x):
        return torch.cumsum(x, dim=1)


@pytest.mark.fault("import", "a .pt2 calling an aten op with no node type, or a corrupt .pt2",
                   "refused (exit 2) in one line naming the op or the file; nothing written")
def test_an_unmapped_op_or_a_corrupt_pt2_is_refused(tmp_path, capsys, mnist_pt2):
    path = _save(Cumulative(), [5], tmp_path / "cum.pt2")
    rc, err = _run(capsys, str(path), "-o", str(tmp_path / "c.json"))
    assert rc == 2 and "calls torch.ops.aten.cumsum.default, which has no node type" in err
    (tmp_path / "junk.pt2").write_bytes(mnist_pt2.read_bytes()[:3000])
    rc, err = _run(capsys, str(tmp_path / "junk.pt2"), "-o", str(tmp_path / "c.json"))
    assert rc == 2 and "junk.pt2: is not a readable .pt2 file" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c.json").exists()


@pytest.mark.slow
def test_resnet18_from_a_decomposed_pt2_keeps_its_blocks(tmp_path):
    """Core-aten calls (convolution, _native_batch_norm_legit_no_training, max_pool2d_with_indices,
    addmm on a transposed weight, in-place add_) map as their training-IR forms do."""
    import torchvision

    from .test_import_models import _busy_statistics

    torch.manual_seed(0)
    source = _busy_statistics(torchvision.models.resnet18())
    program = torch.export.export(source, (torch.randn(1, 3, 64, 64),)).run_decompositions()
    torch.export.save(program, str(tmp_path / "r18.pt2"))
    result = import_model(str(tmp_path / "r18.pt2"), tmp_path / "r18.json")
    assert sorted(result.blocks) == ["BasicBlock", "BasicBlock_2"]
    graph = studio.load_project(tmp_path / "r18.json").graph
    assert {"conv1", "bn1", "fc"} <= set(graph.nodes)  # ids from the weights' state-dict names
    agree(tmp_path / "r18.json", source, [3, 64, 64], batch=2, tolerance=1e-5)
