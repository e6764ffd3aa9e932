"""The `digits` board: efficiency methods on a small CNN that reads handwritten 8x8 digits.

Each case is one entry: it records what its model cost to train, its per-item correctness on the
360 held-out digits, and the time, memory and energy of one forward pass over all of them.
"""

from __future__ import annotations

import io

import pytest
import torch

import digits_models as dm

pytestmark = pytest.mark.frontier(board="digits")

EXIT_THRESHOLDS = [0.5, 0.8, 0.9, 0.95, 0.99]


def run_case(frontier, forward, model, digits, device, cost):
    """The part every entry shares: training cost, per-item accuracy, size, then the timed forward."""
    x = digits.x_test.to(device)

    def classify(batch):
        with torch.inference_mode():
            return forward(batch)

    frontier.record_training(cost)
    frontier.quality("accuracy", per_item=dm.correct_per_item(classify(x), digits.y_test))
    frontier.metric("model_size", serialized_bytes(model), unit="B", higher_is_better=False)
    # Quick: 5 fixed rounds. Full: the plugin calibrates, within its per-case time budget.
    rounds = {"rounds": 5, "warmup_rounds": 1} if frontier.quick else {"warmup_rounds": 3}
    frontier.measure(classify, x, items=len(x), **rounds)


def record_own_training(frontier, digits_zoo, entry):
    """A derived model's training_time includes its teacher's; this is the derivation alone."""
    own = digits_zoo.own_cost(entry)
    frontier.metric("own_training_time", own.seconds, unit="s", higher_is_better=False,
                    provenance={"method": "perf_counter", "cached": own.cached, "kind": "training",
                                "covers": "fine-tune or distillation only, without the teacher"})


def serialized_bytes(model: torch.nn.Module) -> int:
    """Size of the saved state_dict: what shipping the model costs (int8 packs 4x smaller)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_precision(frontier, digits_zoo, digits, device, precision):
    state, cost = digits_zoo.teacher()
    model = dm.build_model(state, exit_head=False).to(device)
    if precision == "fp32":
        frontier.entry("fp32", family="baseline", device=device, precision="fp32")
        forward = model
    else:
        frontier.entry("bf16", family="mixed-precision", device=device, precision="bf16-autocast")

        def forward(x):
            with torch.autocast(device_type=device, dtype=torch.bfloat16):
                return model(x)
    run_case(frontier, forward, model, digits, device, cost)


@pytest.mark.parametrize("scheme", ["dynamic", "static"])
def test_int8(frontier, digits_zoo, digits, device, scheme):
    quantized_layers = "linear" if scheme == "dynamic" else "conv+linear"
    frontier.entry(f"int8-{scheme}", family="quantization", device=device, precision="int8", scheme=scheme,
                   quantized=quantized_layers)
    if device != "cpu":
        pytest.skip("eager-mode int8 kernels (torch.ao.quantization) run on CPU only")
    state, cost = digits_zoo.teacher()
    model = dm.build_model(state, exit_head=False)
    if scheme == "dynamic":
        quantized = dm.quantize_dynamic_int8(model)  # the convs stay fp32
    else:
        engine = dm.static_int8_engine()
        if engine is None:
            pytest.skip(f"no int8 engine among torch.backends.quantized.supported_engines "
                        f"{torch.backends.quantized.supported_engines}")
        frontier.entry(engine=engine)
        quantized = dm.quantize_static_int8(model, calibration=digits.x_train, engine=engine)
    run_case(frontier, quantized, quantized, digits, device, cost)


@pytest.mark.parametrize("fraction", [0.5, 0.75])
def test_structured_pruning(frontier, digits_zoo, digits, device, fraction):
    entry = f"prune-structured-{round(fraction * 100)}"
    state, cost = digits_zoo.structured(fraction)  # channels removed, then a brief fine-tune
    model = dm.build_model(state).to(device)
    frontier.entry(entry, family="pruning-structured", device=device, channels_removed=fraction, **model.widths)
    frontier.metric("parameters", dm.parameter_count(model), unit="count", higher_is_better=False)
    record_own_training(frontier, digits_zoo, entry)
    run_case(frontier, model, model, digits, device, cost)


@pytest.mark.parametrize("amount", [0.5, 0.9])
def test_unstructured_pruning(frontier, digits_zoo, digits, device, amount):
    entry = f"prune-unstructured-{round(amount * 100)}"
    state, cost = digits_zoo.unstructured(amount)  # weights zeroed, fine-tuned under the mask
    model = dm.build_model(state).to(device)
    frontier.entry(entry, family="pruning-unstructured", device=device, weights_zeroed=amount)
    # The zeros are real, but the kernels are dense: the same FLOPs run as for fp32.
    frontier.metric("weight_sparsity", dm.zero_fraction(model), unit="fraction", higher_is_better=True)
    record_own_training(frontier, digits_zoo, entry)
    run_case(frontier, model, model, digits, device, cost)


def test_distilled_student(frontier, digits_zoo, digits, device):
    state, cost = digits_zoo.student()
    model = dm.build_model(state).to(device)
    frontier.entry("distilled-student", family="distillation", device=device,
                   temperature=dm.STUDENT["temperature"], alpha=dm.STUDENT["alpha"], **model.widths)
    frontier.metric("parameters", dm.parameter_count(model), unit="count", higher_is_better=False)
    record_own_training(frontier, digits_zoo, "distilled-student")
    run_case(frontier, model, model, digits, device, cost)


@pytest.mark.parametrize("threshold", EXIT_THRESHOLDS)
def test_early_exit(frontier, digits_zoo, digits, device, threshold):
    state, cost = digits_zoo.teacher()  # trained jointly with its exit head
    model = dm.build_model(state, exit_head=True).to(device)
    frontier.entry(f"early-exit-t{round(threshold * 100)}", family="early-exit", device=device,
                   threshold=threshold)
    with torch.inference_mode():
        _, exited = dm.early_exit_forward(model, digits.x_test.to(device), threshold)
    frontier.metric("exit_rate", exited.float().mean().item(), unit="fraction", higher_is_better=True,
                    samples=exited.int().tolist())
    run_case(frontier, lambda x: dm.early_exit_forward(model, x, threshold)[0], model, digits, device, cost)
