"""Peak resident memory of this process during a block, above the RSS at its start.

On Linux the kernel keeps a high-water mark (VmHWM) that `echo 5 > /proc/self/clear_refs` resets
to the current RSS: exact, and free while the workload runs. It sees every allocation that is
touched, torch tensors included (tracemalloc does not). Elsewhere a sampling thread polls RSS.
"""

from __future__ import annotations

import threading
import os

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _status_kib(*fields: bytes) -> list[int] | None:
    """Fields of /proc/self/status in KiB, read with one system call (this is on the hot path)."""
    try:
        fd = os.open(_STATUS, os.O_RDONLY)
        try:
            text = os.read(fd, 16384)
        finally:
            os.close(fd)
    except OSError:
        return None
    values = []
    for field in fields:
        at = text.find(field)
        if at < 0:
            return None
        values.append(int(text[at + len(field):text.index(b"kB", at)]))
    return values


def _release_free_heap() -> None:
    """Give freed heap memory back to the OS (glibc's malloc_trim) before the memory pass.

    Otherwise a workload whose buffers fit in memory freed by an earlier case reuses it without
    raising RSS, and its peak reads as zero. It costs about 10 µs when there is nothing to trim.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            import ctypes

            _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None


def _reset_hwm() -> bool:
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        fd = os.open(_CLEAR_REFS, os.O_WRONLY)
        try:
            os.write(fd, b"5")
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


class PeakMemory:
    """Context manager; `peak_bytes` and `method` are set on exit."""

    method: str = "unavailable"
    peak_bytes: int | None = None

    def __init__(self, sample_interval: float = 0.001):
        self.sample_interval = sample_interval

    def __enter__(self) -> PeakMemory:
        _release_free_heap()
        if _reset_hwm():
            baseline = _status_kib(b"VmRSS:")
            if baseline is not None:
                self.method = "vmhwm"
                self._baseline_kib = baseline[0]
                return self
        try:
            import psutil
        except ImportError:
            self.method = "unavailable"
            return self
        self.method = "psutil-sampling"
        self._process = psutil.Process()
        self._baseline = self._process.memory_info().rss
        self._peak = self._baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self._process.memory_info().rss)
            self._stop.wait(self.sample_interval)

    def __exit__(self, *exc) -> None:
        if self.method == "vmhwm":
            (hwm,) = _status_kib(b"VmHWM:")
            self.peak_bytes = max(0, hwm - self._baseline_kib) * 1024
        elif self.method == "psutil-sampling":
            self._stop.set()
            self._thread.join()
            self._peak = max(self._peak, self._process.memory_info().rss)
            self.peak_bytes = max(0, self._peak - self._baseline)


def record_peaks(record, memory: PeakMemory, cuda_memory, device: str | None, memory_pass: str) -> None:
    """Record the host and (when on CUDA) device peaks of a memory pass through `record(name, value, ...)`.

    `measure` and `measure_generation` both meter memory in a pass of their own; one function keeps
    their metrics and provenance alike.
    """
    record("peak_memory", memory.peak_bytes, unit="B", higher_is_better=False,
           provenance={"method": memory.method, "covers": "process RSS above its start", "pass": memory_pass})
    if cuda_memory is not None:
        record("cuda_peak_memory", cuda_memory.peak_bytes, unit="B", higher_is_better=False,
               provenance={"method": "torch.cuda.max_memory_allocated", "covers": device, "pass": memory_pass})

