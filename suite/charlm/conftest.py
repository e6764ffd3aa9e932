"""Fixtures for the `charlm` board: the trained character-level models and the greedy references."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The board's model code sits beside its tests; make it importable whatever pytest's import mode.
HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import charlm_decoding as dec  # noqa: E402
import charlm_zoo  # noqa: E402


@pytest.fixture(scope="session")
def charlm(model_cache_dir) -> charlm_zoo.CharZoo:
    """The target (2 layers, d 128) and draft (1 layer, d 64), trained once and cached on disk."""
    return charlm_zoo.CharZoo(model_cache_dir)


@pytest.fixture(scope="session")
def charlm_references(charlm):
    """fp32 no-cache greedy continuations, per (device, n_new, n_prompts): what exact match checks."""
    cache: dict[tuple[str, int, int], list[list[int]]] = {}

    def reference(device: str, n_new: int, n_prompts: int) -> list[list[int]]:
        key = (device, n_new, n_prompts)
        if key not in cache:
            with charlm_zoo.inference_threads():
                generate = charlm.generator("no-cache", device)
                cache[key] = [generate(p, n_new) for p in charlm.prompts(n_prompts, device)]
        return cache[key]

    return reference


@pytest.fixture(scope="session")
def charlm_evaluations(charlm):
    """Held-out evaluation per (variant, device), shared by both generation lengths."""
    cache: dict[tuple[str, str], dec.Evaluation] = {}

    def evaluation(variant: str, device: str) -> dec.Evaluation:
        if (variant, device) not in cache:
            with charlm_zoo.inference_threads():
                cache[variant, device] = charlm.evaluate(variant, device)
        return cache[variant, device]

    return evaluation
