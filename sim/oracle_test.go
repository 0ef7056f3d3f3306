package sim_test

// Oracle tests: the simulator against closed forms (sim/queueing,
// docs/references.md [1]). Each textbook scenario in testdata/textbook is
// simulated with its own fixed seed and replication count; for every
// statistic the test asserts that
//
//  1. the exact value lies inside a Student-t interval over the
//     per-replication values (replications are independent, so the interval
//     is valid; requests within one run are autocorrelated and are never
//     treated as a sample), and
//  2. the replication mean is within a loose relative bound of the exact
//     value and the 95% interval is no wider than that bound, so a noisy run
//     cannot pass vacuously with a huge interval.
//
// Little's law and request conservation are asserted on every replication.
//
// Why the interval in 1 is wider than 95%: a 95% interval misses the truth
// 5% of the time by construction, and the oracle suites hold about forty
// intervals. Asserting each at 95% makes the suite fail by chance for most
// seeds, which is what happened with seeds fixed in advance: M/M/10 ρ=0.9
// (Wq, wait p99, sojourn p99), Erlang B exponential and M/D/1 missed at 95%
// with 20 replications, while 600–1000 replications of the same scenarios
// cover the exact values and their groups of 20 miss at the nominal ~5%
// rate. The assertion therefore uses the Bonferroni level
// results.FamilyLevel(0.95, oracleFamily), so the whole suite has at most a
// 5% chance of a false alarm, and every 95% interval and miss is logged
// (go test -v) for the reader. The seeds and replication counts in the YAML
// files were fixed before any result was seen; never tune them until tests
// pass. A failure is evidence to investigate: rerun the scenario with many
// more replications before blaming (or clearing) the engine.

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
	"github.com/mcbench/mcbench/sim"
	"github.com/mcbench/mcbench/sim/queueing"
)

// stat is one per-replication statistic with its exact value.
type stat struct {
	name  string
	exact float64
	// rel bounds |mean − exact| and the interval's half-width, relative to exact.
	rel float64
	of  func(r *results.ReplicationStats) float64
}

// textbook describes what a scenario file must contain for its closed forms
// to apply; the test checks the loaded scenario against it so that an edit to
// the YAML cannot silently desynchronise file and oracle.
type textbook struct {
	file    string
	process string  // arrival process of the only workload
	lambda  float64 // Poisson or constant rate; for MMPP the mean rate
	c       int     // concurrency
	loss    bool    // queue: 0 (loss system) rather than an unbounded queue
	meanS   float64 // E[S], seconds
	es2     float64 // E[S²], seconds²
	stats   []stat
}

// Tolerances for the loose bounds. They are set by the precision the
// replications give (about 2–4% half-width for means and tail quantiles,
// well under 1% for probabilities at these run lengths) with room to spare,
// not by the observed results.
const (
	relMean = 0.05 // means, medians and p99s of M/M/c
	relTail = 0.08 // p99s at ρ = 0.9, the noisiest estimates
	relProb = 0.02 // probabilities: P(wait), blocking; arrival rates
)

// oracleFamily bounds the number of "exact value inside the interval"
// assertions across the oracle suites (this file and
// scenarios/stream_oracle_test.go), for the family-wise level.
const oracleFamily = 40

// assertLevel is the per-interval level of the assertions: the suite as a
// whole keeps a 95% chance of passing when the engine is exact.
var assertLevel = results.FamilyLevel(0.95, oracleFamily)

var (
	meanWait = func(r *results.ReplicationStats) float64 { return r.MeanWait }
	pWait    = func(r *results.ReplicationStats) float64 { return r.PWait }
	p50E2E   = func(r *results.ReplicationStats) float64 { return r.P50E2E }
	p99E2E   = func(r *results.ReplicationStats) float64 { return r.P99E2E }
	p99Wait  = func(r *results.ReplicationStats) float64 { return r.P99Wait }
	meanE2E  = func(r *results.ReplicationStats) float64 { return r.MeanE2E }
	blocking = func(r *results.ReplicationStats) float64 { return float64(r.Rejected) / float64(r.Requests) }
	// arrival rate of measured requests: n arrivals over the span between
	// the first and the last (n−1 gaps; the bias 1/n is negligible here).
	arrivalRate = func(r *results.ReplicationStats) float64 { return float64(r.Requests) / r.MeasuredSeconds }
)

