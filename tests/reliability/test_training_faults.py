"""Training faults in the app, through the real worker thread and real clicks: NaN and Inf losses,
CUDA running out of memory (simulated), an exception inside a layer, a failed checkpoint write, the
dataset file deleted mid-run, Stop pressed at every phase (before the first step, mid-epoch, during
validation, during a checkpoint write) and the window closed mid-run. Each ends with a message, no
thread left running, the last complete epoch's checkpoint intact and loadable, and a usable app: a
second run starts and finishes. A Gate holds the training thread at the exact moment (no sleeps)."""
from __future__ import annotations

import errno
import threading

import pytest
import torch
from PySide6.QtCore import Qt

import studio
from studio.core.project import load_project
from studio.training import checkpoint as ckpt
from studio.ui.training import file_dialogs

from reliability_helpers import Gate, SteppedFault, file_digest, moons_record, with_layer, write_project
from tests.ui.window_helpers import open_window

RUN_TIMEOUT = 60_000
STEPS_PER_EPOCH = 10  # 400 moons, 20% validation, batches of 32


# ---- the app ---------------------------------------------------------------------------------------
@pytest.fixture
def app_on(qtbot, isolated, dialog_log, tmp_path):
    """app_on(record) -> the main window on that project, saved in tmp/proj, pre-flight done."""
    opened = []

    def open_(record, name="moons.json"):
        path = write_project(tmp_path / "proj", record, name)
        win = open_window(qtbot, load_project(path), size=(1600, 1000))
        qtbot.waitUntil(lambda: win.training.preflight is not None, timeout=RUN_TIMEOUT)
        assert win.training.can_train, win.training.reason
        opened.append(win)
        return win

    yield open_
    for win in opened:
        if win.training.session.running:
            win.training.session.shutdown(10_000)
        win.document.undo_stack.setClean()


@pytest.fixture
def gates(monkeypatch):
    """Gates are always released at the end, so a failing assertion never leaves a thread waiting."""
    made = []

    def make():
        made.append(Gate())
        return made[-1]

    yield make
    for gate in made:
        gate.release()


def fault_at_step(monkeypatch, at, gate=None, fault=None) -> None:
    """The next run's step function stops at (or faults from) training step number `at`."""
    import studio.training.trainer as trainer_module

    real = trainer_module.make_step

    def make_step(*args, **kwargs):
        return SteppedFault(real(*args, **kwargs), at, gate, fault)

    monkeypatch.setattr(trainer_module, "make_step", make_step)


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def train(qtbot, win, until=None):
    """Click Train; wait for the run's end (after `until()` -- clicks while it runs -- if given)."""
    ui = win.training
    with qtbot.waitSignal(ui.session.ended, timeout=RUN_TIMEOUT) as ended:
        click(qtbot, ui.panel.train_button)
        if until is not None:
            until()
    return ended.args[0]


def assert_usable_and_clean(qtbot, win, end, status, words, epochs_saved, epochs_done=None):
    """The message, the thread, the checkpoint of the last complete epoch, and a second run."""
    ui, panel = win.training, win.training.panel
    assert end.status == status, end.message
    text = panel.status.text()
    assert text.startswith({"failed": "Failed: ", "stopped": "Stopped: ", "finished": "Finished: "}[status]), text
    for w in words:
        assert w in text, text
    assert "Traceback" not in text and "internal error" not in text
    worker_gone = ui.session.worker is None and not win.document.locked
    assert worker_gone and not [t for t in threading.enumerate() if t.name.startswith("netstudio-training")]
    run_dir = ui.session.last_run_dir
    checkpoint = run_dir / "checkpoint.pt"
    if epochs_saved:
        state = ckpt.load_checkpoint(checkpoint)  # weights_only; raises on a torn file
        assert state["epoch"] == epochs_saved
        assert end.result.epochs_done == (epochs_saved if epochs_done is None else epochs_done)
        studio.build_model(win.document.project, checkpoint=checkpoint)  # the weights fit the graph
    else:
        assert not checkpoint.exists()
    # the app is usable: Train is offered again and a second run finishes
    assert panel.train_button.isEnabled(), panel.train_button.toolTip()
    again = train(qtbot, win)
    assert again.status == "finished", again.message
    assert ui.session.last_run_dir != run_dir
    return run_dir


