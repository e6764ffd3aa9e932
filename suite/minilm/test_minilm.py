"""The `minilm` board: sentence embeddings with the pretrained all-MiniLM-L6-v2 at three precisions.

Each case embeds one batch of real sentences from CPython's help topics (tokenized beforehand, so
the timed call is the model: encoder, mean pooling, normalisation). Quality is how well each
sentence's embedding agrees with the fp32 one: cosine similarity per sentence, and whether its
nearest neighbour among the batch stays the same.
"""

from __future__ import annotations

import io

import pytest
import torch

import minilm_model as mm

pytestmark = pytest.mark.frontier(board="minilm")

FAMILIES = {"fp32": "baseline", "bf16": "mixed-precision", "int8-dynamic": "quantization"}


@pytest.mark.parametrize("precision", mm.PRECISIONS)
def test_embedding(frontier, minilm, minilm_reference, device, precision):
    n_sentences = 32 if frontier.quick else 128
    frontier.entry(precision, family=FAMILIES[precision], device=device, precision=precision,
                   sentences=n_sentences, threads=torch.get_num_threads(),
                   model="sentence-transformers/all-MiniLM-L6-v2")
    if precision == "int8-dynamic" and device != "cpu":
        pytest.skip("dynamic int8 kernels (torch.ao.quantization.quantize_dynamic) run on CPU only")
    encoder = minilm.variant(precision, device)
    batch = minilm.tokenize(mm.sentences(n_sentences)).to(device)
    reference = minilm_reference(device, n_sentences)
    frontier.metric("model_size", serialized_bytes(encoder.model), unit="B", higher_is_better=False)
    frontier.metric("tokens", batch.tokens, unit="tokens", higher_is_better=False,
                    provenance={"method": "counted", "covers": "non-padding tokens in the batch"})

    rounds = {"rounds": 5, "warmup_rounds": 1} if frontier.quick else {"rounds": 10, "warmup_rounds": 2}
    embeddings = frontier.measure(encoder.embed, batch, items=n_sentences, **rounds)

    frontier.quality("cosine_agreement", per_item=mm.cosine_agreement(embeddings, reference))
    frontier.quality("neighbour_agreement", per_item=mm.neighbour_agreement(embeddings, reference))


def serialized_bytes(model: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes
