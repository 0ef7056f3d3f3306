package routing

import (
	"fmt"
	"time"
)

// FallbackConfig parameterises Fallback, an ordered fallback list with
// cooldowns: our version of the gateways' cooldown behaviour (LiteLLM
// cooldown_time, Kong's "3 failures ⇒ target out for 10 s"), without their
// exemptions.
type FallbackConfig struct {
	// Cooldown is how long a cooled deployment is skipped (default 5 s,
	// LiteLLM's cooldown_time). A throttled attempt's Retry-After lengthens
	// it: there is no point returning before the provider will admit.
	Cooldown int64
	// FailureRate cools a deployment when more than this fraction of its
	// attempts in the current minute failed (default 0.5) ...
	FailureRate float64
	// MinRequests ... once it had at least this many that minute (default 5).
	MinRequests int
	// AllowedFails, if > 0, switches to counting: a deployment is cooled on
	// the failure after AllowedFails failures, the count forgetting itself
	// Cooldown after the last failure (LiteLLM's v1 allowed_fails rule).
	// 0 (default) uses the failure rate.
	AllowedFails int
	// Domain makes a cooldown take out the deployment's failure domain.
	Domain FailureDomain
}

// DefaultFallbackConfig returns LiteLLM's numbers without its quirks:
// cooldown 5 s, failure rate > 50 % with at least 5 requests a minute.
func DefaultFallbackConfig() FallbackConfig {
	return FallbackConfig{Cooldown: int64(5 * time.Second), FailureRate: 0.5, MinRequests: 5, Domain: DomainDeployment}
}

func (c *FallbackConfig) check() error {
	switch {
	case c.Cooldown <= 0:
		return fmt.Errorf("routing: fallback cooldown must be > 0")
	case !(c.FailureRate >= 0 && c.FailureRate <= 1):
		return fmt.Errorf("routing: fallback failure rate must lie in [0, 1], got %g", c.FailureRate)
	case c.MinRequests < 1 || c.AllowedFails < 0:
		return fmt.Errorf("routing: fallback min_requests must be >= 1 and allowed_fails >= 0")
	}
	return nil
}

// minuteCounts are a deployment's successes and failures in the current
// calendar minute of the caller's clock (LiteLLM keys them {id}:{HH-MM}).
type minuteCounts struct {
	minute      int64
	ok, fail    int
	recentFails int   // AllowedFails rule: failures not yet forgotten
	lastFail    int64 // when the last of them happened
}

func (m *minuteCounts) roll(now int64) {
	if k := now / int64(time.Minute); k != m.minute {
		m.minute, m.ok, m.fail = k, 0, 0
	}
}

// Fallback routes each first attempt to the first candidate in placement
// order that is not cooling down, and each retry to the next such candidate
// after the failed one; when all are cooling down it returns -1. A
// deployment is cooled for Cooldown on a 429 (at least its Retry-After), on
// an auth or not-found error (it will not get better by itself), and when
// its failure rate in the current minute exceeds FailureRate (or, with
// AllowedFails, when its failures exceed that count). Unlike LiteLLM, a
// deployment alone in its group is cooled like any other: see LiteLLM for
// the faithful preset.
type Fallback struct {
	cfg FallbackConfig
	n   int
	dom *domains
	cnt []minuteCounts
}

// NewFallback builds the policy over cands (in fallback order).
func NewFallback(cfg FallbackConfig, cands []Candidate) (*Fallback, error) {
	dom, err := prepare(cfg.check, cfg.Domain, cands)
	if err != nil {
		return nil, err
	}
	return &Fallback{cfg: cfg, n: len(cands), dom: dom, cnt: make([]minuteCounts, len(cands))}, nil
}

// Pick implements Policy.
func (f *Fallback) Pick(now int64, r *Request) int {
	prev := r.Prev
	if r.Attempt <= 1 {
		prev = -1
	}
	i := nextFrom(f.n, prev, func(i int) bool { return i != prev && !f.dom.out(now, i) })
	if i < 0 && prev >= 0 && !f.dom.out(now, prev) {
		return prev // the only candidate left is the one that just failed
	}
	return i
}

// Observe implements Policy.
func (f *Fallback) Observe(now int64, o *Observation) {
	i := o.Dep
	if i < 0 || i >= f.n {
		return
	}
	cls := classify(o)
	if cls == outCancelled {
		return
	}
	m := &f.cnt[i]
	m.roll(now)
	if cls == outOK {
		m.ok++
		return
	}
	if cls == outClient || cls == outContextLength || cls == outContentFilter {
		return // the request's fault, not the deployment's
	}
	m.fail++
	d := f.cfg.Cooldown
	cool := false
	switch {
	case cls == outThrottled:
		cool, d = true, max(d, o.RetryAfter)
	case cls == outAuth || cls == outNotFound:
		cool = true
	case f.cfg.AllowedFails > 0:
		if m.lastFail > 0 && now-m.lastFail >= f.cfg.Cooldown {
			m.recentFails = 0
		}
		m.recentFails++
		m.lastFail = now
		cool = m.recentFails > f.cfg.AllowedFails
	default:
		total := m.ok + m.fail
		cool = total >= f.cfg.MinRequests && float64(m.fail) > f.cfg.FailureRate*float64(total)
	}
	if cool {
		m.recentFails = 0
		f.dom.eject(i, now+d)
	}
}

// Cooling reports whether candidate i is cooling down at now.
func (f *Fallback) Cooling(now int64, i int) bool { return f.dom.out(now, i) }
