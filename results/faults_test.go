package results

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/scenarios"
)

func TestInFlightEnds(t *testing.T) {
	w := FaultWindow{Start: 100, End: 200}
	for _, c := range []struct {
		sent, done int64
		want       bool
		why        string
	}{
		{10, 99, false, "ended before the window"},
		{10, 100, true, "cut at the instant the window opened"},
		{10, 150, true, "in flight at the start: arrived before the window"},
		{120, 130, true, "inside"},
		{150, 400, true, "running past the end"},
		{10, 400, true, "spanning the window"},
		{199, 199, true, "refused at once inside the window"},
		{200, 250, false, "sent as the window closed"},
		{150, 0, true, "no recorded end: counts as ending when sent"},
		{50, 0, false, "no recorded end, sent before the window"},
	} {
		assert.Equal(t, c.want, w.InFlight(c.sent, c.done), c.why)
	}
}

func TestExposureBeyond64Windows(t *testing.T) {
	ws := make([]FaultWindow, 130)
	for i := range ws {
		ws[i] = FaultWindow{Start: int64(i) * 10, End: int64(i)*10 + 5}
	}
	var x Exposure
	require.False(t, x.Any())
	x.Add(ws, 3, 3)       // window 0
	x.Add(ws, 1000, 1002) // window 100
	x.Add(ws, 1291, 1300) // window 129
	for i := range ws {
		assert.Equal(t, i == 0 || i == 100 || i == 129, x.Has(i), "window %d", i)
	}
	var y Exposure
	y.Add(ws, 640, 641) // window 64
	y.Merge(&x)
	assert.True(t, y.Has(64) && y.Has(100) && y.Has(0) && y.Has(129))
	y.Reset()
	assert.False(t, y.Any())
	assert.False(t, y.Has(100))
	y.Copy(&x)
	assert.True(t, y.Has(129))
	assert.False(t, y.Has(64))
	allocs := testing.AllocsPerRun(100, func() {
		y.Reset()
		y.Add(ws, 1000, 1300)
	})
	assert.Zero(t, allocs, "a reused Exposure does not allocate")
}

// A constructed window: TTF is the first failed-over completion, TTR the
// last failure's end, both from the window's start; replications without
// either are left out of the mean, and counts without a base run stay
// null.
func TestSummariseFaultTimes(t *testing.T) {
	f := &scenarios.Fault{Kind: scenarios.FaultOutage, Target: "eastus2"}
	w := FaultWindow{Start: 100e9, End: 160e9}
	a := NewFaultTallies(2)
	a[0].Book(&FaultRequest{Done: 100e9, E2E: 5e9, OK: false})                  // cut at the start
	a[0].Book(&FaultRequest{Done: 102e9, E2E: 3e9, OK: true, FailedOver: true}) // rescued elsewhere
	a[0].Book(&FaultRequest{Done: 101e9, E2E: 1e9, OK: true})                   // served where it was sent
	a[0].Book(&FaultRequest{Done: 130e9, E2E: 2e9, OK: false})
	a[1].Book(&FaultRequest{Done: 104e9, E2E: 4e9, OK: true, FailedOver: true})
	fr := SummariseFault(f, w, []*FaultTally{&a[0], &a[1]}, nil, false)
	assert.Equal(t, int64(5), fr.Requests)
	assert.Equal(t, int64(2), fr.Failed)
	assert.Equal(t, int64(2), fr.FailedOver)
	assert.InDelta(t, 3, float64(fr.TimeToFailoverSeconds), 1e-9, "mean of 2 s and 4 s")
	assert.InDelta(t, 30, float64(fr.TimeToRecoverSeconds), 1e-9, "only replication 0 failed")
	assert.Nil(t, fr.BaselineRequests)
	assert.True(t, math.IsNaN(float64(fr.ExtraE2ESeconds)))
	assert.Empty(t, fr.FailoverWhy())
	assert.Empty(t, fr.RecoverWhy())

	// Nothing failed: neither time is 0, both say why they are missing.
	b := NewFaultTallies(1)
	b[0].Book(&FaultRequest{Done: 120e9, E2E: 1e9, OK: true})
	fr = SummariseFault(f, w, []*FaultTally{&b[0]}, nil, false)
	assert.True(t, math.IsNaN(float64(fr.TimeToFailoverSeconds)))
	assert.True(t, math.IsNaN(float64(fr.TimeToRecoverSeconds)))
	assert.Equal(t, "none needed", fr.FailoverWhy())
	assert.Equal(t, "no failures", fr.RecoverWhy())

	// Failures and no failover: not reached.
	c := NewFaultTallies(1)
	c[0].Book(&FaultRequest{Done: 120e9, OK: false})
	fr = SummariseFault(f, w, []*FaultTally{&c[0]}, nil, false)
	assert.Equal(t, "not reached", fr.FailoverWhy())

	fr = SummariseFault(f, w, []*FaultTally{nil}, nil, false)
	assert.Equal(t, "no requests", fr.FailoverWhy())
	assert.Equal(t, "no requests", fr.RecoverWhy())
}

func TestBookSessionByExposure(t *testing.T) {
	w := FaultWindow{Start: 100, End: 200}
	tl := NewFaultTallies(1)
	tl[0].BookSession(w, 10, 150, false) // started before, failed in it
	tl[0].BookSession(w, 10, 50, false)  // over before it
	tl[0].BookSession(w, 150, 300, true)
	assert.Equal(t, int64(2), tl[0].Sessions)
	assert.Equal(t, int64(1), tl[0].SessionsFailed)
}

// The explanation of a negative extra is generated from the figures, and
// absent when nothing is negative.
func TestNegativeExtra(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	fr := FaultResult{Requests: 1000, Failed: 300, BaselineRequests: n(990), BaselineFailed: n(2),
		ExtraCostUSD: -1.5, ExtraE2ESeconds: -0.9}
	s := fr.NegativeExtra()
	assert.Contains(t, s, "extra cost and E2E are negative")
	assert.Contains(t, s, "300 of 1000 exposed requests failed (30.0%) (2 without the fault)")
	assert.Contains(t, s, "not billed")
	assert.Contains(t, s, "completed requests only")

	fr.ExtraE2ESeconds = 0.4
	s = fr.NegativeExtra()
	assert.True(t, strings.HasPrefix(s, "extra cost is negative"), s)
	assert.NotContains(t, s, "E2E mean")

	fr.ExtraCostUSD = 2
	assert.Empty(t, fr.NegativeExtra(), "nothing negative, nothing to explain")
	fr.ExtraCostUSD = Unknown
	assert.Empty(t, fr.NegativeExtra())

	// No more failures than without the fault: the cause is where the
	// traffic went.
	fr = FaultResult{Requests: 100, Failed: 1, BaselineFailed: n(1), ExtraE2ESeconds: -0.2, ExtraCostUSD: 0.1}
	s = fr.NegativeExtra()
	assert.Contains(t, s, "extra E2E is negative")
	assert.Contains(t, s, "no more requests failed than without the fault")
}

func TestFaultTimesDefined(t *testing.T) {
	assert.True(t, FaultTimesDefined(CurrentSchema))
	assert.True(t, FaultTimesDefined(FaultTimesSchema))
	assert.True(t, FaultTimesDefined("2.0"))
	assert.False(t, FaultTimesDefined("1.1"))
	assert.False(t, FaultTimesDefined("0.0"))
	assert.False(t, FaultTimesDefined(""))
}
