"""The CUDA and hardware-counter paths, exercised on a machine without them through small fakes.

- `FakeTorch` stands in for torch: a `cuda` namespace that counts synchronisations and keeps
  allocated / peak byte counts the way the caching allocator reports them.
- `FakeNvml` stands in for nvidia-ml-py: one GPU whose total-energy counter (mJ) follows a fixed
  power draw and, like the real one, only moves every 100 ms.
- A RAPL sysfs tree is written into a temp directory.
"""

from __future__ import annotations

import sys
import time
import types

import pytest

from frontierbench.capture.environment import collect_gpus
from frontierbench.capture.meters import cuda
from frontierbench.capture.meters.energy import EnergyMeter, NvmlCounter, RaplCounter, choose_counter

GPU_NAME = "Fake Tensor Card 80GB"
POWER_W = 250.0
NVML_UPDATE_S = 0.1
MiB = 2**20


class FakeCuda:
    def __init__(self, name: str = GPU_NAME, baseline_bytes: int = 12 * MiB):
        self.name = name
        self.allocated = baseline_bytes  # e.g. the model's weights, already on the device
        self.peak = baseline_bytes
        self.sync_calls = 0
        self.peak_resets = 0

    # what the plugin calls
    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return True

    def synchronize(self) -> None:
        self.sync_calls += 1

    def reset_peak_memory_stats(self) -> None:
        self.peak_resets += 1
        self.peak = self.allocated

    def memory_allocated(self) -> int:
        return self.allocated

    def max_memory_allocated(self) -> int:
        return self.peak

    def current_device(self) -> int:
        return 0

    def get_device_name(self, index: int = 0) -> str:
        return self.name

    # what a fake workload calls
    def run_kernel(self, workspace_bytes: int) -> None:
        self.allocated += workspace_bytes
        self.peak = max(self.peak, self.allocated)
        self.allocated -= workspace_bytes


class FakeTorch(types.SimpleNamespace):
    def __init__(self):
        super().__init__(cuda=FakeCuda(), version=types.SimpleNamespace(cuda="12.4"))


class FakeNvml:
    """nvidia-ml-py's energy API for one GPU drawing a constant `power_w`."""

    def __init__(self, name: str = GPU_NAME, power_w: float = POWER_W, driver: str = "550.54.15"):
        self.name, self.power_w, self.driver = name, power_w, driver
        self.started = time.perf_counter()
        self.energy_reads = 0

    def nvmlInit(self) -> None:
        pass

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> object:
        if index != 0:
            raise RuntimeError(f"NVML_ERROR_INVALID_ARGUMENT: no GPU {index}")
        return ("handle", index)

    def nvmlDeviceGetName(self, handle: object) -> bytes:
        return self.name.encode()  # older nvidia-ml-py releases return bytes

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: object) -> int:
        self.energy_reads += 1
        updates = int((time.perf_counter() - self.started) / NVML_UPDATE_S)
        return int(updates * NVML_UPDATE_S * self.power_w * 1000)  # mJ, moving in 100 ms steps


# -- the plugin end to end, with the fakes ------------------------------------------------------

# A conftest like a lab would write: use our fake torch, and give CUDA cases the fake GPU's
# energy counter through the plugin's hook.
CONFTEST = """
import fake_gpu
from frontierbench.capture.meters import cuda
from frontierbench.capture.meters.energy import NvmlCounter


def pytest_configure(config):
    cuda.set_torch_for_tests(fake_gpu.torch)


def pytest_unconfigure(config):
    cuda.set_torch_for_tests(None)


def pytest_frontier_energy_counter(config, device):
    if device.startswith("cuda"):
        return NvmlCounter(fake_gpu.nvml, index=int(device.partition(":")[2] or 0))
"""

GPU_CASES = """
import time

import fake_gpu
import pytest

WORKSPACE = 64 * 2**20


def forward():
    fake_gpu.torch.cuda.run_kernel(WORKSPACE)


def forward_5ms():
    fake_gpu.torch.cuda.run_kernel(WORKSPACE)
    end = time.perf_counter() + 0.005
    while time.perf_counter() < end:
        pass


@pytest.mark.frontier(board="gpu")
def test_trivial_kernel(frontier):
    frontier.measure(forward, rounds=5)


@pytest.mark.frontier(board="gpu")
def test_5ms_kernel(frontier):
    frontier.measure(forward_5ms, rounds=5)
"""


@pytest.fixture
def fake_gpu(monkeypatch):
    """The fakes, importable as `fake_gpu` by the in-process pytest session of the test."""
    fakes = types.SimpleNamespace(torch=FakeTorch(), nvml=FakeNvml())
    monkeypatch.setitem(sys.modules, "fake_gpu", fakes)
    yield fakes
    cuda.set_torch_for_tests(None)


