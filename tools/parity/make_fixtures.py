#!/usr/bin/env python3
"""Build tiny random Hugging Face checkpoints plus reference outputs for Scalpel's parity tests.

Usage (from the repository root):

    .venv/bin/python tools/parity/make_fixtures.py --out fixtures/models

Everything is deterministic (fixed seeds); rerunning rewrites every fixture folder from scratch.
Nothing is downloaded: the tokenizer is trained on the shared corpora and every model is built from
its config class, re-initialised with fixed seeds, saved with the model class's own
``save_pretrained(..., safe_serialization=True)``, then RELOADED from disk in float32 with eager
attention to compute the reference outputs (so fp16/bf16 fixtures are referenced against the fp32
upcast of the stored half-precision weights).

Per fixture folder:
    config.json, generation_config.json, model.safetensors (or sharded + index)  -- written by HF
    tokenizer.json                                                             -- same file everywhere
    expected.safetensors   input_ids, logits, greedy_prompt, greedy_output, hidden_after_layer0
    expected.json          fixture, architecture, versions, stats, notes
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

# never touch the network; everything is built locally
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import torch
import torch.nn.functional as F
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForCausalLM,
    Gemma2Config,
    Gemma2ForCausalLM,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Olmo2Config,
    Olmo2ForCausalLM,
    Phi3Config,
    Phi3ForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
    Qwen3MoeConfig,
    Qwen3MoeForCausalLM,
    Qwen3_5ForCausalLM,
    Qwen3_5TextConfig,
    Qwen3NextConfig,
    Qwen3NextForCausalLM,
)
from transformers.models.qwen3_5 import modeling_qwen3_5
from transformers.models.qwen3_next import modeling_qwen3_next

DEFAULT_CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"  # shared/ sits beside the repository
LANGS = ["en", "de", "fr", "es", "code"]
BYTES_PER_LANG = 80_000          # ~400 KB of training text for the tokenizer

VOCAB = 512
HIDDEN = 64
INTERMEDIATE = 128
MAX_POS = 128
BOS, EOS, PAD = 0, 1, 2
SPECIALS = ["<|bos|>", "<|eos|>", "<|pad|>"]

SEQ_BATCH, SEQ_LEN = 2, 12
PROMPT_LEN = 5
MAX_NEW = 10
INPUT_SEED = 1234
GREEDY_SEED = 4321

STD_MATRIX = 0.15
STD_EMBED = 0.5
STD_NORM = 0.1
STD_BIAS = 0.1

COMMON = dict(
    vocab_size=VOCAB,
    bos_token_id=BOS,
    eos_token_id=EOS,
    pad_token_id=PAD,
)
LLAMA_LIKE = dict(
    COMMON,
    hidden_size=HIDDEN,
    intermediate_size=INTERMEDIATE,
    num_hidden_layers=2,
    max_position_embeddings=MAX_POS,
    rms_norm_eps=1e-5,
    hidden_act="silu",
)
# Gemma configs name the activation `hidden_activation` (no `hidden_act` field)
GEMMA_LIKE = dict(
    COMMON,
    hidden_size=HIDDEN,
    intermediate_size=INTERMEDIATE,
    max_position_embeddings=MAX_POS,
    rms_norm_eps=1e-6,
    hidden_activation="gelu_pytorch_tanh",
)


# --------------------------------------------------------------------------------------------
# tokenizer
# --------------------------------------------------------------------------------------------
def read_prefix(path: Path, nbytes: int) -> str:
    """First ~nbytes of a UTF-8 file, cut at a line boundary."""
    with open(path, "rb") as f:
        data = f.read(nbytes)
    cut = data.rfind(b"\n")
    if cut > 0:
        data = data[: cut + 1]
    return data.decode("utf-8", errors="ignore")


def train_tokenizer(corpora: Path) -> Tokenizer:
    texts = []
    for lang in LANGS:
        texts.append(read_prefix(corpora / lang / "train.txt", BYTES_PER_LANG))
    # split into paragraphs (blank-line separated) so the iterator yields many small items
    items = []
    for t in texts:
        items.extend(p for p in t.split("\n\n") if p.strip())

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        min_frequency=2,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(items, trainer=trainer, length=len(items))
    # no post-processor: BOS is added by the Java code
    assert tok.get_vocab_size() == VOCAB, tok.get_vocab_size()
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    sample = "Hello wörld — ¿qué tal? public static void main(String[] args) {}"
    enc = tok.encode(sample)
    assert tok.decode(enc.ids) == sample, tok.decode(enc.ids)
    print(f"tokenizer: vocab={tok.get_vocab_size()} from {sum(len(t.encode()) for t in texts)} bytes; "
          f"sample -> {len(enc.ids)} ids {enc.ids[:12]}...")
    return tok


# --------------------------------------------------------------------------------------------
# init
# --------------------------------------------------------------------------------------------
def is_norm(name: str) -> bool:
    leaf = name.split(".")
    return any(("norm" in p) or p.startswith("ln_") for p in leaf[:-1])


def is_embedding(name: str) -> bool:
    return any(k in name for k in ("embed_tokens", "wte", "wpe"))


@torch.no_grad()
def reinit(model: torch.nn.Module, seed: int, norm_center: float = 1.0, embed_std: float = STD_EMBED,
           overrides=()) -> None:
    """Every parameter from one seeded generator. norm_center is the mean of norm weights: 1.0 for
    RMSNorm/LayerNorm that multiply by `weight`, 0.0 for Gemma's RMSNorm that multiplies by (1 + weight).
    embed_std: Gemma multiplies embeddings by sqrt(hidden) = 8, so it uses a smaller one.
    overrides: (regex, draw(shape, generator)) pairs; the first regex that matches a parameter name
    decides its draw instead of the rules below (same generator, same order)."""
    g = torch.Generator().manual_seed(seed)
    # named_parameters() dedups tied tensors, so a tied embedding is drawn once (as embedding)
    for name, p in model.named_parameters():
        draw = next((fn for pat, fn in overrides if re.search(pat, name)), None)
        if draw is not None:
            v = draw(p.shape, g)
        elif is_norm(name):
            if name.endswith("bias"):
                v = torch.randn(p.shape, generator=g) * STD_BIAS
            else:
                v = norm_center + torch.randn(p.shape, generator=g) * STD_NORM
        elif name.endswith("bias"):
            v = torch.randn(p.shape, generator=g) * STD_BIAS
        elif is_embedding(name):
            v = torch.randn(p.shape, generator=g) * embed_std
        else:
            v = torch.randn(p.shape, generator=g) * STD_MATRIX
        p.copy_(v.to(p.dtype))


# --------------------------------------------------------------------------------------------
# Qwen3.5 (hybrid Gated DeltaNet + gated full attention): init rules and feature ablations
# --------------------------------------------------------------------------------------------
Q35_HEADS, Q35_HEAD_DIM = 4, 16
# Qwen3_5RMSNorm (input/post_attention layernorms, q_norm/k_norm, model.norm) computes x_hat * (1 + w)
Q35_ZERO_CENTRED_NORM = r"(input_layernorm|post_attention_layernorm|self_attn\.[qk]_norm)\.weight$|^model\.norm\.weight$"
# ... but the Gated DeltaNet output norm (Qwen3_5RMSNormGated) computes x_hat * w * silu(z)
Q35_GATED_NORM = r"linear_attn\.norm\.weight$"
Q35_INIT = [
    # is_norm() also matches linear_attn.norm: it multiplies by w, so centre it at 1
    (Q35_GATED_NORM, lambda shape, g: 1.0 + torch.randn(shape, generator=g) * STD_NORM),
    # A = exp(A_log) in [1, 16]; dt_bias ~ N(-2, 0.5^2) (would otherwise count as a bias, N(0, 0.1^2)), so that the
    # per-step decay exp(g) = exp(-A * softplus(a + dt_bias)) is spread over ~0.05..0.8 (A_log is not a norm/bias/
    # embedding and would otherwise be drawn as a matrix)
    (r"linear_attn\.A_log$", lambda shape, g: torch.log(1.0 + 15.0 * torch.rand(shape, generator=g))),
    (r"linear_attn\.dt_bias$", lambda shape, g: -2.0 + torch.randn(shape, generator=g) * 0.5),
    # depthwise causal conv [channels, 1, kernel]: 4 taps, larger than the matrix std so the taps matter
    (r"linear_attn\.conv1d\.weight$", lambda shape, g: torch.randn(shape, generator=g) * 0.3),
]


def _q35_edit(pattern: str, fn):
    """state-dict rewrite: fn(tensor) on every key matching pattern"""
    def edit(state):
        hits = [k for k in state if re.search(pattern, k)]
        assert hits, f"pattern {pattern} matches nothing"
        for k in hits:
            state[k] = fn(state[k])
        return state
    return edit


def _q35_gate_as_halves(w: torch.Tensor) -> torch.Tensor:
    """q_proj rows are per head [query(16) | gate(16)] x 4 heads; this rewrite makes transformers compute what a
    loader that reads rows [0, 64) as the query and [64, 128) as the gate would compute on the original weights"""
    return w.view(2, Q35_HEADS, Q35_HEAD_DIM, -1).transpose(0, 1).reshape(w.shape)


def _q35_conv_identity(w: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(w)
    out[..., -1] = 1.0          # the current position's tap only: conv1d becomes silu(x)
    return out


def _tile_not_interleave(self, repeats, dim=None, **_):
    """Tensor.repeat_interleave replaced by Tensor.repeat (value head h reads key head h % n_k, not h // ratio)"""
    reps = [1] * self.dim()
    reps[dim] = repeats
    return self.repeat(*reps)


Q35_ABLATIONS = [
    ("attention output gate ignored (sigmoid(gate) = 1)",
     dict(patch=lambda: mock.patch.object(torch, "sigmoid", torch.ones_like))),
    ("q_proj read as [query | gate] halves instead of per-head [q_h | gate_h]",
     dict(state=_q35_edit(r"self_attn\.q_proj\.weight$", _q35_gate_as_halves))),
    ("partial_rotary_factor=1.0", dict(config=lambda c: c.rope_parameters.update(partial_rotary_factor=1.0))),
    ("Qwen3_5RMSNorm read as x_hat * w instead of x_hat * (1 + w)",
     dict(state=_q35_edit(Q35_ZERO_CENTRED_NORM, lambda w: w - 1.0))),
    ("GDN gated norm read as x_hat * (1 + w) instead of x_hat * w",
     dict(state=_q35_edit(Q35_GATED_NORM, lambda w: 1.0 + w))),
    ("conv1d reduced to its last tap (silu(x), no causal mixing)",
     dict(state=_q35_edit(r"conv1d\.weight$", _q35_conv_identity))),
    ("GDN decay off (A_log = -30, g ~ 0)", dict(state=_q35_edit(r"A_log$", lambda w: torch.full_like(w, -30.0)))),
    ("GDN q/k l2norm off", dict(patch=lambda: mock.patch.object(modeling_qwen3_5, "l2norm", lambda x, dim=-1, eps=1e-6: x))),
    ("GDN q/k heads tiled (h % 2) instead of repeat_interleave (h // 2)",
     dict(patch=lambda: mock.patch.object(torch.Tensor, "repeat_interleave", _tile_not_interleave))),
]


# Qwen3-Next: the same Gated DeltaNet with fused, per-key-head interleaved projections, and MoE with a shared expert
QN_KEY_HEADS, QN_VALUE_HEADS, QN_HEAD_DIM = 2, Q35_HEADS, Q35_HEAD_DIM

# the text model both hybrids share: 3 Gated DeltaNet layers (2 key / 4 value heads of 16), then gated full attention
HYBRID_TEXT = dict(LLAMA_LIKE, num_hidden_layers=4, rms_norm_eps=1e-6, num_attention_heads=Q35_HEADS,
                   num_key_value_heads=2, head_dim=Q35_HEAD_DIM, rope_theta=10000.0, partial_rotary_factor=0.25,
                   layer_types=["linear_attention"] * 3 + ["full_attention"], linear_num_key_heads=QN_KEY_HEADS,
                   linear_num_value_heads=Q35_HEADS, linear_key_head_dim=Q35_HEAD_DIM,
                   linear_value_head_dim=Q35_HEAD_DIM, linear_conv_kernel_dim=4, tie_word_embeddings=False,
                   attention_bias=False)


def _qn_qkvz_as_blocks(w: torch.Tensor, hk=QN_KEY_HEADS, hv=QN_VALUE_HEADS, dk=QN_HEAD_DIM, dv=QN_HEAD_DIM) -> torch.Tensor:
    """in_proj_qkvz rows are per key head [q(dk) | k(dk) | v(r x dv) | z(r x dv)] x hk key heads (r = hv / hk); this
    rewrite makes transformers compute what a loader that reads the rows as contiguous q | k | v | z blocks would
    compute"""
    q, k, v, z = torch.split(w, [hk * dk] * 2 + [hv * dv] * 2, dim=0)
    groups = [t.reshape(hk, -1, w.shape[1]) for t in (q, k, v, z)]
    return torch.cat(groups, dim=1).reshape(w.shape)


def _qn_ba_as_blocks(w: torch.Tensor, hk=QN_KEY_HEADS, hv=QN_VALUE_HEADS) -> torch.Tensor:
    """in_proj_ba rows are per key head [b(r) | a(r)]; rewritten as for a loader reading contiguous b | a halves"""
    b, a = torch.split(w, [hv, hv], dim=0)
    return torch.cat([t.reshape(hk, -1, w.shape[1]) for t in (b, a)], dim=1).reshape(w.shape)


def qn_ablations(hk=QN_KEY_HEADS, hv=QN_VALUE_HEADS, dk=QN_HEAD_DIM, dv=QN_HEAD_DIM):
    """Qwen3-Next's feature ablations for a Gated DeltaNet of hk key heads of dk and hv value heads of dv"""
    return [
        ("in_proj_qkvz read as contiguous q | k | v | z blocks instead of per-key-head groups",
         dict(state=_q35_edit(r"in_proj_qkvz\.weight$", lambda w: _qn_qkvz_as_blocks(w, hk, hv, dk, dv)))),
        ("in_proj_ba read as contiguous b | a halves instead of per-key-head groups",
         dict(state=_q35_edit(r"in_proj_ba\.weight$", lambda w: _qn_ba_as_blocks(w, hk, hv)))),
        ("shared expert dropped", dict(state=_q35_edit(r"shared_expert\.down_proj\.weight$", torch.zeros_like))),
        ("shared_expert_gate ignored (sigmoid = 1)",
         dict(patch=lambda: mock.patch.object(modeling_qwen3_next.F, "sigmoid", torch.ones_like))),
        ("attention output gate ignored (sigmoid(gate) = 1)",
         dict(patch=lambda: mock.patch.object(torch, "sigmoid", torch.ones_like))),
        ("partial_rotary_factor=1.0", dict(config=lambda c: c.rope_parameters.update(partial_rotary_factor=1.0))),
        ("Qwen3NextRMSNorm read as x_hat * w instead of x_hat * (1 + w)",
         dict(state=_q35_edit(Q35_ZERO_CENTRED_NORM, lambda w: w - 1.0))),
        ("GDN decay off (A_log = -30, g ~ 0)", dict(state=_q35_edit(r"A_log$", lambda w: torch.full_like(w, -30.0)))),
        ("norm_topk_prob=False", dict(config=lambda c: setattr(c, "norm_topk_prob", False))),
    ]


QN_ABLATIONS = qn_ablations()

# ragged hybrids: twice as many Gated DeltaNet value heads as attention heads, each half as wide as an attention head
RAGGED_VALUE_HEADS, RAGGED_VALUE_DIM = 2 * Q35_HEADS, Q35_HEAD_DIM // 2
RAGGED_TEXT = dict(HYBRID_TEXT, linear_num_value_heads=RAGGED_VALUE_HEADS, linear_value_head_dim=RAGGED_VALUE_DIM)
RAGGED_ABLATIONS = [
    ("GDN q/k heads tiled (h % 2) instead of repeat_interleave (h // 4)",
     dict(patch=lambda: mock.patch.object(torch.Tensor, "repeat_interleave", _tile_not_interleave))),
]


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------
def fixture_specs():
    specs = []

    specs.append(dict(
        name="llama-gqa",
        cls=LlamaForCausalLM,
        config=LlamaConfig(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                           rope_theta=10000.0, tie_word_embeddings=False, attention_bias=False,
                           mlp_bias=False),
        notes="Llama, 4 q heads / 2 kv heads (GQA), head_dim 16 derived, untied lm_head, "
              "default RoPE theta 1e4.",
    ))

    specs.append(dict(
        name="llama3-tied",
        cls=LlamaForCausalLM,
        config=LlamaConfig(**dict(LLAMA_LIKE, num_hidden_layers=3), num_attention_heads=4,
                           num_key_value_heads=4, head_dim=32, rope_theta=500000.0,
                           rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                         "original_max_position_embeddings": 32},
                           tie_word_embeddings=True, attention_bias=False, mlp_bias=False),
        notes="Llama 3 RoPE scaling (factor 8, low 1, high 4, original 32), theta 5e5, "
              "explicit head_dim 32 != hidden/heads (q_proj 64->128, o_proj 128->64), MHA (4/4), "
              "3 layers, tied embeddings.",
    ))

    specs.append(dict(
        name="mistral",
        cls=MistralForCausalLM,
        config=MistralConfig(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=1,
                             rope_theta=10000.0, sliding_window=None, tie_word_embeddings=False),
        greedy="eos",
        notes="Mistral, 4 q heads / 1 kv head (MQA), sliding_window null, untied. The init seed is "
              "chosen so greedy generation stops early at eos (id 1): greedy_output ends with 1 "
              "and is shorter than max_new_tokens=10.",
    ))

    specs.append(dict(
        name="qwen2",
        cls=Qwen2ForCausalLM,
        config=Qwen2Config(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                           rope_theta=10000.0, tie_word_embeddings=True, use_sliding_window=False),
        notes="Qwen2: q/k/v projections have bias (o_proj none), 4/2 GQA, tied embeddings.",
    ))

    specs.append(dict(
        name="qwen3",
        cls=Qwen3ForCausalLM,
        config=Qwen3Config(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2, head_dim=24,
                           rope_theta=10000.0, tie_word_embeddings=False, attention_bias=False,
                           use_sliding_window=False),
        notes="Qwen3: per-head q_norm/k_norm RMSNorm (weight [head_dim]) applied before RoPE, "
              "explicit head_dim 24 (q_proj 64->96), 4/2 GQA, no bias, untied.",
    ))

    specs.append(dict(
        name="gpt2",
        cls=GPT2LMHeadModel,
        config=GPT2Config(**COMMON, n_embd=HIDDEN, n_head=4, n_layer=2, n_positions=MAX_POS,
                          n_inner=None, activation_function="gelu_new", layer_norm_epsilon=1e-5,
                          tie_word_embeddings=True),
        notes="GPT-2: Conv1D weights stored [in, out] (transposed vs nn.Linear), fused c_attn "
              "(q|k|v along out dim), learned absolute positions wpe, LayerNorm with bias, "
              "gelu_new (tanh approx), n_inner null -> 4*n_embd=256, tied lm_head.",
    ))

    specs.append(dict(
        name="llama-f16-sharded",
        cls=LlamaForCausalLM,
        config=LlamaConfig(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                           rope_theta=10000.0, tie_word_embeddings=False, attention_bias=False,
                           mlp_bias=False),
        save_dtype=torch.float16,
        max_shard_size="100KB",
        notes="Same architecture as llama-gqa (different random weights), stored float16 in "
              "several shards with model.safetensors.index.json. Reference = fp32 upcast of the "
              "stored fp16 weights.",
    ))

    specs.append(dict(
        name="qwen2-bf16",
        cls=Qwen2ForCausalLM,
        config=Qwen2Config(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                           rope_theta=10000.0, tie_word_embeddings=True, use_sliding_window=False),
        save_dtype=torch.bfloat16,
        notes="Same architecture as qwen2 (different random weights), stored bfloat16, single "
              "file. Reference = fp32 upcast of the stored bf16 weights.",
    ))

    # ---- fixtures added later: appended so the ones above keep their base seeds ----
    specs.append(dict(
        name="llama-bias",
        cls=LlamaForCausalLM,
        config=LlamaConfig(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                           rope_theta=10000.0, tie_word_embeddings=False, attention_bias=True,
                           mlp_bias=True),
        ablations=[("o_proj bias zeroed", dict(zero=r"o_proj\.bias$")),
                   ("mlp biases zeroed", dict(zero=r"mlp\.\w+_proj\.bias$"))],
        notes="Llama with attention_bias=true (q/k/v AND o_proj bias) and mlp_bias=true "
              "(gate/up/down bias), 4/2 GQA, untied.",
    ))

    specs.append(dict(
        name="qwen3-bias",
        cls=Qwen3ForCausalLM,
        config=Qwen3Config(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2, head_dim=24,
                           rope_theta=10000.0, tie_word_embeddings=False, attention_bias=True,
                           use_sliding_window=False),
        ablations=[("o_proj bias zeroed", dict(zero=r"o_proj\.bias$"))],
        notes="Qwen3 with attention_bias=true: q/k/v AND o_proj have bias (unlike Qwen2, whose "
              "o_proj never has one); the bias is added before q_norm/k_norm. head_dim 24, 4/2 GQA, untied.",
    ))

    specs.append(dict(
        name="qwen2-sliding",
        cls=Qwen2ForCausalLM,
        config=Qwen2Config(**dict(LLAMA_LIKE, num_hidden_layers=3), num_attention_heads=4,
                           num_key_value_heads=2, rope_theta=10000.0, tie_word_embeddings=False,
                           use_sliding_window=True, sliding_window=4, max_window_layers=1),
        ablations=[("sliding window off (sliding_window=1000)", dict(config=lambda c: setattr(c, "sliding_window", 1000)))],
        notes="Qwen2 with use_sliding_window=true, sliding_window=4, max_window_layers=1, 3 layers. "
              "transformers derives layer_types = [full, sliding, sliding] (layer i slides iff "
              "i >= max_window_layers) and writes it to config.json. A sliding layer's query at "
              "position q sees keys q-3..q (4 positions, itself included). Binds for seq 12 and "
              "during generation (5 prompt + 10 new). Layer 0 is full attention. Untied.",
    ))

    specs.append(dict(
        name="qwen3-sliding",
        cls=Qwen3ForCausalLM,
        config=Qwen3Config(**dict(LLAMA_LIKE, num_hidden_layers=3), num_attention_heads=4,
                           num_key_value_heads=2, head_dim=16, rope_theta=10000.0,
                           tie_word_embeddings=False, attention_bias=False,
                           use_sliding_window=True, sliding_window=4, max_window_layers=1,
                           layer_types=["full_attention", "sliding_attention", "full_attention"]),
        ablations=[("sliding window off (sliding_window=1000)", dict(config=lambda c: setattr(c, "sliding_window", 1000)))],
        notes="Qwen3 with use_sliding_window=true, sliding_window=4 and EXPLICIT layer_types "
              "[full, sliding, full], 3 layers. max_window_layers=1 alone would derive "
              "[full, sliding, sliding]: transformers uses layer_types as given, so a loader must "
              "read layer_types and not re-derive it from max_window_layers. head_dim 16, 4/2 GQA, untied.",
    ))

    specs.append(dict(
        name="mistral-window",
        cls=MistralForCausalLM,
        config=MistralConfig(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                             rope_theta=10000.0, sliding_window=4, tie_word_embeddings=False),
        ablations=[("sliding window off (sliding_window=None)", dict(config=lambda c: setattr(c, "sliding_window", None)))],
        notes="Mistral with sliding_window=4 on every layer (Mistral has no layer_types; the window "
              "applies to all layers when sliding_window is not null). Binds for seq 12 and during "
              "generation. 4/2 GQA, untied.",
    ))

    specs.append(dict(
        name="olmo2",
        cls=Olmo2ForCausalLM,
        config=Olmo2Config(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                           rope_theta=10000.0, tie_word_embeddings=False, attention_bias=False),
        notes="OLMo 2: NO pre-norms (no input_layernorm); post-norms on the sublayer outputs: "
              "h = h + post_attention_layernorm(attn(h)); h = h + post_feedforward_layernorm(mlp(h)); "
              "q_norm/k_norm are RMSNorms over the FULL projection width (q_norm [heads*head_dim]=[64], "
              "k_norm [kv_heads*head_dim]=[32]) applied to q_proj/k_proj output before the head split "
              "and RoPE. 4/2 GQA, untied.",
    ))

    specs.append(dict(
        name="gemma2",
        cls=Gemma2ForCausalLM,
        config=Gemma2Config(**GEMMA_LIKE, num_hidden_layers=4, num_attention_heads=4,
                            num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=24,
                            sliding_window=4, attn_logit_softcapping=10.0,
                            final_logit_softcapping=3.0, rope_theta=10000.0,
                            tie_word_embeddings=True),
        norm_center=0.0,
        embed_std=STD_EMBED / 8,
        sdpa=False,
        ablations=[
            ("attn_logit_softcapping=None", dict(config=lambda c: setattr(c, "attn_logit_softcapping", None))),
            ("final_logit_softcapping=None", dict(config=lambda c: setattr(c, "final_logit_softcapping", None))),
            ("query_pre_attn_scalar=head_dim (16)", dict(config=lambda c: setattr(c, "query_pre_attn_scalar", 16))),
            ("sliding window off (sliding_window=1000)", dict(config=lambda c: setattr(c, "sliding_window", 1000))),
        ],
        notes="Gemma 2: 4 layers, layer_types alternate [sliding, full, sliding, full] (default "
              "pattern), sliding_window 4; attention scores scaled by query_pre_attn_scalar**-0.5 = "
              "24**-0.5 (NOT head_dim 16), then soft-capped cap*tanh(s/cap) with attn_logit_softcapping "
              "10 BEFORE the mask; final logits soft-capped with final_logit_softcapping 3. The caps are "
              "smaller than Gemma 2's real 50 / 30 so that they bind on this tiny model (raw attention "
              "scores <= ~5, uncapped logits <= ~2.5; at 50 / 30 they would move the logits by < 1e-2). "
              "Embeddings drawn N(0, 0.0625^2) so that after the x8 scale they are N(0, 0.5^2) like the "
              "other fixtures (tied random Gemmas with larger embeddings just repeat the last token). "
              "RMSNorm multiplies by (1 + weight) (norm weights here N(0, 0.1^2)); 4 norms per "
              "layer (input, post_attention, pre_feedforward, post_feedforward; the post-norms are "
              "applied to the sublayer output before the residual add); embeddings multiplied by "
              "sqrt(hidden)=8; gelu_pytorch_tanh gated MLP; tied. eager-vs-sdpa is NOT checked: "
              "transformers' sdpa path silently ignores attn_logit_softcapping.",
    ))

    specs.append(dict(
        name="gemma3-text",
        cls=Gemma3ForCausalLM,
        config=Gemma3TextConfig(**dict(GEMMA_LIKE, intermediate_size=64), num_hidden_layers=6, num_attention_heads=4,
                                num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=24,
                                sliding_window=4, rope_theta=1_000_000.0,
                                rope_local_base_freq=10_000.0, tie_word_embeddings=True),
        norm_center=0.0,
        embed_std=STD_EMBED / 8,
        ablations=[
            ("sliding rope_theta = full rope_theta (1e6)",
             dict(config=lambda c: c.rope_parameters["sliding_attention"].update(rope_theta=1_000_000.0))),
            ("query_pre_attn_scalar=head_dim (16)", dict(config=lambda c: setattr(c, "query_pre_attn_scalar", 16))),
            ("sliding window off (sliding_window=1000)", dict(config=lambda c: setattr(c, "sliding_window", 1000))),
        ],
        notes="Gemma 3 text-only (model_type gemma3_text, Gemma3ForCausalLM): 6 layers, default 5 local : 1 "
              "global pattern -> layer_types [sliding x5, full]; sliding_window 4; RoPE per layer type: "
              "config.json has rope_parameters = {full_attention: {rope_theta 1e6}, sliding_attention: "
              "{rope_theta 1e4}} (built from the legacy kwargs rope_theta / rope_local_base_freq); "
              "per-head q_norm/k_norm (Gemma RMSNorm, 1 + weight, [head_dim]) before RoPE; "
              "query_pre_attn_scalar 24; no soft-capping (both null); 4 norms per layer like Gemma 2; "
              "embeddings x sqrt(hidden)=8 (drawn N(0, 0.0625^2) like gemma2); intermediate_size 64 "
              "(keeps the 6-layer folder under 1 MB); tied. Layer 0 is a sliding layer.",
    ))

    specs.append(dict(
        name="phi3",
        cls=Phi3ForCausalLM,
        config=Phi3Config(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                          rope_theta=10000.0, original_max_position_embeddings=MAX_POS,
                          tie_word_embeddings=False),
        notes="Phi-3: fused self_attn.qkv_proj [q|k|v along out dim: 64+32+32=128, 64] and fused "
              "mlp.gate_up_proj [gate|up: 2*128, 64] (first half gate, act(gate) * up), "
              "4/2 GQA, full rotary (partial_rotary_factor 1.0), untied.",
    ))

    specs.append(dict(
        name="phi3-partial",
        cls=Phi3ForCausalLM,
        config=Phi3Config(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2,
                          rope_theta=10000.0, original_max_position_embeddings=MAX_POS,
                          partial_rotary_factor=0.5, tie_word_embeddings=False),
        ablations=[("partial_rotary_factor=1.0",
                    dict(config=lambda c: c.rope_parameters.update(partial_rotary_factor=1.0)))],
        notes="Phi-3 with partial_rotary_factor 0.5: RoPE (rotate_half over the rotary part) on the "
              "first 8 of the 16 head dims, the last 8 pass through; inv_freq uses dim 8 "
              "(theta^(-2i/8)). config.json has partial_rotary_factor both top-level and inside "
              "rope_parameters. Fused qkv_proj/gate_up_proj like phi3, 4/2 GQA, untied.",
    ))

    specs.append(dict(
        name="qwen3-moe",
        cls=Qwen3MoeForCausalLM,
        config=Qwen3MoeConfig(**LLAMA_LIKE, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                              rope_theta=10000.0, tie_word_embeddings=False, attention_bias=False,
                              use_sliding_window=False, num_experts=4, num_experts_per_tok=2,
                              moe_intermediate_size=32, norm_topk_prob=True, decoder_sparse_step=1,
                              mlp_only_layers=[1]),
        router_gap=True,
        ablations=[("norm_topk_prob=False", dict(config=lambda c: setattr(c, "norm_topk_prob", False)))],
        notes="Qwen3-MoE: layer 0 sparse (router mlp.gate.weight [4, 64], 4 experts of "
              "moe_intermediate_size 32, top-2), layer 1 dense (mlp_only_layers=[1], ordinary "
              "gate/up/down of intermediate_size 128). Router: softmax over all 4 expert logits (fp32), "
              "top-2, renormalised to sum 1 (norm_topk_prob), output = sum_k w_k * expert_k(x), each "
              "expert down(silu(gate(x)) * up(x)). save_pretrained writes per-expert 2-D keys "
              "mlp.experts.{j}.{gate,up,down}_proj.weight (in memory v5 fuses them into 3-D "
              "experts.gate_up_proj [4, 64, 64] / experts.down_proj [4, 64, 32]). config.json has "
              "num_local_experts (not num_experts). Seed chosen so every token's 2nd/3rd router "
              "probability gap is >= 1e-3. q_norm/k_norm like Qwen3. 4/2 GQA, untied.",
    ))
    specs.append(dict(
        name="qwen3_5-hybrid",
        cls=Qwen3_5ForCausalLM,
        config=Qwen3_5TextConfig(**HYBRID_TEXT),
        norm_center=0.0,
        init_overrides=Q35_INIT,
        gdn=modeling_qwen3_5,
        hidden_after=[3],
        ablations=Q35_ABLATIONS,
        notes="Qwen3.5 text (model_type qwen3_5_text, Qwen3_5ForCausalLM): 4 layers, layer_types [linear x3, full] "
              "(= the default full_attention_interval 4, written explicitly). Layers 0-2 Gated DeltaNet (linear_attn): "
              "in_proj_qkv [q 32 | k 32 | v 64 rows] -> depthwise causal conv1d (kernel 4, left pad 3, no bias) -> silu; "
              "q/k [2 heads x 16], v [4 heads x 16]; q/k l2-normalised (eps 1e-6), q * 16**-0.5; q/k heads "
              "repeat_interleave'd to 4 (value head h uses key head h // 2); beta = sigmoid(in_proj_b x), "
              "g = -exp(A_log) * softplus(in_proj_a x + dt_bias); per step S = S*exp(g); S += k (beta*(v - S^T k))^T; "
              "o = S^T q; out = out_proj(RMSNorm(o) * w * silu(in_proj_z x)) per value head (norm weight [16], plain w). "
              "Layer 3 gated full attention: q_proj [128, 64] rows per head [query 16 | gate 16], q_norm/k_norm, "
              "partial RoPE on the first 4 of 16 dims (partial_rotary_factor 0.25, rotate_half over those 4), GQA 4/2, "
              "output * sigmoid(gate) before o_proj. All Qwen3_5RMSNorm weights (input/post_attention layernorms, "
              "q_norm, k_norm, model.norm) are zero-centred (1 + w, init N(0, 0.1^2)); the GDN gated norm multiplies by "
              "w (init 1 + N(0, 0.1^2)); A_log = log(U(1, 16)), dt_bias N(-2, 0.5^2), conv1d N(0, 0.3^2). "
              "Extra reference hidden_after_layer3 = residual after block 3 BEFORE model.norm (a forward hook; "
              "hidden_states[4] is the normed last_hidden_state in transformers 5). Untied.",
    ))

    specs.append(dict(
        name="gpt2-untied",
        cls=GPT2LMHeadModel,
        config=GPT2Config(**COMMON, n_embd=HIDDEN, n_head=4, n_layer=2, n_positions=MAX_POS,
                          n_inner=None, activation_function="gelu_new", layer_norm_epsilon=1e-5,
                          tie_word_embeddings=False),
        notes="GPT-2 with tie_word_embeddings=false: a separate top-level lm_head.weight [512, 64] (no transformer. "
              "prefix) is the unembedding; otherwise as gpt2.",
    ))
    # appended last so that the fixtures before it keep their seeds (1000 * position)
    specs.append(dict(
        name="qwen3-next",
        cls=Qwen3NextForCausalLM,
        config=Qwen3NextConfig(**HYBRID_TEXT, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                               shared_expert_intermediate_size=48, norm_topk_prob=True, decoder_sparse_step=1,
                               mlp_only_layers=[1]),
        norm_center=0.0,
        init_overrides=Q35_INIT,
        gdn=modeling_qwen3_next,
        router_gap=True,
        hidden_after=[3],
        ablations=QN_ABLATIONS,
        notes="Qwen3-Next (model_type qwen3_next, Qwen3NextForCausalLM): 4 layers, layer_types [linear x3, full]. "
              "Gated DeltaNet as qwen3_5-hybrid (2 key / 4 value heads of 16, conv1d 4, gated norm w), but projected by "
              "in_proj_qkvz [2 x (q 16 | k 16 | v 2x16 | z 2x16) = 192, 64], one group per key head, and in_proj_ba "
              "[2 x (b 2 | a 2) = 8, 64]; q|k|v regrouped to contiguous q | k | v before the conv. MoE in layers 0, 2, 3 "
              "(mlp_only_layers [1] is dense, intermediate 128): router mlp.gate [4, 64], 4 experts x 32, top-2, "
              "norm_topk_prob, plus mlp.shared_expert (intermediate 48) scaled by sigmoid(mlp.shared_expert_gate x) "
              "[1, 64]; per-expert keys mlp.experts.{j}.{gate,up,down}_proj. Layer 3 gated full attention with q/k norm "
              "and partial RoPE 0.25 as qwen3_5-hybrid. Zero-centred (1 + w) RMSNorms. Untied.",
    ))
    # ragged head grids, appended after qwen3-next so that every fixture before them keeps its seed
    specs.append(dict(
        name="qwen3-next-ragged",
        cls=Qwen3NextForCausalLM,
        config=Qwen3NextConfig(**RAGGED_TEXT, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                               shared_expert_intermediate_size=48, norm_topk_prob=True, decoder_sparse_step=1,
                               mlp_only_layers=[1]),
        norm_center=0.0,
        init_overrides=Q35_INIT,
        gdn=modeling_qwen3_next,
        router_gap=True,
        hidden_after=[3],
        ablations=qn_ablations(QN_KEY_HEADS, RAGGED_VALUE_HEADS, QN_HEAD_DIM, RAGGED_VALUE_DIM) + RAGGED_ABLATIONS,
        notes="Qwen3-Next as qwen3-next, but with a ragged head grid as real checkpoints have (Qwen3-Next-80B: 32 value "
              "heads of 128 vs 16 attention heads of 256): Gated DeltaNet layers 0-2 have 2 key heads of 16 and 8 value "
              "heads of 8 (linear_num_value_heads 8 = 2 x num_attention_heads, linear_value_head_dim 8 != head_dim 16; "
              "each key head serves 4 value heads), layer 3 4 gated attention heads of 16 (GQA 4/2). in_proj_qkvz "
              "[2 x (q 16 | k 16 | v 4x8 | z 4x8) = 128, 64], in_proj_ba [2 x (b 4 | a 4) = 16, 64], out_proj [64, 64], "
              "gated norm weight [8]. MoE as qwen3-next. Untied.",
    ))
    specs.append(dict(
        name="qwen3_5-ragged",
        cls=Qwen3_5ForCausalLM,
        config=Qwen3_5TextConfig(**RAGGED_TEXT),
        norm_center=0.0,
        init_overrides=Q35_INIT,
        gdn=modeling_qwen3_5,
        hidden_after=[3],
        ablations=Q35_ABLATIONS[:-1] + RAGGED_ABLATIONS,
        notes="Qwen3.5 text as qwen3_5-hybrid, but with a ragged head grid: Gated DeltaNet layers 0-2 have 2 key heads "
              "of 16 and 8 value heads of 8 (linear_num_value_heads 8 = 2 x num_attention_heads, linear_value_head_dim "
              "8 != head_dim 16), layer 3 4 gated attention heads of 16. in_proj_qkv [q 32 | k 32 | v 64 rows, 64], "
              "in_proj_z [64, 64], in_proj_b / in_proj_a [8, 64], out_proj [64, 64], gated norm weight [8]. Untied.",
    ))

    return specs


