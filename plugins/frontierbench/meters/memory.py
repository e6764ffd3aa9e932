"""Peak resident memory of this process during a block, above the RSS at its start.

On Linux the kernel keeps a high-water mark (VmHWM) that `echo 5 > /proc/self/clear_refs` resets
to the current RSS: exact, and free while the workload runs. It sees every allocation that is
touched, torch tensors included (tracemalloc does not). Elsewhere a sampling thread polls RSS.
"""

from __future__ import annotations

import threading
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _hwm_resettable() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM:") is not None


class PeakMemory:
    """Context manager; `peak_bytes` and `method` are set on exit."""

    method: str = "unavailable"
    peak_bytes: int | None = None

    def __init__(self, sample_interval: float = 0.001):
        self.sample_interval = sample_interval

    def __enter__(self) -> "PeakMemory":
        if _hwm_resettable():
            self.method = "vmhwm"
            self._baseline_kib = _status_kib("VmRSS:")
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
            hwm = _status_kib("VmHWM:")
            self.peak_bytes = max(0, hwm - self._baseline_kib) * 1024
        elif self.method == "psutil-sampling":
            self._stop.set()
            self._thread.join()
            self._peak = max(self._peak, self._process.memory_info().rss)
            self.peak_bytes = max(0, self._peak - self._baseline)
