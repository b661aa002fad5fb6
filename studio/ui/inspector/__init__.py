"""The inspector: typed editors for the selected node's params, its doc, shapes and size."""
from .panel import InspectorPanel

__all__ = ["InspectorPanel"]
