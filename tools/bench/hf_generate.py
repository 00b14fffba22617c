#!/usr/bin/env python3
"""Peer for `scalpel generate`: HF transformers' greedy generate() with the KV cache, exactly N new tokens, timed alone.

Prints one JSON line: {"seconds": generation time (model loading excluded), "new_tokens": N, "prompt_tokens": P}.
Run it in its own process with nothing of Scalpel's running (tools/bench/jobs.sh alternates it with Scalpel).
"""
import argparse
import json
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--prompt-ids", required=True, help="comma-separated ids (what scalpel generate --json reports)")
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
    ids = torch.tensor([[int(x) for x in a.prompt_ids.split(",")]])
    with torch.inference_mode():
        start = time.perf_counter()
        out = model.generate(ids, max_new_tokens=a.new_tokens, min_new_tokens=a.new_tokens, do_sample=False,
                             attention_mask=torch.ones_like(ids))
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "new_tokens": out.shape[1] - ids.shape[1], "prompt_tokens": ids.shape[1]}))


if __name__ == "__main__":
    main()
