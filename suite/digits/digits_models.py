"""The `digits` board's models: a small CNN on scikit-learn's bundled 8x8 handwritten digits,
and the efficiency methods applied to it.

Everything here is plain torch, so the functional truths can be tested without the plugin. The
train functions take `seed=` and keyword config and return a state_dict, as
`frontierbench.capture.model_cache.cached_training` expects. Derived models (pruned, distilled) are
trained by closures over the teacher's weights; their config names the teacher's config, so a
new teacher gives them a new cache key.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 10
SPLIT_SEED = 0
TEST_FRACTION = 0.2
TRAIN_THREADS = 1  # fixed, so training is bitwise reproducible whatever the machine's core count


# ----------------------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Digits:
    x_train: torch.Tensor  # (N, 1, 8, 8) float32 in [0, 1]
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor


@lru_cache(maxsize=1)
def load_digits() -> Digits:
    """The 1,797 digits bundled with scikit-learn (no download), split 80/20, stratified, seed 0."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    data = sklearn_digits()
    idx_train, idx_test = train_test_split(range(len(data.target)), test_size=TEST_FRACTION,
                                           random_state=SPLIT_SEED, stratify=data.target)
    with torch.inference_mode(False):  # ordinary tensors, usable for training, whoever asks first
        x = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
        y = torch.tensor(data.target, dtype=torch.int64)
        return Digits(x[idx_train], y[idx_train], x[idx_test], y[idx_test])


# ---------------------------------------------------------------------------------------- model

