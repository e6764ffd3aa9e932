"""Synthetic leaderboards for the site tests and the site benchmark.

Built with the real pydantic models, so they are valid leaderboards by construction. Everything
is drawn from a seeded generator: the same arguments always give the same leaderboard. The
default board carries a hostile entry name and hostile environment fields, so every page the
tests render has something to escape.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np

from frontierbench.formats.leaderboard import (
    Group,
    HistoryPoint,
    InputRun,
    Leaderboard,
    LeaderboardEntry,
    MetricEstimate,
    Objective,
    save_leaderboard,
)
from frontierbench.formats.reliability import (
    BudgetPoint,
    EntryReliability,
    FamilyReport,
    NeedsMore,
    ReliabilityReport,
)

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "</script><script>alert(2)</script>"

OBJECTIVES = [
    Objective(metric="accuracy", direction="max", margin=0.005, margin_kind="absolute", label="Accuracy", unit=""),
    Objective(metric="wall_time", direction="min", margin=0.01, label="Latency", unit="s", log_scale=True),
    Objective(metric="energy", direction="min", margin=0.02, label="Energy", unit="J", log_scale=True),
    Objective(metric="peak_memory", direction="min", margin=0.01, label="Peak memory", unit="B", log_scale=True),
]
UNITS = {"accuracy": "", "wall_time": "s", "energy": "J", "peak_memory": "B", "carbon": "gCO2e"}


def entry_names(n: int, hostile: bool) -> list[str]:
    variants = ["fp32", "int8-dynamic", "pruned-50", "distilled", "fp16", "lora-r8", "onnx", "compiled"]
    names = [f"{variants[i % len(variants)]}-{i:03d}" for i in range(n)]
    if hostile and n >= 2:
        names[1] = HOSTILE_NAME
    if hostile and n >= 4:
        names[3] = HOSTILE_SCRIPT
    return names


def _front(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the Pareto front; points are oriented so that lower is better."""
    le = (points[:, None, :] <= points[None, :, :]).all(axis=2)
    lt = (points[:, None, :] < points[None, :, :]).any(axis=2)
    dominates = le & lt  # dominates[i, j]: i dominates j
    return ~dominates.any(axis=0), dominates


def _estimate(rng: random.Random, value: float, unit: str, higher: bool, samples: list[float], kind: str,
              method: str) -> MetricEstimate:
    if kind == "items":  # the interval of a mean, not the spread of 0/1 scores
        half = 1.96 * (value * (1 - value) / len(samples)) ** 0.5
        low, high = value - half, value + half
    else:
        ordered = sorted(samples)
        low = ordered[int(0.025 * (len(ordered) - 1))]
        high = ordered[int(round(0.975 * (len(ordered) - 1)))]
    runs = [value * (1 + rng.uniform(-0.08, 0.08)) for _ in range(2)]
    spread = (max(runs) - min(runs)) / abs(value) if value else None
    return MetricEstimate(
        value=value, low=min(low, value), high=max(high, value), unit=unit, higher_is_better=higher,
        estimator="mean" if kind == "items" else "median", interval="bootstrap", n=len(samples),
        sample_kind=kind, samples=samples, run_values=runs, run_spread=spread,
        provenance={"method": method, "covers": "one call of the measured function", "meter": f"frontier-{method}"},
    )