def check_llama3_rope(model) -> None:
    """Prove the llama3 rope scaling changes inv_freq for these numbers."""
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    rp = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
    theta = rp.get("rope_theta", getattr(cfg, "rope_theta", None))
    base = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    actual = model.model.rotary_emb.inv_freq.double()
    changed = (~torch.isclose(actual, base, rtol=1e-6, atol=0)).sum().item()
    ratio = (base / actual).tolist()
    print(f"  llama3 rope: theta={theta} head_dim={head_dim} -> {changed}/{len(base)} inv_freq "
          f"changed; base/scaled ratios = {[round(r, 3) for r in ratio]}")
    assert changed > 0, "llama3 rope scaling did not change inv_freq; pick other numbers"
    # also check the scaling is non-trivial in the smooth band (some ratio strictly in (1, factor))
    assert any(1.0001 < r < 7.999 for r in ratio), "no inv_freq in the smoothed band"


def reset_dir(d: Path) -> None:
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)


def load_fp32(folder: Path, attn: str):
    m = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation=attn)
    m.eval()
    return m


def list_safetensors(folder: Path) -> list[str]:
    lines = []
    for f in sorted(folder.glob("model*.safetensors")):
        with safe_open(str(f), framework="pt") as sf:
            meta = sf.metadata()
            lines.append(f"  [{f.name}] metadata={meta}")
            for k in sorted(sf.keys()):
                sl = sf.get_slice(k)
                lines.append(f"    {k:55s} {str(sl.get_shape()):16s} {sl.get_dtype()}")
    return lines


