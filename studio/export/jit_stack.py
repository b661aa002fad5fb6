"""How much C stack TorchScript needs to run a graph, and a thread that has it.

Why a long chain of layers crashed the TorchScript export (a 20,000-node chain: SIGSEGV): the first
call of a scripted module compiles its graph to interpreter code, and the code emitter
(torch/csrc/jit/runtime/interpreter: CodeImpl::emitNode -> emitUse, planned by CanEmitInline)
emits a tree of single-use values depth first, recursing once per node. A chain a -> b -> c -> ...
is one such tree, as deep as the chain, and it overflows the 8 MB main-thread stack at about 12,000
nodes (gdb shows thousands of emitNode/emitUse frames). Scripting, saving and loading are flat.

So the export runs in a thread whose stack is sized for the graph: the bytes one level of that
recursion takes are measured once per process (a chain of aten::relu compiled and run in a fresh
thread; the stack pages it touched are read from /proc/self/smaps), times the nodes of the graph.
Whoever runs the exported file needs that much stack too; the report says so when it exceeds the
main thread's stack (RLIMIT_STACK)."""
from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

PROBE_LEVELS = (400, 2400)  # two chain lengths: the difference cancels what the thread itself uses
MARGIN = 2  # frames differ a little by node kind; the stack is only reserved, pages are used on demand
FALLBACK_BYTES_PER_LEVEL = 1024  # where /proc cannot be read (not Linux): above Linux's measured ~700
SMALL_STACK = 512 << 10  # the smallest default thread stack of the platforms (macOS): below it no thread is needed


def _chain_function(levels: int):
    import torch

    lines = ["graph(%x0 : Tensor):"]
    lines += [f"  %x{i + 1} : Tensor = aten::relu(%x{i})" for i in range(levels)]
    lines.append(f"  return (%x{levels})")
    return torch._C._create_function_from_graph(f"netstudio_stack_probe_{levels}", torch._C.parse_ir("\n".join(lines)))


def _stack_pointer(tid: int) -> int | None:
    """The stack pointer of thread `tid` once it blocks in a system call (it is about to)."""
    tick = threading.Event()
    for _ in range(1000):
        try:
            fields = Path(f"/proc/self/task/{tid}/syscall").read_text().split()
        except OSError:
            return None
        if fields and fields[0] != "running":
            try:
                return int(fields[-2], 16)
            except (ValueError, IndexError):
                return None
        tick.wait(0.001)
    return None


def _stack_rss(tid: int) -> int | None:
    """Resident bytes of the stack mapping of thread `tid` (blocked in a system call)."""
    sp = _stack_pointer(tid)
    try:
        text = Path("/proc/self/smaps").read_text()
    except OSError:
        return None
    if sp is None:
        return None
    inside = False
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
        if m:
            inside = int(m.group(1), 16) <= sp < int(m.group(2), 16)
        elif inside and line.startswith("Rss:"):
            return int(line.split()[1]) * 1024
    return None


def _used_by(levels: int) -> int | None:
    import torch

    fn = _chain_function(levels)
    used: list[int | None] = []
    ready, done = threading.Event(), threading.Event()

    def body():
        try:
            fn(torch.zeros(1))
        finally:
            ready.set()
        done.wait(60)

    thread = run_thread(body, 64 << 20, start_only=True)
    ready.wait(60)
    used.append(_stack_rss(thread.native_id))
    done.set()
    thread.join()
    return used[0]


@functools.lru_cache(maxsize=1)
def bytes_per_level() -> int:
    """Measured stack bytes of one level of the interpreter's emit recursion."""
    try:
        low, high = (_used_by(n) for n in PROBE_LEVELS)
    except Exception:  # noqa: BLE001 - a torch without these internals: the conservative figure
        return FALLBACK_BYTES_PER_LEVEL
    if low is None or high is None or high <= low:
        return FALLBACK_BYTES_PER_LEVEL
    return -(-(high - low) // (PROBE_LEVELS[1] - PROBE_LEVELS[0]))


def graph_nodes(module) -> int:
    """Nodes of the module's forward once calls are inlined: an upper bound on the depth."""
    try:
        return sum(1 for _ in module.inlined_graph.nodes())
    except (AttributeError, RuntimeError):
        return 0


def stack_for(nodes: int) -> int:
    """Bytes of stack that running a TorchScript graph of `nodes` nodes may need (0 for a graph
    small enough for any thread, without measuring)."""
    if nodes * FALLBACK_BYTES_PER_LEVEL * MARGIN < SMALL_STACK:
        return 0
    return nodes * bytes_per_level() * MARGIN


def run_with_stack(fn, stack_bytes: int):
    """fn() here when no extra stack is needed, else in a thread with that much."""
    return fn() if stack_bytes <= 0 else run_thread(fn, stack_bytes)


def main_thread_stack() -> int | None:
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_STACK)
    except (ImportError, ValueError, OSError):
        return None
    return None if soft == resource.RLIM_INFINITY else soft


def run_thread(fn, stack_bytes: int, start_only: bool = False):
    """Run `fn` in a thread with (at least) `stack_bytes` of stack; returns its result or raises
    its exception (start_only: return the started thread instead)."""
    result: dict = {}

    def body():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    page = 1 << 16
    lock = _STACK_SIZE_LOCK
    with lock:  # threading.stack_size is process-wide: set it only for this thread's start
        old = threading.stack_size(max(stack_bytes + page - 1, 1 << 20) // page * page)
        try:
            thread = threading.Thread(target=body, name="netstudio-deep-stack", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old)
    if start_only:
        return thread
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


_STACK_SIZE_LOCK = threading.Lock()
