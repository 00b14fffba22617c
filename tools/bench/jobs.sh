#!/usr/bin/env bash
# The jobs a user runs, each against its peer (issue 14): forward (scalpel bench vs HF forward), greedy generation with
# the KV cache (scalpel generate vs HF generate, exactly NEW tokens) and a LoRA r4 q/k/v/o training step on 4 × 128
# distinct rows (scalpel train vs PEFT + torch AdamW) and a full fine-tune step on the same rows (scalpel train
# "method": "full" vs transformers + torch AdamW on every weight). Each side runs in its own process with nothing else of ours
# running, alternating ours/peer over ROUNDS rounds; prints medians, spread and the ratio ours ÷ peer in speed.
# Model loading is excluded on both sides (each reports the time of the work alone).
#   PYTHON=.venv/bin/python ROUNDS=3 tools/bench/jobs.sh [MODEL_DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-3}
NEW=${NEW:-64}
STEPS=${STEPS:-20}
cp "$MODEL/train-sample/en.txt" "$WORK/en.txt"
cat > "$WORK/lora.json" <<SPEC
{"method": "lora", "modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "rank": 4, "alpha": 8, "objective": "learn",
 "target": "en.txt", "token_budget": 65536, "steps": $STEPS, "batch_size": 4, "context": 128, "lr": 0.001, "seed": 1}
SPEC
cat > "$WORK/full.json" <<SPEC
{"method": "full", "objective": "learn", "target": "en.txt", "token_budget": 65536, "steps": $STEPS, "batch_size": 4,
 "context": 128, "lr": 0.0001, "seed": 1}
SPEC
PROMPT_IDS=$("$ROOT/scalpel" generate --model "$MODEL" --prompt "The quick brown fox" --max-new-tokens 1 --json | field prompt_ids \
  | tr -d '[] ')
declare -A t
for ((r = 1; r <= ROUNDS; r++)); do
  t[fwd]+="$("$ROOT/scalpel" bench --model "$MODEL" --python none --leak-steps 0 --no-jobs --threads 2 --json | field forward_tokens_per_s) "
  t[fwd_peer]+="$("$PYTHON" "$ROOT/tools/bench/hf_forward.py" --model "$MODEL" --threads 2 2>/dev/null | field tokens_per_s) "
  t[gen]+="$("$ROOT/scalpel" generate --model "$MODEL" --prompt "The quick brown fox" --max-new-tokens "$NEW" --ignore-eos \
      --threads 2 --json | field seconds) "
  t[gen_peer]+="$("$PYTHON" "$ROOT/tools/bench/hf_generate.py" --model "$MODEL" --prompt-ids "$PROMPT_IDS" --new-tokens "$NEW" \
      --threads 2 2>/dev/null | field seconds) "
  t[lora]+="$("$ROOT/scalpel" train --model "$MODEL" --spec "$WORK/lora.json" --out "$WORK/e.json" --threads 2 --json \
      | field train_seconds) "
  t[lora_peer]+="$("$PYTHON" "$ROOT/tools/bench/peft_lora_step.py" --model "$MODEL" --module q_proj,k_proj,v_proj,o_proj \
      --rank 4 --steps "$STEPS" --tokens 128 --distinct-rows --threads 2 2>/dev/null | field seconds) "
  t[full]+="$("$ROOT/scalpel" train --model "$MODEL" --spec "$WORK/full.json" --out "$WORK/f.json" --threads 2 --json \
      | field train_seconds) "
  t[full_peer]+="$("$PYTHON" "$ROOT/tools/bench/peft_lora_step.py" --model "$MODEL" --full --steps "$STEPS" --tokens 128 \
      --distinct-rows --threads 2 2>/dev/null | field seconds) "
done
"$PYTHON" - "${t[fwd]}" "${t[fwd_peer]}" "${t[gen]}" "${t[gen_peer]}" "${t[lora]}" "${t[lora_peer]}" "${t[full]}" \
    "${t[full_peer]}" "$NEW" "$STEPS" <<'PY'
import statistics, sys
fwd, fwd_p, gen, gen_p, lora, lora_p, full, full_p = ([float(x) for x in a.split()] for a in sys.argv[1:9])
fwd, fwd_p = ([4 * 256 / tps for tps in r] for r in (fwd, fwd_p))     # tokens/s → seconds per 4 × 256 pass
new, steps = int(sys.argv[9]), int(sys.argv[10])
def row(job, unit, scale, ours, peer):
    m, p = statistics.median(ours), statistics.median(peer)
    fmt = lambda r: f"{scale * statistics.median(r):.1f} ({scale * min(r):.1f}–{scale * max(r):.1f})"
    print(f"| {job} | {fmt(ours)} | {fmt(peer)} | {unit} | {p / m:.2f}× |")
print(f"| job ({len(fwd)} rounds) | Scalpel, median (spread) | peer, median (spread) | unit | Scalpel speed ÷ peer |")
print("|---|---|---|---|---|")
row("forward 4 × 256", "ms/pass", 1000, fwd, fwd_p)
row(f"greedy generate, {new} new tokens (KV cache)", "ms/token", 1000 / new, gen, gen_p)
row("LoRA r4 q/k/v/o train step, 4 × 128", "ms/step", 1000 / steps, lora, lora_p)
row("full fine-tune step (AdamW, every weight), 4 × 128", "ms/step", 1000 / steps, full, full_p)
PY