MIN_GREEDY_MARGIN = 0.01   # top1 - top2 logit gap at every greedy step (robust to fp32 op order)


def greedy_margin(model, prompt: torch.Tensor, new_ids: torch.Tensor) -> float:
    """Smallest top1-top2 logit gap over the greedy steps (uncached full-sequence forward)."""
    full = torch.cat([prompt, new_ids], dim=1)
    steps = model(full).logits[0, prompt.shape[1] - 1:-1]
    top2 = steps.topk(2, dim=-1).values
    return (top2[:, 0] - top2[:, 1]).min().item()


def greedy_ok(spec: dict, new_ids: list[int], margin: float) -> bool:
    """Reject degenerate greedy continuations (tied random models like to repeat one token)
    and near-ties that an fp32 re-implementation could legitimately break the other way."""
    if margin < MIN_GREEDY_MARGIN:
        return False
    if spec.get("greedy") == "eos":
        return 3 <= len(new_ids) < MAX_NEW and new_ids[-1] == EOS and EOS not in new_ids[:-1]
    return len(new_ids) == MAX_NEW and EOS not in new_ids and len(set(new_ids)) >= 6


def save_model(spec: dict, folder: Path, tok_path: Path, seed: int) -> None:
    reset_dir(folder)
    cfg = spec["config"]
    cfg._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = spec["cls"](cfg).to(torch.float32)
    reinit(model, seed, spec.get("norm_center", 1.0), spec.get("embed_std", STD_EMBED),
           spec.get("init_overrides", ()))
    model.eval()
    # every tensor save_pretrained can write is a parameter that reinit() just drew (no persistent buffers)
    param_names = {n for n, _ in model.named_parameters(remove_duplicate=False)}
    not_drawn = [k for k in model.state_dict() if k not in param_names]
    assert not not_drawn, f"{spec['name']}: state_dict entries that are not parameters: {not_drawn}"
    if spec["name"] == "llama3-tied":
        check_llama3_rope(model)
    save_dtype = spec.get("save_dtype")
    if save_dtype is not None:
        model = model.to(save_dtype)
    kwargs = dict(safe_serialization=True)
    if "max_shard_size" in spec:
        kwargs["max_shard_size"] = spec["max_shard_size"]
    model.save_pretrained(folder, **kwargs)
    shutil.copyfile(tok_path, folder / "tokenizer.json")


