"""Block instances as submodules: a definition's graph compiles to a torch.fx.GraphModule (or, when it
is marked sequential, to an nn.Sequential numbered 0, 1, ... in chain order), and an instance that
repeats is an nn.Sequential of its copies, so state_dict keys nest as torchvision's do
(`layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`)."""
from __future__ import annotations

from typing import Any, Callable, TypeAlias

from . import tuning
from .blocks_analysis import BlockResult
from .problems import CompileError, Problem

NodeInfo: TypeAlias = Any  # analysis.NodeInfo (analysis is above this module)


def instance_module(info: NodeInfo, graph_module: Callable):
    """The module of one Block node, from its analysis (each call builds fresh weights);
    `graph_module` is compiler.graph_module, which compiles a definition's graph."""
    from torch import nn

    inst = info.block
    assert inst is not None and len(inst.copies) == inst.repeat  # compiled graphs analysed cleanly
    copies = [definition_module(result, graph_module) for result in inst.copies]
    return copies[0] if inst.repeat == 1 else nn.Sequential(*copies)


def definition_module(result: BlockResult, graph_module: Callable):
    from torch import nn

    from .topology import reaching, to_networkx

    analysis = result.analysis
    graph = result.graph
    ins, outs = result.analysis.inputs, [o for o, _ in result.analysis.outputs]
    if not result.sequential:
        needed = reaching(to_networkx(graph), outs)
        return graph_module(graph, analysis, ins, [(o, None) for o in outs], result.definition, needed)
    chain = sorted((int(name), node_id) for node_id, name in result.module_names.items() if name.isdigit())
    layers = []
    for _, node_id in chain:
        info = analysis.nodes[node_id]
        assert info.spec is not None and info.params is not None
        if info.passthrough:
            layers.append(nn.Identity())  # keeps the numbering of the layers after it
            continue
        module = instance_module(info, graph_module) if info.block is not None else info.spec.build(info.params, info.inputs)
        tuning.mark(module, graph.node(node_id))
        if module is None:
            raise CompileError([Problem("error", f"{info.label} computes without a layer module, so it cannot sit "
                                                 f"in block '{result.definition}', which is marked sequential "
                                                 "(an nn.Sequential of layers); turn 'sequential' off", node_id)])
        layers.append(module)
    return nn.Sequential(*layers)
