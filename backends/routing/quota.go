package routing

import (
	"fmt"
	"math"

	"github.com/mcbench/mcbench/backends/behavior"
	"github.com/mcbench/mcbench/scenarios"
)

// QuotaConfig parameterises QuotaAware (defaults: docs/references.md [5]).
type QuotaConfig struct {
	// Headroom is the fraction of a limit that must remain after a request's
	// reservation for the candidate to be preferred (h, default 0.10): below
	// it the policy routes away before the provider starts refusing, since
	// its shadow accounting cannot see other clients' traffic between
	// rate-limit headers.
	Headroom float64
}

// DefaultQuotaConfig returns the default: 10 % headroom.
func DefaultQuotaConfig() QuotaConfig { return QuotaConfig{Headroom: 0.10} }

func (c *QuotaConfig) check() error {
	if !(c.Headroom >= 0 && c.Headroom < 1) {
		return fmt.Errorf("routing: quota headroom must lie in [0, 1), got %g", c.Headroom)
	}
	return nil
}

// account is the policy's shadow of one deployment's quota.
type account struct {
	tokens, requests       behavior.TokenBucket
	capTokens, capRequests float64 // bucket sizes; 0: unlimited
	burn                   float64
	settle                 bool  // Bedrock refunds unused output reservation
	blockedUntil           int64 // a 429's Retry-After
	// unreserved counts attempts sent although the shadow said the
	// provider would refuse them (every candidate was full): their 429 is
	// expected, took nothing and teaches nothing.
	unreserved int
}

// QuotaAware keeps, per candidate, a shadow of the provider's quota
// accounting, the same token buckets the behaviour model enforces: Azure
// reserves prompt + max_tokens against a TPM bucket holding a minute's worth
// and RPM/6 per 10 s against a request bucket, and keeps the reservation;
// Bedrock reserves prompt + max_tokens × OutputBurn and settles to
// prompt + output × OutputBurn when the response ends. Pick reserves against
// the chosen candidate; Observe settles, refunds what a refusal or a
// connection failure never took, and then trusts the provider's rate-limit
// headers (RemainingTokens, RemainingRequests) and Retry-After over its own
// arithmetic.
//
// Each attempt goes to the first candidate in placement order whose
// projected headroom after the request (the smaller of the two limits'
// remaining fractions) is at least Headroom; failing that to the candidate
// with the most headroom, so a request the provider would refuse is never
// sent while another candidate would admit it. A candidate inside a
// Retry-After is skipped unless all are, in which case the one free soonest
// is chosen. A retry avoids the candidate that just failed when another
// exists. Candidates without quota are always in headroom.
type QuotaAware struct {
	cfg QuotaConfig
	acc []account
}

// NewQuotaAware builds the policy over cands, whose quota fields
// (TokensPerMinute, RequestsPerMinute, windows, OutputBurn, ProviderKind)
// describe the provider's accounting.
func NewQuotaAware(cfg QuotaConfig, cands []Candidate) (*QuotaAware, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	q := &QuotaAware{cfg: cfg, acc: make([]account, len(cands))}
	for i := range cands {
		c := &cands[i]
		a := &q.acc[i]
		a.burn = c.OutputBurn
		if a.burn <= 0 {
			a.burn = 1
		}
		a.settle = c.ProviderKind == scenarios.KindBedrock
		if c.TokensPerMinute > 0 {
			r := c.TokensPerMinute / 60
			a.capTokens = r * windowSeconds(c.TokenWindow, 60)
			a.tokens = behavior.NewTokenBucket(r, a.capTokens)
		}
		if c.RequestsPerMinute > 0 {
			r := c.RequestsPerMinute / 60
			a.capRequests = math.Max(1, r*windowSeconds(c.RequestWindow, 10))
			a.requests = behavior.NewTokenBucket(r, a.capRequests)
		}
	}
	return q, nil
}

func windowSeconds(ns int64, def float64) float64 {
	if ns > 0 {
		return float64(ns) / 1e9
	}
	return def
}

// cost is what a request reserves against a's token limit.
func (a *account) cost(input, maxTokens int32) float64 {
	return float64(input) + float64(maxTokens)*a.burn
}

