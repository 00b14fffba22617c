# Sourced by the benchmark scripts: ROOT (the repository), PYTHON (the peers' interpreter), MODEL (the script's first
# argument, default the sample model), WORK (a scratch folder removed on exit) and `field KEY`, which prints KEY of the
# JSON object a command printed on stdin (possibly over several lines, after other output).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
MODEL=${1:-$ROOT/sample-models/polyglot-tiny}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
field() { "$PYTHON" -c "import json,sys; s=sys.stdin.read(); print(json.loads(s[s.index('{'):])['$1'])"; }
