package routing

import (
	"fmt"
	"time"
)

// HedgeConfig parameterises Hedged: a hedged request deferred to a TTFT
// quantile (Dean and Barroso, "The Tail at Scale", Communications of the
// ACM, 2013); the defaults are in docs/references.md [9].
type HedgeConfig struct {
	// Delay is a fixed hedge delay (0, the default: use Quantile).
	Delay int64
	// Quantile is the quantile of the primary candidate's recent TTFTs used
	// as the delay (default 0.95: about one request in twenty is hedged,
	// which bounds the duplicate cost at ~5 %).
	Quantile float64
	// Window is how many recent TTFTs per candidate are kept (default 128),
	// MinSamples how many the quantile needs (default 20).
	Window, MinSamples int
	// InitialDelay is the delay until MinSamples TTFTs are known (default 2 s).
	InitialDelay int64
}

// DefaultHedgeConfig returns the defaults: p95 TTFT over the last 128
// samples (at least 20), 2 s before that.
func DefaultHedgeConfig() HedgeConfig {
	return HedgeConfig{Quantile: 0.95, Window: 128, MinSamples: 20, InitialDelay: int64(2 * time.Second)}
}

func (c *HedgeConfig) check() error {
	switch {
	case c.Delay < 0 || c.InitialDelay <= 0:
		return fmt.Errorf("routing: hedge delay must be >= 0 and initial delay > 0")
	case !(c.Quantile > 0 && c.Quantile <= 1):
		return fmt.Errorf("routing: hedge quantile must lie in (0, 1], got %g", c.Quantile)
	case c.Window < 1 || c.MinSamples < 1 || c.MinSamples > c.Window:
		return fmt.Errorf("routing: hedge window must be >= 1 and min samples in [1, window]")
	}
	return nil
}

// Hedged sends each first attempt to the first candidate and each retry to
// the next in placement order (like Failover); if an attempt has no first
// token after the hedge delay, it asks the engine (Hedger) for a hedge,
// which Pick sends to the first candidate of another provider kind than the
// hedged attempt's (the other cloud: a slow region is often a slow
// provider), else to the next candidate. The engine cancels the loser. The
// delay is Delay, or the Quantile of the hedged candidate's recent TTFTs
// (InitialDelay until MinSamples are known). Hedges are not hedged.
type Hedged struct {
	cfg   HedgeConfig
	kinds []string
	ttft  []samples
}

// NewHedged builds the policy over cands (in preference order).
func NewHedged(cfg HedgeConfig, cands []Candidate) (*Hedged, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	h := &Hedged{cfg: cfg, kinds: make([]string, len(cands)), ttft: make([]samples, len(cands))}
	for i, c := range cands {
		h.kinds[i] = c.ProviderKind
		h.ttft[i] = newSamples(cfg.Window, cfg.Quantile)
	}
	return h, nil
}

// Pick implements Policy.
func (h *Hedged) Pick(_ int64, r *Request) int {
	n := len(h.kinds)
	if r.Hedge {
		p := r.Prev
		if p < 0 || p >= n || n == 1 {
			return -1
		}
		if i := nextFrom(n, p, func(i int) bool { return i != p && h.kinds[i] != h.kinds[p] }); i >= 0 {
			return i
		}
		return (p + 1) % n
	}
	if r.Attempt <= 1 || r.Prev < 0 {
		return 0
	}
	return (r.Prev + 1) % n
}

// HedgeDelay implements Hedger.
func (h *Hedged) HedgeDelay(_ int64, r *Request, primary int) (int64, bool) {
	if r.Hedge || len(h.kinds) < 2 || primary < 0 || primary >= len(h.kinds) {
		return 0, false
	}
	if h.cfg.Delay > 0 {
		return h.cfg.Delay, true
	}
	if s := &h.ttft[primary]; s.len() >= h.cfg.MinSamples {
		return s.value, true
	}
	return h.cfg.InitialDelay, true
}

// Observe implements Policy: it learns TTFTs of successful attempts
// (cancelled losers are censored at the winner's TTFT and would bias the
// quantile down, so they are left out). With a fixed Delay the quantile is
// never read, so nothing is recorded: the simulator calls Observe for every
// attempt, and keeping an unused window current is pure cost.
func (h *Hedged) Observe(_ int64, o *Observation) {
	if h.cfg.Delay > 0 || o.Dep < 0 || o.Dep >= len(h.ttft) {
		return
	}
	if t := ttftOf(o); t >= 0 {
		h.ttft[o.Dep].add(t)
	}
}
