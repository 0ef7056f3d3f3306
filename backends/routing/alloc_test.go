package routing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// allocRoutings is every policy, with the options that take other code
// paths (presets, failure domains, SLO, residency).
func allocRoutings() map[string]*scenarios.Routing {
	out := map[string]*scenarios.Routing{}
	for _, name := range scenarios.Policies {
		out[name] = &scenarios.Routing{Policy: name}
	}
	out["fallback-litellm"] = &scenarios.Routing{Policy: scenarios.PolicyFallback, Fallback: &scenarios.FallbackParams{Preset: scenarios.PresetLiteLLM}}
	out["fallback-litellm-one"] = &scenarios.Routing{Policy: scenarios.PolicyFallback, Fallback: &scenarios.FallbackParams{Preset: scenarios.PresetLiteLLM, Groups: "one", AllowedFails: 2}}
	out["breaker-region"] = &scenarios.Routing{Policy: scenarios.PolicyCircuitBreaker, FailureDomain: "region"}
	out["outlier-provider"] = &scenarios.Routing{Policy: scenarios.PolicyPrimarySecondary, FailureDomain: "provider"}
	out["cost-slo"] = &scenarios.Routing{Policy: scenarios.PolicyCostAware, Cost: &scenarios.CostParams{SLO: scenarios.Duration(sec), Residency: []string{"eu-data-zone"}}}
	return out
}

// Policies must not allocate per attempt: the simulator calls them millions
// of times a second. Every policy runs a mixed sequence of successes,
// throttles, outages and timeouts through every method it implements.
func TestNoAllocationPerAttempt(t *testing.T) {
	cs := scenarioCands(t)
	for i := range cs {
		cs[i].PriceInputPerMTok, cs[i].PriceOutputPerMTok = float64(i+1), float64(4*(i+1))
	}
	outcomes := []Observation{
		okObs(0, 0, 300*ms),
		throttled(0, 0, 2*sec),
		outage(0, 0),
		failObs(0, results.StatusTimedOut, "timeout", 0),
		failObs(0, results.StatusClientError, "http_401", 0),
		failObs(0, results.StatusFailed, ClassCancelled, 0),
	}
	tags := []string{"eu-data-zone"}
	for name, rt := range allocRoutings() {
		p, err := New(rt, cs)
		require.NoError(t, err, name)
		st, _ := p.(Starter)
		re, _ := p.(Retrier)
		tm, _ := p.(AttemptTimer)
		he, _ := p.(Hedger)
		var r Request
		var o Observation
		now := int64(0)
		k := 0
		allocs := testing.AllocsPerRun(2000, func() {
			k++
			now += 37 * ms
			r = Request{ID: uint64(k), Attempt: 1 + k%3, Prev: k % len(cs), U: float64(k%97) / 97, InputTokens: 1200, MaxTokens: 800,
				Deadline: now + 20*sec, Last: o, Memo: r.Memo, Hedge: k%11 == 0}
			if r.Attempt == 1 {
				r.Prev, r.Memo, r.Tags = -1, 0, nil
			} else if k%5 == 0 {
				r.Tags = tags
			}
			dep := p.Pick(now, &r)
			if dep < 0 {
				dep = 0
			}
			if st != nil {
				st.Started(now, dep)
			}
			if tm != nil {
				tm.FirstTokenTimeout(now, &r)
			}
			if he != nil {
				he.HedgeDelay(now, &r, dep)
			}
			o = outcomes[k%len(outcomes)]
			o.Dep, o.Sent, o.Done = dep, now, now+ms
			if o.Status == results.StatusOK {
				o.FirstToken = now + 300*ms
			}
			o.InputTokens, o.MaxTokens, o.OutputTokens = 1200, 800, 100
			p.Observe(o.Done, &o)
			if re != nil && o.Status != results.StatusOK {
				re.Retry(o.Done, &r, &o)
			}
		})
		assert.Zero(t, allocs, "%s allocates per attempt", name)
	}
}
