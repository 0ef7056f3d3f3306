package loadgen

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
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
