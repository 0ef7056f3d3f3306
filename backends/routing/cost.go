package routing

import (
	"fmt"
	"slices"
	"time"
)

// CostConfig parameterises CostAware, an extension of LiteLLM's cost-based
// routing (BerriAI/litellm router_strategy/lowest_cost.py); its defaults are
// this repository's (docs/references.md [7]).
type CostConfig struct {
	// ExpectedOutput is the output length the cost estimate assumes (0, the
	// default: the request's max_tokens, an upper bound). LiteLLM's
	// cost-based routing ignores output length altogether.
	ExpectedOutput int32
	// SLO is the most a candidate's observed SLOQuantile TTFT may be for it
	// to be chosen (0, the default: no SLO).
	SLO int64
	// SLOQuantile is the quantile checked against SLO (default 0.95).
	SLOQuantile float64
	// Window is how many recent TTFTs per candidate the quantile is taken
	// over (default 64), and MinSamples how many it needs before a
	// candidate can be judged (default 10).
	Window, MinSamples int
	// Memory is how long a verdict stands without new samples (default
	// 60 s): a candidate excluded by the SLO gets no traffic, so without
	// forgetting it could never be found to have recovered.
	Memory int64
	// Residency lists compliance tags every chosen candidate's region must
	// carry ("eu-data-zone"), on top of the request's own Tags.
	Residency []string
	// ProvisionedFree makes provisioned candidates cost nothing while they
	// have a free slot (default true): their capacity is paid for by the
	// hour, so the marginal request is free until saturation.
	ProvisionedFree bool
}

// DefaultCostConfig returns the defaults: expected output = max_tokens, no
// SLO, p95 over 64 samples (at least 10), 60 s memory, provisioned
// capacity free at the margin.
func DefaultCostConfig() CostConfig {
	return CostConfig{SLOQuantile: 0.95, Window: 64, MinSamples: 10, Memory: int64(60 * time.Second), ProvisionedFree: true}
}

func (c *CostConfig) check() error {
	switch {
	case c.ExpectedOutput < 0 || c.SLO < 0 || c.Memory <= 0:
		return fmt.Errorf("routing: cost expected output and SLO must be >= 0 and memory > 0")
	case !(c.SLOQuantile > 0 && c.SLOQuantile <= 1):
		return fmt.Errorf("routing: cost SLO quantile must lie in (0, 1], got %g", c.SLOQuantile)
	case c.Window < 1 || c.MinSamples < 1 || c.MinSamples > c.Window:
		return fmt.Errorf("routing: cost window must be >= 1 and min samples in [1, window]")
	}
	return nil
}

// CostAware sends each attempt to the candidate with the lowest expected
// cost, input × price_in + E[output] × price_out (prices per million tokens
// from the Candidate; a provisioned candidate with a free slot costs 0),
// among the candidates that satisfy
//
//   - residency: the candidate's RegionTags include every tag of
//     Residency and of the Request's Tags (a hard rule: if none does, Pick
//     returns -1);
//   - the SLO: the candidate's observed SLOQuantile TTFT is at most SLO,
//     or it has fewer than MinSamples recent samples (a soft rule: if
//     every compliant candidate misses it, the one with the lowest
//     quantile is chosen).
//
// Ties go to the earlier candidate in placement order. A retry avoids the
// candidate that just failed when another compliant one exists. It
// implements Starter to know which provisioned candidates have free slots.
type CostAware struct {
	cfg   CostConfig
	cands []Candidate
	out   inflight
	ttft  []samples
	last  []int64 // time of each candidate's latest sample
}

// NewCostAware builds the policy over cands (prices set by the caller).
func NewCostAware(cfg CostConfig, cands []Candidate) (*CostAware, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c := &CostAware{cfg: cfg, cands: slices.Clone(cands), out: make(inflight, len(cands)),
		ttft: make([]samples, len(cands)), last: make([]int64, len(cands))}
	c.cfg.Residency = slices.Clone(cfg.Residency)
	for i := range c.ttft {
		c.ttft[i] = newSamples(cfg.Window, cfg.SLOQuantile)
	}
	return c, nil
}

// resident reports whether candidate i may serve request r.
func (c *CostAware) resident(i int, r *Request) bool {
	tags := c.cands[i].RegionTags
	for _, t := range c.cfg.Residency {
		if !slices.Contains(tags, t) {
			return false
		}
	}
	for _, t := range r.Tags {
		if !slices.Contains(tags, t) {
			return false
		}
	}
	return true
}

// Cost returns the expected cost in USD of request r on candidate i.
func (c *CostAware) Cost(i int, r *Request) float64 {
	cd := &c.cands[i]
	if cd.Provisioned && c.cfg.ProvisionedFree && (cd.Concurrency <= 0 || c.out[i] < cd.Concurrency) {
		return 0
	}
	out := c.cfg.ExpectedOutput
	if out == 0 {
		out = r.MaxTokens
	}
	return (float64(r.InputTokens)*cd.PriceInputPerMTok + float64(out)*cd.PriceOutputPerMTok) / 1e6
}

// quantile returns candidate i's current TTFT quantile, or -1 if there is
// no verdict (too few samples, or too old).
func (c *CostAware) quantile(now int64, i int) int64 {
	s := &c.ttft[i]
	if s.len() < c.cfg.MinSamples {
		return -1
	}
	if now-c.last[i] >= c.cfg.Memory {
		*s = samples{ring: s.ring, scratch: s.scratch, q: s.q} // forget: start over
		return -1
	}
	return s.value
}

// Pick implements Policy.
func (c *CostAware) Pick(now int64, r *Request) int {
	excl := -1
	if r.Attempt > 1 {
		excl = r.Prev
	}
	best, bestCost := -1, 0.0
	fast, fastQ := -1, int64(0) // fallback when nobody meets the SLO
	for pass := range 2 {
		for i := range c.cands {
			if i == excl && pass == 0 || !c.resident(i, r) {
				continue
			}
			if q := c.quantile(now, i); c.cfg.SLO > 0 && q > c.cfg.SLO {
				if fast < 0 || q < fastQ {
					fast, fastQ = i, q
				}
				continue
			}
			if k := c.Cost(i, r); best < 0 || k < bestCost {
				best, bestCost = i, k
			}
		}
		if best >= 0 || fast >= 0 || excl < 0 {
			break
		}
		// Only the candidate that just failed is compliant: retry it.
	}
	if best < 0 {
		return fast
	}
	return best
}

// Started implements Starter.
func (c *CostAware) Started(_ int64, dep int) { c.out.started(dep) }

// Observe implements Policy.
func (c *CostAware) Observe(now int64, o *Observation) {
	c.out.ended(o.Dep)
	if o.Dep < 0 || o.Dep >= len(c.cands) {
		return
	}
	if t := ttftOf(o); t >= 0 {
		c.ttft[o.Dep].add(t)
		c.last[o.Dep] = max(c.last[o.Dep], now)
	}
}
