package profile

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"

	"github.com/mcbench/mcbench/backends/record"
	"github.com/mcbench/mcbench/internal/lateness"
	"github.com/mcbench/mcbench/scenarios"
)

var (
	update   = flag.Bool("update", false, "refit testdata/profiles/example.yaml from testdata/recordings/example.jsonl")
	rerecord = flag.Bool("record", false, "with -update, first re-record testdata/recordings/example.jsonl from the fakes (about ten seconds)")
)

// knownModel is the fake whose latency model TestFitRecoversFakeModel must
// recover from a recording. The spreads are modest so that 300 calls pin the
// medians down well inside the tolerances (the standard error of a sample
// median is about 1.25·σ/√n: 1.3% here), the times long enough that a
// millisecond of scheduling delay is 1% of a TTFT, and the prompts short
// (10 to 250 words, with a prefill cost of 400µs a word) so that the
// harness's own work on them adds little to what it measures.
const knownModel = `
name: known
seed: 5
providers: [{name: azure, kind: azure, regions: [eastus2]}]
deployments:
  - name: known
    provider: azure
    region: eastus2
    capacity: {concurrency: 128}
    latency:
      ttft: {dist: lognormal, median: 100ms, p99: 150ms}
      per_input_token: 400us
      tpot: {dist: lognormal, median: 25ms, p99: 37.5ms}
workloads: [{name: w, arrival: {process: poisson, rate: 1/s}}]
strategies: [{name: s, placement: {model: [known]}}]
`

// TestFitRecoversFakeModel records 300 streamed calls of a fake with a known
// latency model through the recording proxy and fits them. Tolerances:
// per_input_token within 10%, the TTFT and TPOT medians within 5%, their p99
// within 30% (a p99 from 300 values is rough). On an idle machine timer
// overruns and loopback hops add well under a millisecond to each time; on
// a busy one (or under the race detector, which slows the harness's
// request handling several-fold) they add more, so every bound widens by
// the p90 of how late 1 ms sleeps woke while recording (internal/lateness):
// the machine's share, never an excuse for the fit.
func TestFitRecoversFakeModel(t *testing.T) {
	if testing.Short() {
		t.Skip("records for about two seconds")
	}
	s, err := scenarios.Parse("known.yaml", []byte(knownModel))
	require.NoError(t, err)
	var sink memSink
	late := lateness.During(func() {
		recordFakes(t, s, &sink, callPlan{Azure: "known", N: 300, Conc: 50, Stream: true, InMin: 10, InMax: 250, OutMin: 8, OutMax: 8, Seed: 1, Stagger: 6 * time.Millisecond})
	})
	require.Len(t, sink.calls, 300)

	f, err := FitCalls(sink.calls, "known")
	require.NoError(t, err)
	t.Logf("%v; fit:\n%s", late, f.YAML(Source{Recording: "memory"}))
	require.NotNil(t, f.TPOT)
	checks := []struct {
		what      string
		want, got float64
		tol       float64
	}{
		{"per_input_token", 400e-6, f.PerInputToken, 0.10},
		{"TTFT median", 100e-3, f.TTFT.Median.Seconds(), 0.05},
		{"TPOT median", 25e-3, f.TPOT.Median.Seconds(), 0.05},
		{"TTFT p99", 150e-3, f.TTFT.P99.Seconds(), 0.30},
		{"TPOT p99", 37.5e-3, f.TPOT.P99.Seconds(), 0.30},
	}
	// Timer overruns add to every measured time; on a busy machine (or under
	// the race detector) they exceed the tolerances' slack, so the bounds
	// widen by what the probe saw. A recorded TTFT passes through about
	// `hops` wake-ups (client send, proxy, the fake's timer, proxy relay,
	// client read), each as late as any other goroutine's: medians widen by
	// hops × the p90 of the lateness, p99s by hops × its p99 (on an idle
	// machine a few tenths of a millisecond, and a millisecond or two).
	const hops = 4
	for _, c := range checks {
		slack := hops * late.P90().Seconds()
		if c.what == "TTFT p99" || c.what == "TPOT p99" {
			slack = hops * late.P99().Seconds()
		}
		bound := c.tol*c.want + slack
		if c.what == "per_input_token" {
			bound = c.tol * c.want * (1 + 100*late.P90().Seconds()) // a slope: overruns blur it rather than shift it
		}
		assert.InDelta(t, c.want, c.got, bound, "%s (%v)", c.what, late)
	}
	assert.Equal(t, 300, f.Deployment.Usable)
	// Input size explains the TTFT spread: the slope stands well clear of
	// its standard error whatever the load. R² is a ratio of variances, and
	// every stall adds variance that input size does not explain (a loaded
	// machine took it from 0.7 to 0.4), so its bound holds on a quiet
	// machine only: sleeps late by under 1 ms at p90.
	assert.Greater(t, f.PerInputToken, 5*f.PerInputTokenSE, "per_input_token %v ± %v", f.PerInputToken, f.PerInputTokenSE)
	if late.P90() < time.Millisecond {
		assert.Greater(t, f.R2, 0.5, "input size explains most of the TTFT spread (%v)", late)
	}

	// The profile, loaded back into a scenario, is the fitted model.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.yaml"), f.YAML(Source{Recording: "memory"}), 0o644))
	l, err := scenarios.LoadProfile(filepath.Join(dir, "p.yaml"))
	require.NoError(t, err)
	assert.InEpsilon(t, f.TTFT.Median.Seconds(), l.TTFT.Quantile(0.5), 1e-3)
	assert.InEpsilon(t, f.PerInputToken, l.PerInputToken.Seconds(), 1e-3)
	assert.InEpsilon(t, f.TPOT.P99.Seconds(), l.TPOT.Quantile(0.99), 1e-3)
}

