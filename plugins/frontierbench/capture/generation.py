"""`frontier.measure_generation`: time to first token, time per output token, request latency,
throughput and energy per request and per output token, for a generation workload.

The flow mirrors `frontier.measure`:
1. One memory pass over the requests (peak RSS, and peak CUDA memory when CUDA is in use). It is
   the first warm-up pass and the pass whose outputs are returned.
2. `warmup - 1` more warm-up passes, then the timed passes (`rounds`), inside one energy window.
3. Per request: `ttft`, `tpot`, `request_latency`, `output_tokens` (and `prompt_tokens` when
   known), one sample per served request, value = median. Per pass: `output_throughput` and
   `request_throughput`. The energy figures are completed once per session (see `energy_metrics`)
   because an estimated window gets its joules only then.

Scenarios (after MLPerf LoadGen): `single_stream` serves one request after another; `offline`
hands all requests to `generate` as one batch; `server` lets requests arrive at Poisson times at
`rate` requests per second (seeded) and serves them in order, so a request that arrives while
another is served waits, and its ttft and latency count the wait.

A request that fails (no tokens, a negative count, an exception part-way) is reported with the
case and its index and left out; the case fails only when no request completes.
"""

from __future__ import annotations

import random
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from frontierbench.capture.meters import cuda
from frontierbench.capture.meters.energy import EnergyMeter, EnergyWindow
from frontierbench.capture.meters.generation import RequestTiming, serve_batch, serve_one
from frontierbench.capture.meters.memory import PeakMemory, record_peaks
from statistics import median

SCENARIOS = ("single_stream", "offline", "server")
SERVER_SEED = 0  # Poisson arrivals are drawn from a fixed seed: the same schedule every run
QUICK_PASSES = 1
FULL_MAX_PASSES = 10
FULL_TIME_BUDGET_S = 10.0
WORKLOAD = "generation"  # EnergyWindow.details["workload"] of a generation window


class GenerationError(ValueError):
    """Bad arguments to measure_generation, or a workload in which no request completed."""


class GenerationWarning(UserWarning):
    """Some requests failed; the others were kept."""


@dataclass
class GenerationContext:
    """What measure_generation needs from the fixture."""

    case: Any  # fixture.CaseResult
    record: Callable[..., None]  # FrontierFixture.metric
    energy_meter_for: Callable[[str], EnergyMeter]
    quick: bool
    progress: Callable[[str], None] | None = None


def measure_generation(ctx: GenerationContext, generate: Callable[[Any], Any], requests: Sequence[Any], *,
                       rounds: int | None, warmup: int, scenario: str,
                       prompt_tokens: Callable[[Any], int] | None, rate: float | None = None) -> list[list[Any] | None]:
    case = ctx.case
    name = case.nodeid
    requests = _check_arguments(name, requests, rounds, warmup, scenario, rate)
    arrivals = random.Random(SERVER_SEED) if scenario == "server" else None
    prompts = _prompt_tokens(name, requests, prompt_tokens)
    on_cuda = cuda.in_use()

    # 1. The memory pass, which is also the first warm-up pass; its outputs are returned.
    outputs: list[list[Any]] = [[] for _ in requests]
    with PeakMemory() as memory:
        cuda_memory = cuda.CudaPeakMemory() if on_cuda else None
        if cuda_memory:
            cuda_memory.__enter__()
        started = time.perf_counter()
        first_pass = _serve_pass(generate, requests, scenario, sync=None, keep=outputs)  # no arrivals
        if cuda_memory:
            cuda_memory.__exit__(None, None, None)
        first_pass_s = time.perf_counter() - started
    on_cuda = on_cuda or cuda.in_use()  # the workload may have created the CUDA context
    sync = cuda.synchronize if on_cuda else None
    if on_cuda:
        if case.device == "cpu":
            case.device = f"cuda:{cuda.device_index()}"
        case.gpu_name = cuda.device_name()

    # 2. Warm-up, then the timed passes inside one energy window.
    for _ in range(max(0, warmup - 1)):
        _serve_pass(generate, requests, scenario, sync=sync)
    passes = rounds if rounds is not None else _planned_passes(ctx.quick, first_pass_s)
    if ctx.progress and first_pass_s * passes > 2.0:
        ctx.progress(f"{case.entry}: {passes} timed pass(es) over {len(requests)} requests, "
                     f"~{first_pass_s * passes:.0f} s")
    energy_meter = ctx.energy_meter_for(case.device)
    served: list[RequestTiming] = []
    pass_spans: list[tuple[float, float, list[RequestTiming]]] = []
    extra: list[RequestTiming] = []
    window_start = energy_meter.start()
    for _ in range(passes):
        t0 = time.perf_counter()
        timings = _serve_pass(generate, requests, scenario, sync=sync, arrivals=arrivals, rate=rate)
        pass_spans.append((t0, time.perf_counter(), timings))
        served.extend(timings)
    cursor = iter(range(10**12))

    def one_more() -> None:
        # Too short a window for the energy counter: keep serving, still inside the window.
        if scenario == "offline":
            extra.extend(_serve_pass(generate, requests, scenario, sync=sync))
        else:
            index = next(cursor) % len(requests)
            extra.append(serve_one(generate, requests[index], index, sync=sync))

    window = energy_meter.stop(window_start, passes, repeat=one_more)
    window.details = _window_details(window, served + extra, scenario)
    case.energy_window = window

    # 3. The figures.
    failures = _failures(name, first_pass + served)
    done = [t for t in served if t.ok]
    if not done:
        raise GenerationError(f"{name}: measure_generation: no request completed:\n  " + "\n  ".join(failures))
    if failures:
        warnings.warn(GenerationWarning(f"{name}: {len(failures)} failed request(s) left out:\n  "
                                        + "\n  ".join(failures[:20])), stacklevel=3)
    _record_request_metrics(ctx.record, done, prompts, scenario=scenario, passes=passes,
                            requests=len(requests), on_cuda=on_cuda, failures=failures, rate=rate)
    _record_throughputs(ctx.record, pass_spans, scenario)
    record_peaks(ctx.record, memory, cuda_memory, case.device, "separate memory pass (first warm-up pass)")
    failed_in_memory_pass = {t.index for t in first_pass if not t.ok}
    return [None if i in failed_in_memory_pass else items for i, items in enumerate(outputs)]