def greedy(model, prompt: torch.Tensor) -> torch.Tensor:
    gen = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                         max_new_tokens=MAX_NEW, eos_token_id=EOS, pad_token_id=PAD)
    return gen[:, prompt.shape[1]:].contiguous()


def layer0_output_via_hook(model, input_ids: torch.Tensor, layer: int = 0) -> torch.Tensor:
    """Residual stream after block `layer` (default 0), captured with a forward hook (cross-check of
    hidden_states[1])."""
    base = getattr(model, "model", None) or getattr(model, "transformer")
    blocks = getattr(base, "layers", None) or getattr(base, "h")
    captured = {}

    def hook(_mod, _inp, out):
        captured["h"] = out[0] if isinstance(out, (tuple, list)) else out

    handle = blocks[layer].register_forward_hook(hook)
    try:
        model(input_ids)
    finally:
        handle.remove()
    return captured["h"].float()


GDN_RULE_TOL = 2e-5         # chunked vs recurrent gated delta rule, per layer output (relative; fp32 noise is ~1e-5)
CACHE_LOGITS_TOL = 1e-4     # token-by-token cached decode vs one uncached forward


def recurrent_gated_delta_rule_f64(query, key, value, g, beta, initial_state=None, output_final_state=False,
                                   use_qk_l2norm_in_kernel=False, **_):
    """The recurrent rule of torch_recurrent_gated_delta_rule written out in float64 (transformers' own
    functions always compute in float32): an fp64 yardstick for the fp32 reference."""
    q, k, v, b, d = (x.transpose(1, 2).double() for x in (query, key, value, beta, g))
    if use_qk_l2norm_in_kernel:
        q = q * torch.rsqrt((q * q).sum(-1, keepdim=True) + 1e-6)
        k = k * torch.rsqrt((k * k).sum(-1, keepdim=True) + 1e-6)
    q = q / q.shape[-1] ** 0.5
    state = (torch.zeros(*k.shape[:2], k.shape[-1], v.shape[-1], dtype=torch.float64)
             if initial_state is None else initial_state.double())
    out = torch.zeros_like(v)
    for t in range(k.shape[2]):
        state = state * d[:, :, t].exp()[..., None, None]                      # decay
        delta = (v[:, :, t] - (state * k[:, :, t, :, None]).sum(-2)) * b[:, :, t, None]
        state = state + k[:, :, t, :, None] * delta[:, :, None, :]            # delta-rule write
        out[:, :, t] = (state * q[:, :, t, :, None]).sum(-2)                  # read with q
    return out.transpose(1, 2).to(query.dtype), (state if output_final_state else None)


