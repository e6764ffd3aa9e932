"""A synthetic history: many daily runs of one board, one entry of which steps at a known run.

Shared by the change-detection tests and the browser test of the history chart.

    paths = daily_history(tmp_path)   # tmp_path/leaderboards/toy/board.toml, tmp_path/runs/*.json
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from factories import board_definition, case, run_record, write_board
from frontierbench.formats.run import save_run

STEPPER = "stepper"


def commit_of(run: int) -> str:
    return f"{run:04x}".ljust(40, "c")


def daily_history(root: str | Path, *, runs: int = 20, steady: int = 20, step_run: int = 12, step: float = 1.2,
                  run_noise: float = 0.03, seed: int = 0, board: str = "toy") -> list[Path]:
    """`runs` daily run records (run 1 is the oldest). Each run scales every entry's timing and
    energy by its own lognormal factor (sd `run_noise`), around 10 rounds of 1% within-run noise;
    from run `step_run` on, the entry STEPPER is `step` times slower and hungrier. Accuracy is the
    same per-item scores every run (a deterministic model). Returns the run files, oldest first.
    """
    root = Path(root)
    write_board(root / "leaderboards", board_definition(board))
    rng = np.random.default_rng(seed)
    names = [STEPPER] + [f"steady-{i:02d}" for i in range(steady)]
    scores = {name: (rng.random(100) < 0.6 + 0.3 * i / len(names)).astype(float) for i, name in enumerate(names)}
    start = datetime(2026, 1, 1, 6, tzinfo=timezone.utc)
    paths = []
    for run in range(1, runs + 1):
        cases = []
        for i, name in enumerate(names):
            level = 0.01 * (i + 1) * float(rng.lognormal(0.0, run_noise))
            if name == STEPPER and run >= step_run:
                level *= step
            cases.append(case(name, board=board, wall_time=level * rng.lognormal(0.0, 0.01, 10),
                              accuracy=scores[name], energy=round(level * 50.0, 9), items=32))
        moment = (start + timedelta(days=run - 1)).isoformat()
        record = run_record(cases, run_id=f"run-{run:02d}", started_at=moment, git_commit=commit_of(run))
        paths.append(save_run(record, root / "runs" / f"run-{run:02d}.json"))
    return paths
