"""Model files as import sources (`.onnx`, `.pt2`): data that is read, never code that runs."""
from __future__ import annotations


def read_file(kind: str, source: str, input_shape):
    """The file rebuilt as a torch graph (rebuild.Loaded), refused with a message when it cannot be."""
    if kind == "onnx":
        from .onnx_source import read_onnx

        return read_onnx(source, input_shape)
    from .exported import read_pt2

    return read_pt2(source, input_shape)
