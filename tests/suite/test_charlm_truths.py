"""Functional truths of the `charlm` board: what each decoding method must really do.

No timings are asserted here. The target and draft models come from the on-disk training cache
the suite uses (keyed by the training code, its config and seed); from an empty cache they train
in about 35 s on 2 cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

CHARLM_DIR = Path(__file__).resolve().parents[2] / "suite" / "charlm"
if str(CHARLM_DIR) not in sys.path:
    sys.path.insert(0, str(CHARLM_DIR))

import charlm_data as data  # noqa: E402
import charlm_decoding as dec  # noqa: E402
import charlm_zoo as zoo  # noqa: E402

N_PROMPTS = 6
N_NEW = 128


@pytest.fixture(scope="module")
def charlm(request):
    from frontierbench.capture.model_cache import DEFAULT_CACHE_DIR

    with zoo.inference_threads():
        yield zoo.CharZoo(request.config.rootpath / DEFAULT_CACHE_DIR)


@pytest.fixture(scope="module")
def target(charlm):
    return charlm.model("target")


@pytest.fixture(scope="module")
def prompts(charlm):
    return charlm.prompts(N_PROMPTS)


@pytest.fixture(scope="module")
def reference(target, prompts):
    """The fp32 no-cache greedy continuations every lossless method must reproduce."""
    return [dec.generate_nocache(target, p, N_NEW) for p in prompts]


def stepwise_logits(model, ids: torch.Tensor, cache) -> torch.Tensor:
    """Teacher-forced logits (T, vocab), one token at a time through `cache`."""
    with torch.inference_mode():
        return torch.cat([model(ids[None, t:t + 1], cache)[0] for t in range(len(ids))])


def test_the_split_is_fixed_and_held_out():
    corpus = data.load_corpus()
    assert corpus.sha256 == data.load_corpus.__wrapped__().sha256  # same text, same split, every time
    assert len(corpus.test) >= 0.05 * (len(corpus.train) + len(corpus.test))
    train_text = data.decode(corpus.train.tolist())
    prompt_text = data.decode(data.prompts(corpus, N_PROMPTS, zoo.PROMPT_CHARS)[0].tolist())
    window_text = data.decode(data.heldout_windows(corpus, 1, 160)[0].tolist())
    assert window_text in data.decode(corpus.test.tolist())
    # held-out text is not a verbatim part of the training text (a 160-char window would be)
    assert window_text not in train_text
    assert len(prompt_text) == zoo.PROMPT_CHARS


def test_models_reach_their_stated_accuracy(charlm, target):
    draft = charlm.model("draft")
    target_eval = dec.evaluate(target, charlm.heldout())
    draft_eval = dec.evaluate(draft, charlm.heldout())
    assert target_eval.accuracy > zoo.MIN_TARGET_ACCURACY
    assert draft_eval.accuracy > zoo.MIN_DRAFT_ACCURACY
    assert len(target_eval.correct) == zoo.EVAL_WINDOWS * 160
    # a model that learned nothing sits at perplexity ~96 (uniform over the vocabulary)
    assert target_eval.perplexity < 12
    assert target_eval.accuracy > draft_eval.accuracy


def test_kv_cache_reproduces_the_no_cache_greedy_output(target, prompts, reference):
    generated = [dec.generate_cached(target, p, N_NEW, dec.FullKVCache) for p in prompts]
    assert generated == reference


def test_kv_cache_evaluation_equals_the_parallel_forward(charlm, target):
    windows = charlm.heldout()[:4]
    parallel = dec.evaluate(target, windows)
    cached = dec.evaluate(target, windows, dec.FullKVCache)
    assert cached.correct == parallel.correct
    assert cached.nll == pytest.approx(parallel.nll, rel=1e-4)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_speculative_decoding_is_lossless_and_counts_acceptance(charlm, target, prompts, reference, k):
    draft = charlm.model("draft")
    counts = dec.DraftCounts()
    generated = [dec.generate_speculative(target, draft, p, N_NEW, k, counts) for p in prompts]
    assert generated == reference
    assert 0.0 <= counts.acceptance_rate <= 1.0
    assert all(0 <= a <= p for a, p in zip(counts.accepted, counts.proposed))
    # a useful draft agrees with the target more often than not on this text
    assert counts.acceptance_rate > 0.3
    assert draft.num_parameters() < target.num_parameters() / 4
    assert draft.cfg.n_layer < target.cfg.n_layer


def test_speculative_decoding_with_the_target_as_its_own_draft_accepts_everything(target, prompts, reference):
    counts = dec.DraftCounts()
    generated = dec.generate_speculative(target, target, prompts[0], N_NEW, 4, counts)
    assert generated == reference[0]
    assert counts.acceptance_rate == 1.0


def test_sliding_window_cache_differs_only_beyond_the_window(charlm, target):
    ids = charlm.heldout()[0, :96]
    full = stepwise_logits(target, ids, dec.FullKVCache(target))
    window = stepwise_logits(target, ids, zoo.sliding_window_cache(target))
    W = zoo.WINDOW
    # a query at position p < W sees all p + 1 keys either way
    torch.testing.assert_close(window[:W], full[:W], rtol=1e-4, atol=1e-4)
    # later queries lose the oldest keys, so every later position's logits change
    beyond = (window[W:] - full[W:]).abs().amax(dim=-1)
    assert bool((beyond > 1e-3).all())


def test_sliding_window_cache_memory_is_bounded(target):
    cache = zoo.sliding_window_cache(target)
    with torch.inference_mode():
        target(torch.zeros(1, 100, dtype=torch.long), cache)
    cfg = target.cfg
    assert cache.nbytes() == 2 * cfg.n_layer * zoo.WINDOW * cfg.d_model * 4


def test_int8_kv_cache_stays_close_and_is_smaller(charlm, target):
    ids = charlm.heldout()[1, :128]
    full_cache, int8_cache = dec.FullKVCache(target), dec.Int8KVCache(target)
    full = stepwise_logits(target, ids, full_cache)
    quantized = stepwise_logits(target, ids, int8_cache)
    assert (quantized - full).abs().max() < 0.25
    agreement = (quantized.argmax(-1) == full.argmax(-1)).float().mean()
    assert agreement > 0.97
    assert int8_cache.nbytes() < 0.3 * full_cache.nbytes()


def test_dynamic_int8_replaces_every_linear_and_keeps_accuracy(charlm, target):
    quantized = charlm.model("target-int8")
    assert not any(type(m) is torch.nn.Linear for m in quantized.modules())
    assert zoo.serialized_bytes(quantized) < 0.5 * zoo.serialized_bytes(target)
    windows = charlm.heldout()
    fp32 = dec.evaluate(target, windows)
    int8 = dec.evaluate(quantized, windows, dec.FullKVCache)
    assert abs(int8.accuracy - fp32.accuracy) < 0.01
    assert int8.correct != fp32.correct or int8.nll != fp32.nll  # it is really a different model


def test_full_kv_cache_grows_linearly_with_length(target):
    cache = dec.FullKVCache(target)
    sizes = []
    with torch.inference_mode():
        for _ in range(4):
            target(torch.zeros(1, 16, dtype=torch.long), cache)
            sizes.append(cache.nbytes())
    assert sizes == [sizes[0] * (i + 1) for i in range(4)]
