#!/usr/bin/env bash
# Train while serving (issue 16): the same head-LoRA training run with and without a live reader
# (`--live-generate PROMPT --live-every K`: a thread that continues a prompt by 24 tokens with the live weights every K
# steps), each in its own process, alternating over ROUNDS rounds; prints the median training seconds and the ratio
# steps/s with the reader ÷ steps/s without it. Both sides share the machine's cores, so the ratio includes the CPU the
# reader's generations take, not only the trainer's publication cost.
#   ROUNDS=3 STEPS=60 EVERY=10 tools/bench/live_reader.sh [MODEL_DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-60}
EVERY=${EVERY:-10}
cp "$MODEL/train-sample/de.txt" "$WORK/de.txt"
cat > "$WORK/spec.json" <<SPEC
{"method": "head-lora", "heads": "L3H1,L4H2,L5H1", "projections": ["q", "k", "v", "o"], "rank": 4,
 "objective": "learn", "target": "de.txt", "token_budget": 16384, "steps": $STEPS, "batch_size": 4, "context": 128,
 "lr": 0.005, "seed": 1}
SPEC
plain=""; live=""
for ((r = 1; r <= ROUNDS; r++)); do
  plain+="$("$ROOT/scalpel" train --model "$MODEL" --spec "$WORK/spec.json" --out "$WORK/e.json" --threads 2 --json | field train_seconds) "
  live+="$("$ROOT/scalpel" train --model "$MODEL" --spec "$WORK/spec.json" --out "$WORK/e.json" --threads 2 --json \
      --live-generate "Der Hund" --live-every "$EVERY" | field train_seconds) "
done
"$PYTHON" - "$plain" "$live" "$STEPS" "$EVERY" <<'PY'
import statistics, sys
plain, live = ([float(x) for x in a.split()] for a in sys.argv[1:3])
steps, every = int(sys.argv[3]), int(sys.argv[4])
for name, r in (("without a reader", plain), (f"live reader every {every}", live)):
    m = statistics.median(r)
    print(f"{name:24s} median {1000 * m / steps:6.1f} ms/step  (spread {1000 * min(r) / steps:.1f}-{1000 * max(r) / steps:.1f}, "
          f"{len(r)} rounds)")
print(f"steps/s with the reader / without: {statistics.median(plain) / statistics.median(live):.2f}")
PY
