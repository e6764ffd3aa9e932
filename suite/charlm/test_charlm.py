"""The `charlm` board: greedy text generation with a small character-level transformer.

Each case is one entry: a decoding method at one generation length. It records what its models
cost to train; held-out next-char accuracy (per position) and perplexity through its own model and
cache; exact match of its continuations against the fp32 no-cache reference; then the time,
memory and energy of generating `n_new` tokens for every prompt, one prompt at a time, with time
to first token and time per later token from inside the generation loop.
"""

from __future__ import annotations

from statistics import median

import pytest

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

    # Cost: generate n_new tokens for every prompt, one prompt at a time (batch 1).
    reference = charlm_references(device, n_new, n_prompts)
    prompts = charlm.prompts(n_prompts, device)
    timings = dec.Timings()
    generate = charlm.generator(variant, device, timings)

    def generate_all(prompts):
        return [generate(p, n_new) for p in prompts]

    rounds = {"rounds": 5, "warmup_rounds": 1} if frontier.quick else {"rounds": 10, "warmup_rounds": 1}
    with zoo.inference_threads():
        outputs = frontier.measure(generate_all, prompts, items=n_prompts * n_new, **rounds)

    frontier.quality("exact_match", per_item=[int(o == r) for o, r in zip(outputs, reference)])
    frontier.quality("prefix_match", per_item=[prefix_match(o, r) for o, r in zip(outputs, reference)])
    timed = slice(n_prompts, None)  # the first call is the plugin's memory pass (warm-up)
    per_sequence = {"method": "time.perf_counter", "sample_kind": "rounds", "covers": "one sequence",
                    "cuda_synchronized": device != "cpu"}
    ttft, per_token = timings.ttft[timed], timings.per_token[timed]
    frontier.metric("ttft", median(ttft), unit="s", higher_is_better=False, samples=ttft,
                    provenance={**per_sequence, "what": "prompt prefill to first generated token"})
    frontier.metric("time_per_token", median(per_token), unit="s", higher_is_better=False, samples=per_token,
                    provenance={**per_sequence, "what": f"(end - first token) / {n_new - 1} later tokens"})
    if variant == "speculative":
        proposed, accepted = timings.proposed[:n_prompts], timings.accepted[:n_prompts]
        frontier.metric("acceptance_rate", sum(accepted) / sum(proposed), unit="", higher_is_better=True,
                        samples=[a / p for a, p in zip(accepted, proposed)],
                        provenance={"method": "counted", "sample_kind": "items",
                                    "what": "accepted / proposed draft tokens, per prompt"})
    if spec.lossless:
        assert outputs == reference, f"{variant} is lossless yet its greedy output differs from the reference"

