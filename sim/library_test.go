package sim

import (
	"context"
	"math"
	"reflect"
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

// fingerprint is what tells two strategies' results apart: every count,
// the latency distributions' quantiles, cost, and each deployment's and
// session class's counts. Two strategies with equal fingerprints routed
// the same requests the same way.
type fingerprint struct {
	Requests, Completed, Rejected, Failed, TimedOut, Attempts int64
	TTFT, E2E                                                 [5]float64 // mean, p50, p90, p99, max
	CostUSD                                                   float64
	Deployments                                               []results.DeploymentResult
	Sessions                                                  [][4]float64 // sessions, completed, failed, latency p99
}

func fingerprintOf(r *results.Result) fingerprint {
	q := func(l results.Latency) [5]float64 { return [5]float64{l.Mean, l.P50, l.P90, l.P99, l.Max} }
	f := fingerprint{Requests: r.Requests, Completed: r.Completed, Rejected: r.Rejected, Failed: r.Failed,
		TimedOut: r.TimedOut, Attempts: r.Attempts, TTFT: q(r.TTFTSeconds), E2E: q(r.E2ESeconds), CostUSD: float64(r.TokenCostUSD)}
	for _, d := range r.Deployments {
		d.Utilization = 0 // follows from the counts' routing; NaN would never compare equal
		f.Deployments = append(f.Deployments, d)
	}
	for _, x := range r.Sessions {
		f.Sessions = append(f.Sessions, [4]float64{float64(x.Sessions), float64(x.Completed), float64(x.Failed), x.LatencySeconds.P99})
	}
	return f
}

// TestLibraryExercisesEveryStrategy: a library scenario that names a
// strategy must give it something to do. Two strategies of one scenario
// with identical results (same counts, per deployment too, same latency
// quantiles and cost: see fingerprint) mean the scenario never reached
// what tells them apart, as multi-home once never pushed Azure to its quota
// and quota-aware routing behaved exactly as ordered failover. Beyond
// differing, a strategy whose policy has an obvious point is checked for it
// against plain failover over the same placement in the same scenario:
// quota-aware routing is throttled less, a circuit breaker fails fewer
// attempts, hedging lowers the TTFT p99.
//
// One replication each (as `mcbench sim NAME --replications 1`) over the
// scenario's full horizon: the differences live at the diurnal peak and in
// the fault windows, which a shorter horizon would cut off.
func TestLibraryExercisesEveryStrategy(t *testing.T) {
	pricing, err := reports.DefaultPricing()
	require.NoError(t, err)
	names := scenarios.LibraryNames()
	require.GreaterOrEqual(t, len(names), 5)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := scenarios.Open(name)
			require.NoError(t, err)
			s.Replications = 1
			sum, err := Run(context.Background(), s, Options{Prices: pricing.TokenPrices(s)})
			require.NoError(t, err)
			require.Len(t, sum.Results, len(s.Strategies))
			fps := make([]fingerprint, len(sum.Results))
			for i := range sum.Results {
				fps[i] = fingerprintOf(&sum.Results[i])
				require.Positive(t, fps[i].Requests, sum.Results[i].Strategy)
			}
			for i := range fps {
				for j := i + 1; j < len(fps); j++ {
					assert.False(t, reflect.DeepEqual(fps[i], fps[j]),
						"%s: strategies %s and %s give identical results: the scenario never exercises what tells them apart",
						name, sum.Results[i].Strategy, sum.Results[j].Strategy)
				}
			}
			checkPolicyPoints(t, s, sum)
		})
	}
}

// checkPolicyPoints compares each quota-aware, circuit-breaker and hedged
// strategy with a failover strategy over the same model placement, on what
// the policy is for.
func checkPolicyPoints(t *testing.T, s *scenarios.Scenario, sum *results.Summary) {
	t.Helper()
	res := map[string]*results.Result{}
	for i := range sum.Results {
		res[sum.Results[i].Strategy] = &sum.Results[i]
	}
	model := map[string]bool{}
	for _, d := range s.Deployments {
		model[d.Name] = d.Layer == scenarios.LayerModel
	}
	// total sums over the model deployments (orchestration is placed alike
	// and would only add the same figure to both sides).
	total := func(r *results.Result, f func(d results.DeploymentResult) int64) (n int64) {
		for _, d := range r.Deployments {
			if model[d.Name] {
				n += f(d)
			}
		}
		return n
	}
	throttled := func(d results.DeploymentResult) int64 { return d.Throttled }
	failed := func(d results.DeploymentResult) int64 { return d.Failed }
	for _, st := range s.Strategies {
		for _, base := range s.Strategies {
			if base.Routing.Policy != scenarios.PolicyFailover || !reflect.DeepEqual(base.Placement[scenarios.LayerModel], st.Placement[scenarios.LayerModel]) {
				continue
			}
			a, b := res[st.Name], res[base.Name]
			switch st.Routing.Policy {
			case scenarios.PolicyQuotaAware:
				assert.Positive(t, total(b, throttled), "%s: %s is throttled, or quota-aware routing has nothing to avoid", s.Name, base.Name)
				assert.Less(t, total(a, throttled), total(b, throttled), "%s: %s moves traffic before the quota refuses it, unlike %s", s.Name, st.Name, base.Name)
			case scenarios.PolicyCircuitBreaker:
				assert.Less(t, total(a, failed), total(b, failed), "%s: %s stops sending to a failing deployment, unlike %s", s.Name, st.Name, base.Name)
			case scenarios.PolicyHedged:
				assert.Less(t, a.TTFTSeconds.P99, b.TTFTSeconds.P99, "%s: %s cuts the TTFT tail, against %s", s.Name, st.Name, base.Name)
			}
		}
	}
}
