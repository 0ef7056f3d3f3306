package loadgen

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/scenarios"
)

// count returns how many hits a schedule puts before t.
func count(t *testing.T, s Schedule, until time.Duration) int {
	t.Helper()
	n := 0
	prev := time.Duration(-1)
	for k := uint64(0); ; k++ {
		d, ok := s.Due(k)
		if !ok || d >= until {
			return n
		}
		require.GreaterOrEqual(t, d, prev, "schedules never go back in time (hit %d)", k)
		prev = d
		n++
	}
}

func TestSchedulesIntegrateTheirRate(t *testing.T) {
	assert.Equal(t, 1000, count(t, Constant{Rate: 100}, 10*time.Second))
	// Ramp 0 → 100/s over 10 s: 500 hits in the ramp, then 100/s.
	assert.InDelta(t, 500, count(t, Ramp{From: 0, To: 100, Over: 10 * time.Second}, 10*time.Second), 1)
	assert.InDelta(t, 1500, count(t, Ramp{From: 0, To: 100, Over: 10 * time.Second}, 20*time.Second), 1)
	// Ramp down 100 → 20/s over 10 s: 600 hits.
	assert.InDelta(t, 600, count(t, Ramp{From: 100, To: 20, Over: 10 * time.Second}, 10*time.Second), 1)
	// Sine over whole periods integrates to the mean; half a period is above it.
	s := Sine{Mean: 100, Amp: 50, Period: 10 * time.Second}
	assert.InDelta(t, 2000, count(t, s, 20*time.Second), 1)
	assert.InDelta(t, 500+50/(math.Pi/5)*2, count(t, s, 5*time.Second), 1)
	steps := Steps{Rates: []float64{10, 20, 30}, Each: 10 * time.Second}
	assert.Equal(t, 100, count(t, steps, 10*time.Second))
	assert.Equal(t, 600, count(t, steps, time.Hour), "a sweep ends after its last step")
}

func TestPoissonIsSeededAndHasItsRate(t *testing.T) {
	a, b := NewPoisson(200, 7), NewPoisson(200, 7)
	for k := range uint64(100) {
		da, _ := a.Due(k)
		db, _ := b.Due(k)
		require.Equal(t, da, db)
	}
	// Counts in 1,000 one-second windows: mean and variance both ≈ 200 (Poisson).
	p := NewPoisson(200, 11)
	counts := make([]float64, 1000)
	for k := uint64(0); ; k++ {
		d, _ := p.Due(k)
		if d >= 1000*time.Second {
			break
		}
		counts[int(d/time.Second)]++
	}
	mean, sd := 0.0, 0.0
	for _, c := range counts {
		mean += c
	}
	mean /= 1000
	for _, c := range counts {
		sd += (c - mean) * (c - mean)
	}
	variance := sd / 999
	assert.InDelta(t, 200, mean, 4*math.Sqrt(200.0/1000))
	assert.InDelta(t, 1, variance/mean, 0.15, "index of dispersion of a Poisson process is 1")
}

func TestPacerRecordsIntendedTimes(t *testing.T) {
	p := NewPacer(Constant{Rate: 10}, 0)
	wait, stop := p.Pace(0, 0)
	assert.False(t, stop)
	assert.Equal(t, time.Duration(0), wait)
	wait, _ = p.Pace(50*time.Millisecond, 1)
	assert.Equal(t, 50*time.Millisecond, wait)
	// Behind schedule (hit 2 due at 200 ms, now 900 ms): send at once, and
	// the intended time stays 200 ms so the lateness counts in latency.
	wait, _ = p.Pace(900*time.Millisecond, 2)
	assert.Equal(t, -700*time.Millisecond, wait)
	assert.Equal(t, 200*time.Millisecond, p.Intended(2))

	limited := NewPacer(Constant{Rate: 10}, time.Second)
	for k := range uint64(10) {
		_, stop := limited.Pace(0, k)
		require.False(t, stop)
	}
	_, stop = limited.Pace(0, 10)
	assert.True(t, stop, "the duration ends the schedule")
}

func TestReplayFollowsTheStream(t *testing.T) {
	s, err := scenarios.Open("demo")
	require.NoError(t, err)
	feed, err := NewRequestFeed(s, false)
	require.NoError(t, err)
	defer feed.Close()
	st, err := scenarios.NewStream(s, 0)
	require.NoError(t, err)
	defer st.Close()
	r := Replay{Stream: feed}
	var want scenarios.Request
	for k := range uint64(500) {
		require.True(t, st.Next(&want))
		d, ok := r.Due(k)
		require.True(t, ok)
		require.Equal(t, time.Duration(want.At), d, "hit %d is sent when the simulator's request %d arrives", k, k)
		got, ok := feed.Request(k)
		require.True(t, ok)
		require.Equal(t, want, got)
	}
}

func TestParsePacer(t *testing.T) {
	for _, k := range []string{"constant", "poisson", "ramp", "sine", "steps"} {
		s, err := ParsePacer(k, 50, 1, nil, time.Minute)
		require.NoError(t, err, k)
		d, ok := s.Due(0)
		require.True(t, ok, k)
		require.GreaterOrEqual(t, d, time.Duration(0))
	}
	_, err := ParsePacer("warp", 1, 1, nil, 0)
	assert.ErrorContains(t, err, "unknown pacer")
}