// headroom is the fraction of the tighter limit left after admitting a
// request costing cost at now (negative: the provider would refuse it).
func (a *account) headroom(now int64, cost float64) float64 {
	h := 1.0
	if a.capTokens > 0 {
		h = min(h, (a.tokens.Available(now)-cost)/a.capTokens)
	}
	if a.capRequests > 0 {
		h = min(h, (a.requests.Available(now)-1)/a.capRequests)
	}
	return h
}

// Pick implements Policy.
func (q *QuotaAware) Pick(now int64, r *Request) int {
	n := len(q.acc)
	excl := -1
	if r.Attempt > 1 && n > 1 {
		excl = r.Prev
	}
	best, bestH := -1, math.Inf(-1)
	soonest, soonestAt := -1, int64(math.MaxInt64)
	for i := range q.acc {
		if i == excl {
			continue
		}
		a := &q.acc[i]
		if now < a.blockedUntil {
			if a.blockedUntil < soonestAt {
				soonest, soonestAt = i, a.blockedUntil
			}
			continue
		}
		h := a.headroom(now, a.cost(r.InputTokens, r.MaxTokens))
		if h >= q.cfg.Headroom {
			best = i
			break
		}
		if h > bestH {
			best, bestH = i, h
		}
	}
	if best < 0 {
		best = soonest
	}
	if best >= 0 {
		// Reserve as the provider will: all or nothing.
		a := &q.acc[best]
		cost := a.cost(r.InputTokens, r.MaxTokens)
		if a.headroom(now, cost) >= 0 {
			if a.capRequests > 0 {
				a.requests.Take(now, 1)
			}
			if a.capTokens > 0 {
				a.tokens.Take(now, cost)
			}
		} else {
			a.unreserved++
		}
	}
	return best
}

// set makes b hold v tokens at now (clamped to its capacity).
func set(b *behavior.TokenBucket, now int64, v float64) {
	have := b.Available(now)
	switch {
	case v < have:
		b.Take(now, have-max(v, 0))
	case v > have:
		b.Give(now, v-have)
	}
}

// Observe implements Policy.
func (q *QuotaAware) Observe(now int64, o *Observation) {
	if o.Dep < 0 || o.Dep >= len(q.acc) {
		return
	}
	a := &q.acc[o.Dep]
	cost := a.cost(o.InputTokens, o.MaxTokens)
	switch cls := classify(o); {
	case cls == outThrottled && a.unreserved > 0:
		a.unreserved-- // the refusal the shadow predicted
		if o.RetryAfter > 0 {
			a.blockedUntil = max(a.blockedUntil, now+o.RetryAfter)
		}
	case cls == outThrottled:
		// Refused against the shadow's expectation (other clients share
		// the quota): the provider took nothing, so the reservation goes
		// back, and the refusing limit is taken to be spent.
		switch o.ErrorClass {
		case "quota_tokens":
			set(&a.tokens, now, 0)
			a.requests.Give(now, 1)
		case "quota_requests":
			set(&a.requests, now, 0)
			a.tokens.Give(now, cost)
		default:
			set(&a.tokens, now, 0)
			set(&a.requests, now, 0)
		}
		if o.RetryAfter > 0 {
			a.blockedUntil = max(a.blockedUntil, now+o.RetryAfter)
		}
	case cls == outConnection || o.ErrorClass == "outage":
		// Never admitted: the deployment was unreachable or down before
		// its quota was consulted.
		a.requests.Give(now, 1)
		a.tokens.Give(now, cost)
	case a.settle && o.MaxTokens > 0 && (cls != outOK || o.OutputTokens > 0):
		// Bedrock settles to the actual output (what a failed or cancelled
		// call produced, usually 0); a success of unknown output keeps the
		// reservation, the pessimistic reading.
		if used := float64(o.InputTokens) + float64(o.OutputTokens)*a.burn; used < cost {
			a.tokens.Give(now, cost-used)
		}
	}
	if a.capTokens > 0 && o.RemainingTokens >= 0 {
		set(&a.tokens, now, o.RemainingTokens)
	}
	if a.capRequests > 0 && o.RemainingRequests >= 0 {
		set(&a.requests, now, o.RemainingRequests)
	}
}

// Headroom returns candidate i's projected headroom at now for a request of
// the given size (for tests and reports).
func (q *QuotaAware) Headroom(now int64, i int, input, maxTokens int32) float64 {
	a := &q.acc[i]
	return a.headroom(now, a.cost(input, maxTokens))
}
