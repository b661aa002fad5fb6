"""Wires the training UI into the main window: the Training dock (right, beside the Inspector) and
the Curves, Weights & gradients, Feature maps and Epoch report docks (bottom); the session, the
pre-flight check, the canvas selection -> watched layer, the close guard, and the
`train_for_screenshot` hook that `python -m studio --screenshot --train-steps N` calls.

What the panels show of a run comes only through the session's signals (the trainer's events); the
GUI never reads the trainer, its model or its datasets. After a run, the layer's activations for a
chosen sample come from the `Probe` the training thread handed over as it ended."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from studio.core.graph import GraphEventKind

from .. import background
from . import file_dialogs, runs
from .project_runs import ProjectRuns
from .curves import CurvesView
from .docks import add_training_docks
from .feature_maps import FeatureMapView
from .norms_view import NormsView
from .panel import TrainingPanel, checking
from .report_view import ReportView
from .session import IDLE, TrainingSession, snapshot
from .text_samples import install_text_samples
from .tryit import install_tryit
from .errors_docks import install_where_errs

PREFLIGHT_DELAY_MS = 150
CURVES_LEAST_HEIGHT = 300  # px: the loss plot above metrics and learning rate, each with readable axes


class _Relay(QObject):
    """Carries results from helper threads to the GUI thread (queued signals)."""

    preflight_done = Signal(int, object)


class TrainingUI(QObject):
    preflight_ready = Signal()  # a pre-flight verdict reached the GUI thread (self.preflight is set)

    def __init__(self, window, document, canvas) -> None:
        super().__init__(window)
        self.window, self.document, self.canvas = window, document, canvas
        self.session = TrainingSession(document, self)
        self.weights = None  # a checkpoint file the next run and exports start from
        self.preflight = None
        self.can_train, self.reason = False, "checking the dataset…"
        self.train_pending = False  # Train pressed before the first verdict: start when it passes
        self._preflight_seq = 0
        self._input_cache: dict[int, tuple] = {}

        self.panel = TrainingPanel(document)
        self.curves = CurvesView()
        self.norms = NormsView()
        self.features = FeatureMapView()
        self.report = ReportView()
        self.docks = {}
        self._build_docks()
        self.project_runs = ProjectRuns(self)
        self.text_samples = install_text_samples(self)
        self.tryit = install_tryit(self)
        self.where_errs = install_where_errs(self)  # errors_docks.py: Where it errs, Classes

        s, p = self.session, self.panel
        s.state_changed.connect(self._on_state)
        s.started.connect(self._on_started)
        s.steps.connect(self.curves.add_steps)
        s.steps.connect(p.on_steps)
        s.epoch.connect(self.curves.add_epoch)
        s.epoch.connect(p.on_epoch)
        s.norms.connect(self.norms.add_norms)
        s.activation.connect(self._on_activation)
        s.sample.connect(self._on_sample)
        s.report.connect(self.report.show_report)
        s.notice_event.connect(self._on_notice)
        s.ended.connect(self._on_ended)
        p.train_button.clicked.connect(self.press_train)
        p.pause_button.clicked.connect(s.pause)
        p.resume_button.clicked.connect(s.resume)
        p.stop_button.clicked.connect(self.press_stop)
        p.export_button.clicked.connect(self.open_export)
        p.load_button.clicked.connect(self.ask_load_checkpoint)
        p.clear_weights_button.clicked.connect(lambda: self.set_weights(None))
        p.overlays_changed.connect(self._on_overlays)
        document.training_changed.connect(lambda _t: self.schedule_preflight())
        document.training_changed.connect(lambda _t: self._clear_failure())  # a failure's message goes
        document.analysis_changed.connect(lambda _a: self._clear_failure())
        self.curves.status_message.connect(self._status)
        self.features.sample_changed.connect(lambda _i: self._rewatch())
        document.analysis_changed.connect(lambda _a: self.schedule_preflight())
        document.selection_changed.connect(self._on_selection)
        document.analysis_changed.connect(lambda _a: self._on_analysis())
        document.graph_changed.connect(self._on_graph_event)
        self.docks["features"].visibilityChanged.connect(lambda _v: self._rewatch())
        self._on_selection(document.selection)  # the first convolution until a layer is selected
        self._preflight_timer = QTimer(self)
        self._preflight_timer.setSingleShot(True)
        self._preflight_timer.setInterval(PREFLIGHT_DELAY_MS)
        self._preflight_timer.timeout.connect(self._run_preflight)
        window.installEventFilter(self)
        self._on_state(IDLE)
        self.refresh_runs()
        self.project_runs.reopen()
        self._run_preflight()

    # ---- layout -------------------------------------------------------------------------------
    def _build_docks(self) -> None:
        """Fill the training docks, which the window lays out (studio.ui.training.docks)."""
        self.docks = add_training_docks(self.window)
        self.curves.setMinimumHeight(CURVES_LEAST_HEIGHT)  # its dock scrolls below that, never squeezes
        for name, widget in (("training", self.panel), ("curves", self.curves), ("norms", self.norms),
                             ("features", self.features), ("report", self.report)):
            self.window.add_dock(name, self.docks[name].windowTitle(), widget)

    def show_training_layout(self) -> None:
        """Bring the training panels forward (Train pressed, screenshot). Only tabs change: the docks
        keep their sizes, so the canvas keeps its share and nothing jumps."""
        self.docks["training"].raise_()
        self.docks["curves"].raise_()

    def set_theme(self) -> None:
        """The window switched theme: the plots, legends and drawn tiles follow at once."""
        from .plot_style import restyle

        self.curves.set_theme()
        for view in (self.norms, self.report):
            restyle(view)
        if self.norms.layers:
            self.norms._set_legend()
        if self.report.last is not None:
            self.report.show_report(self.report.last)
        for view in (self.panel, self.curves, self.norms, self.features, self.report):
            for w in [view] + view.findChildren(QWidget):
                w.update()
        self.where_errs.set_theme()
        if self.preflight is not None:  # its colours are set with the text
            self.panel.set_problems(self.preflight.problems, self.preflight.notes)

    # ---- pre-flight ---------------------------------------------------------------------------
    def schedule_preflight(self) -> None:
        self._preflight_timer.start()

    def _run_preflight(self) -> None:
        from .preflight import check, graph_problems

        self._preflight_seq += 1
        seq = self._preflight_seq
        project, analysis = self.document.project, self.document.analysis
        if not analysis.ok:  # known at once: no need to wait for the dataset
            self._set_verdict(False, "The graph has errors:\n" + "\n".join(graph_problems(analysis)))
        training = dict(project.training or {})
        edges = list(self.document.graph.edges)
        base = project.path.parent if project.path is not None else None
        # A relay of this check's own, owned by the application: the window (and its relay) may be
        # deleted before the check ends; Qt then drops the queued result with its receiver.
        relay = _Relay(QCoreApplication.instance())
        relay.preflight_done.connect(self._on_preflight)

        def work():
            from .warmup import warm_up_imports

            try:
                result = check(training, analysis, edges, base)
            except Exception as exc:  # noqa: BLE001 - shown as the reason Train is off
                from .preflight import PreflightResult

                result = PreflightResult(problems=[f"internal error while checking: {type(exc).__name__}: {exc}"])
            try:
                relay.preflight_done.emit(seq, result)
                relay.deleteLater()  # on the GUI thread, after the result is delivered
            except RuntimeError:  # the application itself is gone (interpreter exit)
                return
            warm_up_imports()  # while the window is idle, not in the middle of the first run

        background.start(work, "netstudio-preflight")

    def _on_preflight(self, seq: int, result) -> None:
        if seq != self._preflight_seq:
            return
        self.preflight = result
        self.panel.form.show_preview(result)
        self.panel.set_problems(result.problems, result.notes)
        problems = getattr(self.window, "problems", None)
        if hasattr(problems, "set_training_problems"):  # the Problems list and the panel say the same
            problems.set_training_problems(result.setting_problems)
        pending, self.train_pending = self.train_pending, False
        self._set_verdict(result.ok, result.reason())
        if pending and result.ok:
            self.train()
        if result.preview and self.session.last_probe is None:
            self.features.set_input(result.preview[0]["x"], _caption(result.preview[0]))
        self.preflight_ready.emit()

    def _set_verdict(self, ok: bool, reason: str) -> None:
        if not ok and not checking(reason):  # "not ready" said: a queued press must not start a run later
            self.train_pending = False
        self.can_train, self.reason = ok, reason
        self._on_state(self.session.state)

    # ---- running ------------------------------------------------------------------------------
    def runs_root(self):
        from ..settings import data_dir

        project = self.document.project
        return runs.runs_root(project.path, project.name, data_dir())

    def press_train(self) -> None:
        """Train pressed: the run starts now, or as soon as the dataset check under way passes."""
        if not self.session.running and not self.can_train and checking(self.reason):
            self.train_pending = True
            self._on_state(self.session.state)
        else:
            self.train()

    def press_stop(self) -> None:
        if self.train_pending:  # not started yet: Stop takes the press back
            self.train_pending = False
            self._on_state(self.session.state)
        else:
            self.session.stop()

    def train(self, max_steps: int = 0, overrides: dict | None = None) -> bool:
        if self.session.running or not self.can_train:
            return False
        try:
            run_dir = runs.new_run_dir(self.runs_root())
        except OSError as exc:
            self._status(f"Cannot create the run folder: {exc.strerror or exc}")
            run_dir = None
        self.project_runs.note_run(run_dir)
        self.curves.clear()
        self.norms.clear()
        self.report.clear()
        self._input_cache.clear()
        self.panel.reset_status()
        self._rewatch()
        self.session.start(snapshot(self.document.project), run_dir, weights=self.weights, max_steps=max_steps,
                           overrides=overrides)
        self.show_training_layout()
        return True

    def _on_state(self, state: str) -> None:
        self.panel.set_state(state, self.can_train, self.reason, self.train_pending)

    def _on_started(self, e) -> None:
        self.curves.on_started(e)
        self.norms.set_run_length(e.epochs * max(e.steps_per_epoch, 1))
        self.panel.on_started(e)
        self.features.set_sample_count(e.shown_size)
        if e.points is not None:
            self.report.set_points(e.points["x"], e.points["y"])

    def _on_ended(self, end) -> None:
        self.panel.on_ended(end)
        self.project_runs.on_ended()
        self.refresh_runs()
        line = f"Training {end.status}: {end.message.splitlines()[0] if end.message else ''}"
        self._failure_line = line if end.status == "failed" else None
        self._status(line)

    _failure_line = None

    def _clear_failure(self) -> None:
        self.panel.clear_failure()
        bar = getattr(self.window, "statusBar", None)
        if self._failure_line and bar is not None and bar().currentMessage() == self._failure_line:
            bar().clearMessage()
        self._failure_line = None

    def _on_notice(self, e) -> None:
        """The trainer's notice (or failure) in plain words on the panel and the status bar; its own
        line in the panel's tooltip and the log."""
        import logging

        message = e.message
        logging.getLogger("studio.training").info("%s", message)
        line = getattr(e, "plain", "") or message
        self.panel.show_notice(line, message)
        self._status(line)

    def _status(self, text: str) -> None:
        show = getattr(self.window, "show_status", None)
        if show is not None:
            show(text)

    # ---- feature maps -------------------------------------------------------------------------
    def _on_selection(self, ids: list) -> None:
        node, why = (ids[0], "") if len(ids) == 1 else self._first_layer()
        info = self.document.analysis.nodes.get(node) if node else None
        label = f"{node} · {info.type}" if info is not None else ""
        self.features.set_node(node, label + (f" ({why}; select a layer to see another)" if why and label else ""))
        self._rewatch()

    def _first_layer(self) -> tuple[str | None, str]:
        """With no layer selected, the panel shows the first convolution's maps (else the first layer's
        outputs): something to look at as soon as a run has trained, not an empty box."""
        analysis = self.document.analysis
        layers = [n for n in analysis.order if (info := analysis.nodes.get(n)) is not None
                  and info.spec is not None and info.type not in ("Input", "Output") and info.output is not None]
        conv = [n for n in layers if analysis.nodes[n].type.startswith("Conv")]
        if conv:
            return conv[0], "the first convolution"
        return (layers[0], "the first layer") if layers else (None, "")

    def _on_analysis(self) -> None:
        # an edit may have changed (or removed) the first layer: only then is it shown anew
        if len(self.document.selection) != 1 and self._first_layer()[0] != self.features.node_id:
            self._on_selection(self.document.selection)

    def _rewatch(self) -> None:
        """Watch the selected layer only while the Feature maps panel is visible (no cost otherwise)."""
        node = self.features.node_id
        dock = self.docks["features"]  # (the panel's own region: the dock's is empty once its contents cover it)
        visible = dock.isVisible() and self.features.isVisible() and not self.features.visibleRegion().isEmpty()
        sample = self.features.sample.value()
        reason = self.session.watch(node if visible else None, sample)
        if reason and node:
            self.features.note.setText(reason)
        probe = self.session.last_probe
        if not self.session.running and probe is not None:  # during a run the trainer sends the sample
            sample_event = probe.sample(sample)
            if sample_event is not None:
                self._on_sample(sample_event)
            if node and visible:
                activation = probe.activation(node, sample)  # the trained model's, one forward pass
                if activation is not None:
                    self.features.show_activation(activation)

    def _on_sample(self, e) -> None:
        self.features.set_input(e.x, f"input · {e.label}" if e.label is not None else "input")

    def _on_activation(self, e) -> None:
        self.features.show_activation(e)

    # ---- runs, weights, export ----------------------------------------------------------------
    def refresh_runs(self) -> None:
        ticked = set(self.panel.ticked())
        self.panel.set_runs(runs.list_runs(self.runs_root()), ticked)

    def _on_overlays(self, names: list) -> None:
        root = self.runs_root()
        self.curves.set_overlays([runs.read_run(root / n) for n in names])

    def set_weights(self, path, label: str = "") -> None:
        self.weights = path
        self.panel.weights_label.setText(f"Starting weights: {label or path}" if path else
                                         "Starting weights: fresh (random)")
        self.panel.weights_label.setToolTip(str(path) if path else "")

    def offer_weights(self, path) -> bool:
        """The last run's weights as the current ones (a reopened project), when they fit the graph."""
        if self._weights_problem(path) is not None:
            return False
        self.set_weights(str(path), f"the last run's {Path(path).name} ({Path(path).parent.name})")
        return True

    def ask_load_checkpoint(self) -> None:
        folder = str(self.runs_root()) if self.runs_root().is_dir() else ""
        path = file_dialogs.open_path(self.window, "Load a checkpoint", folder,
                                      "Checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.load_checkpoint(path)

    def load_checkpoint(self, path) -> str | None:
        """Use a checkpoint's weights for the next run and exports; returns the reason it cannot."""
        reason = self._weights_problem(path)
        if reason:
            self.panel.weights_label.setText(f"Not loaded: {reason}")
            self._status(f"Checkpoint not loaded: {reason}")
            return reason
        self.set_weights(str(path))
        return None

    def _weights_problem(self, path) -> str | None:
        from studio.core.analysis import analyze
        from studio.core.compiler import compile_graph
        from studio.core.weights import WeightsError, load_weights

        if not self.document.analysis.ok:
            return "fix the graph's errors first: the weights are checked against the model"
        try:
            load_weights(compile_graph(self.document.graph, analysis=analyze(self.document.graph)), path)
        except WeightsError as exc:
            return str(exc)
        return None

    def export_weights(self):
        """The weights an export uses by default: a loaded checkpoint, else the newest run's."""
        if self.weights:
            return self.weights
        newest = runs.newest_weights(runs.list_runs(self.runs_root()))
        return str(newest) if newest is not None else None

    def open_export(self):
        from .export_dialog import ExportDialog

        dialog = ExportDialog(self.document, self.export_weights(), self.window)
        dialog.show()
        return dialog

    # ---- document and window ------------------------------------------------------------------
    def _on_graph_event(self, event) -> None:
        if event.kind == GraphEventKind.RESET:  # another file opened
            self.train_pending = False  # a press for the project before: not for this one
            self._on_state(self.session.state)
            if not self.session.running:
                self.session.last_probe = None
            self.set_weights(None)
            self.project_runs.forget()
            self.curves.clear()
            self.curves.set_overlays([])
            self.norms.clear()
            self.report.clear()
            self.panel.form.load()
            self.refresh_runs()
            self.project_runs.reopen()
            self.schedule_preflight()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close and self.session.running:
            if not file_dialogs.ask_stop_run(self.window, ended=self.session.ended):
                event.ignore()
                return True
            self.session.shutdown(1000)
        return False

    def train_for_screenshot(self, steps: int, timeout_s: float = 600) -> bool:
        """Train `steps` steps in the worker thread and wait (on signals) until the plots hold the run."""
        from PySide6.QtCore import QEventLoop

        graph_nodes = self.document.analysis.order
        watch = next((n for n in graph_nodes if self.document.analysis.nodes[n].type.startswith("Conv")), None)
        watch = watch or next((n for n in graph_nodes if self.document.analysis.nodes[n].type == "Linear"), None)
        if watch:
            self.document.set_selection([watch])
        if self.preflight is None:  # the pre-flight may still be running: wait for its verdict
            # (on a signal emitted in this thread: the helper thread's own signal may already be queued,
            # and a queued signal does not reach a slot connected after it was emitted)
            loop = QEventLoop()
            self.preflight_ready.connect(loop.quit)
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
            self.preflight_ready.disconnect(loop.quit)
        if not self.train(max_steps=steps):
            return False
        loop = QEventLoop()
        self.session.ended.connect(loop.quit)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        return self.session.last_end is not None and self.session.last_end.status != "failed"


def _caption(item: dict) -> str:
    return f"input · {item['label']}" if "label" in item else "input"


def install_training_ui(window, document, canvas) -> TrainingUI:
    ui = TrainingUI(window, document, canvas)
    window.training = ui
    window.train_for_screenshot = ui.train_for_screenshot
    return ui
