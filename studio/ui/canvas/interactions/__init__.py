"""Mouse gestures on the canvas, one small object each. The view asks each kind in turn whether a
press starts it (`start`), then forwards moves and the release to the one that did."""
from .base import Interaction
from .node_drag import NodeDrag
from .palette_drop import PaletteDrop
from .pan import Pan
from .rubber_band import RubberBand
from .wire_drag import WireDrag

PRESS_ORDER = (Pan, WireDrag, NodeDrag, RubberBand)

__all__ = ["Interaction", "NodeDrag", "PaletteDrop", "Pan", "RubberBand", "WireDrag", "PRESS_ORDER"]