@torch.no_grad()
def gdn_decay_input(mod, x):
    """a = in_proj_a(x) (Qwen3.5), or the a part of Qwen3-Next's interleaved in_proj_ba"""
    if hasattr(mod, "in_proj_a"):
        return mod.in_proj_a(x)
    return mod.fix_query_key_value_ordering(mod.in_proj_qkvz(x), mod.in_proj_ba(x))[5]


def gdn_checks(model, input_ids: torch.Tensor, prompt: torch.Tensor, greedy_out: torch.Tensor, modeling):
    """Qwen3.5 Gated DeltaNet: (1) mean exp(g) per value head and layer on input_ids (the decay must neither wipe
    the state, ~0, nor keep it unchanged, ~1); (2) transformers' chunked rule (used for every multi-token forward)
    against its recurrent rule (used for cached one-token decode steps) on the same input; (3) logits of a
    token-by-token cached decode against one uncached forward (conv state + recurrent state + KV cache)."""
    gdn = [(i, blk.linear_attn) for i, blk in enumerate(model.model.layers) if hasattr(blk, "linear_attn")]
    decay, outs = {}, {}

    def hook(i):
        def f(mod, args, kwargs, out):
            x = kwargs.get("hidden_states", args[0] if args else None)
            g = -mod.A_log.float().exp() * F.softplus(gdn_decay_input(mod, x).float() + mod.dt_bias)
            decay[i] = g.exp().mean(dim=(0, 1))
            outs.setdefault(i, []).append(out.float())
        return f

    handles = [m.register_forward_hook(hook(i), with_kwargs=True) for i, m in gdn]
    try:
        logits_chunk = model(input_ids).logits.float()

        def recurrent(query, key, value, g, beta, chunk_size=64, initial_state=None, output_final_state=False,
                      use_qk_l2norm_in_kernel=False, **kwargs):
            return modeling.torch_recurrent_gated_delta_rule(
                query, key, value, g=g, beta=beta, initial_state=initial_state,
                output_final_state=output_final_state, use_qk_l2norm_in_kernel=use_qk_l2norm_in_kernel)

        with mock.patch.object(modeling, "torch_chunk_gated_delta_rule", recurrent):
            logits_rec = model(input_ids).logits.float()
    finally:
        for h in handles:
            h.remove()
    layer_diff = max((outs[i][0] - outs[i][1]).abs().max().item() for i, _ in gdn)
    layer_scale = max(outs[i][0].abs().max().item() for i, _ in gdn)

    # cached decode, one token at a time, against the uncached forward of the whole sequence
    full = torch.cat([prompt, greedy_out], dim=1)[:, :-1]
    ref_logits = model(full, use_cache=False).logits.float()
    cache = transformers.DynamicCache(config=model.config)
    step = [model(prompt, past_key_values=cache, use_cache=True).logits.float()]
    for t in range(prompt.shape[1], full.shape[1]):
        step.append(model(full[:, t:t + 1], past_key_values=cache, use_cache=True).logits.float())
    cache_diff = (torch.cat(step, dim=1) - ref_logits).abs().max().item()

    # how far the fp32 reference itself is from an all-float64 forward
    m64 = copy.deepcopy(model).double()
    if any(type(m).__name__.endswith("Experts") for m in m64.modules()):
        m64.set_experts_implementation("eager")   # grouped_mm has no float64 kernel
    with mock.patch.object(modeling, "torch_chunk_gated_delta_rule", recurrent_gated_delta_rule_f64):
        fp64_diff = (m64(input_ids).logits - logits_chunk.double()).abs().max().item()
    del m64

    checks = {
        "gdn_chunked_vs_recurrent_max_abs_layer_output_diff": layer_diff,
        "gdn_layer_output_max_abs": layer_scale,
        "gdn_chunked_vs_recurrent_max_abs_logit_diff": (logits_rec - logits_chunk).abs().max().item(),
        "cached_decode_vs_uncached_max_abs_logit_diff": cache_diff,
        "reference_fp32_vs_fp64_max_abs_logit_diff": fp64_diff,
    }
    mean_exp_g = {f"layer {i}": [round(v, 4) for v in decay[i].tolist()] for i, _ in gdn}
    print(f"  GDN mean exp(g) per value head: {mean_exp_g}")
    vals = torch.cat([decay[i] for i, _ in gdn])
    assert 0.05 < vals.mean().item() < 0.95 and ((vals > 0.1) & (vals < 0.9)).sum().item() >= len(vals) // 2, \
        "GDN decay is degenerate (state wiped or never decays)"
    assert layer_diff <= GDN_RULE_TOL * max(1.0, layer_scale), f"chunked and recurrent gated delta rule differ: {layer_diff} (scale {layer_scale})"
    assert cache_diff <= CACHE_LOGITS_TOL, "cached token-by-token decode differs from the uncached forward"
    return checks, mean_exp_g


ROUTER_MIN_GAP = 1e-3       # MoE: k-th minus (k+1)-th router probability, every token
ABLATION_MIN_REL = 2e-3     # a config feature must move max|logit| by >= this * max|logit| (20x the Java tolerance)


def router_min_gap(model, *sequences: torch.Tensor) -> float:
    """Smallest gap between the k-th and (k+1)-th router probability over all tokens and MoE layers,
    so a re-implementation cannot pick a different expert set because of fp32 rounding."""
    routers = [m for m in model.modules() if type(m).__name__.endswith("TopKRouter")]
    assert routers, "no MoE router modules found"
    gaps = []

    def hook(mod, _inp, out):
        probs = torch.softmax(out[0].float(), dim=-1).sort(dim=-1, descending=True).values
        gaps.append((probs[:, mod.top_k - 1] - probs[:, mod.top_k]).min().item())

    handles = [r.register_forward_hook(hook) for r in routers]
    try:
        with torch.no_grad():
            for seq in sequences:
                model(seq)
    finally:
        for h in handles:
            h.remove()
    return min(gaps)


@torch.no_grad()
def ablation_effect(spec: dict, ref, input_ids: torch.Tensor, logits: torch.Tensor, how: dict) -> float:
    """max |logits - logits of the same weights with one feature switched off|: proves the feature binds."""
    cfg = copy.deepcopy(ref.config)
    if "config" in how:
        how["config"](cfg)
    cfg._attn_implementation = "eager"
    state = ref.state_dict()
    if "zero" in how:
        hits = [k for k in state if re.search(how["zero"], k)]
        assert hits, f"ablation pattern {how['zero']} matches nothing"
        state = {k: (torch.zeros_like(v) if k in hits else v) for k, v in state.items()}
    if "state" in how:        # rewrite some weights: what a loader with one wrong rule would compute
        new = how["state"]({k: v.clone() for k, v in state.items()})
        assert any(not torch.equal(new[k], state[k]) for k in state), "state ablation changes nothing"
        state = new
    model = spec["cls"](cfg).to(torch.float32).eval()
    model.load_state_dict(state, strict=True)
    with (how["patch"]() if "patch" in how else nullcontext()):   # swap one function during the forward
        return (model(input_ids).logits.float() - logits).abs().max().item()


