"""Known-answer tests for the decision-impact-on-reliability checks (docs/reliability.md)."""

import numpy as np
import pytest

from frontierbench.formats.board import BoardDefinition
from frontierbench.stats.pareto import pareto_front
from frontierbench.formats.leaderboard import Group, LeaderboardEntry, MetricEstimate, Objective
from frontierbench.reliability import (
    BoardSamples,
    ObjectiveSpec,
    assess,
    assess_group,
    front_label,
    mean_win_rate,
    suggested_count,
    wilson_lower,
)

LATENCY = ObjectiveSpec("latency", maximize=False, margin=0.01)
ACCURACY = ObjectiveSpec("accuracy", maximize=True, margin=0.005, margin_kind="absolute")


def items_with_accuracy(p, n_items=400):
    k = int(round(p * n_items))
    return np.array([1.0] * k + [0.0] * (n_items - k))


def separated_board(rng):
    """Five entries on a latency/accuracy trade-off, far apart compared with their noise."""
    latency = [0.010, 0.020, 0.040, 0.080, 0.100]
    accuracy = [0.30, 0.50, 0.70, 0.95, 0.40]  # the last one is dominated by "small", "base" and "large"
    return BoardSamples(
        entries=["tiny", "small", "base", "large", "bloated"],
        objectives=[LATENCY, ACCURACY],
        primary="accuracy",
        cost_rounds={"latency": [rng.normal(t, t * 0.002, size=10) for t in latency]},
        quality_items={"accuracy": np.stack([rng.permutation(items_with_accuracy(p, 2000)) for p in accuracy])},
    )


def twin_board(rng):
    """Two entries with the same distribution: the second's samples are the first's, shuffled."""
    latency = rng.lognormal(np.log(0.05), 0.1, size=20)
    correct = (rng.random(500) < 0.7).astype(float)
    return BoardSamples(
        entries=["a", "b"],
        objectives=[LATENCY, ACCURACY],
        primary="accuracy",
        cost_rounds={"latency": [latency, rng.permutation(latency)]},
        quality_items={"accuracy": np.stack([correct, rng.permutation(correct)])},
    )


def test_entries_far_beyond_their_noise_are_reliable():
    report = assess(separated_board(np.random.default_rng(0)), draws=500)
    applicable = {f.family: f for f in report.families if f.applicable}
    assert set(applicable) == {"A", "B", "D"}
    for family in applicable.values():
        assert family.dior_front == 1.0 and family.dior_rank == 1.0
        assert family.leader_agreement == 1.0
        assert family.dior_leader >= 0.99  # Wilson lower bound of 500/500
    assert report.reliable
    assert report.leader == "large" and report.leader_stable_loo
    assert {name: e.p_front for name, e in report.entries.items()} == {
        "tiny": 1.0, "small": 1.0, "base": 1.0, "large": 1.0, "bloated": 0.0}
    assert report.entries["bloated"].front_label == "off"
    assert report.entries["large"].front_label == "robust"
    assert report.entries["large"].rank_interval == (1, 1)
    assert all(not e.tied_with for e in report.entries.values())
    assert report.needs_more == []
    low, high = report.entries["base"].intervals["latency"]
    assert low < 0.040 < high and high - low < 0.001


def test_entries_with_the_same_distribution_are_a_tie():
    report = assess(twin_board(np.random.default_rng(1)), draws=1000)
    a, b = report.entries["a"], report.entries["b"]
    assert 0.2 < a.p_front < 0.8 and 0.2 < b.p_front < 0.8
    assert a.tied_with == ["b"] and b.tied_with == ["a"]
    assert 0.2 < a.p_top1 < 0.8
    assert not report.reliable
    leader_b = next(f for f in report.families if f.family == "B")
    assert leader_b.dior_leader < 0.5
    # both need more data, and more than they have
    assert {n.entry for n in report.needs_more} == {"a", "b"}
    assert all(n.suggested_rounds > 20 and n.suggested_items > 500 for n in report.needs_more)


