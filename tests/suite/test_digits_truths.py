"""Functional truths of the `digits` board's models: what each efficiency method must really do.

No timings are asserted here. The models are trained once per session into a temporary cache
(about 10 s on 2 cores), with the same configs the benchmark suite uses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

DIGITS_DIR = Path(__file__).resolve().parents[2] / "suite" / "digits"
if str(DIGITS_DIR) not in sys.path:
    sys.path.insert(0, str(DIGITS_DIR))

import digits_models as dm  # noqa: E402


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return dm.DigitsZoo(tmp_path_factory.mktemp("digits-models"))


@pytest.fixture(scope="module")
def data():
    return dm.load_digits()


@pytest.fixture(scope="module")
def teacher(zoo):
    state, _ = zoo.teacher()
    return dm.build_model(state)


def test_the_split_is_fixed_and_stratified(data):
    assert len(data.y_train) + len(data.y_test) == 1797
    assert len(data.y_test) == 360
    again = dm.load_digits.__wrapped__()  # bypass the memo: the split must come out the same
    assert torch.equal(again.y_test, data.y_test) and torch.equal(again.x_test, data.x_test)
    assert set(data.y_test.tolist()) == set(range(10))


def test_fp32_baseline_reaches_95_percent(teacher, data):
    with torch.inference_mode():
        assert dm.accuracy(teacher(data.x_test), data.y_test) >= 0.95


def test_training_is_deterministic():
    tiny = {"c1": 4, "c2": 8, "hidden": 16, "epochs": 1, "lr": 3e-3, "batch_size": 128}
    first, second = dm.train_teacher(0, **tiny), dm.train_teacher(0, **tiny)
    other_seed = dm.train_teacher(1, **tiny)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other_seed[k]) for k in first)


def test_a_second_run_loads_the_cache_and_still_reports_the_training_cost(zoo):
    state, cost = zoo.teacher()
    reloaded_state, reloaded_cost = dm.DigitsZoo(zoo.cache_dir).teacher()
    assert reloaded_cost.cached and not cost.cached
    assert reloaded_cost.seconds == pytest.approx(cost.seconds)
    assert all(torch.equal(state[k], reloaded_state[k]) for k in state)


# -- every entry's stated minimum accuracy --------------------------------------------------------

def _bf16(model):
    def forward(x):
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            return model(x)
    return forward


MINIMUM_ACCURACY = {
    "fp32": (0.95, lambda zoo, data: dm.build_model(zoo.teacher()[0], exit_head=False)),
    "bf16": (0.95, lambda zoo, data: _bf16(dm.build_model(zoo.teacher()[0], exit_head=False))),
    "int8-dynamic": (0.95, lambda zoo, data: dm.quantize_dynamic_int8(dm.build_model(zoo.teacher()[0]))),
    "prune-structured-50": (0.95, lambda zoo, data: dm.build_model(zoo.structured(0.5)[0])),
    "prune-structured-75": (0.93, lambda zoo, data: dm.build_model(zoo.structured(0.75)[0])),
    "prune-unstructured-50": (0.95, lambda zoo, data: dm.build_model(zoo.unstructured(0.5)[0])),
    "prune-unstructured-90": (0.93, lambda zoo, data: dm.build_model(zoo.unstructured(0.9)[0])),
    "distilled-student": (0.93, lambda zoo, data: dm.build_model(zoo.student()[0])),
}


@pytest.mark.parametrize("entry", MINIMUM_ACCURACY)
def test_every_entry_meets_its_stated_minimum_accuracy(zoo, data, entry):
    minimum, build = MINIMUM_ACCURACY[entry]
    model = build(zoo, data)
    with torch.inference_mode():
        assert dm.accuracy(model(data.x_test), data.y_test) >= minimum


# -- quantization ---------------------------------------------------------------------------------

def test_dynamic_int8_really_quantizes_the_linear_layers(teacher, data):
    quantized = dm.quantize_dynamic_int8(teacher)
    assert dm.quantized_linear_count(quantized) == 3  # fc1, fc2 and the exit head
    assert not any(type(m) is torch.nn.Linear for m in quantized.modules())
    assert all(type(m) is torch.nn.Conv2d for m in (quantized.stem[0], quantized.body[0]))  # convs stay fp32
    with torch.inference_mode():
        agree = (quantized(data.x_test).argmax(1) == teacher(data.x_test).argmax(1)).float().mean()
    assert agree >= 0.98
    assert type(teacher.body[4]) is torch.nn.Linear  # the original is left untouched


def test_static_int8_runs_the_whole_main_path_in_int8(teacher, data):
    engine = dm.static_int8_engine()
    if engine is None:
        pytest.skip("no quantized engine in this torch build")
    from torch.ao.nn.intrinsic import quantized as nniq

    quantized = dm.quantize_static_int8(teacher, data.x_train, engine)
    fused = [type(m) for m in quantized.modules() if isinstance(m, (nniq.ConvReLU2d, nniq.LinearReLU))]
    assert fused == [nniq.ConvReLU2d, nniq.ConvReLU2d, nniq.LinearReLU]
    with torch.inference_mode():
        logits = quantized(data.x_test)
    assert logits.dtype == torch.float32  # dequantized at the end
    assert dm.accuracy(logits, data.y_test) >= 0.94


# -- pruning --------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [0.5, 0.9])
def test_unstructured_pruning_zeroes_the_stated_fraction_but_keeps_shapes(zoo, teacher, amount):
    pruned = dm.build_model(zoo.unstructured(amount)[0])
    assert amount <= dm.zero_fraction(pruned) < amount + 0.001
    assert dm.zero_fraction(teacher) < 0.001
    # Dense kernels: every tensor keeps its shape, so the FLOPs are unchanged.
    assert pruned.widths == teacher.widths
    assert dm.parameter_count(pruned) == dm.parameter_count(teacher)


@pytest.mark.parametrize("fraction", [0.5, 0.75])
def test_structured_pruning_really_shrinks_the_layers(zoo, teacher, fraction):
    pruned = dm.build_model(zoo.structured(fraction)[0])
    assert pruned.widths == {k: round(v * (1 - fraction)) for k, v in teacher.widths.items()}
    assert dm.parameter_count(pruned) < dm.parameter_count(teacher) * (1 - fraction) ** 1.5
    assert dm.zero_fraction(pruned) < 0.001  # smaller, not sparse


def test_structured_pruning_slices_out_the_strongest_channels(teacher, data):
    state = teacher.state_dict()
    x = data.x_test
    with torch.inference_mode():
        # Removing nothing rebuilds the same function.
        assert torch.equal(dm.prune_channels(state, 0.0)(x), teacher(x))
        # Removing half keeps the highest-L1 first-layer channels, unchanged and in order.
        pruned = dm.prune_channels(state, 0.5)
        strongest = teacher.stem[0].weight.abs().sum((1, 2, 3)).topk(pruned.widths["c1"]).indices.sort().values
        torch.testing.assert_close(pruned.stem(x), teacher.stem(x)[:, strongest])


# -- distillation ---------------------------------------------------------------------------------

def test_the_distilled_student_is_much_smaller_and_learned_from_the_teacher(zoo, teacher, data):
    student = dm.build_model(zoo.student()[0])
    assert dm.parameter_count(student) * 10 < dm.parameter_count(teacher)
    with torch.inference_mode():
        agree = (student(data.x_test).argmax(1) == teacher(data.x_test).argmax(1)).float().mean()
    assert agree >= 0.93
    # Its training cost includes the teacher's: the student cannot exist without it.
    assert zoo.student()[1].seconds > zoo.teacher()[1].seconds


# -- early exit -----------------------------------------------------------------------------------

def test_a_higher_threshold_never_exits_more(teacher, data):
    thresholds = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.01]
    with torch.inference_mode():
        rates = [dm.early_exit_forward(teacher, data.x_test, t)[1].float().mean().item() for t in thresholds]
    assert rates == sorted(rates, reverse=True)
    assert rates[0] == 1.0 and rates[-1] == 0.0
    assert len(set(rates)) >= 5  # the sweep really moves the exit rate


def test_early_exit_accuracy_spans_head_to_full_model(teacher, data):
    x, y = data.x_test, data.y_test
    with torch.inference_mode():
        full = teacher(x)
        head = teacher.exit_head(teacher.stem(x))
        never_exit, _ = dm.early_exit_forward(teacher, x, 1.01)
        always_exit, _ = dm.early_exit_forward(teacher, x, 0.0)
        logits, exited = dm.early_exit_forward(teacher, x, 0.9)
    torch.testing.assert_close(never_exit, full)
    torch.testing.assert_close(always_exit, head)
    # Confident items are the easy ones: the head is more accurate on those it keeps.
    assert dm.accuracy(head[exited], y[exited]) >= dm.accuracy(head, y)
    assert dm.accuracy(head, y) - 0.005 <= dm.accuracy(logits, y) <= dm.accuracy(full, y) + 0.02
    assert dm.accuracy(logits, y) >= 0.95
