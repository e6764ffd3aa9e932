"""The generation timing loop: timestamps of each request's call, first token and last token.

`generate(request)` returns an iterator. Each item it yields is one output token, or an int n
for a chunk of n tokens (a bare int always means a count: wrap token ids, e.g. as text). A CUDA
synchronisation runs before every timestamp when `sync` is given, so a timestamp is taken after
the kernels that produced the token, not when they were queued.

Offline scenario (MLPerf): `generate(requests)` gets the whole batch and yields steps; a step is
a sequence with one entry per request: None (nothing for that request this step), a token, or an
int count.

This module only times and counts; capture/generation.py turns the timings into metrics.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

Clock = Callable[[], float]


class RequestFailed(Exception):
    """What one request did wrong (no tokens, a negative count, a malformed step)."""


@dataclass
class RequestTiming:
    """One served request. Times are the clock's readings; `error` is set when it failed."""

    index: int
    started: float  # when the request arrived: the call, or its scheduled arrival (server scenario)
    first: float | None = None  # when the first output token arrived
    last: float | None = None  # when the last output token arrived
    ended: float | None = None  # when the iterator was exhausted
    output_tokens: int = 0
    error: str | None = None
    called: float | None = None  # when generate was called, if later than the arrival (queueing)
    waited_for_earlier: float = 0.0  # of that delay, the time the previous request was still served

    @property
    def queued(self) -> float:
        """Arrival to call: waiting for earlier requests, plus the harness waking up late."""
        return 0.0 if self.called is None else self.called - self.started

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def ttft(self) -> float:
        return self.first - self.started

    @property
    def latency(self) -> float:
        return self.ended - self.started

    @property
    def tpot(self) -> float | None:
        """Mean time per output token after the first; None for a one-token answer."""
        if self.output_tokens < 2:
            return None
        return (self.last - self.first) / (self.output_tokens - 1)


# Per item type: does an item of it count tokens (an int) or is it one token? Learned once per type,
# because an isinstance check against numbers.Integral costs more than the rest of the loop.
_COUNTS: dict[type, bool] = {int: True, bool: False, str: False, bytes: False, tuple: False, list: False}


def _is_count_type(kind: type) -> bool:
    known = _COUNTS.get(kind)
    if known is None:
        known = _COUNTS[kind] = issubclass(kind, numbers.Integral) and not issubclass(kind, bool)
    return known


def token_count(item: Any) -> int:
    """1 for a token, n for an int chunk count (bool is a token, not a count)."""
    return int(item) if _is_count_type(type(item)) else 1


def wait_until(deadline: float, clock: Clock = time.perf_counter) -> None:
    """Sleep to 1 ms short of `deadline`, then spin: a sleep alone overshoots by the scheduler's slack."""
    remaining = deadline - clock() - 0.001
    if remaining > 0:
        time.sleep(remaining)
    while clock() < deadline:
        pass


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def serve_one(generate: Callable[[Any], Iterable[Any]], request: Any, index: int, *,
              sync: Callable[[], None] | None = None, clock: Clock = time.perf_counter,
              keep: list[Any] | None = None, arrival: float | None = None) -> RequestTiming:
    """Serve one request and time it; a failure is kept in the returned timing, never raised.

    `keep`, when given, receives every item yielded (the memory pass keeps the outputs). With
    `arrival` (a clock reading), wait until then; a request that arrives while the previous one is
    still being served starts late, and its time to first token includes that wait (MLPerf server).
    """
    if arrival is not None:
        wait_until(arrival, clock)
    if sync is not None:
        sync()
    now = clock()
    timing = RequestTiming(index, now) if arrival is None else RequestTiming(index, arrival, called=now)
    tokens = 0
    first = last = None
    position = -1
    counts = _COUNTS
    try:
        for item in generate(request):
            # The hot path: a sync (on CUDA), one clock read, one dict lookup per item.
            if sync is not None:
                sync()
            now = clock()
            position += 1
            if keep is not None:
                keep.append(item)
            is_count = counts.get(type(item))
            if is_count is None:
                is_count = _is_count_type(type(item))
            if is_count:
                n = int(item)
                if n <= 0:
                    if n < 0:
                        raise RequestFailed(f"item {position} is a negative token count ({n})")
                    continue  # an empty chunk is not a token
                tokens += n
            else:
                tokens += 1
            if first is None:
                first = now
            last = now
        if sync is not None:
            sync()
        timing.ended = clock()
        if tokens == 0:
            raise RequestFailed("the generator yielded no tokens")
    except RequestFailed as exc:
        timing.error = str(exc)
    except Exception as exc:  # the author's generator raised: keep the other requests
        timing.error = f"generate raised {_describe(exc)} after {tokens} token(s)"
    timing.first, timing.last, timing.output_tokens = first, last, tokens
    return timing


def serve_batch(generate: Callable[[list[Any]], Iterable[Sequence[Any]]], requests: Sequence[Any],
                indices: Sequence[int], *, sync: Callable[[], None] | None = None,
                clock: Clock = time.perf_counter, keep: list[list[Any]] | None = None) -> list[RequestTiming]:
    """Serve the requests as one batch (offline); one timing per request.

    `keep`, when given, is one list per request that receives that request's non-None entries.
    A generator that raises fails every request of the batch that had not finished; a malformed
    step fails the batch the same way, naming the step.
    """
    if sync is not None:
        sync()
    started = clock()
    timings = [RequestTiming(index, started) for index in indices]
    size = len(timings)
    tokens = [0] * size
    first: list[float | None] = [None] * size
    last: list[float | None] = [None] * size
    failure = None
    try:
        for step_number, step in enumerate(generate(list(requests))):
            if sync is not None:
                sync()
            now = clock()
            if len(step) != size:
                raise RequestFailed(f"step {step_number} has {len(step)} entries for a batch of {size} requests")
            for slot, item in enumerate(step):
                if item is None:
                    continue
                if keep is not None:
                    keep[slot].append(item)
                n = token_count(item)
                if n < 0:
                    timings[slot].error = f"step {step_number} gives a negative token count ({n})"
                elif n:
                    if first[slot] is None:
                        first[slot] = now
                    tokens[slot] += n
                    last[slot] = now
        if sync is not None:
            sync()
        ended = clock()
    except RequestFailed as exc:
        failure, ended = str(exc), None
    except Exception as exc:
        failure, ended = f"generate raised {_describe(exc)} part-way through the batch", None
    for slot, timing in enumerate(timings):
        timing.first, timing.last, timing.output_tokens = first[slot], last[slot], tokens[slot]
        # A request ends with its last token: the batch goes on for the others.
        timing.ended = last[slot] if ended is not None else None
        if timing.error is None:
            if failure is not None:
                timing.error = failure
            elif tokens[slot] == 0:
                timing.error = "the generator yielded no tokens for this request"
    return timings
