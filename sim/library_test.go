package sim

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// TestFederatedOutage is the architects' question on the library's
// federated scenario: through the East US 2 outage, what does each strategy
// lose, how long until users stop seeing failures, and what does failing
// over from provisioned to pay-as-you-go capacity cost? The circuit breaker
// must fail fewer requests than plain retry-then-failover: when Sweden
// Central throttles a request at the diurnal peak, ordered failover sends
// its third attempt back to the dead region, while the open breaker keeps
// it on Sweden Central after the retry-after. (Seeds 1–4 of the scenario
// give 7–17 failures against 0–1.)
func TestFederatedOutage(t *testing.T) {
	s, err := scenarios.Open("federated")
	require.NoError(t, err)
	s.Replications = 10
	pricing, err := reports.DefaultPricing()
	require.NoError(t, err)
	sum, err := Run(context.Background(), s, Options{
		Strategies: []string{"retry-then-failover", "circuit-breaker"},
		Prices:     pricing.TokenPrices(s),
	})
	require.NoError(t, err)
	outage := map[string]results.FaultResult{}
	for _, r := range sum.Results {
		require.NotEmpty(t, r.Faults)
		f := r.Faults[0]
		require.Equal(t, scenarios.FaultOutage, f.Kind)
		require.Equal(t, "eastus2", f.Target)
		outage[r.Strategy] = f
		t.Logf("%s: %d of %d requests failed in the outage; recover %.1fs, extra E2E %.3fs, extra cost $%.2f per outage; sessions %d, %d failed",
			r.Strategy, f.Failed, f.Requests, float64(f.TimeToRecoverSeconds), float64(f.ExtraE2ESeconds), float64(f.ExtraCostUSD), f.Sessions, f.SessionsFailed)
		assert.Greater(t, f.Requests, int64(0))
		assert.Greater(t, f.Sessions, int64(0))
		for name, x := range map[string]results.Num{"time to fail over": f.TimeToFailoverSeconds, "extra latency": f.ExtraE2ESeconds, "extra cost": f.ExtraCostUSD} {
			assert.False(t, math.IsNaN(float64(x)), "%s: %s is measured", r.Strategy, name)
		}
		// Time to recover is measured exactly when a request failed.
		assert.Equal(t, f.Failed > 0, f.TimeToRecoverSeconds.Known(), r.Strategy)
		// Failing over from the PTU deployment (marginal tokens free) to
		// pay-as-you-go costs money, and the detour takes time.
		assert.Greater(t, float64(f.ExtraCostUSD), 0.0, r.Strategy)
		assert.Greater(t, float64(f.ExtraE2ESeconds), 0.0, r.Strategy)
		assert.Greater(t, float64(r.TokenCostUSD), 0.0, r.Strategy)
	}
	fo, cb := outage["retry-then-failover"], outage["circuit-breaker"]
	assert.Greater(t, fo.Failed, int64(0), "plain failover loses requests to the dead region")
	assert.Less(t, 2*cb.Failed, fo.Failed, "the breaker fails fewer requests than plain retry-then-failover, by far")
	if cb.Failed > 0 {
		assert.LessOrEqual(t, float64(cb.TimeToRecoverSeconds), float64(fo.TimeToRecoverSeconds))
	} else {
		assert.Equal(t, "no failures", cb.RecoverWhy())
	}
}
