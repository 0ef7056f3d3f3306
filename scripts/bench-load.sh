#!/usr/bin/env bash
# Highest sustained rate of `mcbench load` (stream timing on) next to the
# plain `vegeta attack` command, both against the same fake server on this
# machine. A rate counts as sustained when every scheduled request was sent
# and the p99 end-to-end latency stayed under 50 ms (the fake answers at
# once, so anything above that is queueing in the client or the machine).
# Usage: scripts/bench-load.sh [duration] [rates...]
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-8s}; shift || true
rates=${*:-"1000 2000 3000 3500 4000 4500 5000"}
bin=$(mktemp -d)
trap 'kill $fake 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -o "$bin/mcbench" ./cmd/mcbench
GOBIN="$bin" go install github.com/tsenart/vegeta/v12@v12.13.0
"$bin/mcbench" fake --scenario testdata/load/instant.yaml --listen 127.0.0.1:0 --json --quiet > "$bin/eps.json" 2>/dev/null &
fake=$!
for _ in $(seq 50); do [ -s "$bin/eps.json" ] && break; sleep 0.1; done
read -r url key < <(python3 -c "import json,sys; d=json.load(open('$bin/eps.json'))['deployments'][0]; print(d['endpoint'], d['api_key'])")
printf '{"messages":[{"role":"user","content":"%s"}],"max_tokens":20,"stream":true,"stream_options":{"include_usage":true}}' \
  "$(python3 -c "print(' '.join(['token']*20))")" > "$bin/body.json"
cat > "$bin/targets.txt" <<T
POST $url/openai/deployments/aoai-instant/chat/completions?api-version=2024-10-21
Content-Type: application/json
api-key: $key
X-Mcbench-Output-Tokens: 10
@$bin/body.json
T
printf '%-6s | %-34s | %-34s\n' rate "vegeta: sent/s  p99 e2e" "mcbench: sent/s  p99 e2e  (sent/sched)"
for r in $rates; do
  v=$("$bin/vegeta" attack -targets="$bin/targets.txt" -rate="$r" -duration="$dur" -max-body=0 | "$bin/vegeta" report -type=json |
      python3 -c "import json,sys; d=json.load(sys.stdin); print('%8.0f  %8.1fms' % (d['rate'], d['latencies']['99th']/1e6))")
  m=$("$bin/mcbench" load testdata/load/instant.yaml --strategy instant --target endpoints --endpoints "$bin/eps.json" \
        --rate "$r" --duration "$dur" --no-progress --json |
      python3 -c "import json,sys; d=json.load(sys.stdin); r=d['results'][0]; l=d['load']; print('%8.0f  %8.1fms  (%d/%d)' % (r['throughput_rps'], r['e2e_seconds']['p99']*1e3, l['sent'], l['scheduled']))")
  printf '%-6s | %-34s | %-34s\n' "$r" "$v" "$m"
done