# The paper's toy case. Five sub-tasks: A wins two of them by far, B wins three by a hair.
# The absolute score (mean over sub-tasks) puts A first with or without W. The mean win rate
# puts B first between A and B alone, but A first once a weak entry W is added, because A
# beats W where B does not.
SUBTASK_MEANS = {"A": [0.9, 0.9, 0.70, 0.70, 0.70], "B": [0.5, 0.5, 0.71, 0.71, 0.71], "W": [0.6, 0.6, 0.3, 0.3, 0.3]}


def toy_board(names, aggregate):
    subtasks = {f"s{j}": np.stack([items_with_accuracy(SUBTASK_MEANS[e][j], 100) for e in names]) for j in range(5)}
    return BoardSamples(
        entries=names, objectives=[ACCURACY, LATENCY], primary="accuracy",
        subtasks=subtasks, subtask_metric="accuracy", point={"latency": np.ones(len(names))},
        quality_aggregate=aggregate,
    )


def test_mean_win_rate_leader_flips_with_a_weak_entry_and_the_loo_check_says_so():
    without_w = assess(toy_board(["A", "B"], "mean_win_rate"), draws=200)
    with_w = assess(toy_board(["A", "B", "W"], "mean_win_rate"), draws=200)
    assert without_w.leader == "B" and with_w.leader == "A"  # adding a weak entry flips the leader
    assert with_w.entries["W"].rank == 3
    assert not with_w.leader_stable_loo and with_w.leader_flipped_by == ["W"]
    family_d = next(f for f in with_w.families if f.family == "D")
    assert family_d.dior_leader < 0.95 and not with_w.reliable


def test_absolute_score_leader_is_unaffected_by_the_weak_entry():
    without_w = assess(toy_board(["A", "B"], "mean"), draws=200)
    with_w = assess(toy_board(["A", "B", "W"], "mean"), draws=200)
    assert without_w.leader == with_w.leader == "A"
    assert with_w.leader_stable_loo and with_w.leader_flipped_by == []
    family_d = next(f for f in with_w.families if f.family == "D")
    assert (family_d.dior_front, family_d.dior_rank, family_d.dior_leader) == (1.0, 1.0, 1.0)


def test_sub_task_families_apply_only_with_sub_tasks():
    with_subtasks = assess(toy_board(["A", "B", "W"], "mean"), draws=100)
    assert {f.family for f in with_subtasks.families if f.applicable} == {"B", "C", "D", "E"}
    family_e = next(f for f in with_subtasks.families if f.family == "E")
    assert family_e.draws == 5  # leave each of the five sub-tasks out once
    without = assess(separated_board(np.random.default_rng(0)), draws=100)
    family_c = next(f for f in without.families if f.family == "C")
    assert not family_c.applicable and "sub-tasks" in family_c.reason


def test_mean_win_rate_by_hand():
    scores = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.5]])
    # column 0: 1, 0.5, 0; column 1: 0, 0.75, 0.75 (a tie counts half)
    assert mean_win_rate(scores).tolist() == pytest.approx([0.5, 0.625, 0.375])


@pytest.mark.parametrize("seed", range(8))
def test_sole_dominator_matches_brute_force_leave_one_out(seed):
    rng = np.random.default_rng(seed)
    n = 12
    values = rng.integers(0, 5, size=(n, 3)).astype(float)  # ties and duplicates included
    objectives = [ObjectiveSpec("latency", False), ObjectiveSpec("energy", False), ObjectiveSpec("accuracy", True)]
    samples = BoardSamples(entries=[f"e{i}" for i in range(n)], objectives=objectives, primary="accuracy",
                           point={o.metric: values[:, d] for d, o in enumerate(objectives)})
    report = assess(samples, draws=10, budget=False)
    maximize = [False, False, True]
    on_front = pareto_front(values, maximize)
    for i in range(n):
        if on_front[i]:
            assert report.entries[f"e{i}"].sole_dominator is None
            continue
        # which single removal puts entry i on the front?
        rescuers = [j for j in range(n) if j != i
                    and pareto_front(np.delete(values, j, axis=0), maximize)[i - (j < i)]]
        expected = f"e{rescuers[0]}" if len(rescuers) == 1 else None
        assert report.entries[f"e{i}"].sole_dominator == expected


