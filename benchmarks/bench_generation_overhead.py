"""Per-token overhead of frontier.measure_generation's timing loop against a bare loop.

Both consume the same generator; the bare loop only counts what it yields, the meter also reads
the clock at every token and keeps the first and last timestamps (capture/meters/generation.py).
Printed per token: the bare loop's time, the meter's, their difference (the overhead) and the
ratio, for a generator that does nothing per token (the worst case) and for one that spins
`--work-us` per token (a very fast real decoder). Best of --repeat runs, in one process.

    python benchmarks/bench_generation_overhead.py [--tokens 200000] [--repeat 7] [--work-us 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from _timing import best_of  # noqa: E402
from frontierbench.capture.meters.generation import serve_one  # noqa: E402


def make_generator(tokens: int, work_s: float):
    def generate(request):
        if work_s <= 0:
            for _ in range(tokens):
                yield "t"
            return
        clock = time.perf_counter
        for _ in range(tokens):
            end = clock() + work_s
            while clock() < end:
                pass
            yield "t"
    return generate


def bare_loop(generate, request) -> int:
    count = 0
    for _ in generate(request):
        count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--work-us", type=float, default=20.0)
    args = parser.parse_args()
    print(f"{'generator':<28} {'bare ns/token':>14} {'meter ns/token':>15} {'overhead ns':>12} {'ratio':>7}")
    for label, tokens, work in (("no work per token", args.tokens, 0.0),
                                (f"{args.work_us:g} µs of work per token", max(1000, args.tokens // 20),
                                 args.work_us * 1e-6)):
        generate = make_generator(tokens, work)
        # Take turns, so a busy machine slows both alike; keep the best of each.
        bare_times, meter_times = [], []
        for _ in range(args.repeat):
            bare_times.append(best_of(lambda g=generate: bare_loop(g, None), repeat=1)[0])
            meter_times.append(best_of(lambda g=generate: serve_one(g, None, 0), repeat=1)[0])
        timing = serve_one(generate, None, 0)
        assert timing.ok and timing.output_tokens == tokens, timing.error
        bare, meter = min(bare_times) / tokens * 1e9, min(meter_times) / tokens * 1e9
        print(f"{label:<28} {bare:>14.1f} {meter:>15.1f} {meter - bare:>12.1f} {meter / bare:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