def _check_arguments(name: str, requests: Any, rounds: Any, warmup: Any, scenario: Any, rate: Any) -> list[Any]:
    if scenario not in SCENARIOS:
        raise GenerationError(f"{name}: measure_generation: scenario must be one of {SCENARIOS}, got {scenario!r}")
    if scenario == "server":
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < float("inf"):
            raise GenerationError(f"{name}: measure_generation: the server scenario needs rate= (requests per "
                                  f"second, > 0), got {rate!r}")
    elif rate is not None:
        raise GenerationError(f"{name}: measure_generation: rate= applies to the server scenario only "
                              f"(scenario is {scenario!r})")
    try:
        requests = list(requests)
    except TypeError:
        raise GenerationError(f"{name}: measure_generation: requests must be a sequence, "
                              f"got {type(requests).__name__}") from None
    if not requests:
        raise GenerationError(f"{name}: measure_generation: requests is empty")
    if rounds is not None and (not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1):
        raise GenerationError(f"{name}: measure_generation: rounds must be a positive int, got {rounds!r}")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 1:
        raise GenerationError(f"{name}: measure_generation: warmup must be an int >= 1 "
                              f"(the memory pass is the first warm-up pass), got {warmup!r}")
    return requests


def _prompt_tokens(name: str, requests: list[Any], count: Callable[[Any], int] | None) -> list[int] | None:
    """Prompt length per request: `count(request)`, else len(request); None when neither works."""
    lengths = []
    for index, request in enumerate(requests):
        try:
            n = count(request) if count is not None else len(request)
        except TypeError:
            if count is not None:
                raise
            return None
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise GenerationError(f"{name}: measure_generation: request {index}: prompt_tokens must be an "
                                  f"int >= 0, got {n!r}")
        lengths.append(n)
    return lengths


def _planned_passes(quick: bool, first_pass_s: float) -> int:
    if quick:
        return QUICK_PASSES
    return max(1, min(FULL_MAX_PASSES, int(FULL_TIME_BUDGET_S / max(first_pass_s, 1e-9))))


def _serve_pass(generate, requests, scenario, *, sync, keep=None, arrivals: random.Random | None = None,
                rate: float | None = None) -> list[RequestTiming]:
    if scenario == "offline":
        return serve_batch(generate, requests, range(len(requests)), sync=sync, keep=keep)
    if arrivals is not None:  # server: Poisson arrivals from now on, served in order
        at = time.perf_counter()
        timings = []
        previous_end = None
        for index, request in enumerate(requests):
            at += arrivals.expovariate(rate)
            timing = serve_one(generate, request, index, sync=sync, arrival=at)
            if previous_end is not None:
                timing.waited_for_earlier = max(0.0, previous_end - at)
            previous_end = timing.ended if timing.ended is not None else time.perf_counter()
            timings.append(timing)
        return timings
    if keep is None:
        return [serve_one(generate, request, index, sync=sync) for index, request in enumerate(requests)]
    return [serve_one(generate, request, index, sync=sync, keep=keep[index]) for index, request in enumerate(requests)]


def _failures(name: str, timings: list[RequestTiming]) -> list[str]:
    """One message per failing request (its first failure), naming the case and the index."""
    seen: dict[int, str] = {}
    for timing in timings:
        if not timing.ok and timing.index not in seen:
            seen[timing.index] = f"{name}: request {timing.index}: {timing.error}"
    return [seen[i] for i in sorted(seen)]


