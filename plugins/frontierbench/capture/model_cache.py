"""A disk cache for trained models, keyed by the training code and its seed.

Re-running a suite skips training, yet still reports what training cost (time and energy, with
the energy's provenance), because the cost is stored beside the weights. Changing the training
code, its config or its seed changes the key, so a stale model is never reused.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from frontierbench.formats.atomic import write_json_atomic

DEFAULT_CACHE_DIR = Path(os.environ.get("FRONTIERBENCH_MODEL_CACHE", ".frontierbench/models"))


@dataclass(frozen=True)
class TrainingCost:
    seconds: float
    energy_j: float | None
    energy_method: str  # rapl | nvml | estimated | unavailable
    energy_covers: str | None = None
    cached: bool = False


def cache_key(train_fn: Callable[..., Any], *, seed: int, config: dict[str, Any]) -> str:
    """sha256 over the training function's source, its module's source, the config and the seed."""
    module = inspect.getmodule(train_fn)
    parts = [inspect.getsource(train_fn), inspect.getsource(module) if module else "",
             json.dumps(config, sort_keys=True, default=str), str(seed)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def cached_training(name: str, train_fn: Callable[..., Any], *, seed: int, config: dict[str, Any],
                    cache_dir: str | Path | None = None) -> tuple[Any, TrainingCost]:
    """Return (state, cost): load from the cache, or run `train_fn(seed=seed, **config)` once.

    `train_fn` returns a picklable state (e.g. a torch state_dict); torch.save stores it.
    """
    import torch

    from frontierbench.capture.meters.oneshot import measure_once

    directory = Path(cache_dir or DEFAULT_CACHE_DIR)
    key = cache_key(train_fn, seed=seed, config=config)
    weights = directory / f"{name}-{key}.pt"
    meta = directory / f"{name}-{key}.json"
    if weights.exists() and meta.exists():
        cost = TrainingCost(**{**json.loads(meta.read_text()), "cached": True})
        return torch.load(weights, map_location="cpu", weights_only=False), cost
    state, once = measure_once(lambda: train_fn(seed=seed, **config))
    cost = TrainingCost(seconds=once.seconds, energy_j=once.energy_j, energy_method=once.energy_method,
                        energy_covers=once.energy_covers)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = weights.with_suffix(".pt.tmp")
    torch.save(state, tmp)
    os.replace(tmp, weights)
    write_json_atomic(meta, {k: v for k, v in asdict(cost).items() if k != "cached"})
    return state, cost