def test_delta_front_uses_the_practical_margins():
    # "close" is dominated by "best" but by less than 1% latency and 0.5 points of accuracy
    values = {"latency": np.array([100.0, 100.5, 200.0]), "accuracy": np.array([0.900, 0.899, 0.500])}
    samples = BoardSamples(entries=["best", "close", "slow"], objectives=[LATENCY, ACCURACY], primary="accuracy",
                           point=values)
    report = assess(samples, draws=10, budget=False)
    assert report.front == ["best"]
    assert report.delta_front == ["best", "close"]


def test_same_seed_same_report_and_the_seed_is_stored():
    first = assess(twin_board(np.random.default_rng(2)), draws=300, seed=11)
    again = assess(twin_board(np.random.default_rng(2)), draws=300, seed=11)
    other = assess(twin_board(np.random.default_rng(2)), draws=300, seed=12)
    assert first.model_dump_json() == again.model_dump_json()
    assert first.seed == 11
    assert first.model_dump_json() != other.model_dump_json()


def test_budget_finds_that_far_apart_entries_need_few_items():
    report = assess(separated_board(np.random.default_rng(0)), draws=200)
    assert report.budget[0].fraction == 0.5
    assert report.smallest_reliable_fraction is not None and report.smallest_reliable_fraction <= 1 / 4
    reliable = [p for p in report.budget if p.fraction >= report.smallest_reliable_fraction]
    assert all(p.dior_front >= 0.95 and p.dior_rank >= 0.95 and p.dior_leader >= 0.95 for p in reliable)


def test_helpers():
    assert wilson_lower(1000, 1000) == pytest.approx(0.99617, abs=1e-5)
    assert wilson_lower(0, 10) == 0.0
    assert [front_label(p) for p in (0.95, 0.5, 0.05, 0.049)] == ["robust", "likely", "borderline", "off"]
    assert suggested_count(10, 0.5) == 160  # a coin flip: the cap, 16x
    assert suggested_count(10, 0.9) == 20  # almost there: at least double


def group_and_board():
    rng = np.random.default_rng(3)

    def entry(name, latency, accuracy, family=None, with_accuracy=True):
        metrics = {"latency": MetricEstimate(value=float(np.median(latency)), unit="s", higher_is_better=False,
                                             estimator="median", sample_kind="rounds", samples=list(latency))}
        if with_accuracy:
            metrics["accuracy"] = MetricEstimate(value=float(np.mean(accuracy)), unit="", higher_is_better=True,
                                                 estimator="mean", sample_kind="items", samples=list(accuracy))
        return LeaderboardEntry(name=name, family=family, metrics=metrics)

    entries = [entry("fp32", rng.normal(0.05, 1e-4, 8), items_with_accuracy(0.95, 300), "fp32"),
               entry("int8", rng.normal(0.02, 1e-4, 8), items_with_accuracy(0.90, 300), "int8"),
               entry("broken", rng.normal(0.01, 1e-4, 8), None, with_accuracy=False)]
    group = Group(hardware_class="cpu-test", board_version="1", entries=entries)
    board = BoardDefinition(name="toy", title="Toy", version="1", primary="accuracy",
                            objectives=[Objective(metric="latency", direction="min", margin=0.01),
                                        Objective(metric="accuracy", direction="max", margin=0.005,
                                                  margin_kind="absolute")],
                            reference_point={"latency": 1.0, "accuracy": 0.0})
    return group, board


def test_assess_group_reads_the_samples_of_a_leaderboard_group():
    group, board = group_and_board()
    report = assess_group(group, board, draws=200, seed=5)
    assert set(report.entries) == {"fp32", "int8"}
    assert any("broken" in note for note in report.notes)  # left out, and said so
    assert report.leader == "fp32" and report.reliable
    assert report.seed == 5 and report.draws == 200
    # int8's box (1 - 0.02) x 0.90 plus the strip fp32 adds above it, (1 - 0.05) x (0.95 - 0.90)
    assert report.hypervolume == pytest.approx(0.98 * 0.90 + 0.95 * 0.05, rel=1e-2)
    assert {f.family for f in report.families if f.applicable} == {"A", "B"}
