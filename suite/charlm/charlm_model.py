"""A small character-level GPT (pre-norm decoder-only transformer) and its training function.

The model knows nothing about caching strategies: `forward(idx, cache=cache)` hands each layer's
new keys and values to the cache, which returns what to attend to (see charlm_decoding.py).
Training and architecture live in this one module because the model cache keys on the training
function's module source: any change here retrains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    block_size: int       # the longest sequence (prompt + generated) the model is trained for
    n_layer: int
    n_head: int
    d_model: int


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor, layer: int, cache=None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if cache is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            k, v, mask = cache.update(layer, k, v)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc = nn.Linear(cfg.d_model, 4 * cfg.d_model)
        self.out = nn.Linear(4 * cfg.d_model, cfg.d_model)

    def forward(self, x, layer, cache=None):
        x = x + self.attn(self.ln1(x), layer, cache)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class CharGPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.block_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size)  # untied, so dynamic int8 covers it

    def forward(self, idx: torch.Tensor, cache=None) -> torch.Tensor:
        """Logits for every position of `idx` (B, T). With a cache, idx are the *new* tokens."""
        start = 0 if cache is None else cache.length
        T = idx.shape[1]
        if start + T > self.cfg.block_size:
            raise ValueError(f"sequence of {start + T} exceeds block_size {self.cfg.block_size}")
        pos = torch.arange(start, start + T, device=idx.device)
        x = self.tok(idx) + self.pos(pos)
        for i, block in enumerate(self.blocks):
            x = block(x, i, cache)
        if cache is not None:
            cache.advance(T)
        return self.head(self.ln_f(x))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build(config: dict) -> CharGPT:
    fields = {k: config[k] for k in ("vocab_size", "block_size", "n_layer", "n_head", "d_model")}
    return CharGPT(GPTConfig(**fields))


def train_charlm(*, seed: int, vocab_size: int, block_size: int, n_layer: int, n_head: int,
                 d_model: int, steps: int, batch_size: int, lr: float, threads: int,
                 corpus_sha256: str) -> dict:
    """Train on the corpus train split with AdamW and a cosine schedule; return the state_dict.

    Deterministic: seeded init and batches, a fixed thread count. `corpus_sha256` is only a cache
    key part (the corpus is loaded here and must match it).
    """
    from charlm_data import load_corpus

    corpus = load_corpus()
    if corpus.sha256 != corpus_sha256:
        raise RuntimeError(f"corpus changed: {corpus.sha256} != {corpus_sha256}")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        model = build(dict(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer,
                           n_head=n_head, d_model=d_model))
        data = corpus.train
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.01)
        warmup = max(1, steps // 20)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt,
            lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)) * 0.9 + 0.1)
        model.train()
        offsets = torch.arange(block_size + 1)
        for _ in range(steps):
            starts = torch.randint(0, len(data) - block_size - 1, (batch_size,), generator=gen)
            chunk = data[starts[:, None] + offsets]
            logits = model(chunk[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, vocab_size), chunk[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        model.eval()
        return {k: v.detach().clone() for k, v in model.state_dict().items()}
    finally:
        torch.set_num_threads(previous_threads)


# The two models of the board. The draft is the speculative-decoding proposer: one layer, narrow.
TARGET_CONFIG = dict(block_size=160, n_layer=2, n_head=4, d_model=128, steps=300, batch_size=32,
                     lr=6e-3, threads=2)
DRAFT_CONFIG = dict(block_size=160, n_layer=1, n_head=2, d_model=64, steps=200, batch_size=32,
                    lr=8e-3, threads=2)
