package routing

import (
	"fmt"
	"math"
	"time"
)

// DeadlineConfig parameterises Deadline (defaults: docs/references.md [10]).
type DeadlineConfig struct {
	// TTFTTimeout is the longest wait for an attempt's first token before
	// failing over (default 10 s): failoverbench found every gateway
	// retrying a silent upstream for 91-96 s instead of failing over
	// (failoverbench/failoverbench scorecard, scenarios S06/S07).
	TTFTTimeout int64
	// Backoff is the pause before a new round over the candidates once
	// every one has failed (default 0.5 s, doubling per round up to
	// MaxBackoff, default 8 s): failing over needs no pause, hammering the
	// same set again does.
	Backoff, MaxBackoff int64
	// MaxRetryAfter is the longest Retry-After worth waiting for on the
	// same deployment (default 60 s, Portkey's cumulative cap,
	// Portkey-AI/gateway src/handlers/retryHandler.ts).
	MaxRetryAfter int64
}

// DefaultDeadlineConfig returns the defaults: 10 s TTFT timeout, 0.5 s
// backoff doubling to 8 s per round, Retry-After honoured up to 60 s.
func DefaultDeadlineConfig() DeadlineConfig {
	return DeadlineConfig{TTFTTimeout: int64(10 * time.Second), Backoff: int64(500 * time.Millisecond),
		MaxBackoff: int64(8 * time.Second), MaxRetryAfter: int64(60 * time.Second)}
}

func (c *DeadlineConfig) check() error {
	if c.TTFTTimeout < 0 || c.Backoff < 0 || c.MaxBackoff < c.Backoff || c.MaxRetryAfter < 0 {
		return fmt.Errorf("routing: deadline timeouts and backoffs must be >= 0 (max backoff >= backoff)")
	}
	return nil
}

// Memo values of Deadline.
const (
	deadlineOther = 1 // fail over to the next candidate
	deadlineSame  = 2 // retry the same candidate after its Retry-After
)

// Deadline routes in placement order like Failover, but knows the request's
// Deadline (Request.Deadline, absolute; 0: none):
//
//   - A throttled attempt whose Retry-After is at most MaxRetryAfter and
//     ends before the deadline is retried on the same candidate after it;
//     any other failure, or a wait that does not fit the remaining budget,
//     fails over at once to the next candidate (Retrier).
//   - Once every candidate has failed in a round, the next round waits
//     Backoff × 2^(round-1) (capped at MaxBackoff), or not at all if that
//     wait does not fit the budget.
//   - No retry is started after the deadline, nor after a client error
//     (4xx other than 429, content filter), which no deployment fixes.
//   - An attempt gets at most TTFTTimeout, and never past the deadline, to
//     produce its first token (AttemptTimer).
//
// Retry tells Pick what it decided through Request.Memo; an engine that
// does not carry Memo gets failover on every retry.
type Deadline struct {
	cfg DeadlineConfig
	n   int
}

// NewDeadline builds the policy over cands (in preference order).
func NewDeadline(cfg DeadlineConfig, cands []Candidate) (*Deadline, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Deadline{cfg: cfg, n: len(cands)}, nil
}

// Pick implements Policy.
func (d *Deadline) Pick(_ int64, r *Request) int {
	switch {
	case r.Attempt <= 1 || r.Prev < 0:
		return 0
	case r.Memo == deadlineSame:
		return r.Prev
	}
	return (r.Prev + 1) % d.n
}

// Observe implements Policy; the decisions are Retry's, which sees the
// outcome directly.
func (d *Deadline) Observe(int64, *Observation) {}

// Retry implements Retrier.
func (d *Deadline) Retry(now int64, r *Request, o *Observation) (int64, bool) {
	remaining := int64(math.MaxInt64)
	if r.Deadline > 0 {
		remaining = r.Deadline - now
	}
	switch classify(o) {
	case outClient, outContentFilter:
		return 0, false
	}
	if remaining <= 0 {
		return 0, false
	}
	if classify(o) == outThrottled && o.RetryAfter > 0 && o.RetryAfter <= d.cfg.MaxRetryAfter && o.RetryAfter < remaining {
		r.Memo = deadlineSame
		return o.RetryAfter, true
	}
	r.Memo = deadlineOther
	if r.Attempt%d.n != 0 {
		return 0, true // fail over at once
	}
	round := r.Attempt / d.n
	wait := d.cfg.Backoff
	for i := 1; i < round && wait < d.cfg.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, d.cfg.MaxBackoff)
	if wait >= remaining {
		wait = 0
	}
	return wait, true
}

// FirstTokenTimeout implements AttemptTimer.
func (d *Deadline) FirstTokenTimeout(now int64, r *Request) int64 {
	t := d.cfg.TTFTTimeout
	if r.Deadline > 0 {
		left := max(r.Deadline-now, 1)
		if t == 0 || left < t {
			t = left
		}
	}
	return t
}