def build_fixture(spec: dict, out_root: Path, tok_path: Path, base_seed: int,
                  input_ids: torch.Tensor, prompt: torch.Tensor) -> dict:
    name = spec["name"]
    folder = out_root / name
    print(f"\n=== {name} ({spec['cls'].__name__}) ===")

    # deterministic seed search: first seed in base_seed, base_seed+1, ... whose (reloaded) model
    # gives a non-degenerate greedy continuation
    tries = 1000 if spec.get("greedy") == "eos" else 100   # an early eos is rare (~1% of seeds)
    rejected = 0
    for seed in range(base_seed, base_seed + tries):
        save_model(spec, folder, tok_path, seed)
        with torch.no_grad():
            m = load_fp32(folder, "eager")
            trial_t = greedy(m, prompt)
            margin = greedy_margin(m, prompt, trial_t)
            gap = (router_min_gap(m, input_ids, torch.cat([prompt, trial_t], dim=1))
                   if spec.get("router_gap") else None)
            del m
        trial = trial_t[0].tolist()
        if greedy_ok(spec, trial, margin) and (gap is None or gap >= ROUTER_MIN_GAP):
            break
        rejected += 1
        if rejected <= 5:
            extra = f", router min gap {gap:.2e}" if gap is not None else ""
            print(f"  seed {seed}: greedy {trial} (min margin {margin:.4f}{extra}) rejected")
    else:
        raise RuntimeError(f"{name}: no seed gave an acceptable greedy continuation")
    print(f"  init seed {seed} ({rejected} seeds rejected)")
    save_dtype = spec.get("save_dtype")

    # ---- reference from the RELOADED folder (fp32 upcast) ----
    ref = load_fp32(folder, "eager")
    with torch.no_grad():
        out = ref(input_ids, output_hidden_states=True)
        logits = out.logits.float().contiguous()
        hidden0 = out.hidden_states[1].float().contiguous()
        greedy_out = greedy(ref, prompt)
        hook_h0 = layer0_output_via_hook(ref, input_ids)
        assert torch.equal(hook_h0, hidden0), "hidden_states[1] is not the output of block 0"
        # the no-cache path must agree with the cached generate(): re-run the full sequence
        full = torch.cat([prompt, greedy_out], dim=1)
        nocache = ref(full).logits[0, prompt.shape[1] - 1:-1].argmax(-1)
        assert nocache.tolist() == greedy_out[0].tolist(), "cached vs uncached greedy differ"

        sdpa = load_fp32(folder, "sdpa")
        logits_sdpa = sdpa(input_ids).logits.float()
        sdpa_diff = (logits_sdpa - logits).abs().max().item()
        del sdpa

        checks, mean_exp_g = {}, None
        extra_hidden = {}
        for li in spec.get("hidden_after", []):
            extra_hidden[f"hidden_after_layer{li}"] = layer0_output_via_hook(ref, input_ids, li).contiguous()
            if li + 1 < ref.config.num_hidden_layers:
                assert torch.equal(extra_hidden[f"hidden_after_layer{li}"], out.hidden_states[li + 1].float())
        if spec.get("gdn"):
            gdn_res, mean_exp_g = gdn_checks(ref, input_ids, prompt, greedy_out, spec["gdn"])
            checks.update(gdn_res)
        if spec.get("router_gap"):
            checks["router_min_topk_gap"] = router_min_gap(ref, input_ids, full)
        for label, how in spec.get("ablations", []):
            checks[f"max_abs_logit_change_if {label}"] = ablation_effect(spec, ref, input_ids, logits, how)

    std = logits.std().item()
    max_abs = logits.abs().max().item()
    print(f"  logits std={std:.4f} max_abs={max_abs:.4f}  hidden0 std={hidden0.std().item():.4f}")
    # 1e-5, relative to the logit scale (fp32 rounding of logits ~10 is ~1e-6 per op)
    sdpa_tol = 1e-5 * max(1.0, max_abs)
    check_sdpa = spec.get("sdpa", True)
    verdict = ('OK' if sdpa_diff <= sdpa_tol else 'FAIL') if check_sdpa else 'NOT CHECKED for this model'
    print(f"  eager vs sdpa max |diff| = {sdpa_diff:.3e} (rel {sdpa_diff / max_abs:.1e}; "
          f"tol {sdpa_tol:.1e}: {verdict})")
    print(f"  greedy prompt {prompt.tolist()} -> new {greedy_out.tolist()} (min top1-top2 margin {margin:.4f})")
    layer_types = getattr(ref.config, "layer_types", None)
    if layer_types is not None:
        print(f"  layer_types {layer_types}  sliding_window {getattr(ref.config, 'sliding_window', None)}")
    for k, v in checks.items():
        print(f"  check: {k} = {v:.4e}")
    assert std > 1e-2 and max_abs > 1e-1, "logits are near-uniform"
    assert not check_sdpa or sdpa_diff <= sdpa_tol, "eager and sdpa disagree"
    for k, v in checks.items():
        if k.startswith("max_abs_logit_change_if"):
            assert v >= ABLATION_MIN_REL * max_abs, f"{k}: the feature does not bind ({v:.2e})"
    if spec.get("router_gap"):
        assert checks["router_min_topk_gap"] >= ROUTER_MIN_GAP
    assert logits.shape == (SEQ_BATCH, SEQ_LEN, VOCAB)
    assert hidden0.shape == (SEQ_BATCH, SEQ_LEN, HIDDEN)
    n_params = sum(p.numel() for p in ref.parameters())
    n_layers = ref.config.num_hidden_layers

    save_file(
        {
            "input_ids": input_ids.contiguous(),
            "logits": logits,
            "greedy_prompt": prompt.contiguous(),
            "greedy_output": greedy_out.to(torch.int64),
            "hidden_after_layer0": hidden0,
            **extra_hidden,
        },
        str(folder / "expected.safetensors"),
        metadata={"fixture": name},
    )
    info = {
        "fixture": name,
        "init_seed": seed,
        "architecture": ref.config.architectures[0] if ref.config.architectures else spec["cls"].__name__,
        "model_type": ref.config.model_type,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "stored_dtype": str(save_dtype or torch.float32).replace("torch.", ""),
        "num_parameters": n_params,
        "logits_std": round(std, 6),
        "max_abs_logit": round(max_abs, 6),
        "eager_vs_sdpa_max_abs_diff": sdpa_diff,
        "greedy_new_tokens": greedy_out.shape[1],
        "greedy_min_top2_margin": round(margin, 6),
        "notes": spec["notes"],
    }
    # keys only the later fixtures have (the first eight expected.json files stay as they were)
    if not check_sdpa:
        info["eager_vs_sdpa_checked"] = False
    if checks:
        info["checks"] = {k: float(f"{v:.6g}") for k, v in checks.items()}
    if mean_exp_g is not None:
        info["gdn_mean_exp_g_per_value_head"] = mean_exp_g
    if extra_hidden:
        info["extra_expected_tensors"] = {k: f"residual stream after block {k.rsplit('layer', 1)[1]} (forward hook), "
                                             "before the final model.norm" for k in extra_hidden}
    with open(folder / "expected.json", "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")

    listing = list_safetensors(folder)
    print(f"  tied: {getattr(ref.config, 'tie_word_embeddings', None)}; files: "
          f"{sorted(p.name for p in folder.iterdir())}")
    del ref
    return dict(info, listing=listing, layers=n_layers)


COVERS = {
    "llama-gqa": "Llama baseline: GQA 4/2 (repeat kv), RMSNorm, SiLU-gated MLP, rotate_half RoPE theta 1e4, untied lm_head",
    "llama3-tied": "Llama 3 RoPE scaling (`rope_type: llama3`), theta 5e5, explicit head_dim 32 != 64/4, MHA 4/4, 3 layers, tied embeddings (no lm_head.weight stored)",
    "mistral": "Mistral: MQA 4/1, `sliding_window: null`; greedy_output stops early at eos (id 1), shorter than 10",
    "qwen2": "Qwen2: q/k/v bias (o_proj none), GQA 4/2, tied embeddings, no `head_dim` key in config",
    "qwen3": "Qwen3: per-head q_norm/k_norm (RMSNorm over head_dim, before RoPE), explicit head_dim 24, GQA 4/2, untied",
    "gpt2": "GPT-2: Conv1D [in,out] weights, fused c_attn q\\|k\\|v, LayerNorm+bias, learned wpe, gelu_new, tied, `transformer.` prefix",
    "llama-f16-sharded": "float16 storage, 3 shards + model.safetensors.index.json (shards not layer-aligned), untied; reference = fp32 upcast",
    "qwen2-bf16": "bfloat16 storage, single file, Qwen2 with bias, tied; reference = fp32 upcast",
    "llama-bias": "Llama with `attention_bias` (q/k/v AND o_proj bias) and `mlp_bias` (gate/up/down bias), GQA 4/2, untied",
    "qwen3-bias": "Qwen3 with `attention_bias`: q/k/v/o_proj bias (bias before q_norm/k_norm), head_dim 24, GQA 4/2, untied",
    "qwen2-sliding": "Qwen2 `use_sliding_window`, window 4, `max_window_layers` 1, 3 layers -> derived `layer_types` [full, sliding, sliding]; untied",
    "qwen3-sliding": "Qwen3 window 4 with EXPLICIT `layer_types` [full, sliding, full] (not what `max_window_layers` 1 would derive), head_dim 16, untied",
    "mistral-window": "Mistral `sliding_window` 4 on every layer (no `layer_types`), GQA 4/2, untied",
    "olmo2": "OLMo 2: no pre-norms, post_attention/post_feedforward norms on sublayer outputs, q_norm/k_norm over the full q/k width [64]/[32], GQA 4/2, untied",
    "gemma2": "Gemma 2: (1+w) RMSNorm, 4 norms/layer, embed x sqrt(64), alternating sliding(4)/full, query_pre_attn_scalar 24 != head_dim 16, attn softcap 10, final softcap 3, gelu_pytorch_tanh, tied",
    "gemma3-text": "Gemma 3 text: 6 layers 5 sliding(4) : 1 full, per-layer-type RoPE (local 1e4, global 1e6), (1+w) q_norm/k_norm, query_pre_attn_scalar 24, no softcaps, intermediate 64, tied",
    "phi3": "Phi-3: fused qkv_proj (q\\|k\\|v) and gate_up_proj (gate\\|up), GQA 4/2, full rotary, untied",
    "phi3-partial": "Phi-3 with `partial_rotary_factor` 0.5: RoPE on the first 8 of 16 head dims, fused projections, untied",
    "qwen3-moe": "Qwen3-MoE: layer 0 sparse (router `mlp.gate` [4,64], 4 experts x 32, top-2, `norm_topk_prob`), layer 1 dense (`mlp_only_layers` [1]), per-expert keys, q/k norm, untied",
    "gpt2-untied": "GPT-2 with `tie_word_embeddings: false`: its own top-level `lm_head.weight`",
    "qwen3_5-hybrid": "Qwen3.5 text hybrid: layers 0-2 Gated DeltaNet (`linear_attn`: causal conv1d 4, l2-normed q/k, 2 key / 4 value heads, decay g, beta, gated RMSNorm), layer 3 gated full attention (q_proj = per-head query\\|gate, q/k norm, partial RoPE 0.25), (1 + w) RMSNorms, untied; extra `hidden_after_layer3`",
    "qwen3-next": "Qwen3-Next: Gated DeltaNet as qwen3_5-hybrid with fused per-key-head `in_proj_qkvz` / `in_proj_ba`, MoE with a gated shared expert (layers 0, 2, 3; layer 1 dense), gated full attention in layer 3, (1 + w) RMSNorms, untied; extra `hidden_after_layer3`",
    "qwen3-next-ragged": "Qwen3-Next as qwen3-next with a ragged head grid: 8 Gated DeltaNet value heads of 8 (4 per key head) beside 4 attention heads of 16; extra `hidden_after_layer3`",
    "qwen3_5-ragged": "Qwen3.5 text as qwen3_5-hybrid with a ragged head grid: 8 Gated DeltaNet value heads of 8 (4 per key head) beside 4 attention heads of 16; extra `hidden_after_layer3`",
}

