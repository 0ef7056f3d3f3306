package routing

import "fmt"

// inflight counts attempts in flight per candidate from Started and
// Observe. Every Started must be matched by one Observe (the engine
// contract, cancelled hedge losers included); the count never goes below
// zero, so a policy installed mid-run cannot be driven negative.
type inflight []int

func (f inflight) started(dep int) {
	if dep >= 0 && dep < len(f) {
		f[dep]++
	}
}

func (f inflight) ended(dep int) {
	if dep >= 0 && dep < len(f) && f[dep] > 0 {
		f[dep]--
	}
}

// LeastOutstanding sends each attempt to the candidate with the fewest
// attempts in flight (LiteLLM least-busy, router_strategy/least_busy.py;
// Kong AI Proxy Advanced least-connections), ties broken uniformly by the
// request's draw; a retry avoids the candidate that just failed when
// another exists. It has no parameters. It needs the engines to call
// Started (it implements Starter).
type LeastOutstanding struct {
	out inflight
}

// NewLeastOutstanding builds the policy over cands.
func NewLeastOutstanding(cands []Candidate) (*LeastOutstanding, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	return &LeastOutstanding{out: make(inflight, len(cands))}, nil
}

// Pick implements Policy.
func (l *LeastOutstanding) Pick(_ int64, r *Request) int {
	n := len(l.out)
	excl := -1
	if r.Attempt > 1 && n > 1 {
		excl = r.Prev
	}
	least, ties := -1, 0
	for i, c := range l.out {
		switch {
		case i == excl:
		case least < 0 || c < l.out[least]:
			least, ties = i, 1
		case c == l.out[least]:
			ties++
		}
	}
	if ties <= 1 {
		return least
	}
	k := index(r.U, ties)
	for i, c := range l.out {
		if i != excl && c == l.out[least] {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return least
}

// Started implements Starter.
func (l *LeastOutstanding) Started(_ int64, dep int) { l.out.started(dep) }

// Observe implements Policy.
func (l *LeastOutstanding) Observe(_ int64, o *Observation) { l.out.ended(o.Dep) }

// InFlight returns candidate i's attempts in flight.
func (l *LeastOutstanding) InFlight(i int) int { return l.out[i] }

// PowerOfTwo draws two distinct candidates from the request's draw and sends
// the attempt to the one with fewer attempts in flight (the first drawn on a
// tie): the power-of-two-choices variant of LeastOutstanding (Mitzenmacher,
// "The Power of Two Choices in Randomized Load Balancing"), which avoids
// the herding of a global argmin when the counts are stale. A retry draws
// among the candidates other than the one that just failed. It has no
// parameters and needs Started (it implements Starter).
type PowerOfTwo struct {
	out inflight
}

// NewPowerOfTwo builds the policy over cands.
func NewPowerOfTwo(cands []Candidate) (*PowerOfTwo, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	return &PowerOfTwo{out: make(inflight, len(cands))}, nil
}

// Pick implements Policy.
func (p *PowerOfTwo) Pick(_ int64, r *Request) int {
	n := len(p.out)
	excl := -1
	if r.Attempt > 1 && n > 1 && r.Prev >= 0 && r.Prev < n {
		excl = r.Prev
	}
	m := n
	if excl >= 0 {
		m--
	}
	// Choices are positions among the m eligible candidates; skip maps a
	// position back to a candidate index past excl.
	skip := func(k int) int {
		if excl >= 0 && k >= excl {
			return k + 1
		}
		return k
	}
	if m == 1 {
		return skip(0)
	}
	a := index(r.U, m)
	b := index(second(r.U), m-1)
	if b >= a {
		b++
	}
	i, j := skip(a), skip(b)
	if p.out[j] < p.out[i] {
		return j
	}
	return i
}

// Started implements Starter.
func (p *PowerOfTwo) Started(_ int64, dep int) { p.out.started(dep) }

// Observe implements Policy.
func (p *PowerOfTwo) Observe(_ int64, o *Observation) { p.out.ended(o.Dep) }

// InFlight returns candidate i's attempts in flight.
func (p *PowerOfTwo) InFlight(i int) int { return p.out[i] }
