"""The charlm corpus: real text that ships with CPython, split into train and held-out test.

The text is a fixed list of standard-library source files plus the prose of `pydoc_data.topics`
(the help topics of the language reference). Nothing is downloaded. The corpus depends on the
Python version, so its sha256 goes into the training config and a different CPython retrains.
"""

from __future__ import annotations

import hashlib
import sysconfig
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

# Newline plus printable ASCII; anything else becomes "?" (tabs become four spaces first).
VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))
STOI = {ch: i for i, ch in enumerate(VOCAB)}
UNKNOWN = STOI["?"]

STDLIB_MODULES = (
    "argparse", "dataclasses", "functools", "textwrap", "enum", "random", "statistics",
    "string", "heapq", "bisect", "fractions", "difflib", "shutil", "tempfile", "contextlib",
    "abc", "copy", "pprint", "csv", "calendar", "pathlib", "fnmatch", "glob", "queue", "shlex",
    "numbers", "operator", "collections/__init__", "json/encoder", "json/decoder",
)

BLOCK_CHARS = 2048      # the split unit: whole blocks go to train or test
TEST_FRACTION = 0.1
SPLIT_SEED = 20240601


def encode(text: str) -> list[int]:
    return [STOI.get(ch, UNKNOWN) for ch in text.replace("\t", "    ")]


def decode(ids) -> str:
    return "".join(VOCAB[int(i)] for i in ids)


def _raw_text() -> str:
    from pydoc_data.topics import topics

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts = [topics[key] for key in sorted(topics)]
    parts += [(stdlib / f"{name}.py").read_text(encoding="utf-8") for name in STDLIB_MODULES]
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Corpus:
    train: torch.Tensor          # int64 ids, the train blocks concatenated
    test_blocks: tuple[torch.Tensor, ...]
    sha256: str                  # of the encoded text and the split: goes into the training config

    @property
    def test(self) -> torch.Tensor:
        return torch.cat(self.test_blocks)


@lru_cache(maxsize=1)
def load_corpus() -> Corpus:
    ids = np.asarray(encode(_raw_text()), dtype=np.int64)
    n_blocks = len(ids) // BLOCK_CHARS
    order = np.random.default_rng(SPLIT_SEED).permutation(n_blocks)
    n_test = max(1, int(round(n_blocks * TEST_FRACTION)))
    test_idx, train_idx = sorted(order[:n_test]), sorted(order[n_test:])
    block = lambda b: torch.from_numpy(ids[b * BLOCK_CHARS:(b + 1) * BLOCK_CHARS].copy())  # noqa: E731
    train = torch.cat([block(b) for b in train_idx])
    test_blocks = tuple(block(b) for b in test_idx)
    digest = hashlib.sha256(ids.tobytes() + np.asarray(test_idx, dtype=np.int64).tobytes()).hexdigest()[:16]
    return Corpus(train=train, test_blocks=test_blocks, sha256=digest)


def heldout_windows(corpus: Corpus, n: int, length: int) -> torch.Tensor:
    """n windows of `length + 1` ids from the test blocks: inputs [:, :-1], targets [:, 1:]."""
    return _spread(corpus, n, length + 1, phase=0)


def prompts(corpus: Corpus, n: int, length: int) -> list[torch.Tensor]:
    """n prompts of `length` ids from the test blocks, at offsets disjoint from the eval windows."""
    return list(_spread(corpus, n, length, phase=BLOCK_CHARS // 2))


def _spread(corpus: Corpus, n: int, length: int, phase: int) -> torch.Tensor:
    """Evenly spread, deterministic windows: window i comes from test block i mod #blocks."""
    blocks = corpus.test_blocks
    if length > BLOCK_CHARS // 2:
        raise ValueError(f"window length {length} exceeds half a block ({BLOCK_CHARS // 2})")
    rows = []
    for i in range(n):
        block = blocks[i % len(blocks)]
        lap = i // len(blocks)                   # a second pass over the blocks shifts the offset
        start = (phase + lap * length) % (BLOCK_CHARS - length)
        rows.append(block[start:start + length])
    return torch.stack(rows)