// mmcStats returns the M/M/c statistics checked for a queue with
// exponential service of mean 1 s.
func mmcStats(q queueing.MMc, tail float64) []stat {
	return []stat{
		{"mean wait Wq", q.Wq(), relMean, meanWait},
		{"P(wait)", q.PWait(), relProb, pWait},
		{"wait p99", q.WaitQuantile(0.99), tail, p99Wait},
		{"sojourn p50", q.SojournQuantile(0.50), relMean, p50E2E},
		{"sojourn p99", q.SojournQuantile(0.99), tail, p99E2E},
	}
}

func TestOracleMM1Rho09(t *testing.T) {
	q := queueing.MM1(0.9, 1)
	// The closed forms the header of the file quotes.
	require.InDelta(t, 9, q.Wq(), 1e-12)
	require.InDelta(t, 46.0517, q.SojournQuantile(0.99), 1e-4)
	runTextbook(t, textbook{
		file: "mm1-rho09.yaml", process: scenarios.ProcPoisson, lambda: 0.9, c: 1,
		meanS: 1, es2: 2, stats: mmcStats(q, relTail),
	})
}

func TestOracleMM10Rho09(t *testing.T) {
	q := queueing.MMc{Lambda: 9, Mu: 1, C: 10}
	require.InDelta(t, 0.668732, q.Wq(), 1e-6)
	require.InDelta(t, 6.2499, q.SojournQuantile(0.99), 1e-4)
	runTextbook(t, textbook{
		file: "mm10-rho09.yaml", process: scenarios.ProcPoisson, lambda: 9, c: 10,
		meanS: 1, es2: 2, stats: mmcStats(q, relTail),
	})
}

func TestOracleMM10Rho08(t *testing.T) {
	q := queueing.MMc{Lambda: 8, Mu: 1, C: 10}
	require.InDelta(t, 0.204590, q.Wq(), 1e-6)
	require.InDelta(t, 4.9461, q.SojournQuantile(0.99), 1e-4)
	runTextbook(t, textbook{
		file: "mm10-rho08.yaml", process: scenarios.ProcPoisson, lambda: 8, c: 10,
		meanS: 1, es2: 2, stats: mmcStats(q, relMean),
	})
}

// erlangBStats checks the blocking probability and that accepted requests
// take their plain service time (no queueing in a loss system): the mean
// sojourn of completed requests is E[S], since admission does not depend on
// the request's own service draw.
func erlangBStats(c int, a float64) []stat {
	return []stat{
		{"blocking Rejected/Requests", queueing.ErlangB(c, a), relProb, blocking},
		{"mean sojourn of accepted", 1, relProb, meanE2E},
	}
}

func TestOracleErlangBExponential(t *testing.T) {
	require.InDelta(t, 0.121661, queueing.ErlangB(10, 8), 1e-6)
	runTextbook(t, textbook{
		file: "erlangb-exp.yaml", process: scenarios.ProcPoisson, lambda: 8, c: 10, loss: true,
		meanS: 1, es2: 2, stats: erlangBStats(10, 8),
	})
}

// TestOracleErlangBLognormal is the insensitivity check: with lognormal
// service (cv 2) the blocking probability is still B(10, 8). A simulator that
// got it right only for exponential service would miss it here.
func TestOracleErlangBLognormal(t *testing.T) {
	runTextbook(t, textbook{
		file: "erlangb-lognormal.yaml", process: scenarios.ProcPoisson, lambda: 8, c: 10, loss: true,
		meanS: 1, es2: queueing.SecondMoment(1, 4), stats: erlangBStats(10, 8),
	})
}

func TestOracleMD1Rho09(t *testing.T) {
	wq := queueing.MD1Wq(0.9, 1)
	require.InDelta(t, 4.5, wq, 1e-12)
	runTextbook(t, textbook{
		file: "md1-rho09.yaml", process: scenarios.ProcPoisson, lambda: 0.9, c: 1,
		meanS: 1, es2: 1,
		stats: []stat{
			{"mean wait Wq (P-K)", wq, relMean, meanWait},
			{"P(wait) = ρ", 0.9, relProb, pWait},
			{"mean sojourn W", wq + 1, relMean, meanE2E},
		},
	})
}

