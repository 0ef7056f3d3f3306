package routing

import (
	"fmt"
	"math"
	"time"
)

// BreakerConfig parameterises CircuitBreaker. The defaults are this
// repository's own (docs/references.md [3]): N=5, p=0.5, min=10, T=30 s,
// k=1, s=2.
type BreakerConfig struct {
	// Failures is how many failures in a row trip the breaker (N, default 5).
	Failures int
	// FailureRate trips the breaker when at least this fraction of the
	// attempts in the rolling Window failed (p, default 0.5) ...
	FailureRate float64
	// MinRequests ... provided the window holds at least this many (default 10).
	MinRequests int
	// Window is the rolling window of the failure rate (default 60 s, the
	// per-minute horizon LiteLLM and APIM use), kept as 10 buckets.
	Window int64
	// Open is how long a tripped breaker stays open (T, default 30 s); a
	// breaker that re-trips from half-open stays open twice as long as the
	// previous time, up to MaxOpen.
	Open int64
	// MaxOpen caps the open time (default 8 × Open = 240 s).
	MaxOpen int64
	// Probes is how many attempts a half-open breaker lets through at once
	// (k, default 1).
	Probes int
	// Successes is how many successful probes close it (s, default 2).
	Successes int
	// Domain makes an open breaker take out its deployment's failure domain.
	Domain FailureDomain
	// FailFast makes Pick return -1 when no breaker admits an attempt.
	// Otherwise (the default) the attempt goes to the candidate whose
	// breaker reopens soonest, as Envoy's panic routing does: when every
	// deployment looks sick, refusing all traffic turns a partial outage
	// (an overloaded survivor tripping its breaker) into a total one.
	FailFast bool
}

// DefaultBreakerConfig returns the defaults of docs/references.md [3].
func DefaultBreakerConfig() BreakerConfig {
	return BreakerConfig{Failures: 5, FailureRate: 0.5, MinRequests: 10, Window: int64(60 * time.Second),
		Open: int64(30 * time.Second), MaxOpen: int64(240 * time.Second), Probes: 1, Successes: 2, Domain: DomainDeployment}
}

func (c *BreakerConfig) check() error {
	switch {
	case c.Failures < 1 || c.MinRequests < 1 || c.Probes < 1 || c.Successes < 1:
		return fmt.Errorf("routing: breaker failures, min_requests, probes and successes must be >= 1")
	case !(c.FailureRate > 0 && c.FailureRate <= 1):
		return fmt.Errorf("routing: breaker failure rate must lie in (0, 1], got %g", c.FailureRate)
	case c.Window < breakerBuckets || c.Open <= 0:
		return fmt.Errorf("routing: breaker window and open time must be > 0")
	case c.MaxOpen < c.Open:
		return fmt.Errorf("routing: breaker max open time must be >= the open time")
	}
	return nil
}

// breakerBuckets is how many buckets the rolling window is kept in: the
// failure rate forgets a bucket's worth (Window/10) at a time.
const breakerBuckets = 10

// Breaker states.
const (
	closed = iota
	open
	halfOpen
)

// breaker is one candidate's state machine.
type breaker struct {
	state      int
	streak     int   // failures in a row while closed
	openUntil  int64 // end of the open period
	openFor    int64 // length of the current (or last) open period
	halfAt     int64 // when it went half-open: older attempts are stale
	probesOut  int   // probes in flight
	probeAt    int64 // when the last probe was let through
	successes  int   // successful probes so far
	bucketAt   [breakerBuckets]int64
	bucketReq  [breakerBuckets]int32
	bucketFail [breakerBuckets]int32
}

// CircuitBreaker sends each first attempt to the first candidate in
// placement order whose breaker admits it, and each retry to the next such
// candidate after the failed one. A breaker trips (opens) after Failures
// failures in a row or a failure rate of at least FailureRate over Window
// with MinRequests attempts; while open the candidate gets no attempts at
// all (they go to the next candidate, with none on this one);
// after Open it is half-open and admits Probes attempts at a time; Successes
// successful probes close it, a failed probe re-opens it for twice as long.
// Failures are server errors, connection failures, timeouts and throttling
// (a throttled deployment cannot serve either); other 4xx and cancelled
// hedge losers are not evidence. When no breaker admits an attempt, Pick
// returns -1 with FailFast; otherwise it picks the breaker that reopens soonest.
type CircuitBreaker struct {
	cfg BreakerConfig
	n   int
	dom *domains
	b   []breaker
}

