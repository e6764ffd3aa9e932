"""Fixtures for the `digits` board: the data split and the trained models."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The board's model code sits beside its tests; make it importable whatever pytest's import mode.
HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import digits_models  # noqa: E402


@pytest.fixture(scope="session")
def digits() -> digits_models.Digits:
    """sklearn's 1,797 bundled 8x8 digits, split 80/20 (stratified, seed 0)."""
    return digits_models.load_digits()


@pytest.fixture(scope="session")
def digits_zoo(model_cache_dir) -> digits_models.DigitsZoo:
    """The trained teacher and its derived models, from the on-disk training cache."""
    return digits_models.DigitsZoo(model_cache_dir)
