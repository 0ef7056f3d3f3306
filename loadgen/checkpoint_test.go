package loadgen

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
)

// While a load test runs, Checkpoint receives summaries of what was
// measured so far, marked interrupted (what a run killed outright leaves
// as its summary.json); none arrives after Run returns.
func TestCheckpointsWhileRunning(t *testing.T) {
	s := load(t, "../testdata/load/queue.yaml")
	routes := startFake(t, s, nil)
	var mu sync.Mutex
	var got []*results.Summary
	returned := false
	sum, err := Run(context.Background(), s, routes, Options{Strategy: "one", Pacer: "constant", Rate: 10, Duration: 2500 * time.Millisecond,
		Out: t.TempDir(), CheckpointEvery: time.Millisecond, Checkpoint: func(cp *results.Summary) {
			mu.Lock()
			defer mu.Unlock()
			require.False(t, returned, "a checkpoint after Run returned")
			got = append(got, cp)
		}})
	mu.Lock()
	returned = true
	mu.Unlock()
	require.NoError(t, err)
	require.False(t, sum.Interrupted)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, got, "the flush loop ticks every second")
	for _, cp := range got {
		require.True(t, cp.Interrupted)
		require.Equal(t, "load", cp.Source)
		require.NotNil(t, cp.Load)
		require.LessOrEqual(t, cp.Results[0].Requests, sum.Results[0].Requests)
		require.NoError(t, results.EncodeSummary(&bytes.Buffer{}, cp))
	}
}