README_NOTES = """
## Files in every folder
| file | written by | content |
|---|---|---|
| `config.json`, `generation_config.json` | HF `save_pretrained` | exactly what transformers {tf} writes |
| `model.safetensors` or `model-0000k-of-0000n.safetensors` + `model.safetensors.index.json` | HF `save_pretrained(safe_serialization=True)` | weights |
| `tokenizer.json` | `tokenizers` | the same byte-level BPE in every folder (vocab 512, merges 253, specials `<\|bos\|>`=0 `<\|eos\|>`=1 `<\|pad\|>`=2, ByteLevel pre-tokenizer `add_prefix_space=false`, ByteLevel decoder, **no post-processor**: BOS is not added by the tokenizer) |
| `expected.safetensors` | this script | `input_ids` i64 [2,12] (ids in [3,512), no padding, no mask); `logits` f32 [2,12,512]; `greedy_prompt` i64 [1,5]; `greedy_output` i64 [1,N] (only the NEW ids of greedy generate, max_new_tokens 10, stops at eos 1); `hidden_after_layer0` f32 [2,12,hidden] (residual stream after block 0 = `hidden_states[1]`); qwen3_5-hybrid only: `hidden_after_layer3` f32 [2,12,64] (residual after block 3, BEFORE `model.norm`; not `hidden_states[4]`, which transformers 5 replaces by the normed output) |
| `expected.json` | this script | versions, init seed, logit stats, eager-vs-sdpa diff, min top1-top2 greedy margin, notes; for the later fixtures also `checks` (feature ablations, MoE router gap, Gated DeltaNet checks), for gemma2 only `eager_vs_sdpa_checked: false`, for qwen3_5-hybrid `gdn_mean_exp_g_per_value_head` and `extra_expected_tensors` |

`config-keys.json` (beside the fixture folders) is written by `tools/parity/config_keys.py`, not by this script:
every key of each supported config class with its default, for the Java test that every transformers key is classified.

All references come from the folder RELOADED with `AutoModelForCausalLM.from_pretrained(folder,
dtype=float32, attn_implementation="eager")`, so the f16/bf16 fixtures are referenced against the fp32
upcast of the stored half weights. `input_ids` and `greedy_prompt` are the same in every fixture.
Every greedy step has a top1-top2 logit gap >= {margin} (seeds that gave near-ties or degenerate
repetition were skipped), so an fp32 re-implementation should reproduce `greedy_output` exactly.
Suggested tolerances for an fp32 Java forward: logits and hidden states within ~1e-4 absolute
(eager vs sdpa in torch already differ by up to ~1e-5 on logits of magnitude ~15). gemma2 is the exception
to the eager-vs-sdpa check: transformers' sdpa path ignores `attn_logit_softcapping` (its sdpa logits differ by
exactly the soft-capping effect; see gemma2/expected.json), so only the eager reference is meaningful there.

## Things a loader must know (transformers {tf})
- **RoPE config is nested**: v5 writes `"rope_parameters": {{"rope_theta": ..., "rope_type": "default"|"llama3", ...}}`
  and NO top-level `rope_theta` / `rope_scaling`. Checkpoints written by transformers 4.x (most of the Hub)
  have top-level `rope_theta` and `rope_scaling` (with `rope_type`, or legacy `type`). Accept both.
- **dtype key**: v5 writes `"dtype"`; 4.x wrote `"torch_dtype"`.
- `head_dim` is written explicitly for llama/mistral/qwen3/qwen3_moe/gemma2/gemma3_text even when it equals
  hidden/heads; the Qwen2, OLMo 2 and Phi-3 configs have no `head_dim` (derive hidden/heads). Qwen2/Qwen3 configs
  also carry `layer_types`, `max_window_layers: 28`, `use_sliding_window: false`, `sliding_window: null` (all full
  attention) unless sliding is switched on.
- **Tied models store no `lm_head.weight`** (llama3-tied, qwen2, qwen2-bf16, gpt2, gemma2, gemma3-text): use the
  input embedding. Untied models store `lm_head.weight` [vocab, hidden].
- Llama/Mistral/Qwen keys: `model.embed_tokens.weight`, `model.layers.{{i}}.input_layernorm.weight`,
  `model.layers.{{i}}.self_attn.{{q,k,v,o}}_proj.weight` (nn.Linear layout [out, in]), Qwen2 adds
  `self_attn.{{q,k,v}}_proj.bias`, Qwen3 adds `self_attn.{{q,k}}_norm.weight` [head_dim],
  `model.layers.{{i}}.post_attention_layernorm.weight`, `model.layers.{{i}}.mlp.{{gate,up,down}}_proj.weight`,
  `model.norm.weight`, `lm_head.weight`.
- GPT-2 keys have the **`transformer.` prefix** (`transformer.wte.weight`, `transformer.h.{{i}}.attn.c_attn.weight` ...).
  No `attn.bias` / `attn.masked_bias` buffers are saved, and there is no `lm_head.weight`. Conv1D weights are
  [in, out] (`c_attn` [64, 192] = q|k|v along dim 1, `mlp.c_fc` [64, 256], `mlp.c_proj` [256, 64]).
  Hub GPT-2 checkpoints (e.g. openai-community/gpt2) instead have NO prefix and DO contain `h.{{i}}.attn.bias`:
  accept both, ignore the buffers.
- Sharded: `model.safetensors.index.json` = `{{"metadata": {{"total_parameters", "total_size"}}, "weight_map": {{key: file}}}}`;
  shards are cut by size, not by layer (here layer 1 is split over shards 2 and 3): always go through weight_map.
- safetensors header metadata is `{{"format": "pt"}}`; dtypes F32 / F16 / BF16.
- **Biases** (llama-bias, qwen3-bias): Llama `attention_bias: true` gives `self_attn.{{q,k,v,o}}_proj.bias`,
  `mlp_bias: true` gives `mlp.{{gate,up,down}}_proj.bias`. Qwen3 `attention_bias: true` gives q/k/v AND o_proj bias
  (added before q_norm/k_norm). Qwen2 has no `attention_bias` key: q/k/v bias always, o_proj never.
- **Sliding windows** (qwen2-sliding, qwen3-sliding, mistral-window, gemma2, gemma3-text): a sliding layer's query at
  position q sees keys k with q - W < k <= q (W = `sliding_window` = 4 positions, itself included). Which layers
  slide: `layer_types[i] == "sliding_attention"` (and `sliding_window` not null); **read `layer_types`, do not
  re-derive it**: qwen3-sliding's `layer_types` [full, sliding, full] is not what `max_window_layers: 1` would
  give. Qwen2/Qwen3 write `sliding_window: null` whenever `use_sliding_window` is false, and derive
  (only when `layer_types` is absent) "sliding iff i >= max_window_layers". Mistral and Phi-3 have no
  `layer_types`: a non-null `sliding_window` applies to every layer. Gemma 2 alternates starting with sliding
  (layer i slides iff i is even); Gemma 3 has one full layer every 6 ((i+1) % 6 == 0), and also writes the
  legacy `_sliding_window_pattern: 6`. KV cache: transformers' DynamicCache keeps only the last W-1 keys/values
  of a sliding layer (plus the new token = W); keeping everything and masking gives the same result. The windows
  bind in the 12-token forward and during generation (5 + 10 tokens); cached generate() was checked against
  the uncached forward.
- **OLMo 2** keys: `self_attn.{{q,k,v,o}}_proj.weight`, `self_attn.q_norm.weight` [heads*head_dim = 64],
  `self_attn.k_norm.weight` [kv_heads*head_dim = 32], `post_attention_layernorm.weight`,
  `post_feedforward_layernorm.weight`, `mlp.{{gate,up,down}}_proj.weight`; NO `input_layernorm`. Block:
  `h += post_attention_layernorm(attn(h))`, `h += post_feedforward_layernorm(mlp(h))` (the raw residual goes into
  attn/mlp). q/k norms are RMSNorm over the whole projection output, before the split into heads and RoPE.
- **Gemma 2 / Gemma 3** (model_type `gemma2`, `gemma3_text`): RMSNorm computes `normalize(x.float()) * (1 + weight)`
  (stored weights are offsets around 0; they are N(0, 0.1^2) here), then casts. Four norms per layer:
  `input_layernorm`, `post_attention_layernorm` (on the attention OUTPUT, before the residual add),
  `pre_feedforward_layernorm`, `post_feedforward_layernorm` (on the MLP output); plus `model.norm`. Gemma 3 adds
  `self_attn.{{q,k}}_norm.weight` [head_dim] (also 1 + weight), before RoPE. Embeddings are multiplied by
  sqrt(hidden_size) (= 8 here) cast to the weight dtype (for bf16 Gemmas that rounds, e.g. sqrt(3072) = 55.43 ->
  55.5). Attention scaling is `query_pre_attn_scalar ** -0.5`, not head_dim ** -0.5. Gemma 2 soft-caps attention
  scores `cap * tanh(s / cap)` (`attn_logit_softcapping`, before the mask) and final logits
  (`final_logit_softcapping`); both are null in Gemma 3. The activation key is `hidden_activation`
  (`gelu_pytorch_tanh`), not `hidden_act`. Gemma 3 RoPE is per layer type:
  `"rope_parameters": {{"full_attention": {{"rope_theta": 1000000.0, "rope_type": "default"}}, "sliding_attention":
  {{"rope_theta": 10000.0, "rope_type": "default"}}}}`; 4.x / Hub Gemma 3 configs instead have top-level
  `rope_theta` (global), `rope_local_base_freq` (sliding), `rope_scaling` (full-attention layers only) and
  `sliding_window_pattern`. Both Gemmas are tied here (the Hub ones are too) and store no `lm_head.weight`.
- **Phi-3** keys: `self_attn.qkv_proj.weight` [(heads + 2*kv_heads)*head_dim, hidden] = [128, 64], rows q (64) | k (32)
  | v (32); `self_attn.o_proj.weight`; `mlp.gate_up_proj.weight` [2*intermediate, hidden] = [256, 64], rows gate (first
  128) | up; out = `down_proj(up * silu(gate))`; `input_layernorm`, `post_attention_layernorm`. Partial rotary
  (phi3-partial): `rope_parameters.partial_rotary_factor` 0.5 (written there AND top-level), rotary dim =
  int(head_dim * factor) = 8: rotate_half over dims [0, 8) of each head, dims [8, 16) unchanged, inv_freq =
  theta^(-2i/8). Config also has `original_max_position_embeddings` (only matters for `longrope`),
  `resid_pdrop`/`embd_pdrop` (inference: ignore), `sliding_window: null`.
- **Qwen3-MoE** (model_type `qwen3_moe`): layer i is sparse iff `i not in mlp_only_layers` and
  `(i + 1) % decoder_sparse_step == 0` (here layer 0 sparse, layer 1 dense with `intermediate_size`). Sparse keys:
  router `mlp.gate.weight` [num_experts, hidden] (no bias) and per expert `mlp.experts.{{j}}.{{gate,up}}_proj.weight`
  [moe_intermediate, hidden], `mlp.experts.{{j}}.down_proj.weight` [hidden, moe_intermediate]. (transformers 5 fuses
  them in memory to `experts.gate_up_proj` [E, 2*I, H] = cat(gate, up) and `experts.down_proj` [E, H, I], but
  `save_pretrained` writes the per-expert 2-D keys, the same layout as the Hub checkpoints.) Routing per token:
  `p = softmax(x @ gate.T)` in fp32 over all experts, take the top `num_experts_per_tok`, renormalise them to sum 1
  if `norm_topk_prob`, output = sum_k p_k * down(silu(gate_k(x)) * up_k(x)). No shared expert. config.json spells
  the expert count **`num_local_experts`** (the v5 attribute map); Hub configs say `num_experts`: accept both.
  The fixture's seed keeps every token's top-2 vs 3rd router probability gap >= 1e-3 (see expected.json).
- **Qwen3.5 text** (qwen3_5-hybrid; model_type `qwen3_5_text`, `Qwen3_5ForCausalLM`, transformers
  `models/qwen3_5/modeling_qwen3_5.py`): a hybrid. `layer_types[i]` is `linear_attention` (Gated DeltaNet, keys
  `linear_attn.*`) or `full_attention` (keys `self_attn.*`); without `layer_types` the config derives "full iff
  (i + 1) % full_attention_interval == 0" (interval 4, a kwarg that is NOT written to config.json). Keys here are
  `model.layers.{{i}}...`; Hub Qwen3.5 checkpoints (the VLM `Qwen3_5ForConditionalGeneration`) say
  `model.language_model.layers.{{i}}...` and also hold `model.visual.*` / `mtp.*`: transformers' qwen3_5_text loader
  strips `language_model.` (conversion_mapping `PrefixChange`) and ignores `mtp.*`, `model.visual.*` (reloading this
  fixture with the keys renamed that way gives identical logits). Every block: `h += mixer(input_layernorm(h))`,
  `h += mlp(post_attention_layernorm(h))` (SiLU-gated MLP).
  **Norms**: `Qwen3_5RMSNorm` (input_layernorm, post_attention_layernorm, q_norm, k_norm, AND the final `model.norm`)
  is zero-centred: `x * rsqrt(mean(x^2) + eps) * (1 + w)` in fp32; the GDN output norm `linear_attn.norm`
  (`Qwen3_5RMSNormGated`, weight [linear_value_head_dim]) multiplies by plain `w`: `rmsnorm(o) * w * silu(z)` (norm
  first, then weight, then the gate), eps = `rms_norm_eps` for all.
  **Gated DeltaNet** (`Qwen3_5GatedDeltaNet.forward`): x = normed hidden [T, 64]. `in_proj_qkv` [2*Kd + Vd, 64] =
  [128, 64], rows q (nk*dk = 2*16 = 32) | k (32) | v (nv*dv = 4*16 = 64); `conv1d.weight` [128, 1, 4] is a depthwise
  causal conv over those 128 channels (`causal_conv1d_fn`: left context K-1 = 3, zeros before position 0,
  y[c, t] = sum_j w[c, 0, j] * x[c, t - 3 + j], so tap 3 is the current token; no bias), then silu. Split q, k into
  nk heads of dk, v into nv heads of dv; `l2norm` q and k (`x * rsqrt(sum(x^2) + 1e-6)`, fixed eps 1e-6, not
  rms_norm_eps), then q *= dk^-0.5. beta = sigmoid(`in_proj_b` x) [nv]; g = -exp(`A_log`) * softplus(`in_proj_a` x +
  `dt_bias`) [nv] (A_log, dt_bias: [nv], no `.weight` suffix). q/k heads are `repeat_interleave`d to nv: value head h
  uses key head h // (nv / nk) (NOT h % nk). Per value head, state S [dk, dv] starts at 0; per token
  (`torch_recurrent_gated_delta_rule`): S = S * exp(g_t); delta = beta_t * (v_t - S^T k_t); S = S + k_t delta^T;
  o_t = S^T q_t. Then `norm(o_t[h], z_t[h])` per value head with z = `in_proj_z` x [nv, dv], heads concatenated,
  `out_proj` [64, 64]. No positions in GDN layers. transformers uses the chunked form
  (`torch_chunk_gated_delta_rule`, chunk 64) for every multi-token forward and the recurrent form for cached one-token
  steps; both agree within fp32 rounding (`checks`). Decode cache per GDN layer: the last K = 4 pre-conv qkv columns
  (conv state [128, 4]) and S [nv, dk, dv].
  **Gated full attention** (`Qwen3_5Attention.forward`): `q_proj` [heads * head_dim * 2, 64] = [128, 64] is viewed
  as [heads, 2 * head_dim]: per head, 16 query rows THEN 16 gate rows (interleaved by head, not all queries then all
  gates). q_norm/k_norm [head_dim] (1 + w) before RoPE; partial RoPE: rotary dim int(16 * 0.25) = 4, rotate_half
  over dims [0, 4) of each head, inv_freq theta^(-2i/4) = [1, 0.01], dims [4, 16) pass; scaling head_dim^-0.5;
  attention output (heads concatenated, [64]) * sigmoid(gate concatenated the same way), then `o_proj`. Text-only
  input: the multimodal RoPE (`mrope_section` [11, 11, 10], T/H/W position rows) reduces to ordinary RoPE, all rows
  being 0..T-1. config.json writes `partial_rotary_factor` top-level and in `rope_parameters`, plus `linear_*` keys.
- `expected.json` `checks` (later fixtures): the max |logit| change when one feature is switched off on the same
  weights (window, soft-caps, query_pre_attn_scalar, local RoPE base, partial rotary, biases, norm_topk_prob; for
  qwen3_5-hybrid the attention output gate, the per-head q|gate layout, partial rotary, (1 + w) vs w norms, conv1d,
  the decay, q/k l2norm, repeat_interleave vs tiling); the script requires each to be >= 2e-3 * max|logit|
  (20x the Java tolerance), so a loader that ignores it fails. qwen3_5-hybrid also records chunked-vs-recurrent
  delta rule, cached token-by-token decode vs uncached logits, and the fp32 reference vs an all-float64 forward.
"""


