#!/usr/bin/env bash
# Small-budget training steps (issue 14): Scalpel's prefactor and head-LoRA steps on a 64-token budget vs PEFT LoRA on
# the same matrix, each in its own process, alternating over ROUNDS rounds; prints the median and the spread of the
# training seconds of STEPS steps (model loading excluded on both sides).
#   PYTHON=.venv/bin/python ROUNDS=3 STEPS=40 tools/bench/small_budget.sh [MODEL_DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-40}
cp "$MODEL/train-sample/de.txt" "$WORK/de.txt"
cat > "$WORK/prefactor.json" <<SPEC
{"method": "prefactor", "module": "model.layers.5.self_attn.v_proj", "component": 0, "components": 16,
 "objective": "learn", "target": "de.txt", "token_budget": 64, "steps": $STEPS, "batch_size": 4, "lr": 0.01, "seed": 1}
SPEC
cat > "$WORK/head-lora.json" <<SPEC
{"method": "head-lora", "heads": "L5H1", "projections": ["v"], "rank": 1,
 "objective": "learn", "target": "de.txt", "token_budget": 64, "steps": $STEPS, "batch_size": 4, "lr": 0.01, "seed": 1}
SPEC
declare -A times
for ((r = 1; r <= ROUNDS; r++)); do
  for method in prefactor head-lora; do
    times[$method]+="$("$ROOT/scalpel" train --model "$MODEL" --spec "$WORK/$method.json" --out "$WORK/e.json" --threads 2 --json | field seconds) "
  done
  times[peft]+="$("$PYTHON" "$ROOT/tools/bench/peft_lora_step.py" --model "$MODEL" --steps "$STEPS" --threads 2 2>/dev/null | field seconds) "
done
"$PYTHON" - "${times[prefactor]}" "${times[head-lora]}" "${times[peft]}" "$STEPS" <<'PY'
import statistics, sys
names = ["scalpel prefactor", "scalpel head-LoRA r1", "PEFT LoRA r1"]
runs = [[float(x) for x in a.split()] for a in sys.argv[1:4]]
steps = int(sys.argv[4])
peer = statistics.median(runs[2])
for name, r in zip(names, runs):
    m = statistics.median(r)
    print(f"{name:22s} median {1000 * m / steps:6.1f} ms/step  (spread {1000 * min(r) / steps:.1f}-{1000 * max(r) / steps:.1f}, "
          f"{len(r)} rounds)  speed vs PEFT {peer / m:.2f}x")
PY
