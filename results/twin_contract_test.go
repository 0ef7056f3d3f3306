package results_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/loadgen"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
	"github.com/mcbench/mcbench/sim"
)

// requestTimes maps request ID to (TTFT, E2E, deployment) of completed
// request records of replication 0.
type reqTimes struct {
	ttft, e2e int64
	dep       string
	lag       int64
}

func requestTimes(t *testing.T, run *results.Run) map[uint64]reqTimes {
	t.Helper()
	out := map[uint64]reqTimes{}
	require.NoError(t, run.Outcomes(func(o *results.Outcome) error {
		if o.Kind == results.KindRequest && o.Replication == 0 && o.Status == results.StatusOK {
			out[o.RequestID] = reqTimes{ttft: o.FirstToken - o.Intended, e2e: o.Done - o.Intended, dep: o.Deployment, lag: o.Lag}
		}
		return nil
	}))
	return out
}

// The twin contract: replaying the simulator's stream against the fakes,
// each request gets the same service draws, the same routing and the same
// link latency in both engines, so its measured TTFT and E2E match the
// simulated ones to within the instrument's error, request by request. The
// scenario's TTFTs spread over hundreds of milliseconds: drawn
// independently, a request would typically be 100 ms or more off.
func TestTwinContractPairsRequests(t *testing.T) {
	s, err := scenarios.Load("../testdata/load/crn.yaml")
	require.NoError(t, err)

	simDir := t.TempDir()
	parts, err := results.NewParts(simDir)
	require.NoError(t, err)
	sum, err := sim.Run(context.Background(), s, sim.Options{
		Records: func(strategy string, rep int) (sim.RecordSink, error) { return parts.Open(strategy, rep) },
	})
	require.NoError(t, err)
	require.NoError(t, parts.Merge())
	require.NoError(t, results.WriteSummary(simDir, sum))
	require.NoError(t, results.WriteRunInfo(simDir, &results.RunInfo{Scenario: s}))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, base, err := fake.StartLoopback(ctx, s, fake.Options{})
	require.NoError(t, err)
	loadDir := t.TempDir()
	lsum, err := loadgen.Run(context.Background(), s, loadgen.FakeRoutes(srv, base), loadgen.Options{
		Strategy: "split", Pacer: "replay", Out: loadDir, SendOutputTokens: true, Grace: time.Second, Target: "fake",
	})
	require.NoError(t, err)
	require.NoError(t, results.WriteSummary(loadDir, lsum))
	require.NoError(t, results.WriteRunInfo(loadDir, &results.RunInfo{Scenario: s}))
	require.NotNil(t, lsum.Load.FakeLagSeconds, "the fakes report their lag")

	simRun, err := results.OpenRun(simDir)
	require.NoError(t, err)
	loadRun, err := results.OpenRun(loadDir)
	require.NoError(t, err)
	want, got := requestTimes(t, simRun), requestTimes(t, loadRun)
	require.Len(t, want, 120)
	require.Len(t, got, 120)

	var resTTFT, resE2E, simTTFT []float64
	for id, w := range want {
		g, ok := got[id]
		require.True(t, ok, "request %d completed in the simulator only", id)
		assert.Equal(t, w.dep, g.dep, "request %d: the same routing draw picks the same deployment", id)
		assert.GreaterOrEqual(t, g.lag, int64(0), "request %d: the fake reported its lag", id)
		resTTFT = append(resTTFT, math.Abs(float64(g.ttft-w.ttft)))
		resE2E = append(resE2E, math.Abs(float64(g.e2e-w.e2e)))
		simTTFT = append(simTTFT, float64(w.ttft))
	}
	slices.Sort(resTTFT)
	slices.Sort(resE2E)
	slices.Sort(simTTFT)
	spread := simTTFT[len(simTTFT)*9/10] - simTTFT[len(simTTFT)/10]
	require.Greater(t, spread, 200e6, "the draws spread TTFT widely (p90 − p10 = %.0f ms)", spread/1e6)
	// The instrument's error is a few milliseconds on a quiet machine; the
	// bound leaves room for a busy one and -race while staying far below
	// what independent draws would give.
	med := func(xs []float64) float64 { return xs[len(xs)/2] / 1e6 }
	assert.Less(t, med(resTTFT), 25.0, "median |TTFT residual| in ms")
	assert.Less(t, med(resE2E), 25.0, "median |E2E residual| in ms")
	t.Logf("median |residual|: TTFT %.2f ms, E2E %.2f ms; TTFT p90−p10 %.0f ms", med(resTTFT), med(resE2E), spread/1e6)
}
