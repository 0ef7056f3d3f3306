package routing

import (
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLatencyPicksFastestAndExploresUnseen(t *testing.T) {
	cfg := DefaultLatencyConfig()
	cfg.Buffer, cfg.Epsilon = 0, 0
	l, err := NewLatencyAware(cfg, cands("a", "b", "c"))
	require.NoError(t, err)
	o := okObs(0, 0, 800*ms)
	l.Observe(sec, &o)
	o = okObs(1, 0, 300*ms)
	l.Observe(sec, &o)
	assert.Equal(t, 2, l.Pick(sec, first(0.9)), "an unseen deployment estimates 0 and is tried first")
	o = okObs(2, 0, 500*ms)
	l.Observe(sec, &o)
	for _, u := range []float64{0.01, 0.5, 0.99} {
		assert.Equal(t, 1, l.Pick(sec, first(u)), "the fastest, whatever the draw")
	}
	assert.Equal(t, 2, l.Pick(sec, retry(2, 1, failObs(1, results.StatusFailed, "outage", sec))), "a retry avoids the one that failed")
}

func TestLatencyHalfLife(t *testing.T) {
	l, err := NewLatencyAware(DefaultLatencyConfig(), cands("a"))
	require.NoError(t, err)
	o := okObs(0, 0, 100*ms)
	l.Observe(0, &o)
	o = okObs(0, 0, 100*ms)
	l.Observe(0, &o) // two samples at one instant weigh 2
	o = okObs(0, 30*sec, 400*ms)
	l.Observe(30*sec, &o) // one half-life later they weigh 1
	assert.InDelta(t, float64(250*ms), l.Estimate(0), 1, "(100·1 + 400·1) / 2")
}

func TestLatencyBufferAndEpsilon(t *testing.T) {
	cfg := DefaultLatencyConfig() // buffer 0.2, ε 0.05
	l, err := NewLatencyAware(cfg, cands("a", "b", "c"))
	require.NoError(t, err)
	for dep, ttft := range []int64{1000 * ms, 1150 * ms, 2000 * ms} {
		o := okObs(dep, 0, ttft)
		l.Observe(0, &o)
	}
	counts := make([]int, 3)
	const n = 10000
	for k := range n {
		counts[l.Pick(0, first((float64(k)+0.5)/n))]++
	}
	// 5 % explore uniformly (≈167 each); the rest splits between a and b,
	// both within 20 % of the best.
	assert.InDelta(t, 0.05*n/3, counts[2], 30, "c only by exploration")
	assert.InDelta(t, counts[0], counts[1], 0.05*n)
	assert.Equal(t, n, counts[0]+counts[1]+counts[2])
}

func TestLatencyPenalisesFailures(t *testing.T) {
	cfg := DefaultLatencyConfig()
	cfg.Buffer, cfg.Epsilon = 0, 0
	l, err := NewLatencyAware(cfg, cands("fast-but-dead", "slow"))
	require.NoError(t, err)
	o := okObs(1, 0, 2*sec)
	l.Observe(0, &o)
	o = okObs(0, 0, 100*ms)
	l.Observe(0, &o)
	assert.Equal(t, 0, l.Pick(0, first(0.5)))
	for range 3 {
		o := outage(0, sec) // fails in no time
		l.Observe(sec, &o)
	}
	assert.Equal(t, 1, l.Pick(sec, first(0.5)), "fast failures record the penalty, not their speed (litellm#6345)")
	before := l.Estimate(1)
	o = failObs(1, results.StatusClientError, "http_400", sec)
	l.Observe(sec, &o)
	assert.Equal(t, before, l.Estimate(1), "a client error says nothing about latency")
}

func TestLeastOutstandingFollowsInFlight(t *testing.T) {
	l, err := NewLeastOutstanding(cands("a", "b", "c"))
	require.NoError(t, err)
	var got []int
	for range 6 {
		d := l.Pick(0, first(0.0))
		l.Started(0, d)
		got = append(got, d)
	}
	assert.Equal(t, []int{0, 1, 2, 0, 1, 2}, got, "fills evenly (ties to the first with U = 0)")
	l.Observe(0, &Observation{Dep: 1})
	l.Observe(0, &Observation{Dep: 1})
	assert.Equal(t, 1, l.Pick(0, first(0.99)), "b has the fewest in flight")
	assert.Equal(t, 0, l.InFlight(1))
	l.Observe(0, &Observation{Dep: 1}) // never below zero
	assert.Equal(t, 0, l.InFlight(1))
	assert.NotEqual(t, 1, l.Pick(0, retry(2, 1, outage(1, 0))), "a retry avoids the one that failed")

	// Ties are broken by the draw.
	l, _ = NewLeastOutstanding(cands("a", "b", "c"))
	assert.Equal(t, 0, l.Pick(0, first(0.1)))
	assert.Equal(t, 1, l.Pick(0, first(0.5)))
	assert.Equal(t, 2, l.Pick(0, first(0.9)))
}

func TestPowerOfTwo(t *testing.T) {
	p, err := NewPowerOfTwo(cands("a", "b", "c"))
	require.NoError(t, err)
	for range 5 {
		p.Started(0, 2)
	}
	p.Started(0, 1)
	counts := make([]int, 3)
	for k := range 3000 {
		counts[p.Pick(0, first((float64(k)+0.5)/3000))]++
	}
	assert.Zero(t, counts[2], "the most loaded of three is never the lesser of two distinct choices")
	assert.Greater(t, counts[0], counts[1], "the least loaded wins whenever drawn")
	// Each of the three pairs is drawn about equally: a wins its two pairs,
	// b wins {b, c}.
	assert.InDelta(t, 2000, counts[0], 150)

	// A retry chooses among the others only.
	for k := range 100 {
		u := (float64(k) + 0.5) / 100
		assert.NotEqual(t, 0, p.Pick(0, &Request{Attempt: 2, Prev: 0, U: u}))
	}
	two, _ := NewPowerOfTwo(cands("a", "b"))
	assert.Equal(t, 1, two.Pick(0, &Request{Attempt: 2, Prev: 0, U: 0.3}))
}
