"""docs/reliability.md lists every case the tests try (their @pytest.mark.fault marks)."""
from __future__ import annotations

import importlib.util

from tests.conftest import ROOT


def _tool():
    spec = importlib.util.spec_from_file_location("make_reliability_doc", ROOT / "tools" / "make_reliability_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reliability_doc_is_current():
    assert (ROOT / "docs" / "reliability.md").read_text() == _tool().render(), \
        "run python tools/make_reliability_doc.py"


def test_cases_are_distinct():
    rows = _tool().collect()
    keys = [(area, case) for area, case, _, _ in rows]
    assert len(keys) == len(set(keys)), "two tests claim the same case"