def nan_loss(loss, out):
    return loss * float("nan"), out


def inf_loss(loss, out):
    return loss * float("inf"), out


# ---- faults ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("poison, shown", [
    pytest.param(nan_loss, "nan", marks=pytest.mark.fault(
        "training", "the loss becomes NaN in epoch 2 (GUI run)",
        "run fails with advice (lower lr, grad_clip); epoch 1 checkpoint intact; next run finishes")),
    pytest.param(inf_loss, "inf", marks=pytest.mark.fault(
        "training", "the loss becomes Inf in epoch 2 (GUI run)",
        "run fails with advice; epoch 1 checkpoint intact; next run finishes")),
])
def test_non_finite_loss(app_on, qtbot, monkeypatch, poison, shown):
    win = app_on(moons_record(epochs=3))
    fault_at_step(monkeypatch, STEPS_PER_EPOCH + 3, fault=poison)
    end = train(qtbot, win)
    monkeypatch.undo()
    assert_usable_and_clean(qtbot, win, end, "failed", [f"the training loss became {shown}", "lower learning rate"], 1)


@pytest.mark.fault("training", "CUDA out of memory mid-run (simulated torch.cuda.OutOfMemoryError, GUI run)",
                   "run fails: smaller batch size advised; gradients freed; epoch 1 checkpoint intact; next run finishes")
def test_out_of_memory(app_on, qtbot, monkeypatch):
    win = app_on(moons_record(epochs=3))

    def oom(loss, out):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    fault_at_step(monkeypatch, STEPS_PER_EPOCH + 4, fault=oom)
    end = train(qtbot, win)
    monkeypatch.undo()
    assert_usable_and_clean(qtbot, win, end, "failed", ["ran out of memory at batch size 32", "--batch-size 16"], 1)


ARMED = {"on": False}


