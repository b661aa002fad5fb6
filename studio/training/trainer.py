"""The trainer: runs epochs of `step` over device-resident data, validates, tracks the best
epoch, stops early, and reports through listeners (see events.py). Qt-free; the GUI runs `fit()` in a
QThread and calls `stop()`, `pause()`, `resume()` and `watch()` from its own thread.

    trainer = Trainer.from_project(project, overrides={"epochs": 5})
    trainer.add_listener(listener)
    result = trainer.fit()   # TrainResult; user-caused failures (NaN, OOM, bad setup) come back as
                             # status "failed" with a message, bugs are raised
"""
from __future__ import annotations

import json
import math
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field

import torch

from . import checkpoint as ckpt
from .config import TrainingConfig, parse_config
from .data import to_device
from .datasets.base import CLASSIFICATION, ArrayDataset
from .device import amp_dtype, resolve_device, rng_state, seed_everything, set_rng_state
from .errors import TrainingError
from .finetune import count_words, frozen_names, hold_frozen_batchnorm, param_groups
from .events import (CallbackListener, EpochEvent, FailedEvent, FinishedEvent, NoticeEvent, StartedEvent,
                     StoppedEvent, TestEvent, TrainerListener)
from .losses import LossPlan, build_loss
from .loop import EpochLoop
from .preflight import check_trainable
from .numerics import Diverged, NonFiniteLoss, batchnorm_tail, diverged_message, explain_non_finite, layer_fix
from .metrics import MetricSet, check_metrics
from .optim import Schedule, apply_impl, build_optimizer, current_lr, plain_state_dict
from .step_choice import make_step


@dataclass
class TrainResult:
    status: str  # finished | stopped | failed
    reason: str  # completed | early_stopping | stopped | nan | diverged | data | oom | layer | error
    message: str
    epochs_done: int
    best_epoch: int
    best_value: float
    monitor: str
    history: list = field(default_factory=list)
    test: dict | None = None
    elapsed_s: float = 0.0


def _default_plan(info) -> LossPlan:
    if info.task == CLASSIFICATION:
        return LossPlan("index", info.num_classes, len(info.target.shape))
    return LossPlan("input" if info.task == "reconstruction" else "value", 0)


