package routing

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

func TestDomains(t *testing.T) {
	cs := []Candidate{cand("a1", "azure", "eastus2"), cand("a2", "azure", "eastus2"), cand("a3", "azure", "westus3"), cand("b", "bedrock", "us-east-1")}
	for _, c := range []struct {
		mode  FailureDomain
		sizes []int
	}{{DomainDeployment, []int{1, 1, 1, 1}}, {"", []int{1, 1, 1, 1}}, {DomainRegion, []int{2, 2, 1, 1}}, {DomainProvider, []int{3, 3, 3, 1}}} {
		d, err := newDomains(c.mode, cs)
		require.NoError(t, err)
		for i, want := range c.sizes {
			assert.Equal(t, want, d.size(i), "%s: %s", c.mode, cs[i].Name)
		}
	}
	_, err := newDomains("continent", cs)
	assert.Error(t, err)

	d, _ := newDomains(DomainRegion, cs)
	d.eject(0, 10*sec)
	d.eject(0, 5*sec) // never shortens
	assert.True(t, d.out(9*sec, 1))
	assert.False(t, d.out(10*sec, 1))
	assert.Equal(t, 2, d.count(0))
	d.hold(2)
	assert.False(t, d.out(0, 2), "a hold leaves the holder to its own state machine")
	d.hold(0)
	assert.True(t, d.out(20*sec, 1))
	assert.False(t, d.out(20*sec, 0))
	d.release(1) // not the holder: no effect
	assert.True(t, d.out(20*sec, 1))
	d.release(0)
	assert.False(t, d.out(20*sec, 1))
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		o    Observation
		want outcome
		code int
	}{
		{Observation{Status: results.StatusOK}, outOK, 200},
		{Observation{Status: results.StatusThrottled, ErrorClass: "quota_tokens"}, outThrottled, 429},
		{Observation{Status: results.StatusThrottled, ErrorClass: "throttled"}, outThrottled, 429},
		{Observation{Status: results.StatusFailed, ErrorClass: "outage"}, outServer, 503},
		{Observation{Status: results.StatusFailed, ErrorClass: "http_502"}, outServer, 502},
		{Observation{Status: results.StatusRejected, ErrorClass: "queue_full"}, outServer, 503},
		{Observation{Status: results.StatusFailed, ErrorClass: "stream_cut"}, outServer, 500},
		{Observation{Status: results.StatusFailed, ErrorClass: "reset"}, outConnection, 500},
		{Observation{Status: results.StatusFailed, ErrorClass: "connection"}, outConnection, 500},
		{Observation{Status: results.StatusTimedOut, ErrorClass: "timeout"}, outTimeout, 408},
		{Observation{Status: results.StatusTimedOut, ErrorClass: "http_408"}, outTimeout, 408},
		{Observation{Status: results.StatusTimedOut, ErrorClass: ClassTTFTTimeout}, outTimeout, 408},
		{Observation{Status: results.StatusClientError, ErrorClass: "http_400"}, outClient, 400},
		{Observation{Status: results.StatusClientError, ErrorClass: "http_401"}, outAuth, 401},
		{Observation{Status: results.StatusClientError, ErrorClass: "http_403"}, outAuth, 403},
		{Observation{Status: results.StatusClientError, ErrorClass: "http_404"}, outNotFound, 404},
		{Observation{Status: results.StatusClientError, ErrorClass: ClassContextLength}, outContextLength, 400},
		{Observation{Status: results.StatusClientError, ErrorClass: ClassContentFilter}, outContentFilter, 400},
		{Observation{Status: results.StatusFailed, ErrorClass: ClassCancelled}, outCancelled, 500},
	} {
		assert.Equal(t, c.want, classify(&c.o), c.o.ErrorClass)
		assert.Equal(t, c.code, httpStatus(&c.o), c.o.ErrorClass)
	}
}

func TestSecondDraw(t *testing.T) {
	// The derived draw is uniform and not a function of the first's bucket.
	var lo, hi, sameHalf int
	const n = 20000
	for k := range n {
		u := (float64(k) + 0.5) / n
		v := second(u)
		require.True(t, v >= 0 && v < 1)
		if v < 0.5 {
			lo++
		} else {
			hi++
		}
		if (u < 0.5) == (v < 0.5) {
			sameHalf++
		}
	}
	assert.InDelta(t, n/2, lo, 5*71)
	assert.InDelta(t, n/2, sameHalf, 5*71)
}

