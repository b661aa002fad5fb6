"""studio.training is Qt-free: no module imports PySide6, pyqtgraph or studio.ui, and the whole
headless path (dataset, trainer, CLI) runs without loading them."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

FORBIDDEN = ("PySide6", "pyqtgraph", "studio.ui")


def test_no_module_imports_qt():
    for path in sorted((ROOT / "studio" / "training").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module if node.level == 0 else "." * node.level + node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN) and ".ui" not in name, f"{path}: imports {name}"


def test_headless_run_loads_no_qt(tmp_path):
    code = ("import sys\nfrom studio.cli import main\n"
            f"rc = main(['train', {str(ROOT / 'resources/templates/moons_mlp.json')!r}, '--epochs', '1', "
            f"'--device', 'cpu', '--quiet', '--out', {str(tmp_path / 'run')!r}])\n"
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'studio.ui'))]\n"
            "assert rc == 0 and not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "run" / "metrics.jsonl").is_file()


def test_import_is_cheap():
    proc = subprocess.run([sys.executable, "-c", "import sys, studio.training; assert 'torch' not in sys.modules"],
                          cwd=Path(ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
