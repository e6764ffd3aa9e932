"""CUDA helpers: is the workload on CUDA, synchronise before reading a timer, peak device memory.

torch is never imported here: a case that uses CUDA has imported it already. Tests swap in a
fake module through `set_torch_for_tests`.
"""

from __future__ import annotations

import sys
from typing import Any

_TORCH_OVERRIDE: Any = None


def set_torch_for_tests(module: Any) -> None:
    """Use `module` in place of torch (a small fake with a `cuda` namespace); None restores torch."""
    global _TORCH_OVERRIDE
    _TORCH_OVERRIDE = module


def _torch() -> Any:
    return _TORCH_OVERRIDE if _TORCH_OVERRIDE is not None else sys.modules.get("torch")


def in_use() -> bool:
    """True when torch is loaded and has initialised a CUDA context in this process."""
    torch = _torch()
    if torch is None:
        return False
    try:
        return bool(torch.cuda.is_available() and torch.cuda.is_initialized())
    except Exception:  # a broken driver must not break the benchmark
        return False


def synchronize() -> None:
    _torch().cuda.synchronize()


def synchronized(call):
    """Wrap `call` so the timer reads only after the queued kernels have finished."""

    def run():
        result = call()
        _torch().cuda.synchronize()
        return result

    return run


def device_index() -> int:
    return int(_torch().cuda.current_device())


def device_name() -> str:
    """The current device's name, as torch reports it."""
    return str(_torch().cuda.get_device_name(device_index()))


class CudaPeakMemory:
    """Peak bytes allocated by torch on the current device during the block, above its start."""

    def __enter__(self) -> CudaPeakMemory:
        cuda = _torch().cuda
        cuda.synchronize()
        cuda.reset_peak_memory_stats()
        self.baseline = cuda.memory_allocated()
        self.peak_bytes = 0
        return self

    def __exit__(self, *exc) -> None:
        cuda = _torch().cuda
        cuda.synchronize()
        self.peak_bytes = max(0, int(cuda.max_memory_allocated()) - int(self.baseline))
