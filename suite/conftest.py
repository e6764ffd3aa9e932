"""Shared fixtures for the reference suite: the device axis and the model cache."""

from __future__ import annotations

import pytest


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.fixture(params=["cpu", "cuda"])
def device(request) -> str:
    """Every case runs on CPU, and on CUDA where a CUDA device is present."""
    if request.param == "cuda" and not _cuda_available():
        pytest.skip("CUDA is not available on this machine (torch.cuda.is_available() is False)")
    return request.param


@pytest.fixture(scope="session")
def model_cache_dir(request):
    from frontierbench.capture.model_cache import DEFAULT_CACHE_DIR

    path = request.config.rootpath / DEFAULT_CACHE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path
