package routing

import (
	"fmt"
	"math"
	"time"
)

// LatencyConfig parameterises LatencyAware; its defaults are this
// repository's (docs/references.md [4]).
type LatencyConfig struct {
	// HalfLife is how fast old samples fade (default 30 s): a sample's
	// weight halves every HalfLife, whatever the traffic, so an idle
	// deployment's estimate does not go stale at a rate set by load.
	HalfLife int64
	// Buffer widens the choice to every candidate whose estimate is within
	// (1 + Buffer) × the best (default 0.2; LiteLLM's lowest_latency_buffer
	// is 0), spreading load instead of herding onto one deployment.
	Buffer float64
	// Epsilon is the probability of exploring a uniformly chosen other
	// candidate (default 0.05), so a recovered deployment is noticed.
	Epsilon float64
	// Penalty is the sample recorded for an attempt that failed, timed out
	// or was throttled (default 30 s, the per-try timeout of the Envoy AI
	// Gateway's Azure-primary, Bedrock-fallback retry example): a dead
	// endpoint failing fast must not look fast (BerriAI/litellm#6345).
	// LiteLLM records 1000 s for a timeout.
	Penalty int64
}

// DefaultLatencyConfig returns the defaults: half-life 30 s, buffer
// 0.2, ε = 0.05, 30 s penalty.
func DefaultLatencyConfig() LatencyConfig {
	return LatencyConfig{HalfLife: int64(30 * time.Second), Buffer: 0.2, Epsilon: 0.05, Penalty: int64(30 * time.Second)}
}

func (c *LatencyConfig) check() error {
	switch {
	case c.HalfLife <= 0 || c.Penalty <= 0:
		return fmt.Errorf("routing: latency half-life and penalty must be > 0")
	case !(c.Buffer >= 0) || math.IsInf(c.Buffer, 0):
		return fmt.Errorf("routing: latency buffer must be >= 0, got %g", c.Buffer)
	case !(c.Epsilon >= 0 && c.Epsilon < 1):
		return fmt.Errorf("routing: latency epsilon must lie in [0, 1), got %g", c.Epsilon)
	}
	return nil
}

// decayed is a time-decayed mean: sum and weight both fade by
// 2^(-Δt/half-life). Unlike a per-sample EWMA it gives a burst of samples
// at one instant equal weight, and unlike a time-constant EWMA it does not
// ignore samples that arrive together.
type decayed struct {
	sum, weight float64
	at          int64
}

func (d *decayed) add(now int64, x float64, halfLife int64) {
	if d.weight > 0 && now > d.at {
		f := math.Exp2(-float64(now-d.at) / float64(halfLife))
		d.sum *= f
		d.weight *= f
	}
	d.sum += x
	d.weight++
	d.at = max(d.at, now)
}

// mean is the estimate; a candidate never observed estimates 0, so it is
// tried first (LiteLLM seeds unseen deployments the same way).
func (d *decayed) mean() float64 {
	if d.weight == 0 {
		return 0
	}
	return d.sum / d.weight
}

// LatencyAware picks the candidate with the lowest time-decayed mean time to
// first token, choosing uniformly (by the request's draw) among those within
// the buffer of the best; with probability Epsilon it explores another one.
// A retry avoids the candidate that just failed. Samples are TTFT of
// successful attempts (for non-streamed calls the engines report the end as
// the first token, so it is the whole latency); failures, timeouts and 429s
// record Penalty; client errors and cancelled hedge losers record nothing.
type LatencyAware struct {
	cfg LatencyConfig
	est []decayed
}

// NewLatencyAware builds the policy over cands.
func NewLatencyAware(cfg LatencyConfig, cands []Candidate) (*LatencyAware, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &LatencyAware{cfg: cfg, est: make([]decayed, len(cands))}, nil
}

// Pick implements Policy.
func (l *LatencyAware) Pick(_ int64, r *Request) int {
	n := len(l.est)
	excl := -1
	if r.Attempt > 1 && n > 1 {
		excl = r.Prev
	}
	avail := n
	if excl >= 0 && excl < n {
		avail--
	}
	u := r.U
	if u < l.cfg.Epsilon && avail > 1 {
		// Explore: a uniform choice among the available, the draw rescaled.
		return l.nth(index(u/l.cfg.Epsilon, avail), excl)
	}
	best := math.Inf(1)
	for i := range n {
		if i != excl {
			best = min(best, l.est[i].mean())
		}
	}
	limit := best * (1 + l.cfg.Buffer)
	within := 0
	for i := range n {
		if i != excl && l.est[i].mean() <= limit {
			within++
		}
	}
	k := index(second(u), within)
	for i := range n {
		if i != excl && l.est[i].mean() <= limit {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return 0
}

// nth returns the k-th candidate (from 0) other than excl.
func (l *LatencyAware) nth(k, excl int) int {
	for i := range l.est {
		if i == excl {
			continue
		}
		if k == 0 {
			return i
		}
		k--
	}
	return 0
}

// Observe implements Policy.
func (l *LatencyAware) Observe(now int64, o *Observation) {
	if o.Dep < 0 || o.Dep >= len(l.est) {
		return
	}
	var x float64
	switch c := classify(o); c {
	case outOK:
		t := ttftOf(o)
		if t < 0 {
			return
		}
		x = float64(t)
	case outThrottled, outServer, outConnection, outTimeout:
		x = float64(max(l.cfg.Penalty, o.Done-o.Sent))
	default:
		return
	}
	l.est[o.Dep].add(now, x, l.cfg.HalfLife)
}

// Estimate returns candidate i's current TTFT estimate in nanoseconds (as of
// its last sample), for tests and reports.
func (l *LatencyAware) Estimate(i int) float64 { return l.est[i].mean() }
