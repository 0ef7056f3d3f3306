package sim

import (
	"bytes"
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
)

// A run stopped before its second strategy started used to fail to encode
// ("json: unsupported value: NaN"): the strategy never started has no
// figures at all, and they are null in summary.json.
func TestInterruptBeforeAStrategyStarts(t *testing.T) {
	s := twoDeployments()
	s.Run.Requests = 5_000_000
	s.Replications = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	sum, err := Run(ctx, s, Options{Workers: 1, Progress: func(int64) { once.Do(cancel) }})
	require.NoError(t, err)
	require.True(t, sum.Interrupted)
	require.Len(t, sum.Results, 2)
	require.Positive(t, sum.Results[0].Requests)
	second := sum.Results[1]
	require.True(t, second.Unmeasured())
	require.True(t, math.IsNaN(second.ThroughputRPS))
	require.True(t, math.IsNaN(second.E2ESeconds.P99))
	require.Nil(t, second.Little)
	var buf bytes.Buffer
	require.NoError(t, results.EncodeSummary(&buf, sum))
	require.Contains(t, buf.String(), `"throughput_rps": null`)
	require.NotContains(t, buf.String(), "NaN")
}

// While a run goes, Checkpoint receives summaries of the replications
// finished so far, marked interrupted; none arrives after Run returns.
func TestCheckpointsCoverFinishedReplications(t *testing.T) {
	s := mmc(10, 9, 20_000)
	s.Replications = 3
	var mu sync.Mutex
	var got []*results.Summary
	returned := false
	firstDone := make(chan struct{})
	var once sync.Once
	sum, err := Run(context.Background(), s, Options{Workers: 1, CheckpointEvery: time.Millisecond,
		Checkpoint: func(cp *results.Summary) {
			mu.Lock()
			defer mu.Unlock()
			require.False(t, returned, "a checkpoint after Run returned")
			got = append(got, cp)
			if cp.Results[0].Replications > 0 {
				once.Do(func() { close(firstDone) })
			}
		},
		Records: func(_ string, rep int) (RecordSink, error) {
			// Hold the later replications until a checkpoint has seen
			// the first one finished.
			if rep > 0 {
				select {
				case <-firstDone:
				case <-time.After(time.Minute):
				}
			}
			return sinkFunc(func(*results.Outcome) error { return nil }), nil
		},
	})
	mu.Lock()
	returned = true
	mu.Unlock()
	require.NoError(t, err)
	require.False(t, sum.Interrupted)
	require.Equal(t, 3, sum.Results[0].Replications)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, got)
	seen := false
	for _, cp := range got {
		require.True(t, cp.Interrupted)
		r := cp.Results[0]
		require.LessOrEqual(t, r.Replications, 3)
		require.Equal(t, r.Replications == 0, r.Unmeasured())
		seen = seen || r.Replications > 0
		require.NoError(t, results.EncodeSummary(&bytes.Buffer{}, cp))
	}
	require.True(t, seen, "a checkpoint covered a finished replication")
}
