#!/usr/bin/env bash
# Fuzzes the Jazzer targets (the @FuzzTest methods of engine and app) for their maxExecutions — 1,000,000 each — one
# JVM per target, then prints one line per target: executions, seconds, executions/s and the verdict. A failing input
# is written beside the target's seeds (src/test/resources/.../<Class>Inputs/<method>/), where every later plain
# build replays it. Usage: tools/fuzz/fuzz_all.sh [LOG [TARGET ...]]   (default LOG: target/fuzz.log; TARGETs are
# test class names, e.g. EditsFileFuzzTest; default: all of them)
set -uo pipefail
cd "$(dirname "$0")/../.."
log="${1:-target/fuzz.log}"
shift $(( $# > 0 ? 1 : 0 ))
only=()
if [ $# -gt 0 ]; then only=("-Dtest=$(IFS=,; echo "$*")"); fi
mkdir -p "$(dirname "$log")"
./mvnw -B -ntp -fae -Pfuzz install -Dsurefire.failIfNoSpecifiedTests=false "${only[@]}" > "$log" 2>&1
status=$?
awk '
  /Running dev\.scalpel\..*FuzzTest/ { target = $NF; sub(/.*\./, "", target) }
  /^Done [0-9]+ runs in [0-9]+ second/ { printf "%-28s %10s runs %6s s %8.0f exec/s\n", target, $2, $5, $2 / ($5 > 0 ? $5 : 1) }
  /Tests run:.*FuzzTest/ { verdict = ($0 ~ /FAILURE|Errors: [1-9]|Failures: [1-9]/) ? "FINDING" : "clean"; name = $NF; sub(/.*\./, "", name); print "  " name ": " verdict }
' "$log"
echo "maven exit status $status (log: $log)"
exit $status
