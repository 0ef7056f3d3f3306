// Package routing holds the routing policies: given the deployments a
// strategy places for a layer, a policy picks the one that serves each
// attempt and learns from outcomes. One implementation per policy serves the
// simulator (virtual time) and the load generator (wall time): policies see
// time only as the now argument, in nanoseconds on the caller's clock, and
// keep no goroutines or timers of their own.
package routing

import (
	"fmt"

	"github.com/mcbench/mcbench/backends"
	"github.com/mcbench/mcbench/scenarios"
)

// Candidate describes a deployment a policy may route to.
type Candidate struct {
	// Name, Provider, ProviderKind and Region are the scenario's.
	Name, Provider, ProviderKind, Region string
	// Provisioned is true for PTU / provisioned-throughput deployments.
	Provisioned bool
	// Concurrency is the deployment's slot count.
	Concurrency int
	// RegionTags are the region's compliance tags.
	RegionTags []string
}

// CandidateOf describes a scenario deployment for routing policies.
func CandidateOf(s *scenarios.Scenario, d *scenarios.Deployment) Candidate {
	c := Candidate{Name: d.Name, Provider: d.Provider, Region: d.Region,
		Provisioned: d.Capacity.ProvisionedUnits > 0, Concurrency: d.Capacity.Concurrency}
	for _, p := range s.Providers {
		if p.Name != d.Provider {
			continue
		}
		c.ProviderKind = p.Kind
		for _, r := range p.Regions {
			if r.Name == d.Region {
				c.RegionTags = r.Tags
			}
		}
	}
	return c
}

// Request is what a policy knows about the attempt it routes.
type Request struct {
	// ID is the request's position in the stream.
	ID uint64
	// Attempt is 1 for the first attempt.
	Attempt int
	// Prev is the candidate the previous attempt used (-1 on the first).
	Prev int
	// U is a uniform draw belonging to this request and attempt, so that
	// two runs of the same stream make the same random choices.
	U float64
	// InputTokens and MaxTokens size the call.
	InputTokens, MaxTokens int32
	// Deadline is the absolute time by which the request must finish (0: none).
	Deadline int64
	// Last is how the previous attempt ended (zero on the first attempt).
	Last Observation
}

// Observation is how an attempt ended, fed back to the policy.
type Observation struct {
	// Dep is the candidate index the attempt used.
	Dep int
	// Status and ErrorClass are as in the outcome record.
	Status     backends.Status
	ErrorClass string
	// Sent, FirstToken and Done are times on the caller's clock (FirstToken 0: none).
	Sent, FirstToken, Done int64
	// RemainingTokens and RemainingRequests are the rate-limit headers' values (-1: unknown).
	RemainingTokens, RemainingRequests float64
	// RetryAfter is what a throttled response advertised (0: nothing).
	RetryAfter int64
}

// Policy picks deployments for attempts. Implementations must not allocate
// in Pick or Observe: the simulator calls them for every attempt. They are
// not safe for concurrent use; the load generator serialises calls.
type Policy interface {
	// Pick returns the index, among the candidates the policy was built with,
	// of the deployment for the attempt, or -1 when none may be tried (the
	// request then fails without an attempt).
	Pick(now int64, r *Request) int
	// Observe reports how an attempt ended.
	Observe(now int64, o *Observation)
}

// Starter is implemented by policies that track attempts in flight: the
// engines call Started when an attempt is sent to candidate dep.
type Starter interface {
	Started(now int64, dep int)
}

// New builds the policy a strategy's routing section describes, over the
// candidates (in placement order).
func New(r *scenarios.Routing, cands []Candidate) (Policy, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	switch r.Policy {
	case "", scenarios.PolicyFailover:
		return &Failover{n: len(cands)}, nil
	case scenarios.PolicyWeighted:
		w := make([]float64, len(cands))
		for i, c := range cands {
			w[i] = 1
			if v, ok := r.Weights[c.Name]; ok {
				w[i] = v
			}
		}
		return NewWeighted(w)
	}
	return nil, fmt.Errorf("routing: unknown policy %q", r.Policy)
}

// Failover sends every first attempt to the first candidate and each retry
// to the next one in placement order, wrapping around.
type Failover struct{ n int }

// Pick implements Policy.
func (f *Failover) Pick(_ int64, r *Request) int {
	if r.Attempt <= 1 || r.Prev < 0 {
		return 0
	}
	return (r.Prev + 1) % f.n
}

// Observe implements Policy; plain failover keeps no state.
func (f *Failover) Observe(int64, *Observation) {}

// Weighted splits first attempts across candidates in proportion to their
// weights and sends each retry to the next candidate in placement order.
type Weighted struct {
	cum []float64 // cumulative normalised weights
}

// NewWeighted returns a weighted split; weights must be >= 0 and not all zero.
func NewWeighted(weights []float64) (*Weighted, error) {
	total := 0.0
	for i, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("routing: weight %d is negative", i)
		}
		total += w
	}
	if total <= 0 {
		return nil, fmt.Errorf("routing: weights are all zero")
	}
	cum := make([]float64, len(weights))
	acc := 0.0
	for i, w := range weights {
		acc += w / total
		cum[i] = acc
	}
	cum[len(cum)-1] = 1
	return &Weighted{cum: cum}, nil
}

// Pick implements Policy.
func (w *Weighted) Pick(_ int64, r *Request) int {
	if r.Attempt > 1 && r.Prev >= 0 {
		return (r.Prev + 1) % len(w.cum)
	}
	for i, c := range w.cum {
		if r.U < c {
			return i
		}
	}
	return len(w.cum) - 1
}

// Observe implements Policy; a static split keeps no state.
func (w *Weighted) Observe(int64, *Observation) {}
