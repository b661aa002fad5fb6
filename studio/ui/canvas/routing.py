"""Where a backward wire (from the end of one row of cards to the start of another) runs back: a
horizontal lane clear of every card it passes.

Without cards in the way it is the middle between its two ports, as always. Cards that grow (the
live preview adds a strip to every card, an error a footer) can reach into that middle: then the
lane is the free band between the rows nearest to it, or, where the rows touch, the band under (or
over) the cards, so the wire never runs behind a card. The scene re-routes the wires near a card
whose size changed (`CanvasScene.reroute_resized`)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from . import style

CLEAR = 6.0  # the least room between a lane and a card
OUTSIDE = 18.0  # a lane under (or over) every card keeps this much more room
REACH = 400.0  # how far above and below its ports a lane is looked for


def leg_reach(bend: float) -> float:
    """How far right of its output (left of its input) a wire's bend reaches: the cubic from
    x to x + 2 * bend and back peaks at 3/4 of that."""
    return 1.5 * bend


def card_rects(scene, rect: QRectF) -> list[QRectF]:
    """The cards (their rects in the scene) that overlap `rect`."""
    from .node_item import NodeItem

    out = []
    for item in scene.items(rect):
        if isinstance(item, NodeItem) and item.isVisible():
            out.append(QRectF(item.pos().x(), item.pos().y(), style.NODE_WIDTH, item.height))
    return out


def lane_y(scene, p1: QPointF, p2: QPointF, prefer: float, bend: float) -> float:
    """The y of the run back from output `p1` to input `p2` (p2 left of p1): `prefer` when it is
    clear of the cards in the way, else the clear y nearest to it whose bends are clear too."""
    left, right = p2.x() - leg_reach(bend), p1.x() + leg_reach(bend)
    top, bottom = min(p1.y(), p2.y(), prefer) - REACH, max(p1.y(), p2.y(), prefer) + REACH
    cards = card_rects(scene, QRectF(left, top, right - left, bottom - top))
    if not cards:
        return prefer
    blocked = _merged(sorted((r.top() - CLEAR, r.bottom() + CLEAR) for r in cards))
    # the run lies on the side of the output the input is on (below, for a row to its own start):
    # a wire down to the next row that first climbed over its own row would be read as another wire
    down = p2.y() >= p1.y() if abs(p2.y() - p1.y()) >= 2 * bend else True
    best = None
    for y in _candidates(blocked, prefer):
        if (y <= p1.y()) if down else (y >= p1.y()):
            continue
        if not _legs_clear(cards, p1, p2, y, bend):
            continue
        if best is None or abs(y - prefer) < abs(best - prefer):
            best = y
    return prefer if best is None else best


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _candidates(blocked: list[tuple[float, float]], prefer: float) -> list[float]:
    """One y per free band: `prefer` where it is free, the middle of a band between two blocked
    ones, and a little beyond the first (last) blocked band above (below) every card."""
    out = [blocked[0][0] - OUTSIDE, blocked[-1][1] + OUTSIDE]
    for (_a, b), (c, _d) in zip(blocked, blocked[1:]):
        out.append(prefer if b <= prefer <= c else (b + c) / 2)
    if prefer < blocked[0][0] or prefer > blocked[-1][1]:
        out.append(prefer)
    return out


def _legs_clear(cards: list[QRectF], p1: QPointF, p2: QPointF, y: float, bend: float) -> bool:
    """Whether the bend down (up) from the output and the one into the input pass no card (the
    ports' own cards lie beside them, left of the output and right of the input)."""
    for x, port_y, outward in ((p1.x(), p1.y(), 1.0), (p2.x(), p2.y(), -1.0)):
        b = min(bend, abs(y - port_y) / 2 + 10)
        xs = sorted((x + outward, x + outward * leg_reach(b)))
        leg = QRectF(xs[0], min(y, port_y), xs[1] - xs[0], abs(y - port_y))
        if any(r.intersects(leg) for r in cards):
            return False
    return True