// synthetic builds usable calls from a model, without any clock.
func synthetic(n int, base, perIn, tpot func(r *rand.Rand) float64, inputs func(r *rand.Rand) int) []record.Call {
	r := rand.New(rand.NewPCG(9, 9))
	calls := make([]record.Call, n)
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := range calls {
		in := inputs(r)
		ttft := base(r) + perIn(r)*float64(in)
		g := tpot(r)
		calls[i] = record.Call{Start: start.Add(time.Duration(i) * time.Second), Provider: "bedrock", ModelID: "m", Operation: record.OpConverseStrm,
			Stream: true, Status: 200, Usage: true, InputTokens: in, OutputTokens: 11, StreamTokens: 11, Chunks: 11,
			TTFTMS: ttft * 1e3, LastTokenMS: (ttft + 10*g) * 1e3}
	}
	return calls
}

func lognormal(median, sigma float64) func(r *rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return median * math.Exp(sigma*r.NormFloat64()) }
}

func constant(v float64) func(*rand.Rand) float64 { return func(*rand.Rand) float64 { return v } }

func TestFitSynthetic(t *testing.T) {
	calls := synthetic(20000, lognormal(0.3, 0.4), constant(50e-6), lognormal(0.025, 0.2), func(r *rand.Rand) int { return 100 + r.IntN(4000) })
	f, err := FitCalls(calls, "m")
	require.NoError(t, err)
	assert.InEpsilon(t, 50e-6, f.PerInputToken, 0.05)
	assert.InEpsilon(t, 0.3, f.TTFT.Median.Seconds(), 0.05)
	assert.InEpsilon(t, 0.3*math.Exp(0.4*z99), f.TTFT.P99.Seconds(), 0.10)
	assert.InEpsilon(t, 0.025, f.TPOT.Median.Seconds(), 0.03)
	assert.InDelta(t, 0.2, f.TPOT.Sigma(), 0.03)
	assert.True(t, f.TTFTQuality.Empirical)
	assert.Less(t, f.TTFTQuality.KS, 0.05)
	assert.Less(t, math.Abs(f.TPOTQuality.P50), 0.02)
	assert.Equal(t, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).Add(19999*time.Second), f.Last)

	// Few calls: the p99 comes from the interquartile range.
	f, err = FitCalls(calls[:40], "m")
	require.NoError(t, err)
	assert.False(t, f.TTFTQuality.Empirical)
	assert.InEpsilon(t, 0.025*math.Exp(0.2*z99), f.TPOT.P99.Seconds(), 0.25)
}

