"""A decoder's ConvTranspose2d imports from an ONNX file and from an ExportedProgram (.pt2): the
layer with its weights, stride, padding, output_padding, groups and dilation, computing what
onnxruntime (or the model) computes."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import studio
from studio.importing import import_model

from .onnx_helpers import agree, export_onnx, onnxruntime_of


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4 * 4 * 4)
        self.up1 = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1)  # 4x4 -> 8x8
        self.up2 = nn.ConvTranspose2d(6, 2, 2, stride=2, groups=2, bias=False)  # 8x8 -> 16x16, grouped
        self.up3 = nn.ConvTranspose2d(2, 1, 3, padding=2, dilation=2)  # same size

    def forward(self, z):
        x = self.fc(z).view(-1, 4, 4, 4)
        return torch.sigmoid(self.up3(torch.relu(self.up2(torch.relu(self.up1(x))))))


def decoder():
    torch.manual_seed(5)
    return Decoder().eval()


def deconvs(project_file) -> list[dict]:
    record = json.loads(project_file.read_text())
    return [n["params"] for n in record["nodes"] if n["type"] == "ConvTranspose2d"]


def test_a_decoder_from_its_onnx_export(tmp_path):
    source = decoder()
    path = export_onnx(source, [8], tmp_path / "decoder.onnx")
    import_model(str(path), tmp_path / "decoder.json")
    params = deconvs(tmp_path / "decoder.json")
    assert len(params) == 3 and params[1]["groups"] == 2 and params[2]["dilation"] in (2, [2, 2])
    agree(tmp_path / "decoder.json", onnxruntime_of(path), [8])
    agree(tmp_path / "decoder.json", source, [8])


def test_a_decoder_from_its_exported_program(tmp_path):
    source = decoder()
    program = torch.export.export(source, (torch.randn(1, 8),))
    torch.export.save(program, str(tmp_path / "decoder.pt2"))
    import_model(str(tmp_path / "decoder.pt2"), tmp_path / "decoder.json")
    assert len(deconvs(tmp_path / "decoder.json")) == 3
    agree(tmp_path / "decoder.json", source, [8])
    assert studio.build_model(studio.load_project(tmp_path / "decoder.json")).up1.output_padding == (1, 1)


@pytest.mark.fault("import", "an ONNX ConvTranspose with output_shape", "refused, naming the node and what to give")
def test_a_convtranspose_given_by_output_shape_is_named(tmp_path):
    import onnx
    from onnx import helper

    path = export_onnx(decoder(), [8], tmp_path / "decoder.onnx", external_data=False)
    model = onnx.load(str(path))
    node = next(n for n in model.graph.node if n.op_type == "ConvTranspose")
    node.attribute.append(helper.make_attribute("output_shape", [8, 8]))
    onnx.save(model, str(path))
    with pytest.raises(Exception, match=r"ConvTranspose node .*: ConvTranspose with output_shape \(give pads and output_padding"):
        import_model(str(path), tmp_path / "decoder.json")