def make_group(board: str, hardware_class: str, n_entries: int, *, seed: int, rounds: int, items: int,
               hostile: bool, with_reliability: bool = True) -> Group:
    rng = random.Random(f"{board}/{hardware_class}/{seed}")
    names = entry_names(n_entries, hostile)
    speed = 1.0 if hardware_class.startswith("cpu") else 0.08
    entries: list[LeaderboardEntry] = []
    table = []
    for index, name in enumerate(names):
        size = rng.uniform(0.2, 3.0)
        accuracy = min(0.995, 0.80 + 0.06 * np.log1p(size) + rng.uniform(-0.03, 0.03))
        latency = speed * 1e-3 * size * rng.uniform(0.6, 1.6)
        energy = latency * rng.uniform(15, 60)
        memory = 2e7 * size * rng.uniform(0.8, 1.3)
        if index == 5 and n_entries > 6:  # a tie on the primary objective
            accuracy = table[4][0]
        estimated = index % 4 == 2
        noisy = index % 7 == 3
        jitter = 0.25 if noisy else 0.03
        time_samples = [latency * (1 + rng.gauss(0, jitter / 3)) for _ in range(rounds)]
        energy_samples = [energy * (1 + rng.gauss(0, 0.05)) for _ in range(rounds)]
        correct = [1.0 if rng.random() < accuracy else 0.0 for _ in range(items)]
        metrics = {
            "accuracy": _estimate(rng, accuracy, "", True, correct, "items", "per-item"),
            "wall_time": _estimate(rng, latency, "s", False, time_samples, "rounds", "pytest-benchmark"),
            "energy": _estimate(rng, energy, "J", False, energy_samples, "rounds",
                                "estimated" if estimated else "rapl"),
            "peak_memory": MetricEstimate(value=memory, unit="B", higher_is_better=False, n=1,
                                          provenance={"method": "vmhwm", "covers": "process peak RSS"}),
            "carbon": MetricEstimate(value=energy * 0.1, unit="gCO2e", higher_is_better=False,
                                     estimator="derived", provenance={"method": "derived",
                                                                      "grid_intensity_g_per_kwh": 360}),
        }
        if noisy:
            metrics["wall_time"].run_spread = 0.22
        table.append((accuracy, latency, energy, memory))
        history = [
            HistoryPoint(run_id=f"run-{seed}-{k}", started_at=f"2026-0{k + 1}-01T00:00:00Z",
                         git_commit=hashlib.sha1(f"{k}".encode()).hexdigest(), board_version=f"1.{k}",
                         values={"accuracy": accuracy - 0.01 * (2 - k), "wall_time": latency * (1 + 0.1 * (2 - k))})
            for k in range(3)
        ]
        entries.append(LeaderboardEntry(
            name=name, family=["quantised", "pruned", "baseline"][index % 3],
            params={"variant": name, "batch": 64, "note": HOSTILE_NAME if hostile and index == 0 else "plain"},
            device="cpu" if hardware_class.startswith("cpu") else "cuda",
            nodeids=[f"suite/{board}/test_models.py::test_classifier[{name}]"],
            runs=[f"run-{seed}-2"], metrics=metrics, energy_method="estimated" if estimated else "rapl",
            history=history,
        ))
    oriented = np.array([(-a, t, e, m) for a, t, e, m in table])
    on_front, dominates = _front(oriented)
    for index, entry in enumerate(entries):
        entry.on_front = bool(on_front[index])
        entry.dominated_by = sorted(names[j] for j in np.flatnonzero(dominates[:, index]))
    frontier = sorted(names[i] for i in np.flatnonzero(on_front))
    reliability = None
    if with_reliability:
        reliability = _reliability(rng, names, table, on_front, dominates, rounds, items)
    return Group(
        hardware_class=hardware_class, board_version="1.2",
        environment={
            "hardware_class": hardware_class,
            "cpu": {"model": "Synthetic CPU 9000", "cores": 8, "flags_hash": "abc123"},
            "python": "3.11.7", "platform": "Linux-6.1-x86_64",
            "hostname": HOSTILE_SCRIPT if hostile else "runner-1",
            "packages": {"torch": "2.13.0+cpu", "numpy": "2.4.6", "pytest-benchmark": "5.2.3"},
            "git": {"commit": "0" * 40, "dirty": False},
            "carbon_intensity_g_per_kwh": 360,
        },
        energy_method="mixed",
        entries=entries, frontier=frontier, hypervolume=0.42,
        notes=["Energy of every fourth entry is estimated from TDP and utilisation."],
        reliability=reliability,
    )


