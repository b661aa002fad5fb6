"""Qt-free document model: graph, node specs, registry, shape inference, validation, project files
and the compiler. Nothing here imports Qt, and nothing imports the `nodes` package: node types
arrive through the registry."""
from .analysis import Analysis, Analyzer, NodeInfo, analyze
from .blocks import BlockDef, BlockLibrary, ExposedParam, Target
from .graph import Edge, Graph, GraphError, GraphEvent, Node
from .problems import Problem
from .registry import Registry, RegistryError, default_registry
from .spec import NodeSpec, Param, ParamError, Port
from .types import ShapeError, TensorType

__all__ = ["Analysis", "Analyzer", "NodeInfo", "analyze", "BlockDef", "BlockLibrary", "ExposedParam", "Target", "Edge", "Graph", "GraphError", "GraphEvent",
           "Node", "Problem", "Registry", "RegistryError", "default_registry", "NodeSpec", "Param",
           "ParamError", "Port", "ShapeError", "TensorType"]
