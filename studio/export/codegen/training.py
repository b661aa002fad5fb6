"""The generated script's training part: loss, optimizer and schedule from the project's training
section, a train() loop that runs alone or under torchrun with DistributedDataParallel, and main()."""
from __future__ import annotations

import inspect
from string import Template

from .constructors import literal
from .safe import is_identifier

PER_BATCH_SCHEDULES = ("OneCycleLR", "CyclicLR")
PROBE = ((3, 5), (7, 11))  # (epochs, steps per epoch): the schedule is built twice to see what follows them


def _torch_class(namespace, name: str, base):
    cls = getattr(namespace, name, None) if is_identifier(name) else None
    return cls if isinstance(cls, type) and issubclass(cls, base) else None


def _arguments(cls, options: dict, what: str, notes: list, skip=()) -> list[str]:
    """`key=value` for each option that is an argument of `cls`; others are left out with a note."""
    signature = inspect.signature(cls.__init__).parameters
    accepted = set(signature) - {"self", "params", "optimizer", *skip}
    parts, left = [], []
    for key, value in options.items():
        if is_identifier(key) and key in accepted:
            if not _is_default(value, signature[key].default):
                parts.append(f"{key}={literal(value, f'{what} option {key}')}")
        else:
            left.append(repr(key))
    if left:
        notes.append(f"{what} options {', '.join(left)} are not arguments of {cls.__name__}; left out")
    return parts


def _is_default(value, default) -> bool:
    number = (int, float)
    if type(value) in number and type(default) in number:
        return value == default
    return type(value) is type(default) and value == default


def _unavailable(head: str, message: str, notes: list) -> str:
    notes.append(message)
    return head + f"    raise NotImplementedError({message!r})\n"


def loss_code(config, notes: list) -> str:
    """make_loss(): the trainer's loss (CrossEntropyLoss when the project names none), its options."""
    import torch

    cfg = config.loss
    head = "def make_loss() -> nn.Module:\n"
    cls = _torch_class(torch.nn, cfg.type, torch.nn.Module)
    if cls is None:
        return _unavailable(head, f"the project's loss {cfg.type!r} is not a torch.nn loss; write make_loss() yourself",
                            notes)
    kwargs = dict(cfg.kwargs)
    extra = []
    if "pos_weight" in kwargs and cfg.type == "BCEWithLogitsLoss":  # a tensor, as the trainer builds it
        extra = [f"pos_weight=torch.tensor({literal(kwargs.pop('pos_weight'), 'training.loss option pos_weight')})"]
    args = ", ".join(_arguments(cls, kwargs, "training.loss", notes, skip=("pos_weight",) if extra else ()) + extra)
    return head + f"    return nn.{cls.__name__}({args})\n"


def optimizer_code(config, notes: list) -> str:
    """make_optimizer(): the trainer's optimizer (Adam, lr 1e-3 when the project names none)."""
    import torch

    cfg = config.optimizer
    head = "def make_optimizer(params) -> torch.optim.Optimizer:\n"
    cls = _torch_class(torch.optim, cfg.type, torch.optim.Optimizer)
    if cls is None:
        return _unavailable(head, f"the project's optimizer {cfg.type!r} is not a torch.optim optimizer; write "
                            "make_optimizer() yourself", notes)
    options = {"lr": cfg.lr, "weight_decay": cfg.weight_decay, **cfg.kwargs}
    args = ", ".join(["params", *_arguments(cls, options, "training.optimizer", notes)])
    return head + f"    return torch.optim.{cls.__name__}({args})\n"


def _recorded_schedule(config, epochs: int, steps: int) -> dict:
    """The arguments the trainer's Schedule passes to the torch scheduler, for this many epochs."""
    import dataclasses

    import torch

    from ..training_rules import Schedule, build_optimizer

    from .constructors import recording_constructors

    cfg = dataclasses.replace(config, epochs=epochs)
    kind = dataclasses.replace(cfg.optimizer, kwargs={})  # its type and lr are what a schedule reads
    optimizer = build_optimizer([torch.zeros(1, requires_grad=True)], kind, torch.device("cpu"))
    bases = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    with recording_constructors(bases) as calls:
        schedule = Schedule(optimizer, cfg.schedule, cfg, steps)
    _, args, kwargs = calls[id(schedule.scheduler)]
    params = [p for p in inspect.signature(type(schedule.scheduler).__init__).parameters.values()][1:]
    bound = {p.name: v for p, v in zip(params, args)}
    bound.update(kwargs)
    bound.pop("optimizer", None)
    defaults = {p.name: p.default for p in params}
    return {k: v for k, v in bound.items() if not _is_default(v, defaults.get(k))}  # defaults left out


