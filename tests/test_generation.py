"""`frontier.measure_generation`: a fake generator whose token times are known, run through the
real plugin, and the timing loop on its own (chunks, failures, offline batches, CUDA sync)."""

from __future__ import annotations

import json
import statistics
import time
import types

import pytest

from frontierbench.capture import generation
from frontierbench.capture.meters import cuda
from frontierbench.capture.meters.energy import EnergyWindow
from frontierbench.capture.meters.generation import serve_batch, serve_one, token_count

# Tokens at known times after the call: the first at 20 ms, then one every 5 ms. The deadlines
# are absolute (from the call), so a wait descheduled past one deadline delays that token
# only. The generator also notes when it really yielded each token: on a loaded machine a token is
# sometimes late, which is the machine's doing, not the meter's.
KNOWN_TIMES = """
import json
import time

import pytest

FIRST_S, NEXT_S, TOKENS = 0.020, 0.005, 5
own = []


def spin_until(deadline):
    # Sleep to 1 ms short of the deadline, then spin: a thread that spun for the whole 20 ms is
    # the scheduler's first choice to preempt on a busy machine, a thread that slept is not; a
    # sleep alone would overshoot the deadline.
    time.sleep(max(0.0, deadline - time.perf_counter() - 0.001))
    while time.perf_counter() < deadline:
        pass


def generate(request):
    start = time.perf_counter()
    yielded = []
    for k in range(TOKENS):
        spin_until(start + FIRST_S + k * NEXT_S)
        yielded.append(time.perf_counter() - start)
        yield "x"
    own.append(yielded)


@pytest.mark.frontier(board="gen")
def test_known_times(frontier):
    requests = [{"prompt": "abc"} for _ in range(30)]
    outputs = frontier.measure_generation(generate, requests, rounds=1, prompt_tokens=lambda r: len(r["prompt"]))
    assert outputs == [["x"] * TOKENS] * 30
    with open("own.json", "w") as f:
        json.dump(own[-30:], f)  # the timed pass
"""


def test_known_token_times_give_ttft_and_tpot_within_two_percent(run_frontier, pytester):
    pytester.makepyfile(test_gen=KNOWN_TIMES)
    run = run_frontier()
    run.result.assert_outcomes(passed=1)
    metrics = run.case("test_known_times")["metrics"]
    for name in ("ttft", "tpot", "request_latency", "output_tokens", "prompt_tokens"):
        assert len(metrics[name]["samples"]) == 30, name  # one sample per request
        assert metrics[name]["provenance"]["samples_are"] == "requests"
    assert metrics["output_tokens"]["samples"] == [5.0] * 30
    assert metrics["prompt_tokens"]["samples"] == [3.0] * 30

    # The meter agrees with when the generator says it yielded each token.
    own = json.loads((pytester.path / "own.json").read_text())
    assert metrics["ttft"]["value"] == pytest.approx(statistics.median(y[0] for y in own), rel=0.02)
    assert metrics["tpot"]["value"] == pytest.approx(statistics.median((y[-1] - y[0]) / 4 for y in own), rel=0.02)
    # And the known answer, 20 ms and 5 ms: the median over requests is robust to the few tokens
    # that the machine delayed.
    assert metrics["ttft"]["value"] == pytest.approx(0.020, rel=0.02)
    assert metrics["tpot"]["value"] == pytest.approx(0.005, rel=0.02)

    # 30 requests of about 40 ms in one pass
    assert metrics["request_throughput"]["value"] == pytest.approx(30 / sum(metrics["request_latency"]["samples"]),
                                                                   rel=0.1)
    assert metrics["output_throughput"]["value"] == pytest.approx(5 * metrics["request_throughput"]["value"])
    energy = metrics["energy_per_output_token"]
    assert energy["unit"] == "J" and energy["provenance"]["method"] in ("rapl", "estimated", "unavailable")
    if metrics["energy_per_request"]["value"] is not None:
        assert metrics["energy_per_request"]["value"] == pytest.approx(5 * energy["value"])
        assert metrics["energy"]["value"] == metrics["energy_per_request"]["value"]
    assert "peak_memory" in metrics


