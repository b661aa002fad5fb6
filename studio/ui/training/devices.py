"""The devices a run can use, for the device selector: the CPU, each CUDA device by name and memory,
and Apple's MPS where present. Qt-free; torch is imported only when asked."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceChoice:
    value: str  # what goes into training.device: auto | cpu | cuda:N | mps
    label: str  # what the selector shows
    tooltip: str = ""
    resolves_to: str = ""  # auto: the device it picks here


def _gib(n: int) -> str:
    return f"{n / 2**30:.0f} GiB" if n >= 10 * 2**30 else f"{n / 2**30:.1f} GiB"


def list_devices() -> list[DeviceChoice]:
    """Auto first (what `auto` resolves to here in its label), then CPU, CUDA devices, MPS."""
    import torch

    found: list[DeviceChoice] = []
    cpus = torch.get_num_threads()
    cpu = DeviceChoice("cpu", "CPU", f"the processor ({cpus} threads for training)")
    cuda = []
    try:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - a broken driver: no CUDA devices to offer
        count = 0
    for i in range(count):
        try:
            props = torch.cuda.get_device_properties(i)
            name, memory = props.name, _gib(int(props.total_memory))
            cc = f"compute capability {props.major}.{props.minor}"
        except Exception:  # noqa: BLE001
            name, memory, cc = "CUDA device", "?", ""
        cuda.append(DeviceChoice(f"cuda:{i}", f"cuda:{i} · {name} · {memory}", f"{name}, {memory} {cc}".strip()))
    mps = []
    backend = getattr(torch.backends, "mps", None)
    if backend is not None and backend.is_available():
        mps.append(DeviceChoice("mps", "MPS · Apple GPU", "Apple's Metal Performance Shaders backend"))
    best = cuda[0] if cuda else (mps[0] if mps else cpu)
    found.append(DeviceChoice("auto", f"Auto ({best.value})", "the best device here: CUDA, then MPS, then the CPU",
                              resolves_to=best.value))
    found.append(cpu)
    found.extend(cuda)
    found.extend(mps)
    return found


def resolved(value: str, devices: list[DeviceChoice]) -> str:
    """The device a run on `value` trains on: `auto` is the one its label names."""
    if value != "auto":
        return value
    return next((d.resolves_to for d in devices if d.value == "auto"), "cpu")


def bf16_note(device: str) -> str:
    """What training.precision "bf16" does on `device` (resolved), in a few words under the switch."""
    if device != "cpu":
        return "Acts on the CPU; on a GPU choose Mixed precision"
    from studio.training.fastpath.variants import cpu_bf16_hardware

    if cpu_bf16_hardware():
        return "This CPU has no bf16 instructions: runs here stay float32"
    return "Slightly different results than float32"