// scenarioCands are candidates built the way the engines build them.
func scenarioCands(t *testing.T) []Candidate {
	s, err := scenarios.Parse("policies.yaml", []byte(`name: policies
providers:
  - {name: azure, kind: azure, regions: [{name: swedencentral, tags: [eu-data-zone]}, eastus2]}
  - {name: aws, kind: bedrock, regions: [us-east-1]}
deployments:
  - {name: aoai-ptu, provider: azure, region: swedencentral, capacity: {concurrency: 20, provisioned_units: 100}, latency: {ttft: 300ms}}
  - {name: aoai, provider: azure, region: eastus2, capacity: {concurrency: 50, quota: {tokens: 2M/min, requests: 12000/min}}, latency: {ttft: 400ms}}
  - {name: claude, provider: aws, region: us-east-1, capacity: {concurrency: 50, quota: {tokens: 400k/min, output_burn: 5}}, latency: {ttft: 500ms}}
workloads: [{name: chat, arrival: {process: poisson, rate: 1/s}}]
strategies: [{name: s, placement: {model: [aoai-ptu, aoai, claude]}}]
`))
	require.NoError(t, err)
	var out []Candidate
	for i := range s.Deployments {
		out = append(out, CandidateOf(s, &s.Deployments[i]))
	}
	return out
}

func TestCandidateOfQuota(t *testing.T) {
	cs := scenarioCands(t)
	assert.True(t, cs[0].Provisioned)
	assert.Equal(t, []string{"eu-data-zone"}, cs[0].RegionTags)
	assert.InDelta(t, 2e6, cs[1].TokensPerMinute, 1e-6)
	assert.InDelta(t, 12000, cs[1].RequestsPerMinute, 1e-9)
	assert.Equal(t, 60*sec, cs[1].TokenWindow)
	assert.Equal(t, 10*sec, cs[1].RequestWindow)
	assert.Equal(t, 5.0, cs[2].OutputBurn)
	assert.Equal(t, scenarios.KindBedrock, cs[2].ProviderKind)
	assert.Zero(t, cs[0].TokensPerMinute, "no quota: unlimited")
}

func TestNewBuildsEveryPolicy(t *testing.T) {
	cs := scenarioCands(t)
	frac := func(f float64) *scenarios.Fraction { v := scenarios.Fraction(f); return &v }
	two := 2
	want := map[string]any{
		scenarios.PolicyFailover:         &Failover{},
		scenarios.PolicyWeighted:         &Weighted{},
		scenarios.PolicyPrimarySecondary: &PrimarySecondary{},
		scenarios.PolicyFallback:         &Fallback{},
		scenarios.PolicyCircuitBreaker:   &CircuitBreaker{},
		scenarios.PolicyLatency:          &LatencyAware{},
		scenarios.PolicyLeastOutstanding: &LeastOutstanding{},
		scenarios.PolicyP2C:              &PowerOfTwo{},
		scenarios.PolicyQuotaAware:       &QuotaAware{},
		scenarios.PolicyPTUFirst:         &PTUFirst{},
		scenarios.PolicyCostAware:        &CostAware{},
		scenarios.PolicyErrorClass:       &ErrorClassRouter{},
		scenarios.PolicyHedged:           &Hedged{},
		scenarios.PolicyDeadline:         &Deadline{},
	}
	require.Len(t, want, len(scenarios.Policies), "every scenario policy has an implementation")
	for _, name := range scenarios.Policies {
		p, err := New(&scenarios.Routing{Policy: name}, cs)
		require.NoError(t, err, name)
		assert.IsType(t, want[name], p, name)
	}

	// Parameters reach the configs; what is left out keeps its default.
	p, err := New(&scenarios.Routing{Policy: scenarios.PolicyCircuitBreaker, FailureDomain: "region",
		Breaker: &scenarios.BreakerParams{Failures: 3, Open: scenarios.Duration(10 * sec)}}, cs)
	require.NoError(t, err)
	b := p.(*CircuitBreaker)
	assert.Equal(t, 3, b.cfg.Failures)
	assert.Equal(t, 10*sec, b.cfg.Open)
	assert.Equal(t, 80*sec, b.cfg.MaxOpen, "8 × open")
	assert.Equal(t, 2, b.cfg.Successes)
	assert.Equal(t, DomainRegion, b.cfg.Domain)

	p, err = New(&scenarios.Routing{Policy: scenarios.PolicyPrimarySecondary, Outlier: &scenarios.OutlierParams{Preset: scenarios.PresetAIGatewayDoc, MaxEjection: frac(0.5)}}, cs)
	require.NoError(t, err)
	o := p.(*PrimarySecondary).cfg
	assert.Equal(t, 1, o.Consecutive5xx)
	assert.Equal(t, 0.5, o.MaxEjectionPercent)

	p, err = New(&scenarios.Routing{Policy: scenarios.PolicyFallback, Fallback: &scenarios.FallbackParams{Preset: scenarios.PresetLiteLLM, NumRetries: &two, Groups: "one"}}, cs)
	require.NoError(t, err)
	l := p.(*LiteLLM).cfg
	assert.Equal(t, 2, l.NumRetries)
	assert.Equal(t, GroupsOne, l.Groups)
	assert.Equal(t, 1000, l.SingleDeploymentThreshold)

	p, err = New(&scenarios.Routing{Policy: scenarios.PolicyLatency, Latency: &scenarios.LatencyParams{Buffer: frac(0), Epsilon: frac(0)}}, cs)
	require.NoError(t, err)
	assert.Zero(t, p.(*LatencyAware).cfg.Buffer, "an explicit 0 is not a default")
	assert.Equal(t, 30*sec, p.(*LatencyAware).cfg.HalfLife)

	p, err = New(&scenarios.Routing{Policy: scenarios.PolicyDeadline, Backoff: scenarios.Duration(200 * ms),
		Deadline: &scenarios.DeadlineParams{TTFTTimeout: scenarios.Duration(3 * sec)}}, cs)
	require.NoError(t, err)
	assert.Equal(t, 200*ms, p.(*Deadline).cfg.Backoff)
	assert.Equal(t, 3*sec, p.(*Deadline).cfg.TTFTTimeout)

	p, err = New(&scenarios.Routing{Policy: scenarios.PolicyErrorClass, ErrorClass: &scenarios.ErrorClassParams{Actions: map[string]string{"server": "retry-same"}}}, cs)
	require.NoError(t, err)
	assert.Equal(t, RetrySame, p.(*ErrorClassRouter).table[outServer])

	_, err = New(&scenarios.Routing{Policy: scenarios.PolicyFallback, Fallback: &scenarios.FallbackParams{Preset: "portkey"}}, cs)
	assert.Error(t, err)
	_, err = New(&scenarios.Routing{Policy: scenarios.PolicyPrimarySecondary, Outlier: &scenarios.OutlierParams{Preset: "nginx"}}, cs)
	assert.Error(t, err)
	p, err = New(&scenarios.Routing{Policy: scenarios.PolicyCircuitBreaker, FailureDomain: "planet"}, cs)
	assert.Error(t, err)
	assert.Nil(t, p, "a nil Policy, not a typed nil inside one")
}

