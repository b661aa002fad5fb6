"""The generated script's training part: loss, optimizer and schedule from the project's training
section, a train() loop that runs alone or under torchrun with DistributedDataParallel, and main()."""
from __future__ import annotations

import inspect
from string import Template

OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")
PER_BATCH_SCHEDULES = ("OneCycleLR", "CyclicLR")


def _kwargs(options: dict, skip=("type",)) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items() if k not in skip)


def loss_code(training: dict, notes: list) -> str:
    import torch

    loss = dict(training.get("loss") or {})
    name = loss.get("type", "")
    cls = getattr(torch.nn, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module) and str(name).endswith("Loss")):
        message = (f"the project's loss {name!r} is not a torch.nn loss" if name else "the project sets no loss"
                   ) + "; write make_loss() yourself"
        notes.append(message)
        return f"def make_loss() -> nn.Module:\n    raise NotImplementedError({message!r})\n"
    return f"def make_loss() -> nn.Module:\n    return nn.{name}({_kwargs(loss)})\n"


def optimizer_code(training: dict, notes: list) -> str:
    import torch

    opt = dict(training.get("optimizer") or {"type": "Adam"})
    name = str(opt.get("type", "Adam"))
    cls = getattr(torch.optim, name, None)
    if name not in OPTIMIZERS and not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        message = f"the project's optimizer {name!r} is not a torch.optim optimizer; write make_optimizer() yourself"
        notes.append(message)
        return f"def make_optimizer(params):\n    raise NotImplementedError({message!r})\n"
    known = set(inspect.signature(cls.__init__).parameters) - {"self", "params"}
    unknown = [k for k in opt if k != "type" and k not in known]
    if unknown:
        notes.append(f"optimizer options {', '.join(unknown)} are not arguments of torch.optim.{name}; left out")
    options = {k: v for k, v in opt.items() if k == "type" or k in known}
    args = _kwargs(options)
    return f"def make_optimizer(params) -> torch.optim.Optimizer:\n    return torch.optim.{name}(params{', ' + args if args else ''})\n"


def schedule_code(training: dict, notes: list) -> tuple[str, str]:
    """(make_scheduler source, when it steps: "none" | "epoch" | "batch" | "plateau")."""
    import torch

    sched = dict(training.get("schedule") or {})
    name = str(sched.get("type", ""))
    head = "def make_scheduler(optimizer, epochs: int, steps_per_epoch: int):\n"
    if not name:
        return head + "    return None  # the project sets no learning-rate schedule\n", "none"
    cls = getattr(torch.optim.lr_scheduler, name, None)
    if not isinstance(cls, type):
        message = f"the project's schedule {name!r} is not in torch.optim.lr_scheduler; write make_scheduler() yourself"
        notes.append(message)
        return head + f"    raise NotImplementedError({message!r})\n", "none"
    options = {k: v for k, v in sched.items() if k != "type"}
    extra = ""
    if name == "OneCycleLR" and "total_steps" not in options:
        extra = ", epochs=epochs, steps_per_epoch=steps_per_epoch"
        options.pop("epochs", None)
        options.pop("steps_per_epoch", None)
    args = ", ".join(f"{k}={v!r}" for k, v in options.items())
    call = f"torch.optim.lr_scheduler.{name}(optimizer{', ' + args if args else ''}{extra})"
    when = "batch" if name in PER_BATCH_SCHEDULES else "plateau" if name == "ReduceLROnPlateau" else "epoch"
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
        model.load_state_dict(load_weights(weights))
    model.to(dev)
    net = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None) if distributed else model

    train_set, val_set = load_data(data_root, seed)
    sampler = DistributedSampler(train_set, shuffle=True, seed=seed) if distributed else None
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=sampler is None, sampler=sampler)
    val_loader = DataLoader(val_set, batch_size=batch_size)
    loss_fn = make_loss()
    optimizer = make_optimizer(net.parameters())
    scheduler = make_scheduler(optimizer, epochs, len(loader))

    for epoch in range(epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        totals = torch.zeros(2, device=dev)  # summed loss, samples: read once per epoch, not every step
        for batch in loader:
            *inputs, target = (t.to(dev) for t in batch)
            optimizer.zero_grad(set_to_none=True)
            output = net(*inputs)$first_output
            loss = loss_fn(output, target)
            loss.backward()
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


def train_code(class_name: str, schedule_when: str, n_outputs: int) -> str:
    first = ""
    if n_outputs > 1:
        first = f"[0]  # the model has {n_outputs} outputs; the loss uses the first"
    steps = {"batch": ("\n            scheduler.step()", ""),
             "epoch": ("", "\n        scheduler.step()"),
             "plateau": ("", "\n        scheduler.step(val_loss)"),
             "none": ("", "")}[schedule_when]
    return TRAIN.substitute(class_name=class_name,
                            first_output=first, batch_step=steps[0], epoch_step=steps[1])
