"""Model files as import sources (`.onnx`, `.pt2`): data that is read, never code that runs."""
from __future__ import annotations


def import_file(kind: str, source: str, output, input_shape, overwrite: bool):
    if kind == "onnx":
        from .onnx_source import import_onnx

        return import_onnx(source, output, input_shape, overwrite)
    from .exported import import_pt2

    return import_pt2(source, output, input_shape, overwrite)
