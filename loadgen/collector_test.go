package loadgen

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Against an endpoint that does not report its queue wait (a live one),
// the summary says null for the wait, P(wait) and utilisation instead of
// zeros; faults are not booked (live endpoints apply no scenario faults).
func TestCollectorWritesNullForWhatItCannotSee(t *testing.T) {
	s := load(t, "../testdata/load/queue.yaml")
	c, err := newCollector(collectorConfig{scenario: s, faults: false}, nil, nil, 0, time.Now())
	require.NoError(t, err)
	c.sloOf = func(string) time.Duration { return 0 }
	for i := range 5 {
		at := int64(i) * int64(100*time.Millisecond)
		att := results.Outcome{Kind: results.KindAttempt, RequestID: uint64(i), Attempt: 1, Deployment: "one-slot", Intended: at, Sent: at,
			FirstByte: at + 1e8, FirstToken: at + 1e8, Done: at + 2e8, Queued: -1, InputTokens: 50, OutputTokens: 1, Status: results.StatusOK}
		req := att
		req.Kind = results.KindRequest
		c.add(&Outcome{Request: req, Attempts: []results.Outcome{att}, Intended: time.Duration(at)})
	}
	r, _ := c.result("one")
	assert.Equal(t, int64(5), r.Completed)
	assert.Nil(t, r.WaitSeconds)
	assert.True(t, math.IsNaN(float64(r.PWait)))
	require.Len(t, r.Deployments, 1)
	assert.True(t, math.IsNaN(float64(r.Deployments[0].Utilization)))
	assert.True(t, math.IsNaN(float64(r.TokenCostUSD)), "no prices, no cost")
	assert.Nil(t, r.Faults)
	assert.Nil(t, r.Little)
}

// A request in flight when an outage begins belongs to its window, though
// it arrived before it; one that ended before the window does not, nor
// one sent after it. The window's failures and times follow.
func TestCollectorBooksFaultWindowsByExposure(t *testing.T) {
	s := load(t, "../testdata/load/queue.yaml")
	s.Faults = []scenarios.Fault{{Kind: scenarios.FaultOutage, Target: "one-slot",
		Start: scenarios.Duration(time.Second), Duration: scenarios.Duration(time.Second)}}
	c, err := newCollector(collectorConfig{scenario: s, faults: true}, nil, nil, 0, time.Now())
	require.NoError(t, err)
	c.sloOf = func(string) time.Duration { return 0 }
	add := func(id uint64, at, done int64, st results.Status) {
		att := results.Outcome{Kind: results.KindAttempt, RequestID: id, Attempt: 1, Deployment: "one-slot", Intended: at, Sent: at,
			Done: done, Queued: 0, InputTokens: 50, OutputTokens: 1, Status: st}
		if st == results.StatusOK {
			att.FirstByte, att.FirstToken = at+1e7, at+1e7
		}
		req := att
		req.Kind = results.KindRequest
		c.add(&Outcome{Request: req, Attempts: []results.Outcome{att}, Intended: time.Duration(at)})
	}
	add(1, 0.2e9, 0.5e9, results.StatusOK)     // ended before the outage
	add(2, 0.9e9, 1e9, results.StatusFailed)   // in flight at its start: cut
	add(3, 1.5e9, 1.5e9, results.StatusFailed) // arrived during it
	add(4, 2e9, 2.3e9, results.StatusOK)       // sent as it closed
	r, _ := c.result("one")
	require.Len(t, r.Faults, 1)
	f := r.Faults[0]
	assert.Equal(t, int64(2), f.Requests, "requests 2 and 3")
	assert.Equal(t, int64(2), f.Failed)
	assert.InDelta(t, 0.5, float64(f.TimeToRecoverSeconds), 1e-9, "the last failure ended 0.5 s into the window")
	assert.True(t, math.IsNaN(float64(f.TimeToFailoverSeconds)))
	assert.Equal(t, "not reached", f.FailoverWhy())
	assert.Nil(t, f.BaselineRequests, "a load test has no fault-free run")
}