func TestOracleMG1Lognormal(t *testing.T) {
	es2 := queueing.SecondMoment(1, 1.5*1.5)
	wq := queueing.PKWq(0.8, 1, es2)
	require.InDelta(t, 6.5, wq, 1e-12)
	runTextbook(t, textbook{
		file: "mg1-lognormal.yaml", process: scenarios.ProcPoisson, lambda: 0.8, c: 1,
		meanS: 1, es2: es2,
		stats: []stat{
			{"mean wait Wq (P-K)", wq, relMean, meanWait},
			{"P(wait) = ρ", 0.8, relProb, pWait},
			{"mean sojourn W", wq + 1, relMean, meanE2E},
		},
	})
}

// TestOracleMMPPQueue checks bursty arrivals: the exact MMPP-2/M/10 queue
// (matrix-geometric) and the arrival rate. Arrivals are not Poisson, so
// P(wait) is the arrival-weighted probability, not the time average.
func TestOracleMMPPQueue(t *testing.T) {
	m := queueing.MMPP2FromSojourns(12, 4, 10, 10)
	exact, err := queueing.SolveMMPP2MMc(m, 1, 10)
	require.NoError(t, err)
	require.InDelta(t, 2.901563, exact.Wq, 1e-6)
	require.InDelta(t, 0.759010, exact.PWait, 1e-6)
	runTextbook(t, textbook{
		file: "mmpp-mm10.yaml", process: scenarios.ProcMMPP, lambda: m.MeanRate(), c: 10,
		meanS: 1, es2: 2,
		stats: []stat{
			{"arrival rate λ̄", m.MeanRate(), relProb, arrivalRate},
			{"mean wait Wq", exact.Wq, relMean, meanWait},
			{"P(wait) seen by arrivals", exact.PWait, relProb, pWait},
			{"mean sojourn W", exact.W, relMean, meanE2E},
		},
	})
}

// runTextbook loads, checks and simulates a textbook scenario and asserts
// its statistics and invariants.
func runTextbook(t *testing.T, tb textbook) {
	t.Helper()
	s, err := scenarios.Load(filepath.Join("..", "testdata", "textbook", tb.file))
	require.NoError(t, err)
	checkTextbookScenario(t, s, tb)

	sum, err := sim.Run(context.Background(), s, sim.Options{})
	require.NoError(t, err)
	require.False(t, sum.Interrupted)
	require.Len(t, sum.Results, 1)
	res := &sum.Results[0]
	require.Len(t, res.PerReplication, s.Replications)

	n := int64(s.Run.Requests)
	warm := int64(s.Run.Warmup.Fraction * float64(s.Run.Requests))
	for i := range res.PerReplication {
		r := &res.PerReplication[i]
		// Little's law over the whole run: L (time average of the number in
		// the system) equals λW (arrivals × mean sojourn / time) exactly,
		// since the run starts and ends empty; only rounding may differ.
		assert.InDelta(t, r.LittleLambdaW, r.LittleL, 1e-6*r.LittleLambdaW, "rep %d: Little's law L = λW", i)
		assert.Positive(t, r.LittleL, "rep %d", i)
		// Conservation: every arrival is counted; measured ones end completed
		// or rejected, nothing fails or times out, one attempt each.
		assert.Equal(t, n, r.Arrivals, "rep %d arrivals", i)
		assert.Equal(t, n-warm, r.Requests, "rep %d measured requests (10%% warm-up)", i)
		assert.Equal(t, r.Requests, r.Completed+r.Rejected, "rep %d conservation", i)
		assert.Zero(t, r.Failed+r.TimedOut, "rep %d failed/timed out", i)
		assert.Equal(t, r.Requests, r.Attempts, "rep %d attempts (max_attempts 1)", i)
		if tb.loss {
			assert.Zero(t, r.Waited, "rep %d: nobody waits in a loss system", i)
			assert.Zero(t, r.MeanWait, "rep %d: nobody waits in a loss system", i)
		} else {
			assert.Zero(t, r.Rejected, "rep %d: an unbounded queue rejects nothing", i)
		}
	}

	for _, st := range tb.stats {
		xs := make([]float64, len(res.PerReplication))
		for i := range res.PerReplication {
			xs[i] = st.of(&res.PerReplication[i])
		}
		iv := results.CI95(xs)
		fw := results.MeanCI(xs, assertLevel)
		miss := ""
		if !iv.Contains(st.exact) {
			miss = "  MISS at 95%"
		}
		t.Logf("%-28s exact %-10.6g 95%% CI %v  (rel. error %+.2f%%, rel. half-width %.2f%%)%s",
			st.name, st.exact, iv, 100*(iv.Mean-st.exact)/st.exact, 100*iv.RelHalfWidth(st.exact), miss)
		assert.True(t, fw.Contains(st.exact), "%s: exact %.6g outside the family-wise replication CI %v (95%%: %v)", st.name, st.exact, fw, iv)
		assert.LessOrEqual(t, math.Abs(iv.Mean-st.exact), st.rel*st.exact,
			"%s: mean %.6g more than %.0f%% from exact %.6g", st.name, iv.Mean, 100*st.rel, st.exact)
		assert.LessOrEqual(t, iv.HalfWidth(), st.rel*st.exact,
			"%s: 95%% CI %v too wide to validate anything (bound %.0f%% of %.6g)", st.name, iv, 100*st.rel, st.exact)
	}

	// The summary's own intervals are the same Student-t intervals over the
	// same per-replication values.
	var pw, mw []float64
	for i := range res.PerReplication {
		pw = append(pw, res.PerReplication[i].PWait)
		mw = append(mw, res.PerReplication[i].MeanWait)
	}
	for _, c := range []struct {
		name string
		got  [2]float64
		xs   []float64
	}{{"p_wait_ci95", res.PWaitCI95, pw}, {"wait_seconds.mean_ci95", res.WaitSeconds.MeanCI95, mw}} {
		want := results.CI95(c.xs)
		assert.InDelta(t, want.Lo, c.got[0], 1e-12+1e-9*math.Abs(want.Lo), "summary %s", c.name)
		assert.InDelta(t, want.Hi, c.got[1], 1e-12+1e-9*math.Abs(want.Hi), "summary %s", c.name)
	}
}

