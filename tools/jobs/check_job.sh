#!/usr/bin/env bash
# Proof for `scalpel export-job` / `import-job` (issue 18): exported jobs run with torchrun --nproc_per_node 2 on CPU
# (gloo) and match a local `scalpel train` of the same spec and seed (head-LoRA on MHA and GQA, with AdamW and
# APOLLO-Mini, a prefactor on a decomposition subcomponent), and an importance job matches `scalpel importance`. Needs Python with the packages of the job's
# requirements.txt: PYTHON=/path/to/venv/bin/python (default .venv/bin/python). Not part of ./mvnw verify.
#   tools/jobs/check_job.sh [WORKDIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
TORCHRUN=$(dirname "$PYTHON")/torchrun
WORK=${1:-$(mktemp -d)}
SCALPEL="$ROOT/scalpel"
MODEL="$ROOT/sample-models/polyglot-tiny"
if [[ ! -x "$TORCHRUN" ]]; then
  echo "error: no torchrun beside $PYTHON; make a venv: python3 -m venv .venv && .venv/bin/pip install -r engine/src/main/resources/dev/scalpel/engine/job/requirements.txt" >&2
  exit 2
fi
mkdir -p "$WORK"
cp "$MODEL/train-sample/de.txt" "$WORK/de-train.txt"
cp "$MODEL/train-sample/en.txt" "$WORK/en-train.txt"
cp "$MODEL/decompositions/layer5-v_proj.safetensors" "$WORK/"
cat > "$WORK/head-lora.json" <<'SPEC'
{"method": "head-lora", "heads": "L5H0,L5H1,L4H2", "rank": 4, "objective": "unlearn", "target": "de-train.txt",
 "general": "en-train.txt", "general_ratio": 0.25, "retain": "en-train.txt", "retain_weight": 0.5,
 "token_budget": 256, "steps": 20, "batch_size": 4, "context": 64, "lr": 0.005, "seed": 7}
SPEC
cat > "$WORK/prefactor.json" <<'SPEC'
{"method": "prefactor", "module": "model.layers.5.self_attn.v_proj", "component": 0,
 "decomposition": "layer5-v_proj.safetensors", "objective": "unlearn", "target": "de-train.txt",
 "general": "en-train.txt", "token_budget": 64, "steps": 30, "batch_size": 4, "context": 64, "lr": 1.0, "seed": 3,
 "frozen_context": 8}
SPEC
cat > "$WORK/head-lora-apollo.json" <<'SPEC'
{"method": "head-lora", "heads": "L5H0,L5H1,L4H2", "rank": 4, "objective": "unlearn", "target": "de-train.txt",
 "general": "en-train.txt", "token_budget": 256, "steps": 12, "batch_size": 4, "context": 64, "lr": 0.01, "seed": 7,
 "optimizer": "apollo-mini"}
SPEC
# GQA: 4 query heads sharing 2 k/v heads; head-LoRA on L1H1 adapts its q rows and its group's k/v rows only
GQA="$ROOT/fixtures/models/llama-gqa"
for lang in de en; do
  "$PYTHON" -c "import sys; open(sys.argv[1], 'w').write(open(sys.argv[2]).read()[:20000])" "$WORK/gqa-$lang.txt" "$WORK/$lang-train.txt"
done
cat > "$WORK/head-lora-gqa.json" <<'SPEC'
{"method": "head-lora", "heads": "L1H1", "projections": ["q", "k", "v"], "rank": 2, "objective": "learn",
 "target": "gqa-de.txt", "general": "gqa-en.txt", "token_budget": 300, "steps": 20, "batch_size": 3, "context": 32,
 "lr": 0.05, "seed": 1}
SPEC
model_hash_before=$(cat "$MODEL/model.safetensors" "$GQA/model.safetensors" | sha256sum | cut -d' ' -f1)
status=0
for name in head-lora head-lora-apollo prefactor head-lora-gqa; do
  echo "== $name"
  model=$MODEL; data=()
  if [[ $name == *-gqa ]]; then model=$GQA; data=(--data "de=$WORK/gqa-de.txt" --data "en=$WORK/gqa-en.txt"); fi
  "$SCALPEL" train --model "$model" --spec "$WORK/$name.json" --out "$WORK/local-$name.json" > "$WORK/local-$name.log"
  "$SCALPEL" eval --model "$model" --edits "$WORK/local-$name.json" --max-tokens 2048 "${data[@]}" --json > "$WORK/local-$name-eval.json"
  "$SCALPEL" export-job --model "$model" --spec "$WORK/$name.json" --out "$WORK/job-$name" > /dev/null
  (cd "$WORK/job-$name" && "$TORCHRUN" --standalone --nproc_per_node 2 run.py > run.log 2>&1) \
    || { echo "run.py failed; see $WORK/job-$name/run.log" >&2; tail -5 "$WORK/job-$name/run.log" >&2; exit 1; }
  "$SCALPEL" import-job "$WORK/job-$name" --max-tokens 2048 "${data[@]}" --json > "$WORK/imported-$name.json"
  "$PYTHON" "$ROOT/tools/jobs/compare_job.py" "$WORK/job-$name" "$WORK/local-$name.log" \
    "$WORK/imported-$name.json" "$WORK/local-$name-eval.json" || status=1
done
echo "== importance (gradient map of de)"
"$SCALPEL" importance --model "$MODEL" --data "de=$WORK/de-train.txt" --max-tokens 4096 --normalize raw --no-cache \
  --out "$WORK/local-map.json" > /dev/null
"$SCALPEL" export-job --model "$MODEL" --importance "de=$WORK/de-train.txt" --max-tokens 4096 --out "$WORK/job-importance" > /dev/null
(cd "$WORK/job-importance" && "$TORCHRUN" --standalone --nproc_per_node 2 run.py > run.log 2>&1) \
  || { echo "run.py failed; see $WORK/job-importance/run.log" >&2; exit 1; }
"$SCALPEL" import-job "$WORK/job-importance" --out "$WORK/imported-map.json" > /dev/null
"$PYTHON" "$ROOT/tools/jobs/compare_job.py" --maps "$WORK/imported-map.json" "$WORK/local-map.json" || status=1
model_hash_after=$(cat "$MODEL/model.safetensors" "$GQA/model.safetensors" | sha256sum | cut -d' ' -f1)
echo "model.safetensors files unchanged: $([[ $model_hash_before == "$model_hash_after" ]] && echo yes || echo NO)"
[[ $model_hash_before == "$model_hash_after" ]] || status=1
[[ $status == 0 ]] && echo "check_job: all checks passed ($WORK)" || echo "check_job: FAILED ($WORK)"
exit $status