def _follows(values: list, probe) -> str | None:
    """The expression an argument follows across the probes (epochs, steps), or None."""
    for expression, fn in (("epochs", lambda e, s: e), ("max(2, epochs * steps_per_epoch)", lambda e, s: max(2, e * s)),
                           ("epochs * steps_per_epoch", lambda e, s: e * s)):
        if all(v == fn(e, s) for v, (e, s) in zip(values, probe)):
            return expression
    return None


def schedule_code(config, notes: list) -> tuple[str, str]:
    """(make_scheduler source, when it steps: "none" | "epoch" | "batch" | "plateau"). The
    arguments are the ones the trainer's own Schedule passes, defaults included, read by building
    it; those that follow the number of epochs or steps are written as expressions of them."""
    import torch

    head = "def make_scheduler(optimizer, epochs: int, steps_per_epoch: int):\n"
    cfg = config.schedule
    if cfg is None:
        return head + "    return None  # the project sets no learning-rate schedule\n", "none"
    cls = _torch_class(torch.optim.lr_scheduler, cfg.type, object)
    if cls is None:
        return _unavailable(head, f"the project's schedule {cfg.type!r} is not in torch.optim.lr_scheduler; write "
                            "make_scheduler() yourself", notes), "none"
    try:
        probes = [_recorded_schedule(config, e, s) for e, s in PROBE]
    except (TypeError, ValueError) as exc:  # options torch refuses (the export's validation stops them first)
        return _unavailable(head, f"torch cannot build the project's {cfg.type} ({exc}); write make_scheduler() "
                            "yourself", notes), "none"
    parts = []
    for key in probes[0]:
        values = [p.get(key) for p in probes]
        if not is_identifier(key) or (key == "mode" and cfg.type == "ReduceLROnPlateau" and config.monitor != "loss"):
            continue  # the script steps ReduceLROnPlateau on the validation loss: lower is better
        if cfg.type == "OneCycleLR" and key == "max_lr" and all(v == values[0] for v in values) \
                and isinstance(values[0], (list, tuple)) and len(values[0]) == 1:
            # the trainer gives each param group the peak times its lr multiplier (fine-tuning)
            top = literal(float(values[0][0]), "training.schedule option max_lr")
            parts.append(f"max_lr=[{top} * group.get(\"lr_mult\", 1.0) for group in optimizer.param_groups]")
        elif all(v == values[0] for v in values):
            parts.append(f"{key}={literal(values[0], f'training.schedule option {key}')}")
        elif (expression := _follows(values, PROBE)) is not None:
            parts.append(f"{key}={expression}")
        else:
            return _unavailable(head, f"the schedule's {key} depends on the run in a way NetStudio cannot write; "
                                "write make_scheduler() yourself", notes), "none"
    call = f"torch.optim.lr_scheduler.{cls.__name__}({', '.join(['optimizer', *parts])})"
    name = cls.__name__
    when = "batch" if name in PER_BATCH_SCHEDULES else "plateau" if name == "ReduceLROnPlateau" else "epoch"
    if when == "plateau" and config.monitor != "loss":
        notes.append(f"the trainer steps ReduceLROnPlateau on the validation {config.monitor}; the script steps it "
                     "on the validation loss")
    return head + f"    return {call}\n", when


