#!/usr/bin/env python3
"""Peer for Scalpel's LoRA training steps: PEFT LoRA on the same matrices and rank, AdamW, timed alone — one repeated
window (the small-budget study) or distinct rows (--distinct-rows). With --full, the peer of a full fine-tune: every
weight of the transformers model trains under torch AdamW, no PEFT.

Prints one JSON line: {"seconds": training time of all steps, "steps": N, "rows": B, "length": n}. Run it in its own
process with nothing of Scalpel's running (tools/bench/small_budget.sh alternates it with Scalpel over rounds).
"""
import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--module", default="model.layers.5.self_attn.v_proj",
                   help="PEFT target module(s), comma-separated (names or name suffixes, e.g. q_proj,k_proj,v_proj,o_proj)")
    p.add_argument("--rank", type=int, default=1)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--tokens", type=int, default=64, help="the token budget: every row is BOS + these tokens")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--distinct-rows", action="store_true",
                   help="a different random row per batch slot and step (a large budget) instead of one repeated window")
    p.add_argument("--full", action="store_true", help="train every weight (no LoRA): the peer of method \"full\"")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    if not a.full:
        model = get_peft_model(model, LoraConfig(r=a.rank, lora_alpha=2 * a.rank, target_modules=a.module.split(","),
                                                 lora_dropout=0.0))
    batches = []
    for _ in range(a.steps if a.distinct_rows else 1):
        ids = torch.randint(3, model.config.vocab_size, (a.batch if a.distinct_rows else 1, a.tokens + 1))
        ids[:, 0] = model.config.bos_token_id or 0
        batches.append(ids if a.distinct_rows else ids.repeat(a.batch, 1))   # small budget: every row is the one window
    optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-3, betas=(0.9, 0.999),
                                  eps=1e-8, weight_decay=0.0)
    start = time.perf_counter()
    for step in range(a.steps):
        rows = batches[step % len(batches)]
        logits = model(input_ids=rows[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(json.dumps({"seconds": time.perf_counter() - start, "steps": a.steps, "rows": a.batch, "length": a.tokens + 1}))


if __name__ == "__main__":
    main()
