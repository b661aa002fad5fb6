"""`code`: write the standalone script, then import it from the temp file and check that its class,
carrying the model's weights, computes what the model computes."""
from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
import time
import uuid

from ..check import compare, require
from ..errors import ExportError
from ..prepare import CHECK_BATCH, Prepared, write_atomically
from ..report import ExportReport
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


def export_code(prep: Prepared, out) -> ExportReport:
    import torch

    t0 = time.perf_counter()
    generated = generate_source(prep, script_name=out.name)
    try:
        ast.parse(generated.source)
    except SyntaxError as exc:  # a bug in the generator, not the person's fault
        raise RuntimeError(f"generated source does not parse: {exc}") from exc
    report = ExportReport("code", out, inputs=prep.describe("inputs"), outputs=prep.describe("outputs"),
                          weights=prep.weights, exporter=f"NetStudio source generator (class {generated.class_name})")

    def write(tmp):
        tmp.write_text(generated.source, encoding="utf-8")
        module = import_file(tmp)
        net = getattr(module, generated.class_name)()
        try:
            net.load_state_dict(prep.model.state_dict())
        except RuntimeError as exc:
            raise ExportError(f"code: the generated class does not take the model's weights: {exc}") from None
        net.eval()
        batch = prep.inputs(CHECK_BATCH, seed=2)
        with torch.no_grad():
            got = net(*batch)
        got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
        report.check = compare(prep.reference(batch), got, "importlib (the generated class, same weights)",
                               CHECK_BATCH)
        require(report.check, "code", report)

    write_atomically(out, write)
    report.notes.extend(generated.notes)
    report.notes.append("the file holds no weights: export state_dict too and load it with "
                        f"{generated.class_name}().load_state_dict(torch.load(path, weights_only=True))")
    report.size_bytes = out.stat().st_size
    report.seconds = time.perf_counter() - t0
    return report
