package routing

import (
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBreakerLifecycle(t *testing.T) {
	b, err := NewCircuitBreaker(DefaultBreakerConfig(), cands("primary", "secondary"))
	require.NoError(t, err)
	now := sec
	for i := range 4 {
		o := outage(0, now)
		b.Observe(now, &o)
		assert.Equal(t, "closed", b.State(now, 0), "%d failures do not trip it", i+1)
	}
	o := outage(0, now)
	b.Observe(now, &o)
	assert.Equal(t, "open", b.State(now, 0), "the fifth failure in a row trips it (N = 5)")
	assert.Equal(t, 1, b.Pick(now, first(0.5)), "open: zero attempts on the primary")
	assert.Equal(t, 1, b.Pick(now+29*sec, first(0.5)))

	// Half-open after T = 30 s: one probe at a time (k = 1).
	t1 := now + 30*sec
	assert.Equal(t, "half-open", b.State(t1, 0))
	assert.Equal(t, 0, b.Pick(t1, first(0.5)), "the probe")
	assert.Equal(t, 1, b.Pick(t1, first(0.5)), "a second attempt while the probe is out goes elsewhere")
	// An attempt sent before it went half-open is not the probe.
	stale := okObs(0, now, 100*ms)
	b.Observe(t1, &stale)
	assert.Equal(t, 1, b.Pick(t1, first(0.5)), "the stale success freed no probe slot")
	p := okObs(0, t1, 100*ms)
	b.Observe(t1+sec, &p)
	assert.Equal(t, "half-open", b.State(t1+sec, 0), "one success is not s = 2")
	assert.Equal(t, 0, b.Pick(t1+sec, first(0.5)), "the second probe")
	p = okObs(0, t1+sec, 100*ms)
	b.Observe(t1+2*sec, &p)
	assert.Equal(t, "closed", b.State(t1+2*sec, 0), "closed after s = 2 successful probes")
	assert.Equal(t, 0, b.Pick(t1+2*sec, first(0.5)))
	assert.Equal(t, 0, b.Pick(t1+2*sec, first(0.5)), "closed: no probe limit")
}

func TestBreakerReopensWithExponentialOpenTime(t *testing.T) {
	b, err := NewCircuitBreaker(DefaultBreakerConfig(), cands("primary", "secondary"))
	require.NoError(t, err)
	now := int64(0)
	for range 5 {
		o := outage(0, now)
		b.Observe(now, &o)
	}
	for _, open := range []int64{60, 120, 240, 240} { // doubles, capped at 8 × T
		now += b.b[0].openFor
		require.Equal(t, "half-open", b.State(now, 0))
		require.Equal(t, 0, b.Pick(now, first(0.5)))
		o := outage(0, now)
		b.Observe(now, &o)
		assert.Equal(t, "open", b.State(now, 0), "a failed probe re-opens it")
		assert.Equal(t, open*sec, b.b[0].openFor)
		assert.Equal(t, "open", b.State(now+open*sec-1, 0))
		assert.Equal(t, "half-open", b.State(now+open*sec, 0))
	}
}

func TestBreakerFailureRate(t *testing.T) {
	b, err := NewCircuitBreaker(DefaultBreakerConfig(), cands("primary", "secondary"))
	require.NoError(t, err)
	// Alternate failure and success: never 5 in a row, but 50 % once there
	// are 10 attempts in the window (p = 0.5, min = 10).
	now := int64(0)
	for i := range 9 {
		var o Observation
		if i%2 == 0 {
			o = outage(0, now)
		} else {
			o = okObs(0, now, 100*ms)
		}
		b.Observe(now, &o)
		now += sec
	}
	assert.Equal(t, "closed", b.State(now, 0), "5 of 9 failed, but min_requests is 10")
	o := okObs(0, now, 100*ms)
	b.Observe(now, &o)
	assert.Equal(t, "closed", b.State(now, 0), "5 of 10 is 50 %, but the last attempt succeeded: rates are checked on failures")
	o = outage(0, now)
	b.Observe(now, &o)
	assert.Equal(t, "open", b.State(now, 0), "6 of 11 ≥ 50 %")

	// Failures older than the 60 s window are forgotten.
	b, _ = NewCircuitBreaker(DefaultBreakerConfig(), cands("primary", "secondary"))
	for i := range 4 {
		o := outage(0, int64(i)*sec)
		b.Observe(int64(i)*sec, &o)
		o = okObs(0, int64(i)*sec, ms)
		b.Observe(int64(i)*sec, &o)
	}
	now = 120 * sec
	for i := range 2 {
		o := okObs(0, now, ms)
		b.Observe(now, &o)
		o = outage(0, now+int64(i))
		b.Observe(now, &o)
	}
	assert.Equal(t, "closed", b.State(now, 0), "2 of 4 recent attempts: below min_requests once the old ones age out")
}

func TestBreakerIgnoresClientErrorsCountsThrottling(t *testing.T) {
	cfg := DefaultBreakerConfig()
	cfg.Failures = 2
	b, err := NewCircuitBreaker(cfg, cands("primary", "secondary"))
	require.NoError(t, err)
	for _, o := range []Observation{
		failObs(0, results.StatusClientError, "http_400", 0),
		failObs(0, results.StatusFailed, ClassCancelled, 0),
		failObs(0, results.StatusClientError, ClassContentFilter, 0),
		throttled(0, 0, 0),
	} {
		b.Observe(0, &o)
	}
	assert.Equal(t, "closed", b.State(0, 0), "one throttle; the rest is no evidence")
	o := throttled(0, 0, 0)
	b.Observe(0, &o)
	assert.Equal(t, "open", b.State(0, 0))
}

func TestBreakerAllOpenFailsFast(t *testing.T) {
	cfg := DefaultBreakerConfig()
	cfg.Failures = 1
	cfg.FailFast = true
	b, err := NewCircuitBreaker(cfg, cands("a", "b"))
	require.NoError(t, err)
	for dep := range 2 {
		o := outage(dep, 0)
		b.Observe(0, &o)
	}
	assert.Equal(t, -1, b.Pick(sec, first(0.5)))
	o := outage(0, 0)
	assert.Equal(t, -1, b.Pick(sec, retry(2, 0, o)))
}

// TestBreakerAllOpenPanics: without FailFast, an attempt that finds every
// breaker open goes to the one that reopens soonest (not the one that just
// failed, on a retry).
func TestBreakerAllOpenPanics(t *testing.T) {
	cfg := DefaultBreakerConfig()
	cfg.Failures = 1
	b, err := NewCircuitBreaker(cfg, cands("a", "b", "c"))
	require.NoError(t, err)
	for dep, at := range []int64{2 * sec, 0, 1 * sec} {
		o := outage(dep, at)
		b.Observe(at, &o)
	}
	assert.Equal(t, 1, b.Pick(3*sec, first(0.5)), "b tripped first, so it reopens first")
	o := outage(1, 3*sec)
	assert.Equal(t, 2, b.Pick(3*sec, retry(2, 1, o)), "a retry avoids the candidate that just failed")
}

func TestBreakerLostProbeDoesNotWedge(t *testing.T) {
	cfg := DefaultBreakerConfig()
	cfg.Failures = 1
	b, err := NewCircuitBreaker(cfg, cands("a", "b"))
	require.NoError(t, err)
	o := outage(0, 0)
	b.Observe(0, &o)
	assert.Equal(t, 0, b.Pick(30*sec, first(0.5)), "probe")
	assert.Equal(t, 1, b.Pick(59*sec, first(0.5)), "its outcome never came")
	assert.Equal(t, 0, b.Pick(60*sec, first(0.5)), "after another T the slot is given to a new probe")
}

func TestBreakerDomainHoldsOthersUntilClosed(t *testing.T) {
	cfg := DefaultBreakerConfig()
	cfg.Failures, cfg.Successes, cfg.Domain = 1, 1, DomainProvider
	cs := []Candidate{cand("aoai-east", "azure", "eastus2"), cand("aoai-west", "azure", "westus3"), cand("bedrock", "bedrock", "us-east-1")}
	b, err := NewCircuitBreaker(cfg, cs)
	require.NoError(t, err)
	o := outage(0, 0)
	b.Observe(0, &o)
	assert.Equal(t, 2, b.Pick(0, first(0.5)), "Azure is one failure domain: both deployments are out")
	assert.Equal(t, 2, b.Pick(0, retry(2, 0, o)))
	// Half-open: the probe goes to the tripped deployment, the rest of the
	// domain stays out until it closes.
	assert.Equal(t, 0, b.Pick(30*sec, first(0.5)))
	assert.Equal(t, 2, b.Pick(30*sec, first(0.5)), "aoai-west is still held by the half-open breaker")
	p := okObs(0, 30*sec, 100*ms)
	b.Observe(31*sec, &p)
	assert.Equal(t, "closed", b.State(31*sec, 0))
	assert.Equal(t, 1, b.Pick(31*sec, retry(2, 0, o)), "closed: the domain is back")
}
