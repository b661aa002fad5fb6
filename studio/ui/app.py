"""The GUI entry point: `python -m studio [FILE]` and
`python -m studio --screenshot OUT.png [--size WxH] [--train-steps N] [FILE]`.

The window is shown before the layer library is loaded (loading it imports torch, which takes a few
seconds): `MainWindow()` appears at once, then the document and its views are attached on the first
turn of the event loop."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

EXIT_USER_ERROR = 2
SCREENSHOT_SIZE = (1600, 1000)
_T0 = time.perf_counter()


def add_gui_arguments(p) -> None:
    """The GUI's arguments (on a parser, or on a group of `python -m studio --help`)."""
    p.add_argument("file", nargs="?", metavar="FILE", help="a project file (*.json) to open")
    w, h = SCREENSHOT_SIZE
    p.add_argument("--screenshot", metavar="OUT.png",
                   help=f"render the main window offscreen into OUT.png (default {w}x{h}) and exit")
    p.add_argument("--size", metavar="WxH", help=f"with --screenshot: the window size in pixels (default {w}x{h})")
    p.add_argument("--train-steps", type=int, default=0, metavar="N",
                   help="with --screenshot: train N steps in the background first (training UI)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m studio",
                                description="NetStudio: build PyTorch networks visually. Without FILE, "
                                            "opens the default example (CNN on digits).")
    add_gui_arguments(p)
    return p


