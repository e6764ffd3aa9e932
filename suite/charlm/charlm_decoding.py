"""Greedy decoding strategies for CharGPT: no cache, KV caches (full, sliding-window, int8),
and speculative decoding with a draft model. Plus held-out evaluation through the same caches.

A cache receives each layer's new keys and values (B, H, T_new, Dh) and returns the keys, values
and attention mask that the new queries attend to. `length` counts absolute positions seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


# --------------------------------------------------------------------------------------- caches
class FullKVCache:
    """Exact: keeps every key and value in preallocated fp32 buffers. Lossless."""

    def __init__(self, model, batch: int = 1):
        cfg = model.cfg
        ref = next(model.parameters())
        shape = (cfg.n_layer, batch, cfg.n_head, cfg.block_size, cfg.d_model // cfg.n_head)
        # dynamic-int8 models keep fp32 activations, so the buffers are fp32 either way
        self.k = torch.zeros(shape, device=ref.device)
        self.v = torch.zeros(shape, device=ref.device)
        self.length = 0

    def update(self, layer, k, v):
        start, T = self.length, k.shape[2]
        self.k[layer, :, :, start:start + T] = k
        self.v[layer, :, :, start:start + T] = v
        return self.k[layer, :, :, :start + T], self.v[layer, :, :, :start + T], _causal_mask(start, T, k.device)

    def advance(self, T):
        self.length += T

    def truncate(self, length):
        """Forget positions >= length (speculative decoding rolls back rejected drafts)."""
        self.length = length

    def nbytes(self) -> int:
        """Bytes the cache holds for the positions seen so far."""
        per_pos = self.k[:, :, :, 0].numel() * self.k.element_size() * 2
        return per_pos * self.length


class SlidingWindowKVCache:
    """Lossy: keeps only the last `window` positions; a query attends to at most `window` keys.

    Memory stays bounded at `window` positions however long the generation runs.
    """

    def __init__(self, model, window: int, batch: int = 1):
        self.window = window
        self.n_layer = model.cfg.n_layer
        self.k = [None] * self.n_layer
        self.v = [None] * self.n_layer
        self.length = 0

    def update(self, layer, k, v):
        T = k.shape[2]
        if self.k[layer] is not None:
            k = torch.cat([self.k[layer], k], dim=2)
            v = torch.cat([self.v[layer], v], dim=2)
        if T == 1:  # decoding: the one query sees exactly the last `window` keys, no mask needed
            k, v = k[:, :, -self.window:], v[:, :, -self.window:]
            self.k[layer], self.v[layer] = k, v
            return k, v, None
        first = self.length + T - k.shape[2]         # absolute position of k[:, :, 0]
        q_pos = torch.arange(self.length, self.length + T, device=k.device)[:, None]
        k_pos = torch.arange(first, self.length + T, device=k.device)[None, :]
        mask = (k_pos <= q_pos) & (k_pos > q_pos - self.window)
        self.k[layer], self.v[layer] = k[:, :, -self.window:], v[:, :, -self.window:]
        return k, v, mask

    def advance(self, T):
        self.length += T

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.k + self.v if t is not None)


class Int8KVCache:
    """Lossy: keys and values stored as int8 with one fp32 scale per (position, head) vector.

    Symmetric absmax quantization; dequantized on read. About 3.5x less cache memory than fp32
    for head size 32, at the price of a dequantize per step.
    """

    def __init__(self, model, batch: int = 1):
        cfg = model.cfg
        device = next(model.parameters()).device
        shape = (cfg.n_layer, batch, cfg.n_head, cfg.block_size, cfg.d_model // cfg.n_head)
        self.qk = torch.zeros(shape, dtype=torch.int8, device=device)
        self.qv = torch.zeros(shape, dtype=torch.int8, device=device)
        self.sk = torch.zeros(shape[:-1] + (1,), device=device)
        self.sv = torch.zeros(shape[:-1] + (1,), device=device)
        self.length = 0

    @staticmethod
    def _quantize(x):
        scale = x.abs().amax(dim=-1, keepdim=True).clamp_min(1e-8) / 127.0
        return torch.round(x / scale).to(torch.int8), scale

    def update(self, layer, k, v):
        start, T = self.length, k.shape[2]
        end = start + T
        self.qk[layer, :, :, start:end], self.sk[layer, :, :, start:end] = self._quantize(k)
        self.qv[layer, :, :, start:end], self.sv[layer, :, :, start:end] = self._quantize(v)
        k_all = self.qk[layer, :, :, :end].float() * self.sk[layer, :, :, :end]
        v_all = self.qv[layer, :, :, :end].float() * self.sv[layer, :, :, :end]
        return k_all, v_all, _causal_mask(start, T, k.device)

    def advance(self, T):
        self.length += T

    def nbytes(self) -> int:
        per_pos = (self.qk[:, :, :, 0].numel() * 2) + (self.sk[:, :, :, 0].numel() * 4 * 2)
        return per_pos * self.length


def _causal_mask(start: int, T: int, device) -> torch.Tensor | None:
    """New queries at positions start..start+T-1 over keys 0..start+T-1 (True = attend)."""
    if T == 1:
        return None  # one query sees every cached key
    q_pos = torch.arange(start, start + T, device=device)[:, None]
    k_pos = torch.arange(0, start + T, device=device)[None, :]
    return k_pos <= q_pos


# ----------------------------------------------------------------------------------- generation
# Each decoder streams: it yields each token id as soon as it is decided, so frontier.measure_generation
# timestamps the first token and the later ones. generate_* collect a stream into a list.
@dataclass
class DraftCounts:
    """Speculative decoding, per generated sequence: draft tokens proposed and accepted."""

    proposed: list[int] = field(default_factory=list)
    accepted: list[int] = field(default_factory=list)

    @property
    def acceptance_rate(self) -> float:
        return sum(self.accepted) / sum(self.proposed) if sum(self.proposed) else float("nan")


def _argmax_last(logits) -> int:
    return int(logits[0, -1].argmax())


@torch.inference_mode()
def stream_nocache(model, prompt: torch.Tensor, n_new: int):
    """The reference: every step recomputes the whole prefix (cost grows quadratically)."""
    device = prompt.device
    seq = prompt[None, :]
    for _ in range(n_new):
        tok = _argmax_last(model(seq))
        yield tok
        seq = torch.cat([seq, torch.tensor([[tok]], device=device)], dim=1)


@torch.inference_mode()
def stream_cached(model, prompt: torch.Tensor, n_new: int, make_cache):
    """Prefill the prompt once, then feed one token per step through the cache."""
    device = prompt.device
    cache = make_cache(model)
    tok = _argmax_last(model(prompt[None, :], cache))
    yield tok
    for _ in range(n_new - 1):
        tok = _argmax_last(model(torch.tensor([[tok]], device=device), cache))
        yield tok


@torch.inference_mode()
def stream_speculative(target, draft, prompt: torch.Tensor, n_new: int, k: int, counts: DraftCounts | None = None):
    """Greedy speculative decoding (Leviathan et al. 2023; greedy acceptance, so lossless).

    The draft proposes up to k tokens one at a time; the target scores them all in one forward
    pass and keeps the longest prefix that equals its own greedy choice, plus its own next token.
    Both caches roll back past rejected proposals. The accepted tokens of a pass arrive together.
    """
    device = prompt.device
    t_cache, d_cache = FullKVCache(target), FullKVCache(draft)
    seq = prompt.tolist()
    first = _argmax_last(target(prompt[None, :], t_cache))
    yield first
    seq.append(first)
    produced = 1
    proposed = accepted = 0
    while produced < n_new:
        k_eff = min(k, n_new - produced)
        # the draft catches up on tokens it has not seen (1 or 2), then proposes k_eff tokens
        logits = draft(torch.tensor([seq[d_cache.length:]], device=device), d_cache)
        proposals = [_argmax_last(logits)]
        for _ in range(k_eff - 1):
            proposals.append(_argmax_last(draft(torch.tensor([[proposals[-1]]], device=device), d_cache)))
        # the target verifies: its unseen token(s) plus the proposals, in one pass
        fed = seq[t_cache.length:] + proposals
        base = t_cache.length
        verdict = target(torch.tensor([fed], device=device), t_cache)[0, -(k_eff + 1):].argmax(-1).tolist()
        m = 0
        while m < k_eff and proposals[m] == verdict[m]:
            m += 1
        new = (proposals[:m] + [verdict[m]])[:n_new - produced]
        proposed += k_eff
        accepted += m
        seq.extend(new)
        produced += len(new)
        # keep only positions whose tokens were accepted; the last new token is not yet fed
        t_cache.truncate(base + len(fed) - k_eff + m)
        d_cache.truncate(min(d_cache.length, len(seq) - 1))
        yield from new
    if counts is not None:
        counts.proposed.append(proposed)
        counts.accepted.append(accepted)


def generate_nocache(model, prompt: torch.Tensor, n_new: int) -> list[int]:
    return list(stream_nocache(model, prompt, n_new))


def generate_cached(model, prompt: torch.Tensor, n_new: int, make_cache) -> list[int]:
    return list(stream_cached(model, prompt, n_new, make_cache))


def generate_speculative(target, draft, prompt: torch.Tensor, n_new: int, k: int,
                         counts: DraftCounts | None = None) -> list[int]:
    return list(stream_speculative(target, draft, prompt, n_new, k, counts))


# ----------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Evaluation:
    correct: list[int]           # per held-out position: greedy next char == truth
    nll: float                   # mean negative log-likelihood (nats per char)

    @property
    def accuracy(self) -> float:
        return sum(self.correct) / len(self.correct)

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll)


@torch.inference_mode()
def evaluate(model, windows: torch.Tensor, make_cache=None) -> Evaluation:
    """Teacher-forced next-char prediction on held-out windows (B, T+1).

    Without a cache: one parallel forward. With one: token by token through the cache, so a lossy
    cache shows its real effect on prediction quality.
    """
    x, y = windows[:, :-1], windows[:, 1:]
    if make_cache is None:
        logits = model(x)
    else:
        cache = make_cache(model, batch=x.shape[0])
        logits = torch.cat([model(x[:, t:t + 1], cache) for t in range(x.shape[1])], dim=1)
    logits = logits.float()
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
    correct = (logits.argmax(-1) == y).reshape(-1).int().tolist()
    return Evaluation(correct=correct, nll=nll)
