// Package loadgen pushes a scenario's workload through the real Azure OpenAI
// and Bedrock routing paths, or through the fakes, on vegeta's attacker: an
// open-loop load generator that measures LLM latency (time to first token,
// inter-token latency, end to end) from each request's intended send time,
// so queueing in the client or the server is never hidden.
package loadgen

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcbench/mcbench/scenarios"
)

// Schedule gives the intended send time of every hit. Due is called with
// k = 0, 1, 2, … in order (never out of order), from one goroutine, and
// returns false when the schedule has no hit k.
type Schedule interface {
	Due(k uint64) (time.Duration, bool)
}

// Constant sends Rate hits per second, hit k at k/Rate.
type Constant struct{ Rate float64 }

// Due implements Schedule.
func (c Constant) Due(k uint64) (time.Duration, bool) {
	return time.Duration(float64(k) / c.Rate * 1e9), c.Rate > 0
}

// Poisson sends hits as a Poisson process of the given rate, drawn from a
// seeded stream so a run can be repeated.
type Poisson struct {
	rate float64
	r    scenarios.Rand
	t    float64
}

// NewPoisson returns a seeded Poisson schedule.
func NewPoisson(rate float64, seed uint64) *Poisson {
	return &Poisson{rate: rate, r: scenarios.NewRand(seed, 0, "pacer", "poisson")}
}

// Due implements Schedule.
func (p *Poisson) Due(uint64) (time.Duration, bool) {
	if p.rate <= 0 {
		return 0, false
	}
	p.t += p.r.ExpFloat64() / p.rate
	return time.Duration(p.t * 1e9), true
}

// Ramp sends at a rate rising linearly from From to To over Over, then
// holding at To.
type Ramp struct {
	From, To float64
	Over     time.Duration
}

// Due implements Schedule: it inverts the cumulative hit count.
func (r Ramp) Due(k uint64) (time.Duration, bool) {
	T := r.Over.Seconds()
	slope := (r.To - r.From) / T
	n := float64(k)
	rampHits := r.From*T + slope*T*T/2
	if n <= rampHits || r.To <= 0 {
		var t float64
		if math.Abs(slope) < 1e-12 {
			if r.From <= 0 {
				return 0, false
			}
			t = n / r.From
		} else {
			disc := r.From*r.From + 2*slope*n
			if disc < 0 {
				return 0, false
			}
			t = (-r.From + math.Sqrt(disc)) / slope
		}
		return time.Duration(t * 1e9), true
	}
	return time.Duration((T + (n-rampHits)/r.To) * 1e9), true
}

// Sine sends at Mean + Amp·sin(2πt/Period), starting at the mean and rising.
type Sine struct {
	Mean, Amp float64
	Period    time.Duration
}

// Due implements Schedule by solving hits(t) = k with Newton's method.
func (s Sine) Due(k uint64) (time.Duration, bool) {
	if s.Mean <= 0 || s.Amp < 0 || s.Amp >= s.Mean {
		return 0, false
	}
	P := s.Period.Seconds()
	w := 2 * math.Pi / P
	hits := func(t float64) float64 { return s.Mean*t + s.Amp/w*(1-math.Cos(w*t)) }
	rate := func(t float64) float64 { return s.Mean + s.Amp*math.Sin(w*t) }
	n := float64(k)
	t := n / s.Mean
	for range 50 {
		dt := (hits(t) - n) / rate(t)
		t -= dt
		if math.Abs(dt) < 1e-10 {
			break
		}
	}
	return time.Duration(math.Max(t, 0) * 1e9), true
}

// Steps sends at each rate of Rates for Each, one after the other (a rate
// sweep), and stops after the last step.
type Steps struct {
	Rates []float64
	Each  time.Duration
}

// Due implements Schedule.
func (s Steps) Due(k uint64) (time.Duration, bool) {
	n := float64(k)
	start := 0.0
	for _, r := range s.Rates {
		inStep := r * s.Each.Seconds()
		if n < inStep {
			return time.Duration((start + n/r) * 1e9), true
		}
		n -= inStep
		start += s.Each.Seconds()
	}
	return 0, false
}

