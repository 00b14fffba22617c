#!/usr/bin/env bash
# Runs user mistakes through the CLI, as a user would make them, on a scratch copy of the GQA fixture, and prints a
# Markdown table: the mistake, the exit status and what Scalpel said (stderr). The bar (issue 19): every case exits 1
# with a one-line message; the last column says "ok" when it does. Usage: tools/reliability/hostile_inputs.sh
# [SCALPEL] where SCALPEL is the command to run (default: ./scalpel, which builds if needed).
set -uo pipefail
cd "$(dirname "$0")/../.."
scalpel="${1:-./scalpel}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
model="$work/model"
cp -r fixtures/models/llama-gqa "$model"
head -c 4000 sample-models/polyglot-tiny/eval/de.txt > "$work/de.txt"
printf 'Ich bin hier\nDas ist gut\n' > "$work/pos.txt"
printf 'I am here\nThis is good\n' > "$work/neg.txt"
: > "$work/empty.txt"
spec() {   # spec NAME JSON-FIELDS: a head-LoRA spec on de.txt with these fields added or replaced
  printf '{"method": "head-lora", "heads": "L0H0", "target": "de.txt", "steps": 2, "context": 16%s}\n' "$2" > "$work/$1.json"
  echo "$work/$1.json"
}
row() {    # row "MISTAKE" ARGS...: runs scalpel ARGS and prints one table row
  local mistake="$1"; shift
  local err; err="$(timeout 120 $scalpel "$@" 2>&1 >/dev/null)"; local status=$?
  local lines; lines="$(printf '%s' "$err" | grep -c .)"
  local verdict="ok"; { [ "$status" -ne 1 ] || [ "$lines" -ne 1 ] || grep -q "internal error" <<<"$err"; } && verdict="**NO**"
  printf '| %s | %s | %s | %s |\n' "$mistake" "$status" "$(printf '%s' "$err" | head -3 | tr '\n' ' ' | sed "s|$work/||g; s/|/\\\\|/g" | cut -c1-230)" "$verdict"
}
train() { row "$1" train --model "$model" --spec "$2" --out "$work/out-edits.json"; }

echo "| mistake | exit | message | one line, exit 1 |"
echo "|---|---|---|---|"
train 'learning rate 1e9' "$(spec lr-huge ', "lr": 1e9')"
train 'learning rate "Infinity"' "$(spec lr-inf ', "lr": "Infinity"')"
train 'steps 0' "$(spec steps0 ', "steps": 0')"
train 'batch_size -2' "$(spec batch ', "batch_size": -2')"
train 'rank 2.5' "$(spec rank-frac ', "rank": 2.5')"
train 'a field misspelled ("learning_rate")' "$(spec misspelled ', "learning_rate": 0.01')"
train 'heads "L0H9" (the model has 4 heads)' "$(spec head9 ', "heads": "L0H9"')"
train 'general_ratio 1.5' "$(spec ratio ', "general": "de.txt", "general_ratio": 1.5')"
train 'an empty target text' "$(spec empty ', "target": "empty.txt"')"
train 'a folder as the target text' "$(spec folder ', "target": "."')"
train 'a target text that does not exist' "$(spec missing ', "target": "nope.txt"')"
printf '[1, 2' > "$work/truncated.json"; train 'a spec cut off mid-file' "$work/truncated.json"
row 'a model folder that does not exist' info --model "$work/nowhere"
cp -r "$model" "$work/m-trunc"; head -c 5000 "$model/model.safetensors" > "$work/m-trunc/model.safetensors"
row 'a truncated model.safetensors' info --model "$work/m-trunc"
cp -r "$model" "$work/m-arch"; sed -i 's/"model_type": "llama"/"model_type": "mamba"/' "$work/m-arch/config.json"
row 'an architecture Scalpel does not implement' info --model "$work/m-arch"
cp -r "$model" "$work/m-hidden"; sed -i 's/"hidden_size": 64/"hidden_size": 0/' "$work/m-hidden/config.json"
row 'hidden_size 0 in config.json' info --model "$work/m-hidden"
cp -r "$model" "$work/m-tok"; printf '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "decoder": {"type": "ByteLevel", "add_prefix_space": tr\xff\xfeue}}' > "$work/m-tok/tokenizer.json"
row 'a tokenizer.json with a byte error in "decoder"' eval --model "$work/m-tok" --data de="$work/de.txt"
row 'a context longer than the model''s positions (128)' eval --model "$model" --data de="$work/de.txt" --context 4096
$scalpel train --model "$model" --spec "$(spec good '')" --out "$work/good-edits.json" > /dev/null 2>&1
hash="$(sed -n 's/.*"base_model_hash" *: *"\([0-9a-f]*\)".*/\1/p' "$work/good-edits.json")"
printf '{"format": "scalpel-edits/2", "base_model_hash": "%s", "edits": {}}' "$hash" > "$work/edits-object.json"
row 'an edits file with an object for "edits"' eval --model "$model" --data de="$work/de.txt" --edits "$work/edits-object.json"
printf 'GGUF\x03\x00\x00\x00' > "$work/short.gguf"
row 'a control vector cut off after its header' generate --model "$model" --prompt Der --steer "$work/short.gguf"
$scalpel vectors steer --model "$model" --layer 1 --positive "$work/pos.txt" --negative "$work/neg.txt" --out "$work/v.gguf" > /dev/null 2>&1
row 'a steering coefficient of NaN' generate --model "$model" --prompt Der --steer "$work/v.gguf" --steer-coef NaN
printf '{"format": "scalpel-head-group/2", "name": "g", "heads": "", "shape": {}}' > "$work/group-empty.json"
row 'a head group with no heads and no shape' heads apply --model "$model" --group "$work/group-empty.json" --no-eval
row 'an importance map that is not JSON' train --model "$model" --spec "$(spec map ', "method": "head-finetune", "heads": "all", "per_head_lr": {"map": "de.txt"}')" --out "$work/o.json"
row 'export into the model'"'"'s own folder' export --model "$model" --edits "$work/good-edits.json" --format hf --out "$model/merged"
row 'a workspace that is not a workspace' open "$work/de.txt"
row 'an unknown option' eval --model "$model" --dataa de.txt
