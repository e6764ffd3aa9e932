"""The `charlm` board: greedy text generation with a small character-level transformer.

Each case is one entry: a decoding method at one generation length. It records what its models
cost to train; held-out next-char accuracy (per position) and perplexity through its own model and
cache; exact match of its continuations against the fp32 no-cache reference; then
`frontier.measure_generation` over every prompt, one at a time: time to first token, time per
later token, request latency, throughput, memory and energy per output token.
"""

from __future__ import annotations

import pytest

import charlm_data as data
import charlm_decoding as dec
import charlm_zoo as zoo

pytestmark = pytest.mark.frontier(board="charlm")


def prefix_match(output: list[int], reference: list[int]) -> float:
    """Fraction of the continuation that matches the reference before the first divergence."""
    same = 0
    for a, b in zip(output, reference):
        if a != b:
            break
        same += 1
    return same / len(reference)


@pytest.mark.parametrize("n_new", zoo.LENGTHS, ids=[f"n{n}" for n in zoo.LENGTHS])
@pytest.mark.parametrize("variant", list(zoo.VARIANTS))
def test_generation(frontier, charlm, charlm_references, charlm_evaluations, device, variant, n_new):
    spec = zoo.VARIANTS[variant]
    frontier.entry(f"{variant}-n{n_new}", family=spec.family, device=device, variant=variant, new_tokens=n_new,
                   prompt_chars=zoo.PROMPT_CHARS, threads=zoo.INFERENCE_THREADS, method=spec.description)
    if variant == "int8-dynamic" and device != "cpu":
        pytest.skip("dynamic int8 kernels (torch.ao.quantization.quantize_dynamic) run on CPU only")
    if variant == "speculative":
        frontier.entry(draft_k=zoo.DRAFT_K, draft_layers=charlm.model("draft").cfg.n_layer,
                       draft_d_model=charlm.model("draft").cfg.d_model)
    n_prompts = 6 if frontier.quick else 16
    frontier.record_training(charlm.training_cost(variant))

    # Quality: teacher-forced next-char prediction on held-out text, through this variant.
    evaluation = charlm_evaluations(variant, device)
    frontier.quality("next_char_accuracy", per_item=evaluation.correct)
    frontier.quality("perplexity", evaluation.perplexity, higher_is_better=False)
    frontier.metric("model_size", zoo.serialized_bytes(*charlm.models_of(variant, device)), unit="B",
                    higher_is_better=False)
    frontier.metric("kv_cache_bytes", charlm.kv_cache_bytes(variant, device, n_new), unit="B",
                    higher_is_better=False, provenance={"method": "computed", "covers": "one prompt at full length"})

    # Cost: generate n_new tokens for every prompt, one prompt at a time (single stream, batch 1).
    # The meter times the first token and the later ones as the decoder yields them.
    reference = charlm_references(device, n_new, n_prompts)
    prompts = charlm.prompts(n_prompts, device)
    counts = dec.DraftCounts()
    stream = charlm.streamer(variant, device, counts)

    def generate(prompt):
        # token ids are ints, which the meter would read as chunk counts: stream the characters
        return (data.VOCAB[token] for token in stream(prompt, n_new))

    # at least 5 timed passes in the quick profile too, as for every case (see the plugin's floor)
    with zoo.inference_threads():
        texts = frontier.measure_generation(generate, prompts, rounds=5 if frontier.quick else 10)
    outputs = [[data.STOI[ch] for ch in text] for text in texts]

    frontier.quality("exact_match", per_item=[int(o == r) for o, r in zip(outputs, reference)])
    frontier.quality("prefix_match", per_item=[prefix_match(o, r) for o, r in zip(outputs, reference)])
    if variant == "speculative":
        proposed, accepted = counts.proposed[:n_prompts], counts.accepted[:n_prompts]  # the memory pass
        frontier.metric("acceptance_rate", sum(accepted) / sum(proposed), unit="", higher_is_better=True,
                        samples=[a / p for a, p in zip(accepted, proposed)],
                        provenance={"method": "counted", "sample_kind": "items",
                                    "what": "accepted / proposed draft tokens, per prompt"})
    if spec.lossless:
        assert outputs == reference, f"{variant} is lossless yet its greedy output differs from the reference"
