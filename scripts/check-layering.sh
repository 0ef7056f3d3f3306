#!/usr/bin/env bash
# The dependency rule of docs/ARCHITECTURE.md ("The dependency rule"), for
# non-test code: prints every import that breaks it and fails if any does.
set -euo pipefail
cd "$(dirname "$0")/.."
M=$(go list -m)
bad=0
check() { # packages, forbidden-import regexp
	local out
	out=$(go list -deps "$1" | grep -E "^$M/($2)(/|$)" || true)
	if [ -n "$out" ]; then
		echo "layering: $1 must not depend on: $out" | tr '\n' ' '; echo
		bad=1
	fi
}
check ./backends/... 'sim|loadgen|reports|cmd'
check ./loadgen 'sim|reports|cmd'
check ./sim 'loadgen|reports|cmd'
check ./reports 'sim|loadgen|backends|cmd'
# The price-API client lives in reports/pricerefresh, which imports reports
# for the table types; reports itself stays free of it (no HTTP client in
# the package that turns run directories into reports).
check ./reports 'reports/pricerefresh'
check ./results 'sim|loadgen|reports|backends|cmd'
check ./results/threshold 'sim|loadgen|reports|backends|cmd'
check ./scenarios 'sim|loadgen|reports|backends|results|cmd'
exit $bad
