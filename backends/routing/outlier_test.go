package routing

import (
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrimarySecondaryEjectsAtConsecutive5xx(t *testing.T) {
	p, err := NewPrimarySecondary(DefaultOutlierConfig(), cands("azure", "bedrock"))
	require.NoError(t, err)
	now := 12 * sec
	for i := range 4 {
		o := outage(0, now)
		p.Observe(now, &o)
		assert.Equal(t, 0, p.Pick(now, first(0.5)), "after %d errors the primary still takes first attempts", i+1)
	}
	// A success resets the run: four more are not five in a row.
	o := okObs(0, now, 300*ms)
	p.Observe(now, &o)
	for range 4 {
		o := outage(0, now)
		p.Observe(now, &o)
	}
	assert.Equal(t, 0, p.Pick(now, first(0.5)))
	// A 429 is a response, not a server error: it resets the run too.
	o = throttled(0, now, 0)
	p.Observe(now, &o)
	for range 4 {
		o := outage(0, now)
		p.Observe(now, &o)
	}
	assert.Equal(t, 0, p.Pick(now, first(0.5)))
	o = outage(0, now)
	p.Observe(now, &o)
	assert.True(t, p.Ejected(now, 0), "the fifth consecutive 5xx ejects")
	assert.Equal(t, 1, p.Pick(now, first(0.5)), "first attempts go to the secondary while the primary is out")

	// 30 s from t=12 s is 42 s; Envoy un-ejects on its 10 s interval tick, at 50 s.
	assert.Equal(t, 1, p.Pick(49*sec, first(0.5)))
	assert.Equal(t, 0, p.Pick(50*sec, first(0.5)))

	// Ejected again right away: the multiplier makes it 60 s (ends at the
	// tick at or after 110 s).
	for range 5 {
		o := outage(0, 50*sec)
		p.Observe(50*sec, &o)
	}
	assert.Equal(t, 1, p.Pick(109*sec, first(0.5)))
	assert.Equal(t, 0, p.Pick(110*sec, first(0.5)))

	// After three healthy intervals the multiplier has decayed back to 0,
	// so the next ejection is 30 s again.
	at := 150 * sec
	for range 5 {
		o := outage(0, at)
		p.Observe(at, &o)
	}
	assert.True(t, p.Ejected(179*sec, 0))
	assert.False(t, p.Ejected(180*sec, 0))
}

func TestPrimarySecondaryRetriesGoToNextPriority(t *testing.T) {
	p, err := NewPrimarySecondary(DefaultOutlierConfig(), cands("a", "b", "c"))
	require.NoError(t, err)
	o := outage(0, 0)
	p.Observe(0, &o)
	assert.Equal(t, 1, p.Pick(0, retry(2, 0, o)), "numAttemptsPerPriority = 1: the retry moves down a priority")
	assert.Equal(t, 2, p.Pick(0, retry(3, 1, o)))
	assert.Equal(t, 0, p.Pick(0, retry(4, 2, o)), "and wraps around")
}

func TestPrimarySecondaryMaxEjectionAndPanic(t *testing.T) {
	// Envoy's 10 %: with two hosts only one may be out at a time (one
	// ejection is always allowed).
	p, err := NewPrimarySecondary(DefaultOutlierConfig(), cands("a", "b"))
	require.NoError(t, err)
	for dep := range 2 {
		for range 5 {
			o := outage(dep, 0)
			p.Observe(0, &o)
		}
	}
	assert.True(t, p.Ejected(0, 0))
	assert.False(t, p.Ejected(0, 1), "a second ejection would exceed max_ejection_percent")

	// With the AI Gateway doc's 100 % both go out after one error each, and
	// Envoy's panic mode routes as if none were.
	p, err = NewPrimarySecondary(AIGatewayDocOutlierConfig(), cands("a", "b"))
	require.NoError(t, err)
	for dep := range 2 {
		o := outage(dep, sec)
		p.Observe(sec, &o)
	}
	assert.True(t, p.Ejected(sec, 0))
	assert.True(t, p.Ejected(sec, 1))
	assert.Equal(t, 0, p.Pick(sec, first(0.5)), "panic: placement order")
	o := outage(0, sec)
	assert.Equal(t, 1, p.Pick(sec, retry(2, 0, o)))
	// 5 s from 1 s, on the 2 s tick: back at 6 s.
	assert.True(t, p.Ejected(5*sec, 0))
	assert.False(t, p.Ejected(6*sec, 0))
}

func TestPrimarySecondaryIgnoresClientErrorsAndHedgeLosers(t *testing.T) {
	cfg := AIGatewayDocOutlierConfig()
	p, err := NewPrimarySecondary(cfg, cands("a", "b"))
	require.NoError(t, err)
	for _, o := range []Observation{
		failObs(0, results.StatusClientError, "http_400", 0),
		failObs(0, results.StatusFailed, ClassCancelled, 0),
	} {
		p.Observe(0, &o)
	}
	assert.False(t, p.Ejected(0, 0))
	for _, o := range []Observation{failObs(0, results.StatusFailed, "connection", 0)} {
		p.Observe(0, &o)
	}
	assert.True(t, p.Ejected(0, 0), "a connection failure counts as a 5xx (Envoy maps it to 503)")
}

func TestPrimarySecondaryRegionDomain(t *testing.T) {
	cfg := AIGatewayDocOutlierConfig()
	cfg.Domain = DomainRegion
	cs := []Candidate{cand("east-a", "azure", "eastus2"), cand("east-b", "azure", "eastus2"), cand("west", "azure", "westus3")}
	p, err := NewPrimarySecondary(cfg, cs)
	require.NoError(t, err)
	o := outage(0, 0)
	p.Observe(0, &o)
	assert.True(t, p.Ejected(0, 1), "the other deployment of the region goes out with it")
	assert.Equal(t, 2, p.Pick(0, first(0.5)))
	assert.Equal(t, 2, p.Pick(0, retry(2, 0, o)), "the retry skips the whole region")
	assert.Equal(t, 0, p.Pick(6*sec, first(0.5)), "and the region comes back together")
	assert.False(t, p.Ejected(6*sec, 1))
}

func TestOutlierConfigChecks(t *testing.T) {
	for _, mut := range []func(*OutlierConfig){
		func(c *OutlierConfig) { c.Consecutive5xx = 0 },
		func(c *OutlierConfig) { c.Interval = 0 },
		func(c *OutlierConfig) { c.MaxEjectionTime = c.BaseEjection - 1 },
		func(c *OutlierConfig) { c.MaxEjectionPercent = 1.5 },
		func(c *OutlierConfig) { c.Domain = "galaxy" },
	} {
		c := DefaultOutlierConfig()
		mut(&c)
		_, err := NewPrimarySecondary(c, cands("a"))
		assert.Error(t, err)
	}
}
