"""`code`: write the standalone script, then import it from the temp file and check that its class,
carrying the model's weights, computes what the model computes."""
from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
import uuid

from ..errors import ExportError
from ..prepare import Prepared
from ..report import ExportReport
from ..skeleton import Attempt, FileFormat, Loaded, export_file
from .source import generate_source


def import_file(path, name: str | None = None):
    """Import a .py file whatever its name ends with, without leaving it in sys.modules."""
    name = name or f"netstudio_generated_{uuid.uuid4().hex[:8]}"
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up while executing
    try:
        loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


class CodeFormat(FileFormat):
    name, label = "code", "code"

    def make(self, report: ExportReport) -> list[Attempt]:
        self.generated = generated = generate_source(self.prep, script_name=report.path.name)
        try:
            ast.parse(generated.source)
        except SyntaxError as exc:  # a bug in the generator, not the person's fault
            raise RuntimeError(f"generated source does not parse: {exc}") from exc
        return [Attempt(f"NetStudio source generator (class {generated.class_name})",
                        lambda: generated.source.encode("utf-8"), self.load)]

    def load(self, tmp) -> Loaded:
        module = import_file(tmp)
        net = getattr(module, self.generated.class_name)()
        try:
            net.load_state_dict(self.prep.model.state_dict())
        except RuntimeError as exc:
            raise ExportError(f"code: the generated class does not take the model's weights: {exc}") from None
        net.eval()
        return Loaded(net, "importlib (the generated class, same weights)")

    def notes(self, report: ExportReport, failures: list[str]) -> list[str]:
        return [*self.generated.notes, "the file holds no weights: export state_dict too and load it with "
                f"{self.generated.class_name}().load_state_dict(torch.load(path, weights_only=True))"]


def export_code(prep: Prepared, out) -> ExportReport:
    return export_file(CodeFormat(prep), out)
