"""The main window's first-run panel layout, worked out from the window's size, and the window's
first size, worked out from the screen it opens on (maximized on a first run).

Every dock has a *place*: "library" (the layer palette), "properties" (inspector, training settings),
"diagnostics" (problems, analyzer) or "plots" (the training plots). A place is one group of tabs; the
plan says where each group goes so that the canvas keeps the largest share of the window:

- wide windows (>= TWO_COLUMNS_MIN_WIDTH): library on the left, properties on the right;
- narrower ones: one column on the left, the library above the properties (tabbed together where
  the column is too short to split);
- the bottom row holds diagnostics and plots side by side, or tabbed together where it is narrow.
The side columns take the full height (the bottom row sits under the canvas only)."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtWidgets import QApplication

PLACES = ("library", "properties", "diagnostics", "plots")
SIDE_MIN, SIDE_MAX = 260, 320  # px: a dock column, whatever the window
SIDE_SHARE = 0.2  # of the window's width, within SIDE_MIN..SIDE_MAX
BOTTOM_SHARE = 0.3  # of the window's height
TWO_COLUMNS_MIN_WIDTH = 2200
SPLIT_COLUMN_MIN_HEIGHT = 780  # shorter: the library and the properties share one tab group
SPLIT_BOTTOM_MIN_WIDTH = 1200  # narrower: diagnostics and plots share one tab group
LIBRARY_SHARE = 0.45  # of a split column's height
DIAGNOSTICS_SHARE = 0.45  # of a split bottom row's width (the problems and the analyzer table read whole)
DEFAULT_SIZE = QSize(1440, 900)
FRAME_ALLOWANCE = QSize(16, 48)  # the window manager's frame and title bar, before the window has one

LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical


@dataclass(frozen=True)
class Plan:
    two_columns: bool
    split_column: bool
    split_bottom: bool
    side: int  # px, a column's width
    bottom: int  # px, the bottom row's height


def plan_for(width: int, height: int) -> Plan:
    side = max(SIDE_MIN, min(SIDE_MAX, round(width * SIDE_SHARE)))
    return Plan(two_columns=width >= TWO_COLUMNS_MIN_WIDTH, split_column=height >= SPLIT_COLUMN_MIN_HEIGHT,
                split_bottom=width >= SPLIT_BOTTOM_MIN_WIDTH, side=side, bottom=round(height * BOTTOM_SHARE))


def first_geometry(available: QRect) -> QRect:
    """The window's first geometry on a screen whose free area is `available`: the default size,
    smaller where the screen is (the app opens it maximized on a first run: a canvas wants the room;
    this is the size it returns to)."""
    room = (available.size() - FRAME_ALLOWANCE).expandedTo(QSize(640, 480))
    size = DEFAULT_SIZE.boundedTo(room)
    rect = QRect(0, 0, size.width(), size.height())
    rect.moveCenter(available.center())
    return rect


def apply_default_layout(window, docks: dict, places: dict, toolbars=()) -> Plan:
    """Put every dock of `window` where the plan for its current size says, at the plan's sizes;
    show every dock and toolbar. Used for the first run and by View > Reset Panel Layout."""
    plan = plan_for(window.width(), window.height())
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # new dock contents first: else
    # their layout pass, pending, would redo the sizes below from their size hints
    window.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
    window.setCorner(Qt.Corner.TopLeftCorner, LEFT)
    window.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
    window.setCorner(Qt.Corner.TopRightCorner, RIGHT)
    for toolbar in toolbars:
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)  # back to the top, if it was moved
        toolbar.show()
    groups = {place: [d for name, d in docks.items() if places.get(name) == place] for place in PLACES}
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    heads, rest = {}, {}
    for place, area, after, orientation, split in (  # first the group heads: splitting a tabbed dock tabs
            ("library", LEFT, None, V, True),
            ("properties", RIGHT if plan.two_columns else LEFT, None if plan.two_columns else "library", V,
             plan.split_column),
            ("diagnostics", BOTTOM, None, H, True),
            ("plots", BOTTOM, "diagnostics", H, plan.split_bottom)):
        members = groups[place]
        if not members:
            continue
        head = heads.get(after) if after else None
        if head is None:
            window.addDockWidget(area, members[0], orientation)
        elif split:
            window.splitDockWidget(head, members[0], orientation)
        else:  # shares the group it would sit beside
            heads[place], rest[place] = head, members
            continue
        heads[place], rest[place] = members[0], members[1:]
    for place, members in rest.items():  # then the tabs
        for dock in members:
            window.tabifyDockWidget(heads[place], dock)
    for dock in docks.values():
        dock.show()
    window.layout().activate()  # re-added docks join their tab bars only when the layout runs
    for place in reversed(PLACES):  # the first of each group in front (the library and diagnostics
        if groups[place]:            # last: in front of the groups that share their tabs)
            groups[place][0].raise_()
    _resize(window, plan, heads)
    return plan


def _resize(window, plan: Plan, heads: dict) -> None:
    library, properties = heads.get("library"), heads.get("properties")
    diagnostics, plots = heads.get("diagnostics"), heads.get("plots")
    columns = [d for d in (library, properties) if d is not None]
    if plan.two_columns or library is None or properties is None or library is properties:
        window.resizeDocks(columns, [plan.side] * len(columns), H)
    else:
        window.resizeDocks([library], [plan.side], H)
        if plan.split_column:
            height = window.height()
            window.resizeDocks([library, properties], [round(height * LIBRARY_SHARE),
                                                        round(height * (1 - LIBRARY_SHARE))], V)
    bottom = [d for d in (diagnostics, plots) if d is not None]
    if bottom:
        window.resizeDocks(bottom[:1], [plan.bottom], V)
        if len(bottom) == 2 and diagnostics is not plots:
            width = window.width() - plan.side * (2 if plan.two_columns else 1)
            window.resizeDocks(bottom, [round(width * DIAGNOSTICS_SHARE), round(width * (1 - DIAGNOSTICS_SHARE))],
                               H)
