"""Cross-check of `scalpel eval`: HF transformers' mean next-token CE on a text, windowed exactly as Scalpel does
(BOS first, windows of CONTEXT tokens overlapping by one, every token after BOS predicted once).

Usage: python hf_eval.py MODEL_DIR TEXT_FILE [--context 256]
"""
import argparse
import math

import torch
import transformers
from tokenizers import Tokenizer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("text")
    ap.add_argument("--context", type=int, default=256)
    args = ap.parse_args()
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    tok = Tokenizer.from_file(f"{args.model}/tokenizer.json")
    ids = tok.encode(open(args.text, encoding="utf-8").read(), add_special_tokens=False).ids
    seq = [model.config.bos_token_id] + ids
    nll, count = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(seq) - 1, args.context - 1):
            window = torch.tensor([seq[start:start + args.context]])
            logits = model(window[:, :-1]).logits
            nll += torch.nn.functional.cross_entropy(logits[0], window[0, 1:], reduction="sum").item()
            count += window.shape[1] - 1
    print(f"tokens {count}  ce {nll / count:.4f}  lnV {math.log(model.config.vocab_size):.4f}")


if __name__ == "__main__":
    main()
