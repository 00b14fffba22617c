#!/usr/bin/env bash
# Smoke test of the built .deb without installing it: unpacks it with `dpkg -x` into a scratch root, then from those
# files, with HOME pointed at a scratch home, runs
#   1. scalpel info --model sample --json      first start, with an empty cache and no network (unshare -n, as root)
#   2. scalpel demo --quick                    the study end to end on the bundled sample model
#   3. scalpel (no arguments) under Xvfb       the workbench on the sample model; a screenshot of it
# and checks that the natives unpacked under $HOME/.cache/scalpel and nothing was written into the install folder.
#
#   packaging/smoke-test.sh [--deb FILE] [--display :98] [--screenshot FILE] [--no-window]
#
# Needs: dpkg; for the window Xvfb, xdotool and ImageMagick's `import`. Takes about a minute on two cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deb=""
display=":98"
shot="$root/docs/installed-workbench.png"
window=1
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb="$2"; shift 2 ;;
    --display) display="$2"; shift 2 ;;
    --screenshot) shot="$2"; shift 2 ;;
    --no-window) window=0; shift ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "smoke-test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$deb" ] || deb="$(ls "$root"/packaging/out/scalpel*_*.deb 2>/dev/null | head -1 || true)"
[ -f "$deb" ] || { echo "smoke-test.sh: no .deb: build one with ./mvnw -Ppackage package -DskipTests" >&2; exit 1; }

say() { echo "[smoke] $*"; }
fail() { echo "[smoke] FAIL: $*" >&2; exit 1; }
seconds() { awk -v ns="$(( $(date +%s%N) - $1 ))" 'BEGIN { printf "%.1f", ns / 1e9 }'; }

scratch="$root/packaging/out/smoke"
rm -rf "$scratch"
mkdir -p "$scratch/root" "$scratch/home"
say "dpkg -x $(basename "$deb") $scratch/root"
dpkg -x "$deb" "$scratch/root"
app="$(ls -d "$scratch"/root/opt/*/ | head -1)"; app="${app%/}"
scalpel="$app/bin/scalpel"
[ -x "$scalpel" ] || fail "no launcher at $scalpel"
home="$scratch/home"
touch "$scratch/installed.marker"
sleep 1
# a clean environment: the scratch home, no XDG overrides, no JAVA_HOME or JAVA_TOOL_OPTIONS of the caller
run() { env -i PATH=/usr/bin:/bin HOME="$home" LANG=C.UTF-8 ${DISPLAY_FOR_RUN:+DISPLAY=$DISPLAY_FOR_RUN} "$@"; }
nonet=()
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then nonet=(unshare -n); fi

# 1. info, first start: empty cache, no network
t0=$(date +%s%N)
json="$(run "${nonet[@]}" "$scalpel" info --model sample --json)" || fail "scalpel info exited $?"
say "info --model sample --json: $(seconds "$t0") s (first start, ${nonet[*]:-with network})"
echo "$json" | grep -q '"architecture" : "llama"' || fail "unexpected info: $json"
echo "$json" | grep -q '"parameters" : 7212288' || fail "unexpected info: $json"

# 2. demo --quick, no network either: loads libtorch, MKL and the tokenizer natives for the first time
t0=$(date +%s%N)
run "${nonet[@]}" "$scalpel" demo --quick --out "$scratch/demo" > "$scratch/demo.log" 2>&1 || { tail -20 "$scratch/demo.log"; fail "demo --quick"; }
demo_s="$(seconds "$t0")"
say "demo --quick: $demo_s s (natives unpacked on this first use)"
[ "$(wc -l < "$scratch/demo/results.csv")" = 11 ] || fail "results.csv should hold 5 methods x 2 budgets"
[ -s "$scratch/demo/tradeoff.png" ] || fail "no tradeoff.png"
grep -A12 '^method' "$scratch/demo.log" | sed 's/^/        /'

# the natives went to the user's cache folder, nothing into the install folder
for d in javacpp djl; do
  [ -n "$(find "$home/.cache/scalpel/$d" -name '*.so*' -print -quit 2>/dev/null)" ] || fail "no natives in $home/.cache/scalpel/$d"
done
[ -n "$(find "$home/.cache/scalpel/javacpp" -name 'libjnitorch.so' -print -quit)" ] || fail "libtorch not unpacked under the cache"
say "natives cached: $(du -sh "$home/.cache/scalpel/javacpp" | cut -f1) javacpp, $(du -sh "$home/.cache/scalpel/djl" | cut -f1) djl under \$HOME/.cache/scalpel"
written="$(find "$scratch/root" -newer "$scratch/installed.marker" | head -5)"
[ -z "$written" ] || fail "written into the install folder: $written"

# warm start
t0=$(date +%s%N)
run "$scalpel" info --model sample --json > /dev/null
say "info --model sample --json: $(seconds "$t0") s (warm)"

# 3. the workbench under Xvfb
if [ $window = 1 ]; then
  for t in Xvfb xdotool import; do command -v $t >/dev/null || fail "$t is needed for the window test (or --no-window)"; done
  xvfb=""
  if ! DISPLAY="$display" xdpyinfo >/dev/null 2>&1; then
    Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >"$scratch/xvfb.log" 2>&1 &
    xvfb=$!
    for _ in $(seq 50); do DISPLAY="$display" xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  t0=$(date +%s%N)
  DISPLAY_FOR_RUN="$display" run "$scalpel" > "$scratch/workbench.log" 2>&1 &
  wb=$!
  trap 'kill $wb 2>/dev/null || true; [ -n "$xvfb" ] && kill $xvfb 2>/dev/null || true' EXIT
  win=""
  for _ in $(seq 120); do
    # the workbench's stage (WM_CLASS from its Application class; GTK's hidden leader window is class "scalpel")
    win="$(DISPLAY="$display" xdotool search --onlyvisible --classname '^dev\.scalpel\.app\.ui\.Workbench$' 2>/dev/null \
      | while read -r w; do n="$(DISPLAY="$display" xdotool getwindowname "$w")"; [ "${n#Scalpel}" != "$n" ] && echo "$w"; done \
      | head -1 || true)"
    [ -n "$win" ] && break
    kill -0 $wb 2>/dev/null || { cat "$scratch/workbench.log"; fail "the workbench exited"; }
    sleep 0.5
  done
  [ -n "$win" ] || { cat "$scratch/workbench.log"; fail "no Scalpel window within 60 s"; }
  say "workbench window \"$(DISPLAY="$display" xdotool getwindowname "$win")\" after $(seconds "$t0") s"
  sleep 12                                   # the sample model loads as a job; let the map draw
  DISPLAY="$display" xdotool windowactivate "$win" 2>/dev/null || true
  mkdir -p "$(dirname "$shot")"
  DISPLAY="$display" import -window "$win" "$shot"
  say "screenshot: $shot"
  [ -n "$(find "$home/.cache/scalpel/openjfx" -name '*.so' -print -quit 2>/dev/null)" ] || fail "JavaFX natives not under \$HOME/.cache/scalpel/openjfx"
  kill $wb 2>/dev/null || true
  wait $wb 2>/dev/null || true
  written="$(find "$scratch/root" -newer "$scratch/installed.marker" | head -5)"
  [ -z "$written" ] || fail "written into the install folder: $written"
fi
say "OK"
