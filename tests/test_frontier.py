"""Pareto fronts, dominators, hypervolume and derived metrics, against brute force and by hand."""

from itertools import combinations

import numpy as np
import pytest

from frontierbench.stats.pareto import (
    accuracy_per_watt,
    cost_per_correct,
    counterfactual_fronts,
    dominators,
    full_cycle_energies,
    full_cycle_energy,
    hypervolume,
    pareto_front,
    pareto_front_batch,
    to_minimization,
)


def brute_dominators(values, maximize):
    """The definition, pair by pair: j dominates i when >= everywhere and > somewhere."""
    v = to_minimization(values, maximize)
    return [[j for j in range(len(v)) if np.all(v[j] <= v[i]) and np.any(v[j] < v[i])] for i in range(len(v))]


def random_board(rng, n, k):
    """Small integer grids: plenty of ties and exact duplicates; some NaN."""
    values = rng.integers(0, 4, size=(n, k)).astype(float)
    values[rng.random((n, k)) < 0.15] = np.nan
    maximize = list(rng.random(k) < 0.5)
    return values, maximize


@pytest.mark.parametrize("seed", range(60))
def test_front_and_dominators_match_brute_force_with_ties_and_duplicates(seed):
    rng = np.random.default_rng(seed)
    values, maximize = random_board(rng, n=int(rng.integers(1, 60)), k=int(rng.integers(1, 6)))
    expected = brute_dominators(values, maximize)
    assert dominators(values, maximize) == expected
    assert pareto_front(values, maximize).tolist() == [not d for d in expected]
    v_min = to_minimization(values, maximize)[None]
    candidates = rng.choice(len(values), size=int(rng.integers(0, len(values) + 1)), replace=False)
    assert pareto_front_batch(v_min).tolist()[0] == [not d for d in expected]
    assert pareto_front_batch(v_min, candidates).tolist()[0] == [not d for d in expected]


def test_large_continuous_board_matches_brute_force():
    rng = np.random.default_rng(7)
    values = rng.random((700, 4))
    expected = [not d for d in brute_dominators(values, [False, True, False, True])]
    assert pareto_front(values, [False, True, False, True]).tolist() == expected


def test_duplicates_of_a_front_point_are_all_on_the_front():
    # latency (min), accuracy (max)
    values = np.array([[10.0, 0.9], [10.0, 0.9], [20.0, 0.95], [20.0, 0.8], [20.0, 0.8]])
    assert pareto_front(values, [False, True]).tolist() == [True, True, True, False, False]
    assert dominators(values, [False, True])[3] == [0, 1, 2]


def test_direction_matters():
    values = np.array([[1.0, 1.0], [2.0, 2.0]])
    assert pareto_front(values, [False, False]).tolist() == [True, False]
    assert pareto_front(values, [True, True]).tolist() == [False, True]
    assert pareto_front(values, [False, True]).tolist() == [True, True]


def test_missing_value_counts_as_worst():
    values = np.array([[1.0, np.nan], [2.0, 0.5]])
    assert pareto_front(values, [False, True]).tolist() == [True, True]  # best latency still counts
    values = np.array([[2.0, np.nan], [1.0, 0.5]])
    assert pareto_front(values, [False, True]).tolist() == [False, True]


def test_hypervolume_2d_staircase_by_hand():
    points = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.5, 3.5]])  # the last one is dominated
    # strips: (2-1)*(4-3) + (3-2)*(4-2) + (4-3)*(4-1) = 1 + 2 + 3
    assert hypervolume(points, [False, False], [4.0, 4.0]) == pytest.approx(6.0)


def test_hypervolume_3d_by_hand_and_reference_filter():
    points = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    # boxes 2*2*1 + 2*1*2 minus their overlap 2*1*1
    assert hypervolume(points, [False] * 3, [2.0, 2.0, 2.0]) == pytest.approx(6.0)
    # a point not better than the reference on every axis contributes nothing
    assert hypervolume(np.array([[0.0, 0.0, 3.0]]), [False] * 3, [2.0, 2.0, 2.0]) == 0.0


def test_hypervolume_with_maximised_quality():
    # latency (min) ref 1.0 s, accuracy (max) ref 0.5: box (1 - 0.2) * (0.9 - 0.5)
    assert hypervolume(np.array([[0.2, 0.9]]), [False, True], [1.0, 0.5]) == pytest.approx(0.32)


def inclusion_exclusion(points, ref):
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in combinations(range(len(points)), size):
            corner = points[list(subset)].max(axis=0)
            total += (-1) ** (size + 1) * np.prod(np.clip(ref - corner, 0, None))
    return total


@pytest.mark.parametrize("seed", range(12))
def test_hypervolume_matches_inclusion_exclusion(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 5))
    points = rng.integers(0, 5, size=(int(rng.integers(1, 9)), k)).astype(float)
    ref = np.full(k, 5.0)
    assert hypervolume(points, [False] * k, ref) == pytest.approx(inclusion_exclusion(points, ref))


def test_cost_per_correct():
    assert cost_per_correct(2.0, 0.5) == 4.0  # 2 J per attempt, half of them right: 4 J per correct item
    assert cost_per_correct(2.0, 0.0) is None
    assert cost_per_correct(None, 0.5) is None


def test_accuracy_per_watt():
    # 100 J over 10 s is 10 W; 0.9 accuracy / 10 W
    assert accuracy_per_watt(0.9, 100.0, 10.0) == pytest.approx(0.09)
    assert accuracy_per_watt(0.9, 0.0, 10.0) is None


def test_full_cycle_energy():
    assert full_cycle_energy(1000.0, 0.5, 1000) == 1500.0
    assert full_cycle_energy(None, 0.5, 1000) is None  # missing training energy is not faked as 0
    assert full_cycle_energies(10.0, 1.0, [1, 100]) == {1: 11.0, 100: 110.0}


def test_counterfactual_fronts():
    # latency (min), accuracy (max); the "int8" family holds the fast end of the frontier
    values = np.array([[1.0, 0.80], [2.0, 0.90], [1.5, 0.70], [3.0, 0.95]])
    families = ["int8", "fp32", "pruned", None]
    fronts = counterfactual_fronts(values, [False, True], families)
    assert fronts == {"fp32": [0, 3], "int8": [1, 2, 3], "pruned": [0, 1, 3]}
