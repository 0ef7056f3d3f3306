// Package routing holds the routing policies: given the deployments a
// strategy places for a layer, a policy picks the one that serves each
// attempt and learns from outcomes. One implementation per policy serves the
// simulator (virtual time) and the load generator (wall time): policies see
// time only as the now argument, in nanoseconds on the caller's clock.
package routing

import (
	"fmt"

	"github.com/mcbench/mcbench/backends"
	"github.com/mcbench/mcbench/scenarios"
)

// Policy picks deployments for attempts. Implementations must not allocate
// in Pick or Observe: the simulator calls them for every attempt.
type Policy interface {
	// Pick returns the index, among the candidates the policy was built with,
	// of the deployment for attempt (1-based) of a request; prev is the index
	// the previous attempt used (-1 on the first). u is a uniform draw that
	// belongs to this request and attempt, so that two runs of the same
	// stream make the same choices.
	Pick(now int64, attempt, prev int, u float64) int
	// Observe reports how an attempt on candidate dep ended and how long it took.
	Observe(now int64, dep int, status backends.Status, latency int64)
}

// New builds the policy a strategy's routing section describes, over the
// named candidate deployments (in placement order).
func New(r *scenarios.Routing, candidates []string) (Policy, error) {
	if len(candidates) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	switch r.Policy {
	case "", scenarios.PolicyFailover:
		return &Failover{n: len(candidates)}, nil
	case scenarios.PolicyWeighted:
		w := make([]float64, len(candidates))
		for i, c := range candidates {
			w[i] = 1
			if v, ok := r.Weights[c]; ok {
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
func (f *Failover) Pick(_ int64, attempt, prev int, _ float64) int {
	if attempt <= 1 || prev < 0 {
		return 0
	}
	return (prev + 1) % f.n
}

// Observe implements Policy; plain failover keeps no state.
func (f *Failover) Observe(int64, int, backends.Status, int64) {}

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
func (w *Weighted) Pick(_ int64, attempt, prev int, u float64) int {
	if attempt > 1 && prev >= 0 {
		return (prev + 1) % len(w.cum)
	}
	for i, c := range w.cum {
		if u < c {
			return i
		}
	}
	return len(w.cum) - 1
}

// Observe implements Policy; a static split keeps no state.
func (w *Weighted) Observe(int64, int, backends.Status, int64) {}