// Replay sends the scenario's request stream at its own arrival times: the
// same requests, at the same instants, that the simulator sees.
type Replay struct{ Stream *RequestFeed }

// Due implements Schedule.
func (r Replay) Due(k uint64) (time.Duration, bool) { return r.Stream.due(k) }

// Pacer adapts a Schedule to vegeta's Pacer and remembers each hit's
// intended send time, so latency can be measured from it rather than from
// the (possibly late) actual send: that is what keeps coordinated omission
// out of the numbers.
type Pacer struct {
	s     Schedule
	ring  []atomic.Int64
	mask  uint64
	last  time.Duration
	next  uint64
	done  bool
	limit time.Duration
}

// intendedWindow is how many hits' intended times are remembered; hits in
// flight further apart than this would read a recycled slot.
const intendedWindow = 1 << 20

// NewPacer wraps a schedule. A positive duration ends the schedule there.
func NewPacer(s Schedule, duration time.Duration) *Pacer {
	return &Pacer{s: s, ring: make([]atomic.Int64, intendedWindow), mask: intendedWindow - 1, limit: duration}
}

// Pace implements vegeta.Pacer.
func (p *Pacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	for p.next <= hits && !p.done {
		t, ok := p.s.Due(p.next)
		if !ok || (p.limit > 0 && t >= p.limit) {
			p.done = true
			break
		}
		p.ring[p.next&p.mask].Store(int64(t))
		p.last = t
		p.next++
	}
	if p.done && hits >= p.next {
		return 0, true
	}
	return time.Duration(p.ring[hits&p.mask].Load()) - elapsed, false
}

// Scheduled returns how many hits the schedule holds before its end (the
// duration, or the schedule's own end). It generates the rest of the
// schedule, so call it only after the attack.
func (p *Pacer) Scheduled() uint64 {
	for !p.done {
		t, ok := p.s.Due(p.next)
		if !ok || (p.limit > 0 && t >= p.limit) || p.limit <= 0 && p.next > 1<<32 {
			p.done = true
			break
		}
		p.ring[p.next&p.mask].Store(int64(t))
		p.last = t
		p.next++
	}
	return p.next
}

// Rate implements vegeta.Pacer; it reports the rate implied by the last
// scheduled gap (informational only: vegeta's attacker does not call it).
func (p *Pacer) Rate(time.Duration) float64 {
	if p.next < 2 {
		return 0
	}
	prev := time.Duration(p.ring[(p.next-2)&p.mask].Load())
	if gap := p.last - prev; gap > 0 {
		return 1e9 / float64(gap)
	}
	return math.Inf(1)
}

// Intended returns the intended send time of hit seq, relative to the start
// of the attack.
func (p *Pacer) Intended(seq uint64) time.Duration {
	return time.Duration(p.ring[seq&p.mask].Load())
}

var _ vegeta.Pacer = (*Pacer)(nil)

// ParsePacer builds a schedule from the --pacer flag: constant, poisson,
// ramp, sine, steps or replay. rate is the (mean or final) rate.
func ParsePacer(kind string, rate float64, seed uint64, feed *RequestFeed, duration time.Duration) (Schedule, error) {
	switch kind {
	case "constant":
		return Constant{Rate: rate}, nil
	case "poisson":
		return NewPoisson(rate, seed), nil
	case "ramp":
		over := duration
		if over <= 0 {
			over = time.Minute
		}
		return Ramp{From: 0, To: rate, Over: over}, nil
	case "sine":
		period := duration / 2
		if period <= 0 {
			period = time.Minute
		}
		return Sine{Mean: rate, Amp: rate / 2, Period: period}, nil
	case "steps":
		each := duration / 5
		if each <= 0 {
			each = 10 * time.Second
		}
		return Steps{Rates: []float64{rate / 5, 2 * rate / 5, 3 * rate / 5, 4 * rate / 5, rate}, Each: each}, nil
	case "replay":
		return Replay{Stream: feed}, nil
	}
	return nil, fmt.Errorf("unknown pacer %q (use constant, poisson, ramp, sine, steps or replay)", kind)
}