func TestFitEdgeCases(t *testing.T) {
	// Constant input: no slope, R² 0; constant latency: the spread is clamped.
	calls := synthetic(50, constant(0.2), constant(0), constant(0.01), func(*rand.Rand) int { return 500 })
	f, err := FitCalls(calls, "m")
	require.NoError(t, err)
	assert.False(t, f.InputVaried)
	assert.Zero(t, f.PerInputToken)
	assert.True(t, f.TTFTQuality.Clamped)
	assert.InEpsilon(t, 1.01, float64(f.TTFT.P99)/float64(f.TTFT.Median), 1e-6)
	assert.Contains(t, f.Report(), "did not vary")

	// TTFT falling with input: the slope is clamped to zero and said so.
	calls = synthetic(200, lognormal(0.5, 0.1), constant(-20e-6), constant(0.01), func(r *rand.Rand) int { return r.IntN(10000) })
	f, err = FitCalls(calls, "m")
	require.NoError(t, err)
	assert.Less(t, f.RawPerInputToken, 0.0)
	assert.Zero(t, f.PerInputToken)
	assert.Contains(t, f.Report(), "clamped to 0")

	// Failed, non-streamed and other deployments' calls are not used.
	calls = synthetic(20, constant(0.2), constant(0), constant(0.01), func(*rand.Rand) int { return 5 })
	calls[0].Status, calls[1].Error, calls[2].Stream, calls[3].ModelID = 429, "incomplete", false, "other"
	_, err = FitCalls(calls, "m")
	require.NoError(t, err, "16 usable calls is enough")
	_, err = FitCalls(calls[:12], "m")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "8 successful streamed calls")
	_, err = FitCalls(calls, "nope")
	assert.ErrorContains(t, err, "no calls")

	// One-token answers: no TPOT.
	calls = synthetic(20, constant(0.2), constant(0), constant(0.01), func(*rand.Rand) int { return 5 })
	for i := range calls {
		calls[i].StreamTokens = 1
	}
	f, err = FitCalls(calls, "m")
	require.NoError(t, err)
	assert.Nil(t, f.TPOT)
	assert.NotRegexp(t, `(?m)^tpot:`, string(f.YAML(Source{})))
}

func TestChoose(t *testing.T) {
	calls := synthetic(3, constant(0.2), constant(0), constant(0.01), func(*rand.Rand) int { return 5 })
	name, err := Choose(calls, "")
	require.NoError(t, err)
	assert.Equal(t, "m", name)
	calls[0].ModelID = "other"
	_, err = Choose(calls, "")
	assert.ErrorIs(t, err, ErrNoDeployment)
	assert.ErrorContains(t, err, "other (bedrock, 1 calls, 1 usable)")
	_, err = Choose(calls, "zzz")
	assert.ErrorContains(t, err, `no deployment or model "zzz"`)
	_, err = Choose(nil, "")
	assert.Error(t, err)
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0ns", 512: "512ns", 41523: "41.52us", 312_400_000: "312.4ms", 1_234_567_890: "1.235s", 90 * time.Second: "90s",
	} {
		assert.Equal(t, want, FormatDuration(d))
		_, err := scenarios.ParseDuration(want)
		assert.NoError(t, err, want)
	}
	assert.Equal(t, "0.25ns", FormatSeconds(0.25e-9))
	assert.Equal(t, "40us", FormatSeconds(40e-6))
	assert.Equal(t, "0s", FormatSeconds(-1))
}

// The example shipped in testdata: a recording of the fakes of
// testdata/recordings/example-fake.yaml (Azure and Bedrock, streamed and
// not, plus calls to a deployment that does not exist), and the profile
// fitted from its Azure deployment, which testdata/good/profiled.yaml uses.
const (
	exampleDir        = "../../testdata"
	exampleRecording  = "recordings/example.jsonl"
	exampleProfile    = "profiles/example.yaml"
	exampleFake       = "recordings/example-fake.yaml"
	exampleDeployment = "gpt-4o-eastus2"
)

var exampleSource = Source{
	Recording: "testdata/" + exampleRecording,
	Command:   "mcbench profile fit testdata/" + exampleRecording + " --deployment " + exampleDeployment + " --out testdata/" + exampleProfile,
}