class Trainer(EpochLoop):
    def __init__(self, model: torch.nn.Module, dataset: ArrayDataset, config: TrainingConfig, *,
                 plan: LossPlan | None = None, input_names=("input",), fingerprint: str = "", dist=None) -> None:
        self.model, self.dataset, self.info, self.config = model, dataset, dataset.info, config
        self.plan = plan or _default_plan(self.info)
        self.input_names = tuple(input_names)
        self.fingerprint = fingerprint
        self.dist = dist
        self.rank, self.world = (dist.rank, dist.world_size) if dist else (0, 1)
        check_metrics(config.metrics, "classification" if self.info.task == CLASSIFICATION else "regression")
        self.splits = dataset.split(config.val_split, config.test_split, config.seed)
        if self.splits.val is None and config.monitor not in ("loss", "accuracy"):
            raise TrainingError(f"monitoring {config.monitor!r} needs a validation split (training.split.val > 0)")
        self.device = resolve_device(config.device, dist.local_rank if dist else None,
                                     "--device" if "device" in config.raw.get("_overridden", ()) else "training.device")
        self.listeners: list[TrainerListener] = []
        self.history: list[dict] = []
        self.start_epoch = self.epochs_done = self.global_step = 0
        self.best_epoch, self.best_value, self.bad_epochs = 0, math.nan, 0
        self._best_state = None
        self._resume_state: dict | None = None
        self._prepared = False
        self._bn_hooks: list = []  # frozen BatchNorm held in eval mode while fit() runs
        # cross-thread controls: `_flag` is the one thing the hot loop checks per step
        self._flag, self._stop, self._pause, self._resume_evt = (threading.Event() for _ in range(4))
        self._resume_evt.set()
        self._watch: tuple[str, int] | None = None
        # what a GUI thread's watch() / show_sample() check against: plain values, read here, once
        from .reporting import shown_part, watchable_layers

        self.shown_split, shown = shown_part(self.splits.val, self.splits.train)
        self.shown_size = len(shown)
        self.watchable = watchable_layers(model)
        self._sample_lock = threading.Lock()
        self._sample_wanted: int | None = None
        self.report_norms = True
        self.norms_interval = 1.0  # seconds
        self.activation_interval = 0.5
        self.epoch_reports = False  # after-epoch ReportEvents (confusion, samples, boundary); GUI sets it
        self.max_steps = 0  # > 0: stop after this many steps in all (global step), mid-epoch if need be
        from .sampling import TextSampler

        self.text_sampler = TextSampler.for_dataset(dataset, config.seed)  # a language model writes after each epoch

    # ---- construction from a project ---------------------------------------------------------------
    @classmethod
    def from_project(cls, project, overrides: dict | None = None, dist=None, base_dir=None) -> "Trainer":
        from ..core.analysis import analyze
        from ..core.compiler import CompileError, compile_graph, signature
        from ..core.weights import load_project_weights
        from .datasets import load_dataset
        from .losses import check_fit

        if isinstance(project, (str, bytes)) or hasattr(project, "__fspath__"):
            from ..core.project import load_project

            project = load_project(project)
        config = parse_config(project.training, overrides)
        analysis = analyze(project.graph)
        if not analysis.ok:
            raise CompileError(analysis.errors)
        sig = signature(analysis)
        if base_dir is None and getattr(project, "path", None) is not None:
            base_dir = project.path.parent
        dataset = load_dataset(config.dataset, base_dir)
        plan = check_fit(sig, dataset.info, config.loss, project.graph)
        seed_everything(config.seed, config.deterministic)
        model = compile_graph(project.graph, analysis=analysis)
        load_project_weights(model, project)  # an imported model trains on from its weights
        check_trainable(model, project.graph)  # before the data loads, naming the graph's layers
        return cls(model, dataset, config, plan=plan, input_names=[n for n, _ in sig.inputs],
                   fingerprint=ckpt.graph_fingerprint(project.graph), dist=dist)

    # ---- listeners and cross-thread controls ---------------------------------------------------------
    def add_listener(self, listener) -> None:
        """A TrainerListener (or any object with `on_event(event)`), or a plain function `fn(event)`."""
        self.listeners.append(listener if hasattr(listener, "on_event") else CallbackListener(listener))

    def remove_listener(self, listener) -> None:
        self.listeners = [l for l in self.listeners if l is not listener and getattr(l, "fn", None) is not listener]

    def _emit(self, event) -> None:
        for listener in self.listeners:
            listener.on_event(event)

    def stop(self) -> None:
        """Stop after the current step (thread-safe). The last complete epoch stays saved."""
        self._stop.set()
        self._flag.set()
        self._resume_evt.set()

    def pause(self) -> None:
        """Pause before the next step (thread-safe); `resume()` continues."""
        self._resume_evt.clear()
        self._pause.set()
        self._flag.set()

    def resume(self) -> None:
        self._pause.clear()
        if not self._stop.is_set():
            self._flag.clear()
        self._resume_evt.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def watch(self, node_id: str | None, sample_index: int = 0) -> None:
        """Report the activations of `node_id` for one fixed sample (from the validation split, else
        the training split) at a low rate; None stops watching. No hook runs during training steps."""
        if node_id is None:
            self._watch = None
            return
        from .reporting import check_watchable

        check_watchable(self.watchable, node_id, self.input_names)
        if not 0 <= sample_index < self.shown_size:
            raise TrainingError(f"sample {sample_index} does not exist (the split has {self.shown_size} samples)")
        self._watch = (node_id, int(sample_index))

    def show_sample(self, index: int) -> None:
        """Send sample `index` of the shown split as a SampleEvent (from the training thread, at the
        next report or at once when paused); any thread may ask. Out of range: ignored."""
        if 0 <= index < self.shown_size:
            with self._sample_lock:
                self._sample_wanted = int(index)

    def _send_sample(self) -> None:
        with self._sample_lock:
            index, self._sample_wanted = self._sample_wanted, None
        if index is not None:
            from .reporting import sample_event, shown_part

            split, part = shown_part(self.splits.val, self.splits.train)
            self._emit(sample_event(part, index, self.dataset.transform, self.info, split))

    def unwatch(self) -> None:
        self._watch = None

    # ---- setup ------------------------------------------------------------------------------------
    def prepare(self) -> None:
        if self._prepared:
            return
        cfg, dev = self.config, self.device
        if dev.type == "cpu":  # reuse freed host memory instead of page-faulting it in every step
            from .allocator import keep_freed_memory

            keep_freed_memory()
        check_trainable(self.model)  # also for a Trainer built from a model, not a project
        seed_everything(cfg.seed + self.rank, cfg.deterministic)
        self.model.to(dev)
        dtype, amp_notice = amp_dtype(cfg.amp, dev)
        from .fastpath import plan_fast_path

        self.fast_plan = plan_fast_path(self.model, cfg, dev, distributed=self.dist is not None,
                                        scaler=dtype == torch.float16)
        if self.fast_plan.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.train_model = self.model
        if self.dist is not None:
            from .distributed import wrap_ddp

            self.train_model = wrap_ddp(self.model, dev)
        task, k = self.info.task, self.info.num_classes
        self.train_data = to_device(self.splits.train, self.plan, task, k, dev)
        self.val_data = None if self.splits.val is None else to_device(self.splits.val, self.plan, task, k, dev).shard(self.rank, self.world)
        self.test_data = None if self.splits.test is None else to_device(self.splits.test, self.plan, task, k, dev).shard(self.rank, self.world)
        n = len(self.train_data)
        self.rank_samples = -(-n // self.world)
        self.epoch_samples = self.rank_samples - (self.rank_samples % cfg.batch_size if cfg.drop_last else 0)
        if self.epoch_samples == 0:
            raise TrainingError(f"the training split has {self.rank_samples} samples per process, fewer than one "
                                f"batch of {cfg.batch_size} with drop_last; lower the batch size")
        # a 1-sample last batch is left out for BatchNorm; said after StartedEvent, with the fast path's note
        self.epoch_samples, self._tail_notice = batchnorm_tail(self.model, self.rank_samples, cfg.batch_size,
                                                               self.epoch_samples)
        self.steps_per_epoch = -(-self.epoch_samples // cfg.batch_size)
        self.loss_fn = build_loss(cfg.loss, self.plan).to(dev)
        # frozen weights stay out of the optimizer; one group per learning-rate multiplier (finetune.py)
        self.optimizer = build_optimizer(param_groups(self.model, cfg.optimizer.lr), cfg.optimizer, dev,
                                         self.fast_plan.optimizer_kwargs, tensor_lr=self.fast_plan.tensor_lr)
        self._bn_hooks = self._bn_hooks or hold_frozen_batchnorm(self.model, cfg.frozen_batchnorm)
        self.schedule = Schedule(self.optimizer, cfg.schedule, cfg, self.steps_per_epoch)
        if amp_notice:
            self._emit(NoticeEvent(amp_notice))
        self.amp_dtype = dtype
        self.step_fn = make_step(self.train_model, self.loss_fn, self.optimizer, device=dev, amp_dtype=dtype,
                                 grad_clip=cfg.grad_clip, l1=cfg.optimizer.l1, plan=self.fast_plan,
                                 total_steps=(cfg.epochs - self.start_epoch) * self.steps_per_epoch,
                                 notify=self._notifier())
        # chosen without timing (e.g. on the CPU): say once, after StartedEvent, what is not used and why
        self._fast_notice = (self.step_fn.summary() if getattr(self.step_fn, "chosen", None) is not None
                             and self.fast_plan.reasons else None)
        metric_task = CLASSIFICATION if task == CLASSIFICATION else "regression"
        self.metric_set = MetricSet(metric_task, cfg.metrics, max(self.plan.num_outputs, k), cfg.loss.type, dev)
        self._init_loop()
        if self._resume_state is not None:
            self._apply_resume(self._resume_state)
        self._prepared = True

    def _notifier(self):
        """The step's notice callback, holding the trainer weakly: a cycle through it kept a finished
        trainer (model, optimizer state, data splits) alive until the next full garbage collection."""
        ref = weakref.ref(self)

        def notify(message: str) -> None:
            trainer = ref()
            if trainer is not None:
                trainer._emit(NoticeEvent(message))
        return notify

    # ---- checkpoints --------------------------------------------------------------------------------
    def checkpoint_state(self) -> dict:
        cfg = self.config
        return {
            "format": ckpt.FORMAT, "version": ckpt.VERSION,
            "model": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
            "optimizer": plain_state_dict(self.optimizer), "optimizer_type": cfg.optimizer.type,
            "scheduler": self.schedule.state_dict(), "scheduler_type": cfg.schedule.type if cfg.schedule else None,
            "step": self.step_fn.state_dict(), "epoch": self.epochs_done, "global_step": self.global_step,
            "history": [dict(r) for r in self.history],
            "best": {"epoch": self.best_epoch, "value": self.best_value, "monitor": cfg.monitor,
                     "bad_epochs": self.bad_epochs},
            "rng": rng_state(), "fingerprint": self.fingerprint, "frozen": frozen_names(self.model),
            "training": json.dumps({k: v for k, v in cfg.raw.items() if not k.startswith("_")}, default=str),
            "dataset": json.dumps(self.info.to_json()),
        }

    def load_checkpoint(self, path) -> None:
        """Continue from a checkpoint: its weights are checked against this graph now (a checkpoint of
        another graph is refused naming the layers), the rest is applied when training starts."""
        from ..core.weights import WeightsError, check_state_dict

        state = ckpt.load_checkpoint(path, self.model, self.config)
        try:
            check_state_dict(self.model, state["model"])
        except WeightsError as exc:
            raise TrainingError(f"cannot resume from {path}: {exc}") from None
        done = int(state["epoch"])
        if done >= self.config.epochs:
            raise TrainingError(f"{path} has already trained {done} epoch{'s' * (done != 1)}; ask for more to "
                                f"continue (e.g. --epochs {done + 5})")
        self.model.load_state_dict(state["model"])
        self.start_epoch = self.epochs_done = done
        self.global_step = int(state.get("global_step", 0))
        self.history = [dict(r) for r in state["history"] if r.get("split") != "test"]
        best = state.get("best") or {}
        if best.get("monitor") == self.config.monitor:
            self.best_epoch, self.best_value = int(best.get("epoch", 0)), float(best.get("value", math.nan))
            self.bad_epochs = int(best.get("bad_epochs", 0))
        if self.fingerprint and state.get("fingerprint") and state["fingerprint"] != self.fingerprint:
            self._pending_notice = ("the graph changed since this checkpoint was saved (its layers still fit, "
                                    "so training continues from its weights)")
        self._resume_state = state
        self._prepared = False

    def _apply_resume(self, state: dict) -> None:
        cfg = self.config
        notice = getattr(self, "_pending_notice", None)
        if notice:
            self._emit(NoticeEvent(notice))
        sizes = [len(g["params"]) for g in (state.get("optimizer") or {}).get("param_groups", [])]
        if sizes and sizes != [len(g["params"]) for g in self.optimizer.param_groups]:
            self._emit(NoticeEvent("the frozen layers or learning-rate multipliers changed since the checkpoint; "
                                   "the optimizer starts afresh"))
        elif state.get("optimizer") is not None and state.get("optimizer_type") == cfg.optimizer.type:
            self.optimizer.load_state_dict(state["optimizer"])
            apply_impl(self.optimizer, self.fast_plan.optimizer_kwargs)  # this run's fused/capturable flags
        else:
            self._emit(NoticeEvent(f"the optimizer changed ({state.get('optimizer_type')} -> {cfg.optimizer.type});"
                                   " it starts afresh"))
        if cfg.schedule is not None and state.get("scheduler_type") == cfg.schedule.type:
            self.schedule.load_state_dict(state.get("scheduler"))
        try:
            old_lr = json.loads(state.get("training") or "{}").get("optimizer", {}).get("lr")
        except (ValueError, AttributeError):
            old_lr = None
        if isinstance(old_lr, (int, float)) and old_lr != cfg.optimizer.lr:
            # the person changed the learning rate in the project: it wins over the saved one
            for group in self.optimizer.param_groups:
                group["lr"] = group["initial_lr"] = cfg.optimizer.lr * group.get("lr_mult", 1.0)
            if self.schedule.scheduler is not None and hasattr(self.schedule.scheduler, "base_lrs"):
                self.schedule.scheduler.base_lrs = [g["lr"] for g in self.optimizer.param_groups]
            self._emit(NoticeEvent(f"the learning rate changed from {old_lr:g} to {cfg.optimizer.lr:g} since the "
                                   "checkpoint; training continues with the new rate"))
        self.step_fn.load_state_dict(state.get("step") or {})
        if state.get("rng"):
            set_rng_state(state["rng"])
        self._resume_state = None

    # ---- the run -------------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        try:
            return self._fit()
        finally:  # the model leaves training as a plain module (a hook would go along into an export)
            for handle in self._bn_hooks:
                handle.remove()
            self._bn_hooks = []
            from .fastpath import restore_modules

            restore_modules(self.model)  # the strided pool, the ReLU after pooling, the dropouts' masks

    def _fit(self) -> TrainResult:
        from .reporting import boundary_points

        start = self._fit_t0 = time.perf_counter()
        failure: tuple[str, str] | None = None
        try:
            self.prepare()
            cfg = self.config
            self._bn_hooks = self._bn_hooks or hold_frozen_batchnorm(self.model, cfg.frozen_batchnorm)
            self._emit(StartedEvent(cfg.epochs, self.start_epoch, self.steps_per_epoch, cfg.batch_size,
                                    len(self.splits.train), len(self.splits.val or ()), len(self.splits.test or ()),
                                    str(self.device), self.info.task, list(self.info.classes), self.info.to_json(),
                                    self.world, self.step_fn.name, self.shown_split, self.shown_size,
                                    boundary_points(self.splits.train, self.info)))
            self._send_sample()
            if count_words(self.model):
                self._emit(NoticeEvent(f"fine-tuning: {count_words(self.model)}"))
            for notice in ("_fast_notice", "_tail_notice"):
                if getattr(self, notice, None):
                    self._emit(NoticeEvent(getattr(self, notice)))
                    setattr(self, notice, None)
            reason = "completed"
            for epoch in range(self.start_epoch + 1, cfg.epochs + 1):
                totals = self.train_epoch(epoch)
                if totals is None:
                    self._emit(StoppedEvent(epoch, self._step_in_epoch, self.epochs_done))
                    limit = self.max_steps and self.global_step >= self.max_steps and not self._stop.is_set()
                    return self._result("stopped", "stopped", f"stopped after {self.global_step} steps (max_steps)"
                                        if limit else "stopped by request", start)
                if self._end_epoch(epoch, *totals):
                    reason = "early_stopping"
                    break
            test = self._finish_test()
            self._emit(FinishedEvent(reason, self.epochs_done, self.best_epoch, self.best_value, cfg.monitor,
                                     time.perf_counter() - start))
            result = self._result("finished", reason, "training finished" if reason == "completed" else
                                  f"stopped early: validation {cfg.monitor} did not improve for "
                                  f"{cfg.early_stopping.patience} epochs", start)
            result.test = test
            return result
        except NonFiniteLoss as exc:
            failure = explain_non_finite(self, exc)
        except Diverged as exc:
            failure = ("diverged", diverged_message(exc, self.config.optimizer, self.config.grad_clip))
        except torch.cuda.OutOfMemoryError:
            bs = self.config.batch_size
            failure = ("oom", f"{self.device} ran out of memory at batch size {bs}; training stopped. Try a smaller "
                              f"batch size (--batch-size {max(1, bs // 2)}), a smaller model, or training.amp: true")
        except TrainingError as exc:
            failure = (getattr(exc, "reason", "error"), str(exc))
        except Exception as exc:
            node = self._failing_node(exc)
            if node is None:
                self._emit(FailedEvent(f"internal error: {type(exc).__name__}: {exc}", "bug", self.epochs_done + 1,
                                       getattr(self, "_step_in_epoch", 0), traceback.format_exc()))
                raise
            # a layer's own code raised (a third-party node type, a module that rejects its input):
            # name the node; the traceback goes with the event for the details
            self._release_memory()
            message = (f"layer {node[0]!r} ({node[1]}) raised {type(exc).__name__}: {exc} at epoch "
                       f"{self.epochs_done + 1}; training stopped. " +
                       layer_fix(self.model.get_submodule(node[0]), exc, self.config.batch_size) +
                       "; the last complete epoch stays saved")
            self._emit(FailedEvent(message, "layer", self.epochs_done + 1, getattr(self, "_step_in_epoch", 0),
                                   traceback.format_exc()))
            return self._result("failed", "layer", message, start)
        except BaseException as exc:
            self._emit(FailedEvent(f"internal error: {type(exc).__name__}: {exc}", "bug", self.epochs_done + 1,
                                   getattr(self, "_step_in_epoch", 0), traceback.format_exc()))
            raise
        self._release_memory()
        self._emit(FailedEvent(failure[1], failure[0], self.epochs_done + 1, getattr(self, "_step_in_epoch", 0)))
        return self._result("failed", failure[0], failure[1], start)

    def _failing_node(self, exc: BaseException) -> tuple[str, str] | None:
        """(node id, layer class) of the deepest layer of the model whose code is on the exception's
        traceback, or None when the error did not come from inside a layer."""
        children = {id(m): name for name, m in self.model.named_children()}
        found, tb = None, exc.__traceback__
        while tb is not None:
            owner = tb.tb_frame.f_locals.get("self")
            if owner is not None and id(owner) in children:
                found = (children[id(owner)], type(owner).__name__)
            tb = tb.tb_next
        return found

    def _release_memory(self) -> None:
        """After a failure (OOM above all): drop gradients and cached blocks so the process stays usable."""
        opt = getattr(self, "optimizer", None)
        if opt is not None:
            opt.zero_grad(set_to_none=True)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _result(self, status, reason, message, start) -> TrainResult:
        return TrainResult(status, reason, message, self.epochs_done, self.best_epoch, self.best_value,
                           self.config.monitor, [dict(r) for r in self.history], None, time.perf_counter() - start)

    def _end_epoch(self, epoch: int, train: dict, epoch_time: float) -> bool:
        """Validate, record, pick the best, step the schedule, report. True: stop early."""
        cfg = self.config
        val = self.evaluate(self.val_data) if self.val_data is not None else None
        lr = current_lr(self.optimizer)
        self.history.append({"epoch": epoch, "split": "train", **train, "lr": lr})
        if val is not None:
            self.history.append({"epoch": epoch, "split": "val", **val})
        source = val if val is not None else train
        value = source.get(cfg.monitor, math.nan)
        min_delta = cfg.early_stopping.min_delta if cfg.early_stopping else 0.0
        if cfg.monitor_mode == "min":
            improved = value == value and (self.best_value != self.best_value or value < self.best_value - min_delta)
        else:
            improved = value == value and (self.best_value != self.best_value or value > self.best_value + min_delta)
        if improved:
            self.best_epoch, self.best_value, self.bad_epochs = epoch, value, 0
            if cfg.restore_best:
                self._best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        else:
            self.bad_epochs += 1
        self.schedule.step_epoch(value)
        self.epochs_done = epoch
        done = epoch - self.start_epoch
        eta = (cfg.epochs - epoch) * (self._elapsed_train / max(1, done))
        self._emit(EpochEvent(epoch, cfg.epochs, train, val, current_lr(self.optimizer), epoch_time,
                              self.rank_samples * self.world / max(epoch_time, 1e-9), eta, cfg.monitor,
                              self.best_epoch, self.best_value, improved))
        if self.listeners:
            self._after_epoch_reports(epoch)
        return cfg.early_stopping is not None and self.bad_epochs >= cfg.early_stopping.patience

    def _finish_test(self) -> dict | None:
        if self.config.restore_best and self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        if self.test_data is None:
            return None
        test = self.evaluate(self.test_data)
        self.history.append({"epoch": self.epochs_done, "split": "test", **test})
        self._emit(TestEvent(test))
        return test
