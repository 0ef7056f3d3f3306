package routing

import (
	"fmt"
	"time"
)

// OutlierConfig parameterises PrimarySecondary's passive health checking,
// Envoy's outlier detection as the Envoy AI Gateway uses it for "Azure
// OpenAI primary, Bedrock fallback" (envoyproxy/ai-gateway PR #599; the
// defaults are Envoy's, from its outlier detection documentation).
type OutlierConfig struct {
	// Consecutive5xx is how many server errors in a row eject a deployment
	// (Envoy consecutive_5xx; default 5). Connection failures and timeouts
	// count, as in Envoy without split_external_local_origin_errors; 429s
	// and other 4xx do not and, being responses, reset the run.
	Consecutive5xx int
	// Interval is Envoy's detection interval (default 10 s): ejections end
	// at the first interval tick (a multiple of Interval on the caller's
	// clock) after their ejection time has passed, and each tick without
	// an ejection lowers the ejection multiplier by one.
	Interval int64
	// BaseEjection is the ejection time per ejection: the n-th ejection in
	// a row lasts BaseEjection × n (Envoy base_ejection_time; default 30 s).
	BaseEjection int64
	// MaxEjectionTime caps an ejection (Envoy max_ejection_time; default
	// 300 s).
	MaxEjectionTime int64
	// MaxEjectionPercent is the largest fraction of the candidates that may
	// be out at once (Envoy max_ejection_percent; default 0.10). As in
	// Envoy, one ejection is always allowed when none is in force.
	MaxEjectionPercent float64
	// Domain makes an ejection take out the deployment's whole failure
	// domain (default DomainDeployment).
	Domain FailureDomain
}

// DefaultOutlierConfig returns Envoy's defaults (preset envoy-default):
// 5 consecutive 5xx, 10 s interval, 30 s × n base ejection, 300 s cap, 10 %.
func DefaultOutlierConfig() OutlierConfig {
	return OutlierConfig{Consecutive5xx: 5, Interval: int64(10 * time.Second), BaseEjection: int64(30 * time.Second),
		MaxEjectionTime: int64(300 * time.Second), MaxEjectionPercent: 0.10, Domain: DomainDeployment}
}

// AIGatewayDocOutlierConfig returns the Envoy AI Gateway documentation's
// example (preset aigw-doc): eject on the first 5xx, 2 s interval, 5 s base
// ejection, up to 100 % of the candidates.
func AIGatewayDocOutlierConfig() OutlierConfig {
	c := DefaultOutlierConfig()
	c.Consecutive5xx, c.Interval, c.BaseEjection, c.MaxEjectionPercent = 1, int64(2*time.Second), int64(5*time.Second), 1
	return c
}

func (c *OutlierConfig) check() error {
	switch {
	case c.Consecutive5xx < 1:
		return fmt.Errorf("routing: outlier consecutive_5xx must be >= 1, got %d", c.Consecutive5xx)
	case c.Interval <= 0 || c.BaseEjection <= 0:
		return fmt.Errorf("routing: outlier interval and base ejection must be > 0")
	case c.MaxEjectionTime < c.BaseEjection:
		return fmt.Errorf("routing: outlier max ejection time must be >= the base ejection")
	case !(c.MaxEjectionPercent >= 0 && c.MaxEjectionPercent <= 1):
		return fmt.Errorf("routing: outlier max ejection percent must lie in [0, 1], got %g", c.MaxEjectionPercent)
	}
	return nil
}

// PrimarySecondary routes every first attempt to the first candidate in
// placement order that is not ejected (Envoy priorities: P0 keeps all
// traffic while healthy, which with one endpoint per priority is binary),
// and each retry to the next one after the failed attempt's
// (numAttemptsPerPriority = 1). Deployments are ejected by Envoy-style
// passive outlier detection; when every candidate is out it routes as if
// none were (Envoy's panic mode) rather than failing the request.
type PrimarySecondary struct {
	cfg         OutlierConfig
	n           int
	dom         *domains
	consecutive []int   // server errors in a row per candidate
	ejections   []int   // ejection multiplier per candidate
	ejectedAt   []int64 // when the candidate was last ejected
	until       []int64 // when that ejection ends (its own, not its domain's)
}

// NewPrimarySecondary builds the policy over cands (in priority order).
func NewPrimarySecondary(cfg OutlierConfig, cands []Candidate) (*PrimarySecondary, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	dom, err := newDomains(cfg.Domain, cands)
	if err != nil {
		return nil, err
	}
	n := len(cands)
	return &PrimarySecondary{cfg: cfg, n: n, dom: dom, consecutive: make([]int, n), ejections: make([]int, n),
		ejectedAt: make([]int64, n), until: make([]int64, n)}, nil
}

// Pick implements Policy.
func (p *PrimarySecondary) Pick(now int64, r *Request) int {
	prev := r.Prev
	if r.Attempt <= 1 {
		prev = -1
	}
	in := func(i int) bool { return !p.dom.out(now, i) && (i != prev || p.n == 1) }
	if i := nextFrom(p.n, prev, in); i >= 0 {
		return i
	}
	// Panic mode: everything is ejected, so ejections carry no information.
	if prev < 0 || p.n == 1 {
		return 0
	}
	return (prev + 1) % p.n
}

// Observe implements Policy.
func (p *PrimarySecondary) Observe(now int64, o *Observation) {
	i := o.Dep
	if i < 0 || i >= p.n {
		return
	}
	switch c := classify(o); {
	case c == outCancelled:
		return
	case !c.serverError():
		p.consecutive[i] = 0
		return
	}
	p.consecutive[i]++
	if p.consecutive[i] < p.cfg.Consecutive5xx || now < p.until[i] {
		return
	}
	p.eject(now, i)
}

// eject ejects candidate i (and its domain) if the ejection cap allows.
func (p *PrimarySecondary) eject(now int64, i int) {
	out := p.dom.count(now)
	added := 0
	for _, m := range p.dom.members[p.dom.of[i]] {
		if !p.dom.out(now, m) {
			added++
		}
	}
	if out > 0 && float64(out+added) > p.cfg.MaxEjectionPercent*float64(p.n) {
		return // Envoy leaves the host in and keeps counting
	}
	// Envoy lowers the multiplier by one per interval spent healthy since
	// the last ejection ended.
	if p.ejections[i] > 0 && p.until[i] > 0 {
		healthy := (now - p.until[i]) / p.cfg.Interval
		p.ejections[i] = max(0, p.ejections[i]-int(max(healthy, 0)))
	}
	p.ejections[i]++
	d := min(p.cfg.BaseEjection*int64(p.ejections[i]), max(p.cfg.MaxEjectionTime, p.cfg.BaseEjection))
	// Envoy un-ejects on its interval timer, so the ejection ends at the
	// first tick at or after the ejection time has run out.
	end := now + d
	if r := end % p.cfg.Interval; r != 0 {
		end += p.cfg.Interval - r
	}
	p.ejectedAt[i], p.until[i] = now, end
	p.consecutive[i] = 0
	p.dom.eject(i, end)
}

// Ejected reports whether candidate i is out at now (for tests and reports).
func (p *PrimarySecondary) Ejected(now int64, i int) bool { return p.dom.out(now, i) }
