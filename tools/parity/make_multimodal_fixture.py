#!/usr/bin/env python3
"""Write fixtures/models/qwen3_5-vl: the qwen3_5-hybrid fixture's text model inside a multimodal Qwen3.5
(`Qwen3_5ForConditionalGeneration`, model_type qwen3_5) as the Hub ships Qwen3.5: config.json nests the text config in
`text_config` beside a `vision_config`, the text weights are stored under `model.language_model.`, and a (tiny, random)
vision tower under `model.visual.`. transformers' multimodal model computes the references on text-only input, so the
fixture checks that Scalpel reads the text model out of the wrapper and that, for text, the wrapper's 3-axis M-RoPE is
plain RoPE (its logits must equal qwen3_5-hybrid's).

Usage (from the repository root, after make_fixtures.py has written qwen3_5-hybrid):

    .venv/bin/python tools/parity/make_multimodal_fixture.py [--out fixtures/models]
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import Qwen3_5Config, Qwen3_5ForConditionalGeneration, Qwen3_5TextConfig

VISION = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, patch_size=4,
              spatial_merge_size=2, temporal_patch_size=2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="fixtures/models")
    args = ap.parse_args()
    root = Path(args.out)
    text_dir, out = root / "qwen3_5-hybrid", root / "qwen3_5-vl"
    torch.manual_seed(35)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    text_config = Qwen3_5TextConfig.from_pretrained(text_dir).to_dict()
    for k in ("architectures", "transformers_version", "_name_or_path"):
        text_config.pop(k, None)
    config = Qwen3_5Config(text_config=text_config, vision_config=VISION,
                           tie_word_embeddings=text_config["tie_word_embeddings"])
    model = Qwen3_5ForConditionalGeneration(config).eval()
    text = load_file(str(text_dir / "model.safetensors"))
    state = {("lm_head.weight" if k == "lm_head.weight" else "model.language_model." + k[len("model."):]): v
             for k, v in text.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    assert all(k.startswith("model.visual.") for k in missing), [k for k in missing if not k.startswith("model.visual.")]

    if out.exists():
        shutil.rmtree(out)
    model.save_pretrained(out)
    for f in ("tokenizer.json", "generation_config.json"):
        shutil.copy(text_dir / f, out / f)

    expected_text = load_file(str(text_dir / "expected.safetensors"))
    input_ids, prompt = expected_text["input_ids"], expected_text["greedy_prompt"]
    reloaded = Qwen3_5ForConditionalGeneration.from_pretrained(out, dtype=torch.float32).eval()
    captured = {}
    hook = reloaded.model.language_model.layers[0].register_forward_hook(
        lambda _m, _i, o: captured.__setitem__("h", (o[0] if isinstance(o, (tuple, list)) else o).float()))
    with torch.inference_mode():
        logits = reloaded(input_ids).logits.float()
        hook.remove()
        greedy = reloaded.generate(prompt, max_new_tokens=10, do_sample=False)[:, prompt.shape[1]:]
    diff_vs_text = (logits - expected_text["logits"]).abs().max().item()
    assert diff_vs_text < 1e-4, f"the multimodal model's text logits differ from the text model's by {diff_vs_text}"
    assert torch.equal(greedy, expected_text["greedy_output"]), "greedy ids differ from the text model's"
    save_file({"input_ids": input_ids.contiguous(), "logits": logits.contiguous(), "greedy_prompt": prompt.contiguous(),
               "greedy_output": greedy.contiguous(), "hidden_after_layer0": captured["h"].contiguous()},
              str(out / "expected.safetensors"), metadata={"format": "pt"})
    info = {"fixture": "qwen3_5-vl", "architecture": "Qwen3_5ForConditionalGeneration", "model_type": "qwen3_5",
            "torch": torch.__version__, "transformers": transformers.__version__, "text_weights_from": "qwen3_5-hybrid",
            "max_abs_logit_diff_vs_text_model": diff_vs_text, "max_abs_logit": logits.abs().max().item(),
            "notes": "qwen3_5-hybrid's text model inside Qwen3_5ForConditionalGeneration: text_config + vision_config, "
                     "weights model.language_model.* / model.visual.* (1 random vision block) / lm_head; references "
                     "from the multimodal model on text-only input_ids."}
    (out / "expected.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
