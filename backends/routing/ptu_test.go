package routing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptuCands() []Candidate {
	payg := cand("aoai-payg", "azure", "eastus2")
	bedrock := cand("bedrock", "bedrock", "us-east-1")
	ptu := cand("aoai-ptu", "azure", "eastus2")
	ptu.Provisioned, ptu.Concurrency = true, 20
	// Placement order deliberately puts the PTU last: tiers, not order, decide.
	return []Candidate{bedrock, payg, ptu}
}

func TestPTUFirstSpillsOnlyAtSaturation(t *testing.T) {
	p, err := NewPTUFirst(DefaultPTUConfig(), ptuCands())
	require.NoError(t, err)
	assert.Equal(t, []int{2, 1, 0}, p.Order(), "PTU, then same-cloud pay-as-you-go, then the other cloud")
	// u = 0.95 of 20 slots: 19 in flight on the PTU, the 20th spills.
	for i := range 19 {
		d := p.Pick(0, first(0.5))
		require.Equal(t, 2, d, "attempt %d stays on committed capacity", i+1)
		p.Started(0, d)
	}
	d := p.Pick(0, first(0.5))
	assert.Equal(t, 1, d, "saturated: spill to Azure pay-as-you-go")
	p.Started(0, d)
	o := okObs(2, 0, 100*ms)
	p.Observe(sec, &o)
	assert.Equal(t, 2, p.Pick(sec, first(0.5)), "a slot freed: back to the PTU")
}

func TestPTUFirstSpillsAfter429(t *testing.T) {
	p, err := NewPTUFirst(DefaultPTUConfig(), ptuCands())
	require.NoError(t, err)
	p.Started(0, 2)
	o := throttled(2, 0, 2*sec)
	p.Observe(0, &o)
	assert.Equal(t, 0, p.InFlight(2), "the 429 ended the attempt")
	assert.Equal(t, 1, p.Pick(sec, first(0.5)), "far below u, but the PTU said 429: spill for its retry-after")
	assert.Equal(t, 2, p.Pick(2*sec, first(0.5)))
	// Without a retry-after the hold is 1 s.
	o = throttled(2, 2*sec, 0)
	p.Observe(2*sec, &o)
	assert.Equal(t, 1, p.Pick(2*sec+999*ms, first(0.5)))
	assert.Equal(t, 2, p.Pick(3*sec, first(0.5)))
	// Pay-as-you-go throttled too: across clouds.
	o = throttled(2, 3*sec, 5*sec)
	p.Observe(3*sec, &o)
	o = throttled(1, 3*sec, 5*sec)
	p.Observe(3*sec, &o)
	assert.Equal(t, 0, p.Pick(3*sec, first(0.5)), "the other cloud")
	assert.Equal(t, 0, p.Pick(3*sec, retry(2, 1, o)))
	// Everything held: whoever is free soonest.
	o = throttled(0, 3*sec, 3*sec)
	p.Observe(3*sec, &o)
	assert.Equal(t, 0, p.Pick(4*sec, first(0.5)))
}

func TestPTUFirstRetryAvoidsFailed(t *testing.T) {
	p, err := NewPTUFirst(DefaultPTUConfig(), ptuCands())
	require.NoError(t, err)
	o := outage(2, 0)
	assert.Equal(t, 1, p.Pick(0, retry(2, 2, o)))
}

// TestPTUFirstPassesOverFailingDeployments: a deployment that fails (an
// outage) is passed over for FailureHold, so later requests spill past it
// instead of each trying it first.
func TestPTUFirstPassesOverFailingDeployments(t *testing.T) {
	p, err := NewPTUFirst(DefaultPTUConfig(), ptuCands())
	require.NoError(t, err)
	p.Started(0, 2)
	o := outage(2, 0)
	p.Observe(0, &o)
	assert.Equal(t, 1, p.Pick(sec, first(0.5)), "the failed PTU is passed over")
	assert.Equal(t, 1, p.Pick(5*sec-1, first(0.5)))
	assert.Equal(t, 2, p.Pick(5*sec, first(0.5)), "after the 5 s failure hold, back to the PTU")

	cfg := DefaultPTUConfig()
	cfg.FailureHold = 0
	q, err := NewPTUFirst(cfg, ptuCands())
	require.NoError(t, err)
	q.Started(0, 2)
	q.Observe(0, &o)
	assert.Equal(t, 2, q.Pick(sec, first(0.5)), "with failure holds off, only saturation and 429 spill")
}
