"""The environment fingerprint of a run, split by domain (pyperf-style collectors).

`hardware_class` says which results may be ranked together: the same CPU model and logical CPU
count for CPU cases, the same GPU model for CUDA cases.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from frontierbench.formats.names import slugify

KEY_PACKAGES = ("frontierbench", "pytest", "pytest-benchmark", "torch", "numpy", "scipy", "pandas",
                "scikit-learn", "codecarbon", "pydantic", "nvidia-ml-py")


@lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown-cpu"


def logical_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpu_hardware_class() -> str:
    return f"cpu-{platform.machine().lower()}-{slugify(cpu_model())}-{logical_cpus()}t"


def gpu_hardware_class(gpu_name: str) -> str:
    return f"cuda-{slugify(gpu_name)}"


def collect_python() -> dict[str, Any]:
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "executable": sys.executable}


def collect_os() -> dict[str, Any]:
    return {"os": platform.system(), "os_release": platform.release(), "platform": platform.platform()}


def collect_cpu() -> dict[str, Any]:
    info: dict[str, Any] = {"cpu_model": cpu_model(), "cpu_count": logical_cpus(),
                            "machine": platform.machine()}
    try:
        import psutil

        info["ram_bytes"] = int(psutil.virtual_memory().total)
        info["cpu_physical_count"] = psutil.cpu_count(logical=False)
    except ImportError:
        pass
    return info


def collect_gpus(nvml: Any = None) -> dict[str, Any]:
    """GPU models and driver through NVML; CUDA runtime version through torch if it is loaded."""
    info: dict[str, Any] = {"gpus": []}
    try:
        if nvml is None:
            import pynvml as nvml
        nvml.nvmlInit()
        driver = nvml.nvmlSystemGetDriverVersion()
        info["gpu_driver"] = driver.decode() if isinstance(driver, bytes) else driver
        for index in range(nvml.nvmlDeviceGetCount()):
            name = nvml.nvmlDeviceGetName(nvml.nvmlDeviceGetHandleByIndex(index))
            info["gpus"].append({"index": index, "name": name.decode() if isinstance(name, bytes) else name})
    except Exception:
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        info["cuda_runtime"] = getattr(torch.version, "cuda", None)
    return info


def collect_packages() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def collect_git(root: Path) -> dict[str, Any]:
    """Commit, branch and dirtiness from one `git status` call (each git call costs ~15 ms)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "status", "--porcelain=v2", "--branch",
                              "--untracked-files=no"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "branch": None, "dirty": None}
    if out.returncode != 0:
        return {"commit": None, "branch": None, "dirty": None}
    headers = dict(line[2:].split(" ", 1) for line in out.stdout.splitlines() if line.startswith("# "))
    commit = headers.get("branch.oid")
    if commit in (None, "(initial)"):
        return {"commit": None, "branch": None, "dirty": None}
    changed = any(not line.startswith("# ") for line in out.stdout.splitlines())
    return {"commit": commit, "branch": headers.get("branch.head"), "dirty": changed}


def collect_environment(root: Path, seeds: dict[str, Any]) -> dict[str, Any]:
    env: dict[str, Any] = {"hardware_class": cpu_hardware_class()}
    env.update(collect_python())
    env.update(collect_os())
    env.update(collect_cpu())
    env.update(collect_gpus())
    env["packages"] = collect_packages()
    env["git"] = collect_git(root)
    env["seeds"] = seeds
    return env
