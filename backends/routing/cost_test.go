package routing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// costCands: prices per million tokens (input, output).
func costCands() []Candidate {
	gpt := cand("aoai-eu", "azure", "swedencentral")
	gpt.RegionTags = []string{"eu-data-zone"}
	gpt.PriceInputPerMTok, gpt.PriceOutputPerMTok = 2.5, 10
	claude := cand("bedrock-us", "bedrock", "us-east-1")
	claude.PriceInputPerMTok, claude.PriceOutputPerMTok = 3, 15
	mini := cand("aoai-mini-us", "azure", "eastus2")
	mini.PriceInputPerMTok, mini.PriceOutputPerMTok = 0.15, 0.6
	return []Candidate{gpt, claude, mini}
}

func TestCostAwarePicksCheapestExpected(t *testing.T) {
	c, err := NewCostAware(DefaultCostConfig(), costCands())
	require.NoError(t, err)
	r := &Request{Attempt: 1, Prev: -1, InputTokens: 1000, MaxTokens: 500}
	assert.InDelta(t, (1000*2.5+500*10)/1e6, c.Cost(0, r), 1e-12, "input × price_in + E[output] × price_out, E[output] = max_tokens")
	assert.Equal(t, 2, c.Pick(0, r))
	assert.Equal(t, 0, c.Pick(0, retry(2, 2, outage(2, 0))), "a retry avoids the one that failed: next cheapest")

	// Output-heavy requests can change the order: with expected output 0
	// only input counts.
	cs := costCands()
	cs[1].PriceInputPerMTok, cs[1].PriceOutputPerMTok = 0.1, 100
	cs = cs[:2]
	cfg := DefaultCostConfig()
	c, _ = NewCostAware(cfg, cs)
	assert.Equal(t, 0, c.Pick(0, r), "500 output tokens at $100/M outweigh the cheap input")
	cfg.ExpectedOutput = 1
	c, _ = NewCostAware(cfg, cs)
	assert.Equal(t, 1, c.Pick(0, r))
}

func TestCostAwareResidency(t *testing.T) {
	c, err := NewCostAware(DefaultCostConfig(), costCands())
	require.NoError(t, err)
	eu := &Request{Attempt: 1, Prev: -1, InputTokens: 1000, MaxTokens: 500, Tags: []string{"eu-data-zone"}}
	assert.Equal(t, 0, c.Pick(0, eu), "the request's tags confine it to the EU deployment, dearer or not")
	assert.Equal(t, -1, c.Pick(0, &Request{Attempt: 1, Prev: -1, Tags: []string{"fedramp-high"}}), "residency is a hard rule")
	assert.Equal(t, 0, c.Pick(0, &Request{Attempt: 2, Prev: 0, Tags: []string{"eu-data-zone"}}), "the only compliant one is retried")

	cfg := DefaultCostConfig()
	cfg.Residency = []string{"eu-data-zone"}
	c, _ = NewCostAware(cfg, costCands())
	assert.Equal(t, 0, c.Pick(0, first(0.5)), "the constructor option applies to every request")
}

func TestCostAwareSLO(t *testing.T) {
	cfg := DefaultCostConfig()
	cfg.SLO = 2 * sec
	c, err := NewCostAware(cfg, costCands())
	require.NoError(t, err)
	r := &Request{Attempt: 1, Prev: -1, InputTokens: 1000, MaxTokens: 500}
	for i := range 9 {
		o := okObs(2, 0, 5*sec)
		c.Observe(sec, &o)
		require.Equal(t, 2, c.Pick(sec, r), "%d samples: not judged yet", i+1)
	}
	o := okObs(2, 0, 5*sec)
	c.Observe(sec, &o)
	assert.Equal(t, 0, c.Pick(sec, r), "p95 TTFT 5 s > SLO 2 s: the next cheapest")
	// One fast sample in ten does not move a p95.
	o = okObs(2, 0, 100*ms)
	c.Observe(sec, &o)
	assert.Equal(t, 0, c.Pick(sec, r))
	// The verdict lapses after 60 s without samples.
	assert.Equal(t, 2, c.Pick(61*sec, r))

	// Nobody meets the SLO: the one closest to it.
	c, _ = NewCostAware(cfg, costCands())
	for dep, ttft := range []int64{4 * sec, 3 * sec, 5 * sec} {
		for range 10 {
			o := okObs(dep, 0, ttft)
			c.Observe(sec, &o)
		}
	}
	assert.Equal(t, 1, c.Pick(sec, r))
}

func TestCostAwareProvisionedFreeUntilSaturated(t *testing.T) {
	cs := costCands()
	cs[0].Provisioned, cs[0].Concurrency = true, 2
	c, err := NewCostAware(DefaultCostConfig(), cs)
	require.NoError(t, err)
	r := &Request{Attempt: 1, Prev: -1, InputTokens: 1000, MaxTokens: 500}
	for range 2 {
		d := c.Pick(0, r)
		require.Equal(t, 0, d, "committed capacity costs nothing at the margin")
		c.Started(0, d)
	}
	assert.Equal(t, 2, c.Pick(0, r), "saturated: priced like pay-as-you-go again")
}
