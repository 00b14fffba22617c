"""Cross-check of `scalpel export` with the real tools: HF transformers loads the merged folder, PEFT loads the
adapter onto the base model; both must give the CE that `scalpel eval --edits` reports (same windowing as Scalpel).

Usage: python check_exports.py BASE_DIR MERGED_DIR PEFT_DIR TEXT [--context 256] [--no-bos]
"""
import argparse
import math

import torch
import transformers
from peft import PeftModel
from tokenizers import Tokenizer


def ce(model, ids, context, bos):
    seq = ([bos] if bos is not None else []) + ids
    nll, count = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(seq) - 1, context - 1):
            window = torch.tensor([seq[start:start + context]])
            logits = model(window[:, :-1]).logits
            nll += torch.nn.functional.cross_entropy(logits[0], window[0, 1:], reduction="sum").item()
            count += window.shape[1] - 1
    return nll / count, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("merged")
    ap.add_argument("peft")
    ap.add_argument("text")
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--no-bos", action="store_true",
                    help="score without a leading BOS, as Scalpel does for models whose prompts get none (Qwen)")
    a = ap.parse_args()
    ids = Tokenizer.from_file(f"{a.base}/tokenizer.json").encode(open(a.text, encoding="utf-8").read(), add_special_tokens=False).ids
    # eager attention: the reference semantics (sdpa drops Gemma 2's attention soft-capping)
    load = lambda d: transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    base = load(a.base)
    bos = None if a.no_bos else base.config.bos_token_id
    print("base   ce %.4f tokens %d" % ce(base, ids, a.context, bos))
    print("merged ce %.4f tokens %d" % ce(load(a.merged), ids, a.context, bos))
    peft = PeftModel.from_pretrained(base, a.peft).eval()
    print("peft   ce %.4f tokens %d" % ce(peft, ids, a.context, bos))
    print("torch", torch.__version__, "transformers", transformers.__version__, "peft", __import__("peft").__version__)


if __name__ == "__main__":
    main()