BAD_REQUESTS = """
import pytest


def generate(request):
    if request == "empty":
        return
    if request == "raises":
        yield "a"
        raise RuntimeError("model fell over")
    if request == "negative":
        yield -3
        return
    yield "a"
    yield 2  # a chunk of two tokens


@pytest.mark.frontier(board="gen")
def test_some_fail(frontier):
    outputs = frontier.measure_generation(generate, ["ok", "empty", "raises", "negative", "ok"], rounds=2)
    assert outputs[0] == ["a", 2] and outputs[1] is None and outputs[4] == ["a", 2]


@pytest.mark.frontier(board="gen")
def test_all_fail(frontier):
    frontier.measure_generation(generate, ["empty", "raises"], rounds=1)
"""


def test_failed_requests_are_named_and_the_others_kept(run_frontier, pytester):
    pytester.makepyfile(test_bad=BAD_REQUESTS)
    run = run_frontier("-W", "always")
    run.result.assert_outcomes(passed=1, failed=1)
    kept = run.case("test_some_fail")
    assert kept["outcome"] == "passed"
    latency = kept["metrics"]["request_latency"]
    assert len(latency["samples"]) == 4  # requests 0 and 4, two passes each
    assert kept["metrics"]["output_tokens"]["samples"] == [3.0] * 4
    failed = latency["provenance"]["failed_requests"]
    assert [f.split(": ")[1] for f in failed] == ["request 1", "request 2", "request 3"]
    assert all(f.startswith("test_bad.py::test_some_fail: request") for f in failed)
    assert "yielded no tokens" in failed[0]
    assert "RuntimeError: model fell over after 1 token(s)" in failed[1]
    assert "negative token count (-3)" in failed[2]
    run.result.stdout.fnmatch_lines(["*GenerationWarning*3 failed request(s) left out*"])

    none_done = run.case("test_all_fail")
    assert none_done["outcome"] == "failed"
    assert "no request completed" in none_done["error"]
    assert "test_all_fail: request 0: the generator yielded no tokens" in none_done["error"]


def test_bad_arguments_are_refused_naming_the_case():
    ctx = generation.GenerationContext(types.SimpleNamespace(nodeid="t.py::c"), None, None, quick=True)
    for kwargs, message in (({"scenario": "batch"}, "scenario must be one of"),
                            ({"scenario": "server"}, "the server scenario needs rate="),
                            ({"rate": 10.0}, "rate= applies to the server scenario only"),
                            ({"rounds": 0}, "rounds must be a positive int"),
                            ({"warmup": 0}, "warmup must be an int >= 1")):
        arguments = {"rounds": None, "warmup": 1, "scenario": "single_stream", "prompt_tokens": None, **kwargs}
        with pytest.raises(generation.GenerationError, match=f"t.py::c: measure_generation: {message}"):
            generation.measure_generation(ctx, iter, ["a"], **arguments)
    with pytest.raises(generation.GenerationError, match="requests is empty"):
        generation.measure_generation(ctx, iter, [], rounds=None, warmup=1, scenario="offline", prompt_tokens=None)


def test_an_int_is_a_chunk_count_and_anything_else_one_token():
    assert [token_count(x) for x in ("a", 7, True, [1, 2], 0)] == [1, 7, 1, 1, 0]


def fake_clock(step: float = 1.0):
    ticks = iter(range(10**6))
    return lambda: next(ticks) * step


def test_timestamps_of_the_call_the_first_and_the_last_token():
    # clock readings: call 0, items at 1, 2, 3, end 4
    timing = serve_one(lambda r: iter(["a", 2, "b"]), "req", 7, clock=fake_clock())
    assert (timing.index, timing.output_tokens, timing.ttft, timing.latency) == (7, 4, 1.0, 4.0)
    assert timing.tpot == pytest.approx((3.0 - 1.0) / 3)