TRAIN = Template('''
def pick_device(name: str = DEVICE) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)


def load_weights(path: str) -> dict:
    """A state dict file, or a training checkpoint holding one under "model"; tensors only."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state["model"] if isinstance(state.get("model"), dict) else state


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, loss_fn: nn.Module, device: torch.device):
    """(mean loss, accuracy or None) over a loader."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    for batch in loader:
        *inputs, target = (t.to(device) for t in batch)
        output = model(*inputs)$first_output
        total += loss_fn(output, target).item() * len(target)
        count += len(target)
        if CLASSIFICATION:
            correct += (output.argmax(dim=1) == target).sum().item()
    return total / max(count, 1), (correct / max(count, 1) if CLASSIFICATION else None)


def train(epochs: int = EPOCHS, batch_size: int = BATCH_SIZE, device: str = DEVICE, data_root: str = DATA_ROOT,
          seed: int = SEED, weights: str | None = None, out: str | None = None) -> nn.Module:
    """Train $class_name on the project's data with its loss, optimizer and schedule.

    Under torchrun (WORLD_SIZE > 1) every process trains a DistributedDataParallel replica on its
    share of each epoch (NCCL on GPUs, gloo on the CPU); batch_size is per process, and only rank 0
    prints and saves. Returns the trained model (on its device)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    distributed = world_size > 1
    dev = pick_device(device)
    if distributed:
        if dev.type == "cuda":
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(dev)
        else:
            dev = torch.device("cpu")
        if not dist.is_initialized():
            dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    torch.manual_seed(seed)
    model = $class_name()
    if weights:
        model.load_state_dict(load_weights(weights))$tuning_setup
    model.to(dev)
    net = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None) if distributed else model

    train_set, val_set = load_data(data_root, seed)
    sampler = DistributedSampler(train_set, shuffle=True, seed=seed) if distributed else None
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=sampler is None, sampler=sampler)
    val_loader = DataLoader(val_set, batch_size=batch_size)
    loss_fn = make_loss()
    optimizer = make_optimizer($optimizer_params)$after_optimizer
    scheduler = make_scheduler(optimizer, epochs, len(loader))
    l1_params = [p for p in net.parameters() if p.dim() > 1]  # the weights, not the biases

    for epoch in range(epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()$after_train_mode
        totals = torch.zeros(2, device=dev)  # summed loss, samples: read once per epoch, not every step
        for batch in loader:
            *inputs, target = (t.to(dev) for t in batch)
            optimizer.zero_grad(set_to_none=True)
            output = net(*inputs)$first_output
            loss = loss_fn(output, target)
            (loss + L1 * sum(p.abs().sum() for p in l1_params) if L1 else loss).backward()
            if GRAD_CLIP:
                torch.nn.utils.clip_grad_norm_(net.parameters(), GRAD_CLIP)
            optimizer.step()$batch_step
            totals[0] += loss.detach() * len(target)
            totals[1] += len(target)
        if distributed:
            dist.all_reduce(totals)
        train_loss = (totals[0] / totals[1]).item()
        val_loss, accuracy = evaluate(model, val_loader, loss_fn, dev)$epoch_step
        if rank == 0:
            line = f"epoch {epoch + 1}/{epochs}  train loss {train_loss:.4f}  val loss {val_loss:.4f}"
            print(line + (f"  val accuracy {accuracy:.3f}" if accuracy is not None else ""), flush=True)

    if out and rank == 0:
        torch.save(model.state_dict(), out)
        print(f"saved the weights to {out}", flush=True)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train $class_name (generated by NetStudio).")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="per process under torchrun")
    parser.add_argument("--device", default=DEVICE, help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument("--data-root", default=DATA_ROOT, help="where datasets are downloaded")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--weights", help="start from these weights (a state dict or a training checkpoint)")
    parser.add_argument("--out", help="save the trained weights (a state dict) here")
    args = parser.parse_args(argv)
    train(args.epochs, args.batch_size, args.device, args.data_root, args.seed, args.weights, args.out)


if __name__ == "__main__":
    main()
''')


def train_code(class_name: str, schedule_when: str, n_outputs: int, tuning=None) -> str:
    from .tuning import NONE

    tuning = tuning or NONE
    first = ""
    if n_outputs > 1:
        first = f"[0]  # the model has {n_outputs} outputs; the loss uses the first"
    steps = {"batch": ("\n            scheduler.step()", ""),
             "epoch": ("", "\n        scheduler.step()"),
             "plateau": ("", "\n        scheduler.step(val_loss)"),
             "none": ("", "")}[schedule_when]
    return TRAIN.substitute(class_name=class_name, first_output=first, batch_step=steps[0], epoch_step=steps[1],
                            tuning_setup=tuning.setup, optimizer_params=tuning.params,
                            after_optimizer=tuning.after_optimizer, after_train_mode=tuning.after_train_mode)
