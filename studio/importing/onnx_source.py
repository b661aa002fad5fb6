"""An `.onnx` file as an import source. The file is data (no code runs to read it), but still hostile
until checked: a corrupt file is one line, external data must lie inside the file's folder, and the
imported project is checked against onnxruntime running the file itself before anything is written."""
from __future__ import annotations

import os
from pathlib import Path

from .sources import ImportRefused


def _tensors(graph):
    """Every tensor the file holds, subgraphs included (where external data can be named)."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for a in node.attribute:
            if a.HasField("t"):
                yield a.t
            yield from a.tensors
            if a.HasField("g"):
                yield from _tensors(a.g)
            for sub in a.graphs:
                yield from _tensors(sub)


def _check_external(model, path: Path) -> None:
    """Each external-data location is a relative path to a file inside the model's folder."""
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    folder = path.parent.resolve()
    for tensor in _tensors(model.graph):
        if not uses_external_data(tensor):
            continue
        location = ExternalDataInfo(tensor).location
        target = (folder / location).resolve()
        if not location or Path(location).is_absolute() or folder not in target.parents:
            raise ImportRefused(f"{path}: tensor {tensor.name!r} names external data {location!r} outside the "
                                "model's folder; only files beside the model are read")
        if not target.is_file():
            raise ImportRefused(f"{path}: tensor {tensor.name!r} keeps its data in {location!r}, which is not "
                                f"there; put it beside {path.name}")


def load_onnx(path: Path):
    import onnx
    from google.protobuf.message import DecodeError
    from onnx.external_data_helper import load_external_data_for_model

    if not path.is_file():
        raise ImportRefused(f"{path}: no such ONNX file")
    try:
        model = onnx.load(os.fspath(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImportRefused(f"{path}: is not a readable ONNX file ({first}); export it again") from None
    if not model.graph.node:
        raise ImportRefused(f"{path}: is not a readable ONNX file (it holds no graph); export it again")
    _check_external(model, path)
    try:
        load_external_data_for_model(model, os.fspath(path.parent))
        onnx.checker.check_model(model)
    except Exception as exc:  # the checker's own error types vary by version
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImportRefused(f"{path}: is not a valid ONNX model ({first}); export it again") from None
    return model


def _input(model, path: Path):
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]  # old exporters list weights too
    if len(inputs) != 1:
        raise ImportRefused(f"{path}: the model takes {len(inputs)} inputs; import handles one input for now")
    tensor = inputs[0].type.tensor_type
    from onnx import TensorProto

    if tensor.elem_type != TensorProto.FLOAT:
        raise ImportRefused(f"{path}: the input {inputs[0].name!r} is not float32; import handles float inputs")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    return inputs[0], dims


def _shapes(model, dims: list, sample: list[int], input_name: str, path: Path):
    """The model with every tensor's shape inferred at this sample size (the batch as the file has it)."""
    import onnx

    model = onnx.ModelProto.FromString(model.SerializeToString())
    inp = next(i for i in model.graph.input if i.name == input_name)
    shape = inp.type.tensor_type.shape
    while len(shape.dim) < len(sample) + 1:
        shape.dim.add()
    for d, size in zip(list(shape.dim)[1:], sample):
        d.ClearField("dim_param")
        d.dim_value = size
    if dims and dims[0] is None:
        shape.dim[0].dim_param = "batch"
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImportRefused(f"{path}: the model's shapes do not work out at input {sample} ({first}); is "
                            "--input-shape right?") from None


def ort_reference(model, input_name: str, batch: int | None):
    """The file run by onnxruntime: what the imported project must compute."""
    import numpy as np
    import onnxruntime
    import torch

    from .rebuild import Batched

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    def run(x):
        return torch.from_numpy(session.run(None, {input_name: x.detach().cpu().numpy().astype(np.float32)})[0])
    return Batched(run, batch)


def read_onnx(source: str, input_shape: list[int] | None):
    from .onnx_mapping import rebuild
    from .rebuild import Loaded

    path = Path(source).expanduser()
    model = load_onnx(path)
    inp, dims = _input(model, path)
    fixed = [d for d in dims[1:]]
    if input_shape is None:
        if not dims or any(d is None for d in fixed):
            raise ImportRefused(f"{path}: the input's size per sample is not fixed in the file ({dims}); give it "
                                "with --input-shape, e.g. --input-shape 3,224,224")
        input_shape = fixed
    elif dims and all(d is not None for d in fixed) and fixed != list(input_shape):
        raise ImportRefused(f"{path}: --input-shape {list(input_shape)} differs from the file's input size "
                            f"{fixed}; leave --input-shape out")
    inferred = _shapes(model, dims, list(input_shape), inp.name, path)
    gm = rebuild(inferred, inp.name)
    reference = ort_reference(model, inp.name, dims[0] if dims and dims[0] else None)
    return Loaded(gm, reference, list(input_shape), path.stem)