func TestOptionalInterfaces(t *testing.T) {
	cs := scenarioCands(t)
	impl := func(name string) (starter, retrier, timer, hedger bool) {
		p, err := New(&scenarios.Routing{Policy: name}, cs)
		require.NoError(t, err)
		_, starter = p.(Starter)
		_, retrier = p.(Retrier)
		_, timer = p.(AttemptTimer)
		_, hedger = p.(Hedger)
		return
	}
	for _, name := range []string{scenarios.PolicyLeastOutstanding, scenarios.PolicyP2C, scenarios.PolicyPTUFirst, scenarios.PolicyCostAware} {
		s, _, _, _ := impl(name)
		assert.True(t, s, "%s counts attempts in flight", name)
	}
	_, r, _, _ := impl(scenarios.PolicyErrorClass)
	assert.True(t, r)
	_, r, tm, _ := impl(scenarios.PolicyDeadline)
	assert.True(t, r)
	assert.True(t, tm)
	_, _, _, h := impl(scenarios.PolicyHedged)
	assert.True(t, h)
	lite, err := New(&scenarios.Routing{Policy: scenarios.PolicyFallback, Fallback: &scenarios.FallbackParams{Preset: scenarios.PresetLiteLLM}}, cs)
	require.NoError(t, err)
	_, ok := lite.(Retrier)
	assert.True(t, ok)
}

func TestDeadlineBudget(t *testing.T) {
	r := &scenarios.Routing{Policy: scenarios.PolicyDeadline}
	assert.Zero(t, DeadlineBudget(r, 0, 5*sec))
	assert.Equal(t, 35*sec, DeadlineBudget(r, scenarios.Duration(30*sec), 5*sec), "the workload's SLO e2e")
	r.Deadline = &scenarios.DeadlineParams{Budget: scenarios.Duration(10 * sec)}
	assert.Equal(t, 15*sec, DeadlineBudget(r, scenarios.Duration(30*sec), 5*sec), "the policy's budget wins")
}

// TestSelectNthMatchesSort: quickselect returns what sorting would, for
// random, sorted, reversed and constant inputs of many sizes.
func TestSelectNthMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 300; n += 7 {
		for kind := range 4 {
			a := make([]int64, n)
			for i := range a {
				switch kind {
				case 0:
					a[i] = r.Int64N(50)
				case 1:
					a[i] = int64(i)
				case 2:
					a[i] = int64(n - i)
				case 3:
					a[i] = 7
				}
			}
			sorted := slices.Clone(a)
			slices.Sort(sorted)
			for _, k := range []int{0, n / 2, n * 95 / 100, n - 1} {
				b := slices.Clone(a)
				require.Equal(t, sorted[k], selectNth(b, k), "n=%d kind=%d k=%d", n, kind, k)
			}
		}
	}
}
