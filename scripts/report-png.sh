#!/usr/bin/env bash
# Regenerates docs/report.png, the README's picture of the demo report:
# the top of out/demo/report.html (run `make demo` first) as headless
# Chromium draws it at 1280 px.
set -euo pipefail
cd "$(dirname "$0")/.."
html=out/demo/report.html
[ -f "$html" ] || { echo "no $html: run make demo first" >&2; exit 2; }
bin=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$bin" ] || { echo "headless Chromium is needed (apt-get install chromium)" >&2; exit 2; }
"$bin" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1600 \
	--screenshot="$PWD/docs/report.png" "file://$PWD/$html" 2>/dev/null
echo "wrote docs/report.png"
