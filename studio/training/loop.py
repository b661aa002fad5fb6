"""The hot loop of the trainer (a mixin of `Trainer`): one epoch of steps over device-resident
data, evaluation, and the low-rate reports.

Per step the loop does what a hand-written loop does (gather a batch, call the step) plus two list
appends (the step's loss and output, kept on the device and summed or scored at the epoch's end) and
a host check of a threading.Event (and of the clock when someone listens). The loss is read back
(one sync) only at the reporting rate.
"""
from __future__ import annotations

import math
import time

import torch

from .datasets.base import CLASSIFICATION
from .events import ActivationEvent, NormsEvent, PausedEvent, ResumedEvent, StepEvent
from .numerics import LossWatch, NonFiniteLoss
from .optim import current_lr
from .step import epoch_order


class EpochLoop:
    def _init_loop(self) -> None:
        from .reporting import layer_groups

        self._groups = layer_groups(self.model)
        early = [r["loss"] for r in self.history if r.get("split") == "train"][:1]  # a resumed run's start
        self.loss_watch = LossWatch(self.steps_per_epoch, early[0] if early else None)
        self._elapsed_train = 0.0
        self._step_in_epoch = 0
        self._rate = 0.0  # samples/s (this process), smoothed
        # running training accuracy: keep each step's output (or, for many classes, its argmax) in a
        # list and score the epoch in one pass at its end, so a step pays a list append, not 4 kernels
        if self.info.task != CLASSIFICATION or self.plan.positions:  # per position: validation scores it
            self._keep = None
        else:
            binary = self.plan.target == "binary"
            self._predict = (lambda out: (out[:, 0] > 0).long()) if binary else (lambda out: out.argmax(1))
            small = self.rank_samples * max(self.plan.num_outputs, 1) <= 8_000_000
            self._keep = (lambda out: out) if small else self._predict
            self._kept_raw = small

    # ---- controls ---------------------------------------------------------------------------------------
    def _handle_flags(self, epoch: int, step: int) -> bool:
        """Called only when a control flag is set. True: stop now."""
        if self._stop.is_set():
            return True
        if self._pause.is_set():
            self._emit(PausedEvent(epoch, step))
            paused_at = time.perf_counter()
            while not self._resume_evt.wait(0.05):
                self._send_sample()  # a sample asked for while paused is still shown
            exclude = getattr(self.step_fn, "exclude", None)
            if exclude is not None:  # the fast path's timing of candidates leaves the pause out
                exclude(time.perf_counter() - paused_at)
            if self._stop.is_set():
                return True
            self._emit(ResumedEvent(epoch, step))
            self._mark = (time.perf_counter(), self._mark[1], self._mark[2])  # paused time is not training time
        return False

    # ---- one epoch ----------------------------------------------------------------------------------
    def train_epoch(self, epoch: int):
        """Train one epoch. Returns (train metrics, seconds), or None when stopped."""
        cfg, data, dev = self.config, self.train_data, self.device
        t0 = time.perf_counter()
        perm = epoch_order(len(data), epoch, cfg.seed, self.rank, self.world).to(dev)
        n = self.epoch_samples  # drop_last, or a 1-sample last batch left out for BatchNorm (trainer.prepare)
        # each step gathers its own batch, as a hand-written loop does: a gather of the whole split per
        # epoch allocated (and page-faulted in) a copy of the split every epoch, ~2 us per 4 KiB page
        # on the CPU; a batch-sized buffer is reused by the allocator and is still in cache when the
        # model reads it. Same samples in the same order, bit for bit.
        xs, ts = data.x, data.target
        transform, augment = self.dataset.transform, self.dataset.augment
        gen = self._aug_generator(epoch) if augment is not None else None
        step_fn, flag = self.step_fn, self._flag
        keep = self._keep
        kept: list = []
        losses: list = []  # per-step mean losses, on the device; summed at report time and epoch end
        per_batch = self.schedule.step_batch if self.schedule.per_step else None
        bs = cfg.batch_size
        listening = bool(self.listeners)
        interval = cfg.report_interval
        self._mark = (t0, 0, 0.0)  # (time, samples seen, loss sum) at the last report
        self._losses_reported = 0
        next_report = t0 + interval
        self.model.train()
        step = 0
        end = n if not self.max_steps else min(n, max(0, self.max_steps - self.global_step) * bs)
        for start in range(0, end, bs):
            if flag.is_set() and self._handle_flags(epoch, step):
                self._step_in_epoch = step
                return None
            idx = perm[start:start + bs]
            xb = xs.index_select(0, idx)
            if transform is not None:
                xb = transform(xb)
            if augment is not None:
                xb = augment(xb, gen)
            tb = xb if ts is None else ts.index_select(0, idx)
            loss, out = step_fn(xb, tb)
            losses.append(loss)
            if keep is not None:
                kept.append(keep(out))
            if per_batch is not None:
                per_batch()
            step += 1
            self.global_step += 1
            if listening and time.perf_counter() >= next_report:
                self._step_in_epoch = step
                self._report(epoch, step, min(start + bs, n), losses, bs)
                next_report = time.perf_counter() + interval
        self._step_in_epoch = step
        if listening and len(losses) > self._losses_reported:  # the steps since the last report
            self._report(epoch, step, min(end, n), losses, bs)
        if end < n:  # max_steps reached before the epoch's end
            return None
        weights = torch.full((len(losses),), float(bs), device=dev)
        weights[-1] = float(n - (len(losses) - 1) * bs)
        stacked = torch.stack(losses).float()
        loss_sum = (stacked * weights).sum()
        if kept:
            preds = torch.cat(kept)
            preds = self._predict(preds) if self._kept_raw else preds
            correct = torch.eq(preds, data.labels.index_select(0, perm[:n])).sum().to(loss_sum.dtype)
        else:
            correct = torch.zeros((), device=dev)
        totals = torch.stack([loss_sum, correct, torch.tensor(float(n), device=dev)])
        unread = len(losses) - self._losses_reported
        if self.dist is not None:
            from .distributed import all_reduce_sum

            # one epoch-level divergence check every rank agrees on: the first step's loss and the
            # epoch's median step loss, summed over the processes with the totals
            totals = torch.cat([totals, torch.stack([stacked[0], stacked.median()])])
            all_reduce_sum(totals)
            unread = 0
        values = (torch.cat([totals, stacked[len(losses) - unread:]]) if unread else totals).tolist()  # one sync
        loss_total, correct_total, seen = values[:3]
        train = {"loss": loss_total / max(seen, 1)}
        if unread:  # one process: the steps no report has read
            self.loss_watch.check(values[3:], epoch, len(losses) - unread + 1)
        self._losses_reported = len(losses)
        if not math.isfinite(train["loss"]):  # several processes (or finite steps whose sum overflows)
            raise NonFiniteLoss(train["loss"], epoch, step)
        if self.dist is not None:
            if epoch == self.start_epoch + 1:
                self.loss_watch.set_reference(values[3] / self.world)
            self.loss_watch.check_level(values[4] / self.world, epoch, step)
        if keep is not None:
            train["accuracy"] = correct_total / max(seen, 1)
        elapsed = time.perf_counter() - t0
        self._elapsed_train += elapsed
        return train, elapsed

    def _aug_generator(self, epoch: int) -> torch.Generator:
        g = torch.Generator(device=self.device)
        g.manual_seed((self.config.seed * 7919 + epoch * 104729 + self.rank) % 2**63)
        return g

    # ---- reports at the reporting rate ------------------------------------------------------------------
    def _report(self, epoch: int, step: int, seen: int, losses: list, bs: int) -> None:
        now = time.perf_counter()
        first = self._losses_reported
        fresh = losses[first:]
        self._losses_reported = len(losses)
        values = torch.stack(fresh).float().tolist() if fresh else []  # the one sync per report
        loss = sum(values) / len(values) if values else math.nan
        check = self.dist is None  # several processes check at the epoch's end, all together
        if check and not math.isfinite(loss):
            self.loss_watch.check(values, epoch, first + 1)  # raises before a NaN reaches the curves
        t_last, seen_last, _ = self._mark
        dn = seen - seen_last
        rate = dn / max(now - t_last, 1e-9)
        self._rate = rate if not self._rate else 0.7 * self._rate + 0.3 * rate
        remaining = (self.config.epochs - epoch) * self.rank_samples + (self.rank_samples - seen)
        self._mark = (now, seen, 0.0)
        self._emit(StepEvent(epoch, step, self.steps_per_epoch, self.global_step, loss, current_lr(self.optimizer),
                             self._rate * self.world, remaining / max(self._rate, 1e-9), now - self._fit_t0))
        if check:  # a diverging loss is on the curve when the run stops
            self.loss_watch.check(values, epoch, first + 1)
        if self.report_norms and now >= getattr(self, "_next_norms", 0.0):
            from .reporting import layer_norms

            self._next_norms = now + self.norms_interval
            self._emit(NormsEvent(epoch, self.global_step, layer_norms(self._groups)))
        self._send_sample()
        if self._watch is not None and now >= getattr(self, "_next_act", 0.0):
            self._next_act = now + self.activation_interval
            self._emit_activation(epoch)

    def _emit_activation(self, epoch: int) -> None:
        from .reporting import capture_activation, shown_part

        watch = self._watch
        if watch is None:
            return
        node_id, index = watch
        _split, part = shown_part(self.val_data, self.train_data)
        x = part.x[index:index + 1]
        if self.dataset.transform is not None:
            x = self.dataset.transform(x)
        value = capture_activation(self.model, node_id, x, self.input_names)
        self._emit(ActivationEvent(node_id, epoch, self.global_step, index, value))

    def _after_epoch_reports(self, epoch: int) -> None:
        if self.text_sampler is not None:
            self._emit(self.text_sampler.event(self.model, self.device, epoch))
        if self._watch is not None:
            self._emit_activation(epoch)
        if self.epoch_reports:
            from .reporting import epoch_report, shown_part

            split, part = shown_part(self.splits.val, self.splits.train)
            confusion = self.metric_set.confusion_matrix() if self.val_data is not None else None
            self._emit(epoch_report(self.model, part.to(self.device), self.info, self.config.loss.type,
                                    self.dataset.transform, confusion, epoch, split, self.train_data.x))
            self._emit_where_errs(epoch)

    def _emit_where_errs(self, epoch: int) -> None:
        """Where it errs and how the classes separate, on the validation split (one forward pass)."""
        from . import where_errs

        if self.val_data is None or self.rank != 0 or not where_errs.applies(self.info):
            return
        errors, projection = where_errs.epoch_views(self.model, self.val_data, self.info, self.config.loss.type,
                                                    self.dataset.transform, epoch, "val", self.config.eval_batch)
        self._emit(errors)
        if projection is not None:
            self._emit(projection)

    # ---- evaluation --------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, data) -> dict:
        """Loss and every configured metric over a split (this process's shard, then combined)."""
        module, dev, ms = self.model, self.device, self.metric_set
        transform = self.dataset.transform
        was_training = module.training
        module.eval()
        ms.reset()
        loss_sum = torch.zeros((), device=dev)
        eb = self.config.eval_batch
        try:
            for start in range(0, len(data), eb):
                xb = data.x[start:start + eb]
                if transform is not None:
                    xb = transform(xb)
                tb = xb if data.target is None else data.target[start:start + eb]
                if self.amp_dtype is not None:
                    with torch.autocast(dev.type, dtype=self.amp_dtype):
                        out = module(xb)
                else:
                    out = module(xb)
                out = out.float()
                loss_sum += self.loss_fn(out, tb) * xb.shape[0]
                ms.update(out, data.labels[start:start + eb] if data.labels is not None else tb)
        finally:
            module.train(was_training)
        totals = torch.stack([loss_sum, torch.tensor(float(len(data)), device=dev)])
        if self.dist is not None:
            from .distributed import all_reduce_sum

            all_reduce_sum(totals)
        loss, n = totals.tolist()
        if not math.isfinite(loss) and self.dist is None:  # NaN or inf in this split's data? (rare: look)
            from .errors import DataError
            from .numerics import data_fault

            split = "val" if data is self.val_data else "test" if data is self.test_data else "train"
            message = data_fault(data, transform, split)
            if message is not None:
                raise DataError(message)
        return {"loss": loss / max(n, 1), **ms.compute()}
