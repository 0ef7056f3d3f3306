package routing

import (
	"fmt"
	"math"
	"time"
)

// PTUConfig parameterises PTUFirst; its defaults are this repository's
// (docs/references.md [6]).
type PTUConfig struct {
	// Utilization is the in-flight / Concurrency fraction up to which a
	// provisioned candidate is filled (u, default 0.95): committed capacity
	// costs nothing at the margin, but a PTU deployment past 100 % answers
	// 429 at once, so the policy spills slightly before.
	Utilization float64
	// Hold is how long a candidate that answered 429 without a Retry-After
	// is passed over (default 1 s); with a Retry-After, that long.
	Hold int64
	// FailureHold is how long a candidate that failed (5xx, outage, full
	// queue, connection) is passed over, so spillover covers failures as
	// well as saturation (default 5 s; 0 turns it off).
	FailureHold int64
}

// DefaultPTUConfig returns the default u = 0.95 and a 1 s hold
// (docs/references.md [6]).
func DefaultPTUConfig() PTUConfig {
	return PTUConfig{Utilization: 0.95, Hold: int64(time.Second), FailureHold: int64(5 * time.Second)}
}

func (c *PTUConfig) check() error {
	switch {
	case !(c.Utilization > 0 && c.Utilization <= 1):
		return fmt.Errorf("routing: ptu utilization must lie in (0, 1], got %g", c.Utilization)
	case c.Hold < 0 || c.FailureHold < 0:
		return fmt.Errorf("routing: ptu holds must be >= 0")
	}
	return nil
}

// PTUFirst fills committed capacity first and spills in tiers (tier 2 is
// what Azure's own spillover does within one resource: Microsoft Learn,
// "Manage traffic with spillover for provisioned deployments"):
//
//  1. provisioned candidates (Azure PTU, Bedrock provisioned throughput),
//     each up to Utilization of its Concurrency in flight or until it
//     answers 429;
//  2. pay-as-you-go candidates of the same provider kind as the first
//     provisioned one (Azure's native spillover to a standard deployment;
//     Bedrock PT → on-demand → cross-region profile, in placement order);
//  3. the other clouds' candidates.
//
// Within a tier the order is the placement's. Pay-as-you-go candidates are
// not capped by utilisation (their quota and queue decide) but are passed
// over after a 429 like provisioned ones. A retry avoids the candidate that
// just failed when another exists. If every candidate is saturated or held,
// the attempt goes to the first one not held (an attempt that meets a full
// deployment costs a fast 429), else to the one whose hold ends soonest. It
// needs Started (it implements Starter).
type PTUFirst struct {
	cfg   PTUConfig
	order []int // candidates in tier order
	limit []int // most attempts in flight per candidate (MaxInt: no cap)
	out   inflight
	held  []int64 // passed over until
}

// NewPTUFirst builds the policy over cands.
func NewPTUFirst(cfg PTUConfig, cands []Candidate) (*PTUFirst, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	n := len(cands)
	p := &PTUFirst{cfg: cfg, limit: make([]int, n), out: make(inflight, n), held: make([]int64, n)}
	home := cands[0].ProviderKind
	for _, c := range cands {
		if c.Provisioned {
			home = c.ProviderKind
			break
		}
	}
	tier := func(c *Candidate) int {
		switch {
		case c.Provisioned:
			return 0
		case c.ProviderKind == home:
			return 1
		}
		return 2
	}
	for t := range 3 {
		for i := range cands {
			if tier(&cands[i]) == t {
				p.order = append(p.order, i)
			}
		}
	}
	for i, c := range cands {
		p.limit[i] = math.MaxInt
		if c.Provisioned && c.Concurrency > 0 {
			// Largest in-flight count k with k / Concurrency <= u, at least 1.
			p.limit[i] = max(1, int(math.Floor(cfg.Utilization*float64(c.Concurrency)+1e-9)))
		}
	}
	return p, nil
}

// Pick implements Policy.
func (p *PTUFirst) Pick(now int64, r *Request) int {
	excl := -1
	if r.Attempt > 1 && len(p.order) > 1 {
		excl = r.Prev
	}
	firstFree, soonest, soonestAt := -1, -1, int64(math.MaxInt64)
	for _, i := range p.order {
		if i == excl {
			continue
		}
		if now < p.held[i] {
			if p.held[i] < soonestAt {
				soonest, soonestAt = i, p.held[i]
			}
			continue
		}
		if p.out[i] < p.limit[i] {
			return i
		}
		if firstFree < 0 {
			firstFree = i
		}
	}
	switch {
	case firstFree >= 0:
		return firstFree
	case excl >= 0 && now >= p.held[excl]:
		return excl // the only candidate not held is the one that just failed
	}
	return soonest
}

// Started implements Starter.
func (p *PTUFirst) Started(_ int64, dep int) { p.out.started(dep) }

// Observe implements Policy.
func (p *PTUFirst) Observe(now int64, o *Observation) {
	p.out.ended(o.Dep)
	if o.Dep < 0 || o.Dep >= len(p.held) {
		return
	}
	hold := p.cfg.Hold
	switch classify(o) {
	case outThrottled:
		if o.RetryAfter > 0 {
			hold = o.RetryAfter
		}
	case outServer, outConnection:
		// A failing deployment (an outage, a full queue) is passed over
		// too, so spillover also covers failures, not just saturation:
		// without it every retry went back to the failing PTU first.
		if p.cfg.FailureHold <= 0 {
			return
		}
		hold = p.cfg.FailureHold
	default:
		return
	}
	p.held[o.Dep] = max(p.held[o.Dep], now+hold)
}

// Order returns the candidates in the order the policy fills them.
func (p *PTUFirst) Order() []int { return append([]int(nil), p.order...) }

// InFlight returns candidate i's attempts in flight.
func (p *PTUFirst) InFlight(i int) int { return p.out[i] }