class DigitsCNN(nn.Module):
    """conv(c1) -> [exit head] -> conv(c2) -> pool -> fc(hidden) -> fc(10).

    `stem` and `body` are plain Sequentials of named-by-index modules, so eager-mode static
    quantization can fuse conv+relu and linear+relu. The optional exit head reads the stem's
    output: an early-exit forward runs the body only for the items the head is unsure about.
    """

    def __init__(self, c1: int = 32, c2: int = 64, hidden: int = 256, exit_head: bool = True):
        super().__init__()
        self.widths = {"c1": c1, "c2": c2, "hidden": hidden}
        self.stem = nn.Sequential(nn.Conv2d(1, c1, 3, padding=1), nn.ReLU())
        self.body = nn.Sequential(
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(c2 * 16, hidden), nn.ReLU(), nn.Linear(hidden, NUM_CLASSES),
        )
        self.exit_head = (nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), nn.Linear(c1 * 16, NUM_CLASSES))
                          if exit_head else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.stem(x))

    def forward_both(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(exit-head logits, final logits) for every item: what joint training needs."""
        h = self.stem(x)
        return self.exit_head(h), self.body(h)

    def prunable(self) -> list[nn.Module]:
        """The main path's conv and linear layers (the exit head is not part of the entry)."""
        return [m for m in (*self.stem, *self.body) if isinstance(m, (nn.Conv2d, nn.Linear))]


def build_model(state: dict, *, exit_head: bool | None = None) -> DigitsCNN:
    """A DigitsCNN shaped after a state_dict (widths are read from the weights)."""
    c1 = state["stem.0.weight"].shape[0]
    c2 = state["body.0.weight"].shape[0]
    hidden = state["body.4.weight"].shape[0]
    has_head = "exit_head.2.weight" in state
    use_head = has_head if exit_head is None else exit_head
    if use_head and not has_head:
        raise ValueError("this state_dict has no exit head")
    model = DigitsCNN(c1, c2, hidden, exit_head=use_head)
    model.load_state_dict({k: v for k, v in state.items() if use_head or not k.startswith("exit_head.")})
    return model.eval()


# ------------------------------------------------------------------------------------- training

@contextmanager
def deterministic(seed: int):
    """Seeded, deterministic, fixed-thread training; the global torch settings are restored after."""
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(TRAIN_THREADS)
    try:
        with torch.inference_mode(False), torch.enable_grad():  # trainable even inside a caller's no-grad
            yield torch.Generator().manual_seed(seed)
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.set_num_threads(threads)


def _epochs(model: nn.Module, loss_fn, *, epochs: int, lr: float, batch_size: int,
            generator: torch.Generator) -> None:
    """Adam over shuffled minibatches of the training split; loss_fn(model, x, y, idx) -> loss."""
    data = load_digits()
    n = len(data.y_train)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs * -(-n // batch_size)))
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            loss = loss_fn(model, data.x_train[idx], data.y_train[idx], idx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()


def _main_path_loss(model, x, y, idx):
    return F.cross_entropy(model(x), y)


def train_teacher(seed: int, *, c1: int, c2: int, hidden: int, epochs: int, lr: float,
                  batch_size: int) -> dict:
    """The fp32 baseline, trained jointly with its exit head (loss = final CE + exit-head CE)."""
    with deterministic(seed) as generator:
        model = DigitsCNN(c1, c2, hidden, exit_head=True)

        def joint_loss(model, x, y, idx):
            exit_logits, final_logits = model.forward_both(x)
            return F.cross_entropy(final_logits, y) + F.cross_entropy(exit_logits, y)

        _epochs(model, joint_loss, epochs=epochs, lr=lr, batch_size=batch_size, generator=generator)
    return model.state_dict()


# -------------------------------------------------------------------------------------- pruning

def _keep_top(scores: torch.Tensor, keep: int) -> torch.Tensor:
    return torch.sort(torch.topk(scores, keep).indices).values


def prune_channels(state: dict, fraction: float) -> DigitsCNN:
    """Structured pruning: remove `fraction` of every layer's conv channels and hidden neurons
    (the lowest-L1 ones) and rebuild a smaller dense network from the kept slices. The exit head
    is dropped."""
    keep_ratio = 1.0 - fraction
    model = build_model(state, exit_head=False)
    conv1, conv2, fc1, fc2 = model.prunable()
    w = model.widths
    keep1 = _keep_top(conv1.weight.abs().sum((1, 2, 3)), max(1, round(w["c1"] * keep_ratio)))
    keep2 = _keep_top(conv2.weight.abs().sum((1, 2, 3)), max(1, round(w["c2"] * keep_ratio)))
    # fc1's input is the pooled conv2 map flattened channel-major: 16 positions per channel.
    fc1_cols = (keep2[:, None] * 16 + torch.arange(16)).reshape(-1)
    keep_h = _keep_top(fc1.weight[:, fc1_cols].abs().sum(1), max(1, round(w["hidden"] * keep_ratio)))

    small = DigitsCNN(len(keep1), len(keep2), len(keep_h), exit_head=False)
    s_conv1, s_conv2, s_fc1, s_fc2 = small.prunable()
    with torch.no_grad():
        s_conv1.weight.copy_(conv1.weight[keep1])
        s_conv1.bias.copy_(conv1.bias[keep1])
        s_conv2.weight.copy_(conv2.weight[keep2][:, keep1])
        s_conv2.bias.copy_(conv2.bias[keep2])
        s_fc1.weight.copy_(fc1.weight[keep_h][:, fc1_cols])
        s_fc1.bias.copy_(fc1.bias[keep_h])
        s_fc2.weight.copy_(fc2.weight[:, keep_h])
        s_fc2.bias.copy_(fc2.bias)
    return small.eval()


def make_structured_trainer(teacher_state: dict):
    def finetune_structured(seed: int, *, teacher: dict, fraction: float, epochs: int, lr: float,
                            batch_size: int) -> dict:
        """Prune channels, then fine-tune the smaller dense network briefly."""
        with deterministic(seed) as generator:
            model = prune_channels(teacher_state, fraction)
            _epochs(model, _main_path_loss, epochs=epochs, lr=lr, batch_size=batch_size, generator=generator)
        return model.state_dict()
    return finetune_structured


def prune_magnitude(model: DigitsCNN, amount: float) -> DigitsCNN:
    """Global unstructured L1 pruning: zero the `amount` smallest-magnitude weights across all
    main-path layers together. The masks stay attached (weight = weight_orig * mask), so a
    fine-tune keeps the zeros at zero."""
    from torch.nn.utils import prune

    prune.global_unstructured([(layer, "weight") for layer in model.prunable()],
                              pruning_method=prune.L1Unstructured, amount=amount)
    return model


def make_unstructured_trainer(teacher_state: dict):
    def finetune_unstructured(seed: int, *, teacher: dict, amount: float, epochs: int, lr: float,
                              batch_size: int) -> dict:
        """Zero the smallest `amount` of the weights, fine-tune under the mask, and bake the zeros
        in: the tensors stay dense and keep their shapes."""
        from torch.nn.utils import prune

        with deterministic(seed) as generator:
            model = prune_magnitude(build_model(teacher_state, exit_head=False), amount)
            _epochs(model, _main_path_loss, epochs=epochs, lr=lr, batch_size=batch_size, generator=generator)
            for layer in model.prunable():
                prune.remove(layer, "weight")
        return model.state_dict()
    return finetune_unstructured


def zero_fraction(model: DigitsCNN) -> float:
    """Fraction of exactly-zero weights over the main path's conv and linear weights."""
    weights = [layer.weight.detach() for layer in model.prunable()]
    return sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)


def parameter_count(model: DigitsCNN) -> int:
    """Parameters of the main path (stem and body; not the exit head)."""
    return sum(p.numel() for m in (model.stem, model.body) for p in m.parameters())


# ---------------------------------------------------------------------------------- distillation

def teacher_logits(teacher_state: dict) -> torch.Tensor:
    with torch.inference_mode(False), torch.no_grad():  # no inference tensors: the KD loss saves them
        return build_model(teacher_state, exit_head=False)(load_digits().x_train)


def make_distillation_trainer(teacher_state: dict):
    def train_student(seed: int, *, teacher: dict, c1: int, c2: int, hidden: int, temperature: float,
                      alpha: float, epochs: int, lr: float, batch_size: int) -> dict:
        """Hinton-style KD: alpha * T^2 * KL(student/T || teacher/T) + (1 - alpha) * CE."""
        soft_targets = teacher_logits(teacher_state)
        with deterministic(seed) as generator:
            student = DigitsCNN(c1, c2, hidden, exit_head=False)

            def kd_loss(model, x, y, idx):
                logits = model(x)
                soft = F.kl_div(F.log_softmax(logits / temperature, 1),
                                F.log_softmax(soft_targets[idx] / temperature, 1),
                                reduction="batchmean", log_target=True)
                return alpha * temperature ** 2 * soft + (1 - alpha) * F.cross_entropy(logits, y)

            _epochs(student, kd_loss, epochs=epochs, lr=lr, batch_size=batch_size, generator=generator)
        return student.state_dict()
    return train_student


# ---------------------------------------------------------------------------------- quantization

@contextmanager
def _quiet_quantization():
    """torch warns that eager-mode quantization is deprecated (for torchao); it still works in 2.13."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(?s).*(deprecated|reduce_range)", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        yield


def quantize_dynamic_int8(model: DigitsCNN) -> nn.Module:
    """Post-training dynamic int8 of the Linear layers (weights int8, activations quantized on the fly)."""
    from torch.ao.quantization import quantize_dynamic

    with _quiet_quantization():
        return quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)


def static_int8_engine() -> str | None:
    """The CPU int8 backend to use: the current one if it is a real one, else the first supported."""
    supported = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    current = torch.backends.quantized.engine
    if current in supported:
        return current
    for engine in ("x86", "fbgemm", "onednn", "qnnpack"):
        if engine in supported:
            return engine
    return None


def quantize_static_int8(model: DigitsCNN, calibration: torch.Tensor, engine: str) -> nn.Module:
    """Eager-mode post-training static int8: fuse conv+relu and linear+relu, observe activations
    on calibration images, convert. Everything from the first conv to the last linear runs int8."""
    from torch.ao import quantization as tq

    torch.backends.quantized.engine = engine  # the converted kernels run on this engine
    net = nn.Sequential(tq.QuantStub(), copy.deepcopy(model.stem), copy.deepcopy(model.body), tq.DeQuantStub())
    net.eval()
    tq.fuse_modules(net, [["1.0", "1.1"], ["2.0", "2.1"], ["2.4", "2.5"]], inplace=True)
    net.qconfig = tq.get_default_qconfig(engine)
    with _quiet_quantization():
        tq.prepare(net, inplace=True)
        with torch.inference_mode():
            net(calibration)
        tq.convert(net, inplace=True)
    return net


def quantized_linear_count(model: nn.Module) -> int:
    from torch.ao.nn.quantized import dynamic as nnqd

    return sum(isinstance(m, nnqd.Linear) for m in model.modules())


# ------------------------------------------------------------------------------------ early exit

def early_exit_forward(model: DigitsCNN, x: torch.Tensor, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, exited): the exit head answers items whose max softmax >= threshold; only the rest
    pay for the body. Items that exit keep the head's logits."""
    h = model.stem(x)
    head_logits = model.exit_head(h)
    exited = head_logits.softmax(1).amax(1) >= threshold
    logits = head_logits.clone()
    rest = (~exited).nonzero().squeeze(1)
    if rest.numel():
        logits[rest] = model.body(h[rest])
    return logits, exited


# --------------------------------------------------------------------------------------- helpers

def correct_per_item(logits: torch.Tensor, y: torch.Tensor) -> list[int]:
    return (logits.argmax(1).cpu() == y.cpu()).to(torch.int64).tolist()


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    items = correct_per_item(logits, y)
    return sum(items) / len(items)


# ------------------------------------------------------------------------------ the trained zoo

SEED = 0
# One training budget for both profiles: quick and full measure the same models, so their
# figures stay comparable; the profiles differ only in how many timing rounds they take.
TEACHER = {"c1": 32, "c2": 64, "hidden": 256, "epochs": 10, "lr": 3e-3, "batch_size": 64}
FINETUNE = {"epochs": 3, "lr": 3e-3, "batch_size": 64}
STUDENT = {"c1": 8, "c2": 16, "hidden": 64, "temperature": 4.0, "alpha": 0.7, "epochs": 12, "lr": 3e-3,
           "batch_size": 64}

_WEAKER_METHOD = ["rapl", "nvml", "estimated", "unavailable"]  # best to worst


def add_costs(base, extra):
    """Training cost of a derived model: the teacher's cost plus its own (fine-tune, distillation).

    A sum is only as good as its weakest part, so the energy method is the weaker of the two and
    the energy is None when either part has none."""
    from frontierbench.capture.model_cache import TrainingCost

    methods = sorted({base.energy_method, extra.energy_method},
                     key=lambda m: _WEAKER_METHOD.index(m) if m in _WEAKER_METHOD else len(_WEAKER_METHOD))
    energy = None if base.energy_j is None or extra.energy_j is None else base.energy_j + extra.energy_j
    covers = base.energy_covers if base.energy_covers == extra.energy_covers else \
        "; ".join(c for c in (base.energy_covers, extra.energy_covers) if c) or None
    return TrainingCost(seconds=base.seconds + extra.seconds, energy_j=energy, energy_method=methods[-1],
                        energy_covers=covers, cached=base.cached and extra.cached)


class DigitsZoo:
    """Trained digits models, from the on-disk training cache, memoised for the session.

    Every getter returns (state_dict, TrainingCost). A derived model's cost includes the
    teacher's, because it cannot exist without it (full-cycle energy); `own_cost(entry)` is
    what the derivation alone cost (the fine-tune, the distillation)."""

    def __init__(self, cache_dir=None, *, seed: int = SEED):
        self.cache_dir = cache_dir
        self.seed = seed
        self._memo: dict = {}

    def _cached(self, name: str, train_fn, config: dict):
        from frontierbench.capture.model_cache import cached_training

        if name not in self._memo:
            self._memo[name] = cached_training(name, train_fn, seed=self.seed, config=config,
                                               cache_dir=self.cache_dir)
        return self._memo[name]

    def teacher(self):
        return self._cached("digits-fp32", train_teacher, TEACHER)

    def own_cost(self, entry: str):
        """What deriving this entry's model cost on top of the teacher (after its getter ran)."""
        return self._memo[f"digits-{entry}"][1]

    def _derived(self, entry: str, make_trainer, config: dict):
        teacher_state, teacher_cost = self.teacher()
        state, cost = self._cached(f"digits-{entry}", make_trainer(teacher_state), {"teacher": TEACHER, **config})
        return state, add_costs(teacher_cost, cost)

    def structured(self, fraction: float):
        return self._derived(f"prune-structured-{round(fraction * 100)}", make_structured_trainer,
                             {"fraction": fraction, **FINETUNE})

    def unstructured(self, amount: float):
        return self._derived(f"prune-unstructured-{round(amount * 100)}", make_unstructured_trainer,
                             {"amount": amount, **FINETUNE})

    def student(self):
        return self._derived("distilled-student", make_distillation_trainer, STUDENT)