def test_cuda_is_synchronised_before_every_timestamp():
    syncs = []
    events = []
    clock = fake_clock()

    def timed():
        events.append(("time", len(syncs)))
        return clock()

    serve_one(lambda r: iter("abc"), "req", 0, sync=lambda: syncs.append(1), clock=timed)
    # the call, three tokens and the end: five timestamps, each right after one more sync
    assert events == [("time", 1), ("time", 2), ("time", 3), ("time", 4), ("time", 5)]


def test_offline_batches_attribute_each_step_to_its_request():
    def generate(batch):
        assert batch == ["r0", "r1", "r2"]
        yield ["a", "b", None]
        yield ["a", None, 3]
        yield [None, None, "c"]

    timings = serve_batch(generate, ["r0", "r1", "r2"], [0, 1, 2], clock=fake_clock())
    # clock: start 0; steps at 1, 2, 3; batch end 4
    assert [t.output_tokens for t in timings] == [2, 1, 4]
    assert [t.ttft for t in timings] == [1.0, 1.0, 2.0]
    assert [t.latency for t in timings] == [2.0, 1.0, 3.0]


def test_offline_a_malformed_step_fails_the_batch():
    timings = serve_batch(lambda b: iter([["a"]]), ["r0", "r1"], [0, 1])
    assert all("step 0 has 1 entries for a batch of 2 requests" in t.error for t in timings)


def test_energy_per_request_and_token_charge_only_time_inside_generate():
    window = EnergyWindow("rapl", "cpu", seconds=2.0, joules=100.0,
                          details={"workload": "generation", "requests": 10, "output_tokens": 50, "busy_s": 1.5})
    metrics = generation.energy_metrics(window)
    assert metrics["energy_per_request"]["value"] == pytest.approx(50.0 * 1.5 / 10)
    assert metrics["energy_per_output_token"]["value"] == pytest.approx(50.0 * 1.5 / 50)
    assert metrics["energy_per_request"]["provenance"]["method"] == "rapl"


class _FakeCuda:
    def __init__(self):
        self.sync_calls = 0

    def is_available(self):
        return True

    def is_initialized(self):
        return True

    def synchronize(self):
        self.sync_calls += 1

    def reset_peak_memory_stats(self):
        pass

    def memory_allocated(self):
        return 0

    def max_memory_allocated(self):
        return 4096

    def current_device(self):
        return 0

    def get_device_name(self, index=0):
        return "Fake Card"


def test_on_cuda_every_timed_timestamp_is_synchronised(monkeypatch):
    fake = types.SimpleNamespace(cuda=_FakeCuda())
    cuda.set_torch_for_tests(fake)
    try:
        recorded = {}
        case = types.SimpleNamespace(nodeid="t.py::gpu", entry="gpu", device="cpu", gpu_name=None, energy_window=None)
        meter = types.SimpleNamespace(start=lambda: (time.perf_counter(), time.process_time(), None),
                                      stop=lambda started, calls, repeat=None: EnergyWindow("unavailable", None))
        ctx = generation.GenerationContext(case, lambda name, value, **kw: recorded.__setitem__(name, (value, kw)),
                                           lambda device: meter, quick=True)
        generation.measure_generation(ctx, lambda r: iter("abcd"), ["p", "q"], rounds=3, warmup=1,
                                      scenario="single_stream", prompt_tokens=None)
    finally:
        cuda.set_torch_for_tests(None)
    # timed passes: 3 passes x 2 requests x (call + 4 tokens + end) synchronisations, plus the
    # memory pass's two (CudaPeakMemory enter and exit)
    assert fake.cuda.sync_calls == 3 * 2 * 6 + 2
    assert case.device == "cuda:0" and case.gpu_name == "Fake Card"
    assert recorded["ttft"][1]["provenance"]["cuda_synchronized"] is True
    assert recorded["cuda_peak_memory"][0] == 4096
    assert len(recorded["ttft"][1]["samples"]) == 6