def write_readme(results: list[dict], out_root: Path) -> None:
    lines = [
        "# Parity fixtures: tiny random Hugging Face checkpoints + reference outputs",
        "",
        "Generated by `tools/parity/make_fixtures.py` (see `tools/parity/README.md`); do not edit by hand.",
        f"Rerun from the repo root: `.venv/bin/python tools/parity/make_fixtures.py --out fixtures/models`.",
        f"Built with torch {torch.__version__}, transformers {transformers.__version__}, "
        f"tokenizers {__import__('tokenizers').__version__}, safetensors {__import__('safetensors').__version__}.",
        "",
        "All models: vocab 512, hidden 64, intermediate 128 (GPT-2: 4*64 = 256; gemma3-text: 64; qwen3-moe "
        "experts: 32), max positions 128, bos 0 / eos 1 / pad 2, layers as in the table, random weights "
        "(matrices incl. MoE routers N(0,0.15^2), embeddings N(0,0.5^2) (Gemma: N(0,0.0625^2), times 8 in "
        "the forward), norm weights 1+N(0,0.1^2) (Gemma's and Qwen3.5's (1 + weight) norms: N(0,0.1^2)), biases N(0,0.1^2); "
        "Qwen3.5 Gated DeltaNet: gated norm 1+N(0,0.1^2), A_log log(U(1,16)), dt_bias N(-2,0.5^2), conv1d N(0,0.3^2)).",
        "",
        "| fixture | HF class | stored | layers | params | seed | logits std | max abs | greedy new | covers |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| `{r['fixture']}` | {r['architecture']} | {r['stored_dtype']} | {r['layers']} | {r['num_parameters']} | "
            f"{r['init_seed']} | {r['logits_std']:.3f} | {r['max_abs_logit']:.3f} | {r['greedy_new_tokens']} | "
            f"{COVERS.get(r['fixture'], '')} |")
    lines.append(README_NOTES.format(tf=transformers.__version__, margin=MIN_GREEDY_MARGIN))
    lines.append("## Weight keys (layer 0 and non-layer tensors; other layers follow the same pattern, "
                 "except where a layer with different keys is listed too, e.g. qwen3-moe's dense layer 1)\n")
    layer_re = re.compile(r"\.(?:layers|h)\.(\d+)\.(\S+)")

    def layer_shape(listing, i):
        """the (key suffix, shape) lines of layer i"""
        out = set()
        for l in listing:
            m = layer_re.search(l)
            if m and int(m.group(1)) == i:
                out.add((m.group(2), l[m.end():].strip()))
        return out

    for r in results:
        lines.append(f"### {r['fixture']}\n```")
        shown, first = {0}, layer_shape(r["listing"], 0)
        for i in range(1, r["layers"]):       # first layer of each further key pattern (MoE dense layers)
            if layer_shape(r["listing"], i) != first and all(layer_shape(r["listing"], i) != layer_shape(r["listing"], j) for j in shown):
                shown.add(i)
        for l in r["listing"]:
            m = layer_re.search(l)
            if m and int(m.group(1)) not in shown:
                continue
            lines.append(l.rstrip())
        lines.append("```\n")
    (out_root / "README.md").write_text("\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="fixtures/models", help="output root (default fixtures/models)")
    ap.add_argument("--corpora", default=str(DEFAULT_CORPORA), help="shared corpora root")
    ap.add_argument("--only", nargs="*", help="build only these fixtures")
    ap.add_argument("--list-keys", nargs="*", default=["llama-gqa", "qwen3", "gpt2"],
                    help="fixtures whose safetensors keys to print")
    args = ap.parse_args(argv)

    transformers.utils.logging.disable_progress_bar()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    print(f"python {sys.version.split()[0]}  torch {torch.__version__}  "
          f"transformers {transformers.__version__}  tokenizers {__import__('tokenizers').__version__}  "
          f"safetensors {__import__('safetensors').__version__}")

    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)

    tok = train_tokenizer(Path(args.corpora))
    tmp_dir = tempfile.TemporaryDirectory(prefix="scalpel-fixtures-")   # keep temp files out of the repo
    tok_path = Path(tmp_dir.name) / "tokenizer.json"
    tok.save(str(tok_path), pretty=True)
    print(f"  tokenizer.json sha256 {hashlib.sha256(tok_path.read_bytes()).hexdigest()[:16]}")

    g = torch.Generator().manual_seed(INPUT_SEED)
    input_ids = torch.randint(3, VOCAB, (SEQ_BATCH, SEQ_LEN), generator=g, dtype=torch.int64)
    g = torch.Generator().manual_seed(GREEDY_SEED)
    prompt = torch.randint(3, VOCAB, (1, PROMPT_LEN), generator=g, dtype=torch.int64)

    results = []
    try:
        for i, spec in enumerate(fixture_specs()):
            if args.only and spec["name"] not in args.only:
                continue
            results.append(build_fixture(spec, out_root, tok_path, 1000 * (i + 1), input_ids, prompt))
    finally:
        tmp_dir.cleanup()

    for r in results:
        if r["fixture"] in args.list_keys:
            print(f"\n--- safetensors of {r['fixture']} ---")
            print("\n".join(r["listing"]))

    if not args.only:
        write_readme(results, out_root)
    print("\nsummary:")
    for r in results:
        print(f"  {r['fixture']:20s} {r['architecture']:20s} {r['stored_dtype']:9s} params={r['num_parameters']:7d} "
              f"std={r['logits_std']:.3f} max|logit|={r['max_abs_logit']:.3f} "
              f"sdpa_diff={r['eager_vs_sdpa_max_abs_diff']:.1e} greedy_new={r['greedy_new_tokens']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