def parse_size(text: str) -> tuple[int, int]:
    """"1600x1000" -> (1600, 1000); ValueError with the reason. The bound is Qt's own: the image
    of the window must fit QImageReader's allocation limit (4 bytes a pixel)."""
    from PySide6.QtGui import QImageReader

    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--size {text!r}: write it as WIDTHxHEIGHT in pixels, e.g. 1280x800")
    w, h = (int(p) for p in parts)
    if w < 1 or h < 1:
        raise ValueError(f"--size {text}: width and height must be at least 1 pixel")
    limit_mb = QImageReader.allocationLimit()
    if limit_mb and w * h * 4 > limit_mb * 2**20:
        raise ValueError(f"--size {text}: an image that large ({w * h * 4 / 2**20:.0f} MiB) is over Qt's "
                         f"{limit_mb} MiB image limit; choose a smaller size")
    return w, h


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.train_steps < 0:
        print("--train-steps must be 0 or more", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.size and not args.screenshot:
        print("error: --size is for --screenshot (the window itself remembers the size you give it)",
              file=sys.stderr)
        return EXIT_USER_ERROR
    if args.screenshot:
        return screenshot(args)
    return run_gui(args)


def _application(argv0: str = "netstudio", gc_now: bool = True):
    """The QApplication. `gc_now=False` leaves the garbage collector's move to the GUI thread to the
    caller (it imports pyqtgraph, a second of start-up; it must come before any worker thread)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([argv0])
        app.setApplicationName("NetStudio")
        app.setOrganizationName("NetStudio")
        app.setApplicationDisplayName("NetStudio")
    if gc_now:
        from .gc_thread import collect_on_gui_thread

        collect_on_gui_thread()
    return app


def _load(path: str | None):
    """The project to show: FILE, or the default example as a new untitled project."""
    from studio.core.project import load_project

    from .resources import DEFAULT_TEMPLATE

    if path:
        return load_project(path)
    project = load_project(DEFAULT_TEMPLATE)
    project.path = None
    project.extra.pop("description", None)
    return project


# ---- interactive ------------------------------------------------------------------------------
def run_gui(args) -> int:
    from .main_window import MainWindow
    from .settings import app_settings
    from .stats_service import service
    from .theme import apply_theme

    app = _application(gc_now=False)  # (until the first frame: no other thread runs before it)
    apply_theme(str(app_settings().value("theme", "dark")))
    window = MainWindow()
    restored = window.restore_geometry()
    service().hold(True)  # no torch import on a thread before the graph is on screen
    probe = bool(os.environ.get("NETSTUDIO_STARTUP_PROBE"))
    if probe:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: _report("shown"))
    _after_first_paint(window, lambda: _finish_startup(window, args.file, probe))
    if not restored:  # a first run: the whole screen (the window fits it whatever its size)
        window.showMaximized()
    else:
        window.show()
    code = app.exec()
    _exit_after_helpers(code)
    return code


def _exit_after_helpers(code: int) -> None:
    """Wait for the helper threads (background.py) while the application still exists; one still
    running after the wait (stuck in a torch call) would abort Python's finalization, so the process
    then ends here, its output flushed (everything a person made was saved or offered before)."""
    from . import background

    left = background.shutdown()
    if left:
        print(f"note: exiting while {', '.join(left)} still ran", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _after_first_paint(window, callback, fallback_ms: int = 1000) -> None:
    """`callback` once the window has painted its first frame (the panels' frames and "Loading the
    layer library…"), so that frame is on screen while the views are built."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Once(QObject):
        done = False

        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint and not self.done:
                QTimer.singleShot(0, self, self.fire)
            return False

        def fire(self) -> None:
            if not self.done:
                self.done = True
                window.removeEventFilter(self)
                callback()

    once = Once(window)
    window.installEventFilter(once)
    QTimer.singleShot(fallback_ms, once, once.fire)  # a window that is not painted (minimized) starts too


def _finish_startup(window, file: str | None, probe: bool = False) -> None:
    from studio.core.project import Project

    from .canvas_host import when_nodes_painted
    from .document import Document
    from .resources import DEFAULT_TEMPLATE

    window.attach(Document(Project()), later=True)
    window.restore_state()
    files = window.files
    opened = bool(file) and files.open_path(Path(file), ask=False)
    if not opened and not files.recover_untitled():
        files.open_template(DEFAULT_TEMPLATE, ask=False)
    window.fit_to_graph()
    when_nodes_painted(window.canvas, lambda: _after_first_frame(window, probe))


def _after_first_frame(window, probe: bool) -> None:
    """The graph is on screen: now the costly rest (the training UI, torch for the counts)."""
    from .gc_thread import collect_on_gui_thread
    from .startup_imports import import_then
    from .stats_service import service

    if probe:  # `bench startup`: the first frame with the graph painted (and whether torch was needed)
        _report("painted", f"torch={'yes' if 'torch' in sys.modules else 'no'}")
    collect_on_gui_thread()  # before the training UI and the warm-up start their threads
    stalls = _StallWatch(window) if probe else None

    def rest(import_s: float) -> None:
        while_importing = stalls.longest if probe else 0.0
        try:
            window.attach_rest()
        except Exception as exc:
            from .training.docks import say_not_loaded

            say_not_loaded(window, exc)  # not "Loading…" forever
            raise
        service().hold(False)
        if probe:  # then when every view is ready and the counts are in, then quit
            from PySide6.QtCore import QTimer
            from PySide6.QtWidgets import QApplication

            stalls.stop()
            _report("ready", f"stall={stalls.longest:.3f} stall_importing={while_importing:.3f} "
                             f"imports={import_s:.3f}")
            window.summary.model.finish()
            _report("counted")
            QTimer.singleShot(0, QApplication.quit)

    import_then(window, rest)  # torch on a helper thread: the window stays live while it loads


class _StallWatch:
    """The longest the GUI thread went without turning its event loop (a frozen window: clicks and
    keys wait), from now until stop(), including the turn that stop() is called in."""

    def __init__(self, parent, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.longest, self._last = 0.0, time.perf_counter()
        self._timer = QTimer(parent)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest, self._last = max(self.longest, now - self._last), now

    def stop(self) -> None:
        self._tick()
        self._timer.stop()


def _report(what: str, note: str = "") -> None:
    print(f"{what} {time.perf_counter() - _T0:.4f} {note}".rstrip(), flush=True)


def _pose_for_screenshot(window) -> None:
    """Show what the panels are for: the first layer with settings selected in the inspector, and
    the analyzer table in front unless there are problems to read."""
    document = window.document
    analysis = document.analysis
    for node_id in analysis.order or list(document.graph.nodes):
        info = analysis.nodes[node_id]
        if info.spec is not None and info.spec.params and info.type != "Input":
            document.set_selection([node_id])
            break
    if analysis.ok and not analysis.warnings:
        window.docks["summary"].raise_()


# ---- screenshot -------------------------------------------------------------------------------
def screenshot(args) -> int:
    """Render the main window offscreen (dark theme, default layout, the graph fitted at no more
    than 100%) into a PNG. A bad FILE: the message on stderr, exit 2."""
    from studio.core.project import ProjectError

    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        project = _load(args.file)
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    out = Path(args.screenshot)
    if out.suffix.lower() != ".png":
        print(f"error: {out}: the screenshot is written as PNG; name it *.png", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        size = parse_size(args.size) if getattr(args, "size", None) else SCREENSHOT_SIZE
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


    from .document import Document
    from .main_window import MainWindow
    from .theme import apply_theme

    app = _application()
    apply_theme("dark")
    window = MainWindow(use_settings=False)
    window.resize(*size)
    window.attach(Document(project))
    window.show()
    app.processEvents()
    if args.train_steps:
        train = getattr(window, "train_for_screenshot", None)  # hook for the training UI
        if train is None:
            print(f"note: --train-steps {args.train_steps} needs the training panel, which this build "
                  "does not have yet; rendering without training", file=sys.stderr)
        else:
            train(args.train_steps)
    _pose_for_screenshot(window)
    window.summary.model.finish()
    window.fit_to_graph(1.0)
    app.processEvents()
    image = window.grab().toImage()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = image.save(str(out), "PNG")
    except OSError as exc:
        ok, why = False, exc.strerror
    else:
        why = "cannot write the file"
    window.files.timer.stop()
    window.close()
    _exit_after_helpers(0 if ok else EXIT_USER_ERROR)
    if not ok:
        print(f"error: {out}: {why}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"wrote {out} ({image.width()}x{image.height()})")
    return 0