// checkTextbookScenario asserts that the file describes the system the
// closed forms are for: one workload, one deployment, one strategy with a
// single attempt, no network latency, service time = TTFT draw only.
func checkTextbookScenario(t *testing.T, s *scenarios.Scenario, tb textbook) {
	t.Helper()
	require.Len(t, s.Workloads, 1)
	require.Len(t, s.Deployments, 1)
	require.Len(t, s.Strategies, 1)
	require.Empty(t, s.Links)
	require.Empty(t, s.Faults)
	require.Equal(t, 0.1, s.Run.Warmup.Fraction)
	require.Positive(t, int64(s.Run.Requests))
	require.GreaterOrEqual(t, s.Replications, 10)

	w := &s.Workloads[0]
	require.Equal(t, tb.process, w.Arrival.Process)
	if tb.process == scenarios.ProcMMPP {
		require.InDelta(t, tb.lambda, w.Arrival.RateAt(0), 1e-12, "MMPP mean rate")
	} else {
		require.InDelta(t, tb.lambda, w.Arrival.Rate.PerSecond(), 1e-12, "arrival rate")
	}

	d := &s.Deployments[0]
	require.Equal(t, tb.c, d.Capacity.Concurrency)
	if tb.loss {
		require.NotNil(t, d.Capacity.Queue)
		require.Zero(t, *d.Capacity.Queue, "loss system: queue 0")
	} else {
		require.Nil(t, d.Capacity.Queue, "unbounded queue")
	}
	require.Zero(t, d.Capacity.Quota.Tokens)
	require.Zero(t, d.Capacity.Quota.Requests)
	require.True(t, d.Latency.TPOT.IsZero(), "tpot must be omitted")
	require.Zero(t, d.Latency.PerInputToken, "per_input_token must be omitted")
	require.InDelta(t, tb.meanS, d.Latency.TTFT.Mean(), 1e-9, "E[S]")
	require.InDelta(t, tb.es2, d.Latency.TTFT.SecondMoment(), 1e-9, "E[S²]")

	st := &s.Strategies[0]
	require.Equal(t, []string{d.Name}, st.Placement[scenarios.LayerModel])
	require.Equal(t, 1, st.Routing.MaxAttempts)
	require.Zero(t, st.Routing.Timeout)
}