// TestExampleProfile checks that the shipped profile is what fitting the
// shipped recording gives, and that the scenario using it loads. With
// -update it rewrites the profile; with -update -record it first re-records
// the example from the fakes:
//
//	go test ./backends/profile -run TestExampleProfile -args -update -record
func TestExampleProfile(t *testing.T) {
	recPath := filepath.Join(exampleDir, exampleRecording)
	profPath := filepath.Join(exampleDir, exampleProfile)
	if *update && *rerecord {
		s, err := scenarios.Load(filepath.Join(exampleDir, exampleFake))
		require.NoError(t, err)
		require.NoError(t, os.Remove(recPath), "start from an empty recording")
		w, err := record.Create(recPath)
		require.NoError(t, err)
		recordFakes(t, s, w,
			callPlan{Azure: exampleDeployment, N: 240, Conc: 40, Stream: true, InMin: 100, InMax: 4000, OutMin: 20, OutMax: 60, Seed: 1, Stagger: 30 * time.Millisecond},
			callPlan{Azure: exampleDeployment, N: 20, Conc: 4, Stream: false, InMin: 100, InMax: 4000, OutMin: 20, OutMax: 60, Seed: 2, Stagger: 100 * time.Millisecond},
			callPlan{Azure: "gpt-4o-westus", N: 5, Conc: 1, Stream: true, InMin: 10, InMax: 20, OutMin: 5, OutMax: 5, Seed: 3},
			callPlan{Bedrock: "anthropic.claude-3-haiku-20240307-v1:0", N: 80, Conc: 20, Stream: true, InMin: 100, InMax: 4000, OutMin: 20, OutMax: 60, Seed: 4, Stagger: 50 * time.Millisecond},
		)
		require.NoError(t, w.Close())
	}
	calls, truncated, err := record.ReadFile(recPath)
	require.NoError(t, err)
	require.False(t, truncated)
	f, err := FitCalls(calls, exampleDeployment)
	require.NoError(t, err)
	got := f.YAML(exampleSource)
	if *update {
		require.NoError(t, os.WriteFile(profPath, got, 0o644))
		t.Logf("%s", got)
	}
	want, err := os.ReadFile(profPath)
	require.NoError(t, err, "run go test ./backends/profile -run TestExampleProfile -args -update")
	assert.Equal(t, string(want), string(got))

	// The example recovers the fake's model: the recording is not a toy.
	s, err := scenarios.Load(filepath.Join(exampleDir, exampleFake))
	require.NoError(t, err)
	truth := s.Deployments[0].Latency
	assert.InEpsilon(t, truth.PerInputToken.Seconds(), f.PerInputToken, 0.15)
	assert.InEpsilon(t, truth.TTFT.Quantile(0.5), f.TTFT.Median.Seconds(), 0.10)
	assert.InEpsilon(t, truth.TPOT.Quantile(0.5), f.TPOT.Median.Seconds(), 0.10)

	// The scenario that uses the profile loads, with the profile's model.
	sc, err := scenarios.Load(filepath.Join(exampleDir, "good", "profiled.yaml"))
	require.NoError(t, err)
	var found bool
	for _, d := range sc.Deployments {
		if d.Latency.Profile == "../"+exampleProfile {
			found = true
			assert.InEpsilon(t, f.TTFT.Median.Seconds(), d.Latency.TTFT.Quantile(0.5), 1e-3)
			assert.InEpsilon(t, f.PerInputToken, d.Latency.PerInputToken.Seconds(), 1e-3)
		}
	}
	assert.True(t, found, "profiled.yaml uses the example profile")

	// Every line of the example is clean of prompt and completion text.
	data, err := os.ReadFile(recPath)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "word word")
	assert.NotContains(t, string(data), harnessKey)
}

func TestPerInputTokenStandardError(t *testing.T) {
	// The slope's standard error is the spread of slopes over many samples.
	var slopes, ses []float64
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 7))
		calls := synthetic(100, constant(0), constant(0), constant(0.01), func(*rand.Rand) int { return 0 })
		for i := range calls {
			in := 100 + r.IntN(4000)
			calls[i].InputTokens = in
			calls[i].TTFTMS = (0.3*math.Exp(0.4*r.NormFloat64()) + 50e-6*float64(in)) * 1e3
		}
		f, err := FitCalls(calls, "m")
		require.NoError(t, err)
		slopes = append(slopes, f.RawPerInputToken)
		ses = append(ses, f.PerInputTokenSE)
	}
	sd := math.Sqrt(stat.Variance(slopes, nil))
	assert.InEpsilon(t, sd, stat.Mean(ses, nil), 0.15)
	assert.InEpsilon(t, 50e-6, stat.Mean(slopes, nil), 0.05)
}
