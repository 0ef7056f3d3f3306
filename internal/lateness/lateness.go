// Package lateness measures how late this machine wakes a sleeping
// goroutine: the scheduling delay that a busy machine, or the race
// detector, adds to every wall-clock measurement. Timing tests run a probe
// beside what they measure and widen their bounds by what it saw, so that
// they hold the code to what the machine could do at that moment instead
// of failing, or being skipped, on a loaded laptop. Near zero on an idle
// machine, it reaches tens of milliseconds with every core busy.
package lateness

import (
	"slices"
	"strconv"
	"time"
)

// Tick is the sleep the probe times: short enough to sample a run of a
// second or two many times, long enough to be a real timer wait.
const Tick = time.Millisecond

// Probe samples, in a goroutine of its own, how late sleeps of Tick wake
// until Stop is called. It always has at least one sample.
type Probe struct {
	stop chan struct{}
	done chan []time.Duration
}

// Start starts a probe.
func Start() *Probe {
	p := &Probe{stop: make(chan struct{}), done: make(chan []time.Duration, 1)}
	go func() {
		var late []time.Duration
		for {
			// At least one sample, however soon Stop comes.
			t0 := time.Now()
			time.Sleep(Tick)
			late = append(late, max(time.Since(t0)-Tick, 0))
			select {
			case <-p.stop:
				p.done <- late
				return
			default:
			}
		}
	}()
	return p
}

// Stop ends the sampling and returns what the probe saw.
func (p *Probe) Stop() Lateness {
	close(p.stop)
	late := <-p.done
	slices.Sort(late)
	return Lateness{sorted: late}
}

// During runs f with a probe beside it and returns the lateness seen
// while f ran.
func During(f func()) Lateness {
	p := Start()
	f()
	return p.Stop()
}

// Lateness is how late the probe's sleeps woke.
type Lateness struct {
	sorted []time.Duration
}

// Of returns the Lateness of the given samples (for tests of code that
// takes one).
func Of(samples ...time.Duration) Lateness {
	s := slices.Clone(samples)
	slices.Sort(s)
	return Lateness{sorted: s}
}

// N is the number of sleeps sampled.
func (l Lateness) N() int { return len(l.sorted) }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of the lateness, the sample
// at rank ⌊q·n⌋ (clamped), or 0 if nothing was sampled.
func (l Lateness) Quantile(q float64) time.Duration {
	if len(l.sorted) == 0 {
		return 0
	}
	i := min(max(int(q*float64(len(l.sorted))), 0), len(l.sorted)-1)
	return l.sorted[i]
}

// P50, P90 and P99 are the usual quantiles.
func (l Lateness) P50() time.Duration { return l.Quantile(0.5) }

// P90 is the 90th percentile.
func (l Lateness) P90() time.Duration { return l.Quantile(0.9) }

// P99 is the 99th percentile.
func (l Lateness) P99() time.Duration { return l.Quantile(0.99) }

// String gives the median, p90 and p99, for test messages.
func (l Lateness) String() string {
	return "timer lateness p50 " + l.P50().String() + ", p90 " + l.P90().String() + ", p99 " + l.P99().String() +
		" (" + strconv.Itoa(len(l.sorted)) + " sleeps of " + Tick.String() + ")"
}
