"""The import rules of DESIGN.md, enforced: the headless layers never import Qt or the UI, and the
core never imports the node library (import-linter contracts in pyproject.toml)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout


BLOCK_QT = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):
            raise ImportError('blocked for this test: ' + name)
sys.meta_path.insert(0, Block())
"""


def test_headless_layers_and_cli_run_without_pyside6():
    code = BLOCK_QT + """
import importlib, pkgutil
import studio, nodes
for pkg in ('studio.core', 'studio.training', 'studio.export', 'studio.importing', 'nodes'):
    mod = importlib.import_module(pkg)
    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):
        importlib.import_module(info.name)
from studio.cli import main
sys.exit(main(['summary', 'resources/templates/cnn_digits.json']))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "conv1" in proc.stdout


def test_no_module_imports_itself_through_others():
    """Issue 14: no import circles, also through imports inside functions (grimp reads every import
    statement): module-level strongly connected components of the import graph are single modules."""
    import grimp
    import networkx as nx

    graph = grimp.build_graph("studio", "nodes")
    imports = nx.DiGraph()
    for module in graph.modules:
        imports.add_node(module)
        imports.add_edges_from((module, other) for other in graph.find_modules_directly_imported_by(module))
    circles = [sorted(c) for c in nx.strongly_connected_components(imports) if len(c) > 1]
    assert not circles, f"modules that import each other: {circles}"