class Faulty(torch.nn.Module):
    """A layer whose own code raises on its 15th training-mode call (epoch 2), while armed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == STEPS_PER_EPOCH + 5 and ARMED["on"]:
                raise RuntimeError("deliberate fault inside the layer")
        return x


@pytest.fixture
def faulty_node_type():
    from studio.core.registry import default_registry
    from studio.core.spec import NodeSpec

    registry = default_registry()
    registry.register(NodeSpec(type="TestFaulty", category="activation", doc="test only: raises in training",
                               infer=lambda p, inputs: [inputs[0]], build=lambda p, i: Faulty()))
    ARMED["on"] = True
    yield "TestFaulty"
    ARMED["on"] = False
    registry._specs.pop("TestFaulty", None)  # the registry has no public removal; tests only


@pytest.mark.fault("training", "an exception inside a layer's forward (test-only node type, GUI run)",
                   "run fails naming the node and its class; no traceback shown; epoch 1 checkpoint intact")
def test_exception_inside_a_layer(app_on, qtbot, faulty_node_type):
    record = with_layer(moons_record(epochs=3), {"id": "odd", "type": faulty_node_type, "pos": [0, 340]}, "act1")
    win = app_on(record)
    end = train(qtbot, win)
    ARMED["on"] = False  # the second run (inside the check) finishes
    assert end.result.reason == "layer"
    run_dir = assert_usable_and_clean(qtbot, win, end, "failed",
                                      ["layer 'odd' (Faulty) raised RuntimeError: deliberate fault", "epoch 2"], 1)
    assert (run_dir / "settings.json").is_file()


@pytest.mark.fault("training", "the disk fails while a checkpoint is written (OSError ENOSPC, GUI run)",
                   "run fails: cannot write the run's files (no space), free space; epoch 1 checkpoint intact")
def test_checkpoint_write_fails(app_on, qtbot, monkeypatch):
    import studio.training.rundir as rundir

    real, calls = rundir.save_checkpoint, []

    def failing(path, state):
        calls.append(path)
        if state["epoch"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, state)

    monkeypatch.setattr(rundir, "save_checkpoint", failing)
    win = app_on(moons_record(epochs=3))
    end = train(qtbot, win)
    monkeypatch.undo()
    assert_usable_and_clean(qtbot, win, end, "failed", ["cannot write the run's files", "No space left on device",
                                                        "after epoch 2"], 1, epochs_done=2)
    assert not [p for p in end_dir_files(win) if p.suffix == ".tmp"]


def end_dir_files(win):
    return list(win.training.session.last_run_dir.iterdir())


@pytest.mark.fault("dataset", "the CSV file is deleted during a run",
                   "the run finishes from memory; the next Train fails naming the missing path; restored, it trains")
def test_dataset_deleted_mid_run(app_on, qtbot, monkeypatch, gates, tmp_path):
    import numpy as np

    data = tmp_path / "proj" / "data" / "points.csv"
    data.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    text = "a,b,label\n" + "".join(f"{a:.4f},{b:.4f},{int(a + b > 0)}\n" for a, b in x)
    data.write_text(text)
    record = moons_record(epochs=2)
    record["training"]["dataset"] = {"name": "csv", "path": "data/points.csv"}
    win = app_on(record)
    ui = win.training
    gate = gates()
    fault_at_step(monkeypatch, STEPS_PER_EPOCH + 2, gate=gate)

    def delete_mid_run():
        assert gate.reached.wait(30)
        data.unlink()
        gate.release()

    end = train(qtbot, win, delete_mid_run)
    monkeypatch.undo()
    assert end.status == "finished", end.message  # the data was read into memory at the start
    first = ui.session.last_run_dir / "checkpoint.pt"
    kept = file_digest(first)
    failed = train(qtbot, win)
    assert failed.status == "failed"
    text = ui.panel.status.text()
    assert "training.dataset.path" in text and "points.csv does not exist" in text, text
    assert ui.session.last_run_dir / "checkpoint.pt" != first and not (ui.session.last_run_dir / "checkpoint.pt").exists()
    assert file_digest(first) == kept
    data.write_text(text_again := text_csv(x))
    assert data.read_text() == text_again
    assert train(qtbot, win).status == "finished"


def text_csv(x):
    return "a,b,label\n" + "".join(f"{a:.4f},{b:.4f},{int(a + b > 0)}\n" for a, b in x)


# ---- Stop at every phase ------------------------------------------------------------------------------
@pytest.mark.fault("stop", "Stop pressed before the first step (while the model is prepared)",
                   "stopped before training started; no checkpoint; earlier runs untouched; next run finishes")
def test_stop_before_the_first_step(app_on, qtbot, monkeypatch, gates):
    import studio.ui.training.warmup as warmup

    win = app_on(moons_record(epochs=2))
    ui = win.training
    assert train(qtbot, win).status == "finished"
    earlier = ui.session.last_run_dir / "checkpoint.pt"
    kept = file_digest(earlier)
    gate, real = gates(), warmup.warm_up_model

    def held(trainer):
        gate.arrive()
        real(trainer)

    monkeypatch.setattr(warmup, "warm_up_model", held)

    def stop_while_preparing():
        qtbot.waitUntil(gate.reached.is_set, timeout=RUN_TIMEOUT)
        assert ui.session.state == "preparing"
        click(qtbot, ui.panel.stop_button)
        gate.release()

    end = train(qtbot, win, stop_while_preparing)
    monkeypatch.undo()
    assert end.message == "stopped before training started"
    assert_usable_and_clean(qtbot, win, end, "stopped", ["stopped before training started"], 0)
    assert file_digest(earlier) == kept


@pytest.mark.parametrize("where", [
    pytest.param("step", marks=pytest.mark.fault(
        "stop", "Stop pressed mid-epoch (epoch 2, step 5)",
        "stops within one step; checkpoint of epoch 1 intact; next run finishes")),
    pytest.param("validation", marks=pytest.mark.fault(
        "stop", "Stop pressed during validation (end of epoch 2)",
        "validation and the epoch-2 checkpoint complete, then it stops; next run finishes")),
    pytest.param("checkpoint", marks=pytest.mark.fault(
        "stop", "Stop pressed during a checkpoint write (temp file written, not yet renamed)",
        "the write completes atomically, then it stops; checkpoint of epoch 2 loads; next run finishes")),
])
def test_stop_at_each_phase(app_on, qtbot, monkeypatch, gates, where):
    win = app_on(moons_record(epochs=6))
    ui = win.training
    gate = gates()
    if where == "step":
        fault_at_step(monkeypatch, STEPS_PER_EPOCH + 5, gate=gate)
        saved = 1
    elif where == "validation":
        from studio.training.loop import EpochLoop

        real, calls = EpochLoop.evaluate, []

        def evaluate(self, data):
            calls.append(1)
            if len(calls) == 2:
                gate.arrive()
            return real(self, data)

        monkeypatch.setattr(EpochLoop, "evaluate", evaluate)
        saved = 2
    else:
        from studio.core import atomic
        from studio.training import checkpoint

        calls = []

        def write(path, data):  # atomic_write_bytes, with a pause between the whole temp file and the swap
            with atomic.atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                if str(path).rsplit("/", 1)[-1] == "checkpoint.pt":
                    calls.append(tmp)
                    if len(calls) == 2:
                        gate.arrive()

        monkeypatch.setattr(checkpoint, "atomic_write_bytes", write)
        saved = 2

    def stop_there():
        qtbot.waitUntil(gate.reached.is_set, timeout=RUN_TIMEOUT)
        assert ui.session.state == "running"
        click(qtbot, ui.panel.stop_button)
        assert ui.session.state == "stopping"
        gate.release()

    end = train(qtbot, win, stop_there)
    monkeypatch.undo()
    assert end.result.epochs_done == saved
    run_dir = assert_usable_and_clean(qtbot, win, end, "stopped", ["stopped by request"], saved)
    assert not [p for p in run_dir.iterdir() if p.suffix == ".tmp"]


@pytest.mark.fault("window", "the window is closed during a run (epoch 2)",
                   "asks, stops the run within a step, waits for the thread; checkpoint of epoch 1 intact; a new window trains")
def test_close_the_window_mid_run(app_on, qtbot, monkeypatch, gates):
    win = app_on(moons_record(epochs=6))
    ui = win.training
    gate = gates()
    fault_at_step(monkeypatch, STEPS_PER_EPOCH + 3, gate=gate)
    monkeypatch.setattr(file_dialogs, "ask_stop_run", lambda parent, **kw: True)
    click(qtbot, ui.panel.train_button)
    qtbot.waitUntil(gate.reached.is_set, timeout=RUN_TIMEOUT)
    worker = ui.session.worker
    threading.Timer(0.05, gate.release).start()  # the thread goes on while close() waits for it
    win.document.undo_stack.setClean()
    assert win.close()
    assert worker.isFinished() and ui.session.worker is None
    end = ui.session.last_end
    assert end.status == "stopped" and end.result.epochs_done == 1
    state = ckpt.load_checkpoint(ui.session.last_run_dir / "checkpoint.pt")
    assert state["epoch"] == 1
    monkeypatch.undo()
    again = app_on(moons_record(epochs=2), name="moons.json")
    assert train(qtbot, again).status == "finished"