def _reliability(rng, names, table, on_front, dominates, rounds, items) -> ReliabilityReport:
    order = sorted(range(len(names)), key=lambda i: -table[i][0])
    ranks: dict[int, int] = {}
    for position, i in enumerate(order):
        previous = order[position - 1] if position else None
        ranks[i] = ranks[previous] if previous is not None and table[previous][0] == table[i][0] else position + 1
    entries = {}
    for i, name in enumerate(names):
        p_front = 1.0 if on_front[i] and i % 3 else (0.6 if on_front[i] else rng.choice([0.0, 0.0, 0.02, 0.2]))
        label = ("robust" if p_front >= 0.95 else "likely" if p_front >= 0.5
                 else "borderline" if p_front >= 0.05 else "off")
        dominators = np.flatnonzero(dominates[:, i])
        rank = ranks[i]
        ties = sorted(names[j] for j in range(len(names)) if j != i and table[j][0] == table[i][0])
        entries[name] = EntryReliability(
            p_front=p_front, front_label=label, rank=rank,
            rank_interval=(max(1, rank - 1), min(len(names), rank + 2)),
            p_top1=1.0 if rank == 1 else 0.0, p_topk=1.0 if rank <= 3 else 0.1,
            intervals={"accuracy": (table[i][0] - 0.02, table[i][0] + 0.02)},
            sole_dominator=names[dominators[0]] if len(dominators) == 1 else None,
            tied_with=ties,
        )
    leader = names[order[0]]
    return ReliabilityReport(
        seed=0, draws=1000, leader=leader, leader_stable_loo=False, leader_flipped_by=[names[order[-1]]],
        delta_front=sorted(names[i] for i in np.flatnonzero(on_front))[:5],
        entries=entries,
        families=[
            FamilyReport(family="A", description="measurement: bootstrap of rounds", applicable=True, draws=1000,
                         dior_front=0.81, dior_rank=0.93, dior_leader=0.97),
            FamilyReport(family="B", description="items: paired bootstrap of test items", applicable=True,
                         draws=1000, dior_front=0.96, dior_rank=0.71, dior_leader=0.88),
            FamilyReport(family="C", description="benchmarks: bootstrap of sub-tasks", applicable=False,
                         reason="the board has a single task"),
            FamilyReport(family="D", description="entries: leave one entry out", applicable=True,
                         draws=len(names), dior_front=1.0, dior_rank=0.98, dior_leader=0.9),
            FamilyReport(family="E", description="sub-tasks: leave one sub-task out", applicable=False,
                         reason="the board has a single task"),
        ],
        budget=[BudgetPoint(fraction=f, rounds=max(1, int(rounds * f)), items=max(1, int(items * f)),
                            dior_front=d, dior_rank=d - 0.05, dior_leader=d)
                for f, d in ((1.0, 0.97), (0.5, 0.96), (0.25, 0.9), (0.125, 0.7))],
        smallest_reliable_fraction=0.5,
        needs_more=[NeedsMore(entry=name, p_front=entries[name].p_front, suggested_rounds=rounds * 4,
                              suggested_items=items * 2)
                    for name in names if entries[name].front_label in ("likely", "borderline")][:10],
        reliable=False,
    )


def make_leaderboard(board: str = "digits", *, n_entries: int = 12,
                     hardware_classes: tuple[str, ...] = ("cpu-x86_64-8c", "cuda-h100-80gb"),
                     seed: int = 0, rounds: int = 20, items: int = 200, hostile: bool = True,
                     with_reliability: bool = True) -> Leaderboard:
    groups = [make_group(board, hw, n_entries, seed=seed, rounds=rounds, items=items, hostile=hostile,
                         with_reliability=with_reliability or index > 0)
              for index, hw in enumerate(hardware_classes)]
    return Leaderboard(
        board=board, title=f"{board.title()} classifiers <b>bold?</b>",
        description="Accuracy against latency, energy and memory for small classifiers.",
        objectives=OBJECTIVES, primary="accuracy",
        reference_point={"accuracy": 0.5, "wall_time": 1.0, "energy": 100.0, "peak_memory": 1e9},
        top_k=3, generated_at="2026-03-01T00:00:00Z",
        inputs=[InputRun(path=f"runs/run-{seed}-2.json", sha256="f" * 64, run_id=f"run-{seed}-2",
                         started_at="2026-03-01T00:00:00Z", status="complete", git_commit="0" * 40)],
        groups=groups,
    )


def write_leaderboards(root: Path, boards: list[Leaderboard]) -> list[Path]:
    """Save each board as leaderboards/<board>/leaderboard.json under root; return the paths."""
    paths = []
    for board in boards:
        paths.append(save_leaderboard(board, Path(root) / board.board / "leaderboard.json"))
    return paths
