package sim

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnstableStops runs M/M/1 at ρ = 2 with an unbounded queue: the queue
// grows without end, so each replication must stop at MaxInFlight and Run
// return what finished with an UnstableError naming the deployment.
func TestUnstableStops(t *testing.T) {
	s := mmc(1, 2, 1_000_000)
	s.Replications = 2
	sum, err := Run(context.Background(), s, Options{MaxInFlight: 500, Workers: 1})
	var u *UnstableError
	require.True(t, errors.As(err, &u), "err = %v", err)
	assert.Equal(t, "s", u.Strategy)
	assert.Equal(t, int64(500), u.Limit)
	assert.Equal(t, int64(501), u.InFlight)
	assert.Equal(t, "d", u.Deployment)
	assert.Equal(t, 500, u.Queued) // one in service, the rest waiting
	assert.Contains(t, err.Error(), `unstable: arrival rate exceeds capacity: strategy "s" (replication 0) held 501 requests in flight`)
	assert.Contains(t, err.Error(), "raise it with MCBENCH_LIMITS=in_flight=1000")

	require.NotNil(t, sum, "the figures so far come with the error")
	assert.True(t, sum.Interrupted)
	r := sum.Results[0]
	assert.Equal(t, 2, r.Replications)
	// Each replication stopped after about 1,000 arrivals (λ = 2, μ = 1:
	// the queue gains one a second), far from the million asked for.
	assert.Positive(t, r.Completed)
	assert.Less(t, r.Requests, int64(10_000))
}

// TestStableUnderLimit checks that a stable queue never trips the limit:
// M/M/10 at ρ = 0.9 holds some tens of requests.
func TestStableUnderLimit(t *testing.T) {
	s := mmc(10, 9, 50_000)
	sum, err := Run(context.Background(), s, Options{MaxInFlight: 500})
	require.NoError(t, err)
	assert.False(t, sum.Interrupted)
	assert.Equal(t, int64(50_000), sum.Results[0].Requests)
}

// TestWorkersBeyondJobs checks that Run starts no more workers than it has
// replications: a huge Workers (the CLI refuses one, a library caller may
// not) must neither start millions of goroutines nor change the results.
func TestWorkersBeyondJobs(t *testing.T) {
	s := mmc(10, 9, 2000)
	s.Replications = 2
	a, err := Run(context.Background(), s, Options{Workers: 1 << 40})
	require.NoError(t, err)
	b, err := Run(context.Background(), s, Options{Workers: 1})
	require.NoError(t, err)
	assert.Equal(t, b.Results[0].E2ESeconds, a.Results[0].E2ESeconds)
}
