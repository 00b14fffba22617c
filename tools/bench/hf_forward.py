"""Peer measurement for `scalpel bench`: HF transformers' forward pass on the same checkpoint and shape.

Usage: python hf_forward.py --model DIR --batch 4 --seq 256 --threads 2 --reps 5
Prints one JSON line: {"tokens_per_s": ..., "seconds_per_pass": ..., "torch": ..., "transformers": ...}.
"""
import argparse
import json
import statistics
import time

import torch
import transformers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.eval()
    gen = torch.Generator().manual_seed(7)
    ids = torch.randint(0, model.config.vocab_size, (args.batch, args.seq), generator=gen)
    times = []
    with torch.inference_mode():
        for i in range(args.warmup + args.reps):
            t0 = time.perf_counter()
            model(ids).logits.sum().item()
            if i >= args.warmup:
                times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(json.dumps({
        "tokens_per_s": args.batch * args.seq / median,
        "seconds_per_pass": median,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "attn_implementation": model.config._attn_implementation,
    }))


if __name__ == "__main__":
    main()