def test_offline_scenario_hands_the_batch_over_and_keeps_one_sample_per_request():
    recorded = {}
    case = types.SimpleNamespace(nodeid="t.py::offline", entry="offline", device="cpu", gpu_name=None,
                                 energy_window=None)
    meter = types.SimpleNamespace(start=lambda: (time.perf_counter(), time.process_time(), None),
                                  stop=lambda started, calls, repeat=None: EnergyWindow("unavailable", None))
    ctx = generation.GenerationContext(case, lambda name, value, **kw: recorded.__setitem__(name, (value, kw)),
                                       lambda device: meter, quick=True)

    def generate(batch):  # request i answers with i + 1 tokens, one per step
        for step in range(len(batch)):
            yield ["t" if step <= i else None for i in range(len(batch))]

    outputs = generation.measure_generation(ctx, generate, ["a", "bb", "ccc"], rounds=2, warmup=1,
                                            scenario="offline", prompt_tokens=None)
    assert outputs == [["t"], ["t", "t"], ["t", "t", "t"]]
    assert recorded["output_tokens"][1]["samples"] == [1.0, 2.0, 3.0] * 2
    assert recorded["prompt_tokens"][1]["samples"] == [1.0, 2.0, 3.0] * 2  # len(request)
    assert "tpot" in recorded and len(recorded["tpot"][1]["samples"]) == 4  # one-token answers have none
    assert recorded["ttft"][1]["provenance"]["scenario"] == "offline"
    window = case.energy_window
    assert window.details["requests"] == 6 and window.details["output_tokens"] == 12


def _context(name: str):
    recorded = {}
    case = types.SimpleNamespace(nodeid=f"t.py::{name}", entry=name, device="cpu", gpu_name=None, energy_window=None)
    meter = types.SimpleNamespace(start=lambda: (time.perf_counter(), time.process_time(), None),
                                  stop=lambda started, calls, repeat=None: EnergyWindow("unavailable", None))
    ctx = generation.GenerationContext(case, lambda name, value, **kw: recorded.__setitem__(name, (value, kw)),
                                       lambda device: meter, quick=True)
    return ctx, recorded


def two_ms_answer(request):
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass
    yield "t"


def test_server_requests_that_arrive_together_queue_and_their_wait_counts():
    ctx, recorded = _context("server")
    # At a million requests per second all five arrive at once: request k waits for the k before it.
    generation.measure_generation(ctx, two_ms_answer, list("abcde"), rounds=1, warmup=1, scenario="server",
                                  prompt_tokens=None, rate=1e6)
    ttft = recorded["ttft"][1]["samples"]
    # (lower bounds: on a busy machine each 2 ms answer can take longer, never less)
    assert ttft == sorted(ttft) and ttft[-1] >= 5 * 0.002
    provenance = recorded["ttft"][1]["provenance"]
    assert provenance["rate"] == 1e6 and provenance["arrivals"] == "poisson, seed 0"
    assert provenance["median_queue_s"] >= 2 * 0.002  # the middle request waited for two answers


def test_server_requests_that_arrive_apart_do_not_queue():
    ctx, recorded = _context("server")
    generation.measure_generation(ctx, two_ms_answer, list("abcde"), rounds=1, warmup=1, scenario="server",
                                  prompt_tokens=None, rate=20.0)  # 50 ms apart on average
    assert recorded["ttft"][1]["provenance"]["median_queue_s"] == 0.0  # most never wait for another request
    assert recorded["ttft"][1]["provenance"]["median_start_delay_s"] >= 0.0  # the harness's own lateness, shown
    assert recorded["ttft"][0] >= 0.002