// NewCircuitBreaker builds the policy over cands (in preference order).
func NewCircuitBreaker(cfg BreakerConfig, cands []Candidate) (*CircuitBreaker, error) {
	dom, err := prepare(cfg.check, cfg.Domain, cands)
	if err != nil {
		return nil, err
	}
	return &CircuitBreaker{cfg: cfg, n: len(cands), dom: dom, b: make([]breaker, len(cands))}, nil
}

// advance moves an open breaker to half-open once its time is up.
func (c *CircuitBreaker) advance(now int64, i int) {
	if b := &c.b[i]; b.state == open && now >= b.openUntil {
		b.state, b.halfAt, b.probesOut, b.successes = halfOpen, now, 0, 0
	}
}

// admits reports whether candidate i may take an attempt at now.
func (c *CircuitBreaker) admits(now int64, i int) bool {
	if c.dom.out(now, i) {
		return false
	}
	c.advance(now, i)
	b := &c.b[i]
	switch b.state {
	case closed:
		return true
	case halfOpen:
		// A probe whose outcome never came back (lost, or an engine that
		// did not report it) must not wedge the breaker half-open: after
		// Open it no longer holds its slot.
		return b.probesOut < c.cfg.Probes || now-b.probeAt >= c.cfg.Open
	}
	return false
}

// Pick implements Policy.
func (c *CircuitBreaker) Pick(now int64, r *Request) int {
	prev := r.Prev
	if r.Attempt <= 1 {
		prev = -1
	}
	i := nextFrom(c.n, prev, func(i int) bool { return (i != prev || c.n == 1) && c.admits(now, i) })
	if i < 0 && !c.cfg.FailFast {
		// Panic: every breaker is open; use the one closest to reopening.
		soonest := int64(math.MaxInt64)
		for j := range c.b {
			if j == prev && c.n > 1 {
				continue
			}
			if u := c.b[j].openUntil; u < soonest {
				i, soonest = j, u
			}
		}
		return i
	}
	if i >= 0 {
		if b := &c.b[i]; b.state == halfOpen {
			if b.probesOut >= c.cfg.Probes {
				b.probesOut = 0 // the stale probe's slot, see admits
			}
			b.probesOut++
			b.probeAt = now
		}
	}
	return i
}

// Observe implements Policy.
func (c *CircuitBreaker) Observe(now int64, o *Observation) {
	i := o.Dep
	if i < 0 || i >= c.n {
		return
	}
	cls := classify(o)
	if cls == outCancelled || cls == outClient || cls == outContextLength || cls == outContentFilter || cls == outNotFound {
		return
	}
	failed := cls != outOK
	c.advance(now, i)
	b := &c.b[i]
	switch b.state {
	case open:
		return // attempts sent before it tripped: already accounted for
	case halfOpen:
		if o.Sent < b.halfAt {
			return // sent before the probe period: not a probe
		}
		b.probesOut = max(b.probesOut-1, 0)
		if failed {
			c.trip(now, i, min(b.openFor*2, c.cfg.MaxOpen))
			return
		}
		if b.successes++; b.successes >= c.cfg.Successes {
			*b = breaker{}
			c.dom.release(i)
		}
		return
	}
	// Closed: count.
	k := int((now / (c.cfg.Window / breakerBuckets)) % breakerBuckets)
	start := now - now%(c.cfg.Window/breakerBuckets)
	if b.bucketAt[k] != start {
		b.bucketAt[k], b.bucketReq[k], b.bucketFail[k] = start, 0, 0
	}
	b.bucketReq[k]++
	if !failed {
		b.streak = 0
		return
	}
	b.bucketFail[k]++
	b.streak++
	if b.streak >= c.cfg.Failures {
		c.trip(now, i, c.cfg.Open)
		return
	}
	var req, fail int32
	for j := range breakerBuckets {
		if b.bucketAt[j] > now-c.cfg.Window {
			req += b.bucketReq[j]
			fail += b.bucketFail[j]
		}
	}
	if int(req) >= c.cfg.MinRequests && float64(fail) >= c.cfg.FailureRate*float64(req) {
		c.trip(now, i, c.cfg.Open)
	}
}

// trip opens candidate i's breaker for d.
func (c *CircuitBreaker) trip(now int64, i int, d int64) {
	c.b[i] = breaker{state: open, openUntil: now + d, openFor: d}
	c.dom.hold(i)
}

// State returns candidate i's breaker state at now: "closed", "open" or
// "half-open" (for tests and reports).
func (c *CircuitBreaker) State(now int64, i int) string {
	c.advance(now, i)
	return [...]string{"closed", "open", "half-open"}[c.b[i].state]
}
