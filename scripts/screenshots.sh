#!/usr/bin/env bash
# Regenerates screenshots/*.png from the real program: runs vouch in a tmux pane
# of a fixed size, captures the pane with its colours, turns it into HTML with
# aha and renders that with headless Chromium. Needs tmux, aha and chromium
# (Debian packages). Usage: scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for bin in tmux aha chromium; do command -v "$bin" >/dev/null || { echo "screenshots: $bin is not installed" >&2; exit 2; }; done
npx tsc -p tsconfig.json
work=$(mktemp -d)
trap 'tmux kill-session -t vouch-shot 2>/dev/null || true; rm -rf "$work"' EXIT
export VOUCH_CACHE_DIR="$work/cache"

# shot NAME COLS ROWS COMMAND...: run COMMAND in a COLSxROWS pane and save screenshots/NAME.png
shot() {
  local name=$1 cols=$2 rows=$3
  shift 3
  tmux kill-session -t vouch-shot 2>/dev/null || true
  tmux new-session -d -s vouch-shot -x "$cols" -y "$rows" "$* ; echo __done__; sleep 30"
  for _ in $(seq 1 100); do
    tmux capture-pane -t vouch-shot -p | grep -q __done__ && break
    sleep 0.2
  done
  tmux capture-pane -t vouch-shot -p -e | sed '/__done__/d' >"$work/$name.ansi"
  {
    echo '<html><head><meta charset="utf-8"><style>body{background:#1e1e1e;margin:0;padding:12px}pre{font:14px/1.25 "DejaVu Sans Mono",monospace;color:#ddd;margin:0}</style></head><body><pre>'
    aha --no-header <"$work/$name.ansi"
    echo '</pre></body></html>'
  } >"$work/$name.html"
  local width=$((cols * 9 + 30)) height=$((rows * 18 + 30))
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --user-data-dir="$work/chrome" --hide-scrollbars \
    --window-size="$width,$height" --screenshot="$PWD/screenshots/$name.png" "file://$work/$name.html" >/dev/null 2>&1
  echo "screenshots/$name.png"
}

mkdir -p screenshots
shot inspect-demo 118 52 "node dist/src/cli/main.js demo"
demo="oci:$VOUCH_CACHE_DIR/demo-image-v1:demo"
shot sbom-demo 118 22 "node dist/src/cli/main.js sbom $demo"
shot check-demo 160 18 "node dist/src/cli/main.js check $demo"