def test_a_cuda_case_end_to_end_with_fake_torch_and_nvml(pytester, run_frontier, fake_gpu):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_gpu=GPU_CASES)
    run = run_frontier()
    run.result.assert_outcomes(passed=2)
    trivial, five_ms = run.case("test_trivial_kernel"), run.case("test_5ms_kernel")

    # synchronised before every timer read
    timed_calls = sum(case["metrics"]["energy"]["provenance"]["calls"] for case in (trivial, five_ms))
    assert fake_gpu.torch.cuda.sync_calls >= timed_calls
    assert all(case["metrics"]["wall_time"]["provenance"]["cuda_synchronized"] for case in (trivial, five_ms))

    # CUDA peak memory: the peak above the baseline, with the peak stats reset for each case
    assert trivial["metrics"]["cuda_peak_memory"]["value"] == 64 * MiB  # not counting the 12 MiB baseline
    assert trivial["metrics"]["cuda_peak_memory"]["unit"] == "B"
    assert fake_gpu.torch.cuda.peak_resets >= 2

    # a CUDA case is ranked with its GPU model; the host stays a CPU class
    assert trivial["device"] == "cuda:0"
    assert trivial["hardware_class"] == "cuda-fake-tensor-card-80gb"
    assert run.record["environment"]["hardware_class"].startswith("cpu-")

    # energy from the NVML counter the conftest hook returned, over a window long enough for it
    for case in (trivial, five_ms):
        energy = case["metrics"]["energy"]
        assert energy["provenance"]["method"] == "nvml"
        assert energy["provenance"]["covers"] == f"gpu:0 {GPU_NAME} (whole device)"
        assert energy["provenance"]["window_s"] >= NvmlCounter.min_window_s  # extended by repeating
        assert energy["provenance"]["calls"] > 5                               # the call: 5 rounds + more
        assert case["metrics"]["carbon"]["provenance"]["energy_method"] == "nvml"

    # energy per call = power x time per call. The counter moves in 100 ms steps; the window opens
    # and closes on a step, so no partial step is lost. 5% is left for the harness's own time.
    energy, wall_time = five_ms["metrics"]["energy"], five_ms["metrics"]["wall_time"]
    assert energy["value"] == pytest.approx(POWER_W * wall_time["value"], rel=0.05)

    # the summary row shows the device, the CUDA memory and the energy's provenance tag
    rows = [line for line in run.result.outlines if "test_5ms_kernel" in line and "│" in line]
    assert len(rows) == 1
    assert "cuda:0" in rows[0] and "64 MiB" in rows[0] and "(nvml)" in rows[0]


# -- the counters on their own ------------------------------------------------------------------

def test_choose_counter_picks_nvml_for_a_cuda_device():
    counter = choose_counter("cuda:0", nvml=FakeNvml())
    assert isinstance(counter, NvmlCounter)
    assert counter.method == "nvml" and counter.index == 0


def test_choose_counter_falls_back_when_nvml_has_no_such_gpu(tmp_path):
    assert choose_counter("cuda:3", nvml=FakeNvml(), rapl_root=tmp_path) is None


def test_counters_can_be_switched_off():
    assert choose_counter("cuda:0", nvml=FakeNvml(), env={"FRONTIERBENCH_ENERGY_COUNTERS": "0"}) is None


def test_a_short_window_is_extended_to_the_counters_update_interval():
    meter = EnergyMeter(NvmlCounter(FakeNvml(), 0), estimate=True)
    calls = []
    window = meter.stop(meter.start(), calls=1, repeat=lambda: calls.append(1))
    assert window.seconds >= NvmlCounter.min_window_s
    assert window.calls == 1 + len(calls) > 1
    assert window.joules == pytest.approx(POWER_W * window.seconds, abs=POWER_W * NVML_UPDATE_S)


def make_rapl_domain(root, name: str, energy_uj: int, max_range_uj: int):
    domain = root / name
    domain.mkdir()
    (domain / "name").write_text("package-0\n" if name.count(":") == 1 else "core\n")
    (domain / "energy_uj").write_text(f"{energy_uj}\n")
    (domain / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
    return domain


def test_rapl_package_domains_are_discovered_from_sysfs(tmp_path):
    make_rapl_domain(tmp_path, "intel-rapl:0", 1_000_000, 262_143_328_850)
    make_rapl_domain(tmp_path, "intel-rapl:0:0", 500_000, 262_143_328_850)  # a sub-domain: not summed
    counter = RaplCounter.discover(tmp_path)
    assert counter is not None and counter.method == "rapl"
    assert [d.name for d in counter.domains] == ["intel-rapl:0"]
    assert "package-0" in counter.covers
    assert isinstance(choose_counter("cpu", rapl_root=tmp_path), RaplCounter)


def test_no_rapl_tree_means_no_counter(tmp_path):
    assert RaplCounter.discover(tmp_path) is None
    assert choose_counter("cpu", rapl_root=tmp_path) is None


def test_rapl_counter_wrap_around_is_handled(tmp_path):
    max_range = 1_000_000  # 1 J, so the wrap comes quickly
    domain = make_rapl_domain(tmp_path, "intel-rapl:0", 900_000, max_range)
    counter = RaplCounter.discover(tmp_path)
    start = counter.read_joules()
    (domain / "energy_uj").write_text("950000\n")  # +0.05 J
    assert counter.read_joules() - start == pytest.approx(0.05)
    (domain / "energy_uj").write_text("100000\n")  # wrapped: +0.05 J to the top, then +0.1 J
    assert counter.read_joules() - start == pytest.approx(0.20)


def test_collect_gpus_lists_the_gpu_and_driver():
    info = collect_gpus(nvml=FakeNvml())
    assert info["gpus"] == [{"index": 0, "name": GPU_NAME}]
    assert info["gpu_driver"] == "550.54.15"


def test_collect_gpus_without_nvml_lists_none():
    class NoDriver:
        def nvmlInit(self):
            raise RuntimeError("NVML Shared Library Not Found")

    assert collect_gpus(nvml=NoDriver())["gpus"] == []