def _record_request_metrics(record, done: list[RequestTiming], prompts: list[int] | None, *, scenario: str,
                            passes: int, requests: int, on_cuda: bool, failures: list[str],
                            rate: float | None = None) -> None:
    common = {"method": "time.perf_counter", "sample_kind": "rounds", "samples_are": "requests",
              "scenario": scenario, "passes": passes, "requests": requests, "served": len(done),
              "cuda_synchronized": on_cuda}
    if scenario == "server":
        common.update(rate=rate, arrivals=f"poisson, seed {SERVER_SEED}",
                      median_queue_s=median([t.waited_for_earlier for t in done]),
                      median_start_delay_s=median([t.queued - t.waited_for_earlier for t in done]))
    if failures:
        common["failed_requests"] = failures
    ttft = [t.ttft for t in done]
    latency = [t.latency for t in done]
    tokens = [float(t.output_tokens) for t in done]
    arrival = "arrival" if scenario == "server" else "call"
    record("ttft", median(ttft), unit="s", higher_is_better=False, samples=ttft,
           provenance={**common, "what": f"{arrival} to first output token"})
    tpot = [t.tpot for t in done if t.tpot is not None]
    if tpot:
        record("tpot", median(tpot), unit="s", higher_is_better=False, samples=tpot,
               provenance={**common, "what": "(last token - first token) / (output tokens - 1)",
                           "served": len(tpot)})
    record("request_latency", median(latency), unit="s", higher_is_better=False, samples=latency,
           provenance={**common, "what": f"{arrival} to the end of the answer"
                       + (" (offline: batch start to the request's last token)" if scenario == "offline" else "")})
    # Fewer tokens for the same answer is cheaper (token budgets), so the count is a cost.
    record("output_tokens", median(tokens), unit="tokens", higher_is_better=False, samples=tokens,
           provenance={**common, "method": "counted", "kind": "count"})
    if prompts is not None:
        prompt = [float(prompts[t.index]) for t in done]
        record("prompt_tokens", median(prompt), unit="tokens", higher_is_better=False, samples=prompt,
               provenance={**common, "method": "len(request) or prompt_tokens=", "kind": "count"})


def _record_throughputs(record, pass_spans, scenario: str) -> None:
    token_rates, request_rates = [], []
    for t0, t1, timings in pass_spans:
        seconds = t1 - t0
        ok = [t for t in timings if t.ok]
        if seconds > 0 and ok:
            token_rates.append(sum(t.output_tokens for t in ok) / seconds)
            request_rates.append(len(ok) / seconds)
    if not token_rates:
        return
    common = {"method": "time.perf_counter", "sample_kind": "rounds", "samples_are": "timed passes",
              "scenario": scenario, "covers": "completed requests over the pass's wall time"}
    record("output_throughput", median(token_rates), unit="tokens/s", higher_is_better=True,
           samples=token_rates, provenance=common)
    record("request_throughput", median(request_rates), unit="requests/s", higher_is_better=True,
           samples=request_rates, provenance=common)


def _window_details(window: EnergyWindow, served: list[RequestTiming], scenario: str) -> dict[str, Any]:
    ok = [t for t in served if t.ok]
    if scenario == "offline":  # the machine works for the whole batch, whichever request ends first
        batch_ends: dict[float, float] = {}
        for t in served:
            if t.ended is not None:
                batch_ends[t.started] = max(batch_ends.get(t.started, t.ended), t.ended)
        busy = sum(end - start for start, end in batch_ends.items())
    else:
        busy = sum(t.ended - (t.called or t.started) for t in served if t.ended is not None)
    return {**window.details, "workload": WORKLOAD, "scenario": scenario, "requests": len(ok),
            "output_tokens": sum(t.output_tokens for t in ok), "busy_s": round(busy, 9),
            "formula": "mean window power x time inside generate / requests (or output tokens)"}


def energy_metrics(window: EnergyWindow) -> dict[str, dict[str, Any]]:
    """energy_per_request, energy_per_output_token and energy (J per request) of a generation window.

    Mean power over the window times the time spent inside `generate`, divided by the requests
    (or tokens) served: the harness's time between requests is not charged to them.
    """
    details = window.details
    power = window.mean_power_w()
    joules = None if power is None else power * details["busy_s"]
    per_request = None if joules is None or not details["requests"] else joules / details["requests"]
    per_token = None if joules is None or not details["output_tokens"] else joules / details["output_tokens"]
    provenance = window.provenance()

    def metric(value, unit):
        return {"value": value, "unit": unit, "higher_is_better": False, "samples": None, "provenance": provenance}

    return {"energy": metric(per_request, "J"), "energy_per_request": metric(per_request, "J"),
            "energy_per_output_token": metric(per_token, "J")}


def is_generation_window(window: EnergyWindow | None) -> bool:
    return window is not None and window.details.get("workload") == WORKLOAD
