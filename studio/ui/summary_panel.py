"""The analyzer table (as in MATLAB's Deep Network Designer): node, type, output shape, parameters
and FLOPs, with a totals row. A QAbstractTableModel: a new node set costs one model reset, a param
edit announces only the changed rows.

Shapes come straight from the analysis. Parameter counts and FLOPs (studio.core.stats, which builds
each layer on the meta device, cached by signature) are filled in by a time-sliced idle job, so an
edit that changes every downstream shape never blocks the window while they are recounted."""
from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from studio.core.summary import human

from . import stats_service
from .summary_blocks import Row, count, rows_for
from .theme import color

COLUMNS = ("Node", "Type", "Output shape", "Parameters", "FLOPs")
NODE_ROLE = Qt.ItemDataRole.UserRole + 1
SLICE_S = 0.008  # at most this long per idle slice of stats counting


class SummaryModel(QAbstractTableModel):
    stats_done = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, str, str, str | None]] = []  # id (or path inside a block), type, output, error
        self.entries: list[Row] = []  # the same rows, with their depth and what counts them
        self.expanded: set[str] = set()  # the block rows shown open
        self._analysis = None
        self.infos: list = []
        self.stats: list = []  # NodeStats | None (no count) | False (not counted yet)
        self._next = 0
        self.total_params = 0
        self.total_flops = 0
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._count_some)
        stats_service.service().ready.connect(self._resume)
        self._bold = QFont()
        self._bold.setBold(True)

    # ---- filling ------------------------------------------------------------------------------
    def set_analysis(self, analysis) -> None:
        """Show a new analysis. When the same nodes come in the same order (a param edit), only the
        rows whose shape or error changed are announced (dataChanged), not a model reset: the view
        keeps its selection and scroll position, and a 1,000-row reset costs milliseconds."""
        self._analysis = analysis
        entries = rows_for(analysis, self.expanded)
        old_rows, old_entries = self.rows, self.entries
        rows = []
        for i, e in enumerate(entries):
            old = old_entries[i] if i < len(old_entries) else None
            if old is not None and old.counted is e.counted and old.path == e.path and old.label == e.label:
                rows.append(old_rows[i])  # the very same inference result: the same text
            else:
                rows.append((e.path, e.type, e.output, e.error))
        same_nodes = len(rows) == len(old_rows) and all(a[0] == b[0] for a, b in zip(rows, old_rows)) and all(
            a.label == b.label for a, b in zip(entries, old_entries))
        if not same_nodes:
            self.beginResetModel()
        self.entries, self.rows = entries, rows
        self.infos = [e.counted for e in entries]
        self.stats = [False] * len(entries)
        self.total_params = self.total_flops = 0
        self._next = 0
        if same_nodes:
            changed = [r for r, (a, b) in enumerate(zip(rows, old_rows)) if a is not b and a != b]
            if changed:
                self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], 2))
            if rows:  # the counts are recounted: "…" until they are
                self.dataChanged.emit(self.index(0, 3), self.index(len(rows), 4))
        else:
            self.endResetModel()
        self._timer.start()

    def toggle(self, row: int) -> bool:
        """Open or close a block's row (and recount); False when the row is not a block."""
        if not 0 <= row < len(self.entries) or not self.entries[row].expandable:
            return False
        path = self.entries[row].path
        self.expanded.symmetric_difference_update({path})
        if self._analysis is not None:
            self.set_analysis(self._analysis)
        return True

    def _resume(self) -> None:
        if self.counting:
            self._timer.start()

    @property
    def counting(self) -> bool:
        return self._next < len(self.infos)

    def finish(self) -> None:
        """Count everything now (screenshots, benchmarks)."""
        while self.counting:
            self._count_some(budget=3600.0)

    def _count_some(self, budget: float = SLICE_S) -> None:
        if not stats_service.service().is_ready:
            if budget < 60:  # an idle slice: wait for the warm-up (it restarts us when ready)
                self._timer.stop()
                stats_service.service().warm_up()
                return
            stats_service.service().warm_up(wait=True)
        start = self._next
        deadline = time.perf_counter() + budget
        while self._next < len(self.infos):
            s = count(self.entries[self._next])
            self.stats[self._next] = s
            if s is not None and self.entries[self._next].depth == 0:  # a block's total holds its inside
                self.total_params += s.params
                self.total_flops += s.flops
            self._next += 1
            if time.perf_counter() > deadline:
                break
        if self._next > start:
            self.dataChanged.emit(self.index(start, 3), self.index(self._next - 1, 4))
        if not self.counting:
            self._timer.stop()
            n = len(self.rows)
            self.dataChanged.emit(self.index(n, 0), self.index(n, 4))
            self.stats_done.emit()

    # ---- model --------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows) + 1  # + totals

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int((Qt.AlignmentFlag.AlignRight if section >= 3 else Qt.AlignmentFlag.AlignLeft)
                           | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        total = r == len(self.rows)
        if role == Qt.ItemDataRole.DisplayRole:
            if total:
                if c == 0:
                    top = sum(1 for e in self.entries if e.depth == 0)
                    return f"Total ({top} layers)"
                if c == 3:
                    return "…" if self.counting else f"{self.total_params:,}"
                if c == 4:
                    return "…" if self.counting else human(self.total_flops)
                return ""
            node_id, type_name, output, error = self.rows[r]
            if c == 0:
                return self.entries[r].label
            if c == 1:
                return type_name
            if c == 2:
                return "error" if error else output
            s = self.stats[r]
            if s is False:
                return "…"
            if s is None:
                return "—"
            return f"{s.params:,}" if c == 3 else human(s.flops)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int((Qt.AlignmentFlag.AlignRight if c >= 3 else Qt.AlignmentFlag.AlignLeft)
                       | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole:
            if total:
                return self._bold
            if c == 2:
                mono = QFont("DejaVu Sans Mono")
                mono.setStyleHint(QFont.StyleHint.Monospace)
                return mono
        if role == Qt.ItemDataRole.ToolTipRole and not total and c == 0 and self.entries[r].expandable:
            return f"{self.rows[r][0]}: click to {'close' if self.rows[r][0] in self.expanded else 'open'} this block's rows"
        if role == Qt.ItemDataRole.ForegroundRole:
            if not total and self.rows[r][3] and c in (0, 2):
                return QColor(color("error"))
            if not total and c == 1:
                return QColor(color("dim"))
        if role == Qt.ItemDataRole.ToolTipRole and not total and self.rows[r][3]:
            return self.rows[r][3]
        if role == NODE_ROLE and not total:
            return self.rows[r][0]
        return None


class SummaryPanel(QWidget):
    node_activated = Signal(str)

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("summary")
        self.document = document
        self.model = SummaryModel(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        vh = self.view.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(24)
        hh = self.view.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(False)
        for col, width in enumerate((200, 190, 200, 130, 110)):
            hh.resizeSection(col, width)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.clicked.connect(self._activate)
        document.analysis_changed.connect(self.model.set_analysis)
        self.model.set_analysis(document.analysis)

    def _activate(self, index) -> None:
        if index.column() == 0 and self.model.toggle(index.row()):
            return  # a block's row: opened or closed
        node_id = index.sibling(index.row(), 0).data(NODE_ROLE)
        if node_id and node_id.split(".")[0] in self.document.graph:  # (a dotted path: inside a block)
            self.document.set_selection([node_id])
            self.node_activated.emit(node_id)
