package reports

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

const twinScenario = `
name: twin-unit
seed: 5
replications: 3
run: {requests: 200}
providers:
  - {name: azure, kind: azure, regions: [eastus2, swedencentral]}
deployments:
  - {name: east, provider: azure, region: eastus2, model: gpt-4o, capacity: {concurrency: 50}, latency: {ttft: 100ms, tpot: 5ms}}
  - {name: west, provider: azure, region: swedencentral, model: gpt-4o, capacity: {concurrency: 50}, latency: {ttft: 100ms, tpot: 5ms}}
workloads:
  - {name: chat, arrival: {process: constant, rate: 100/s}, input_tokens: 100, output_tokens: 20, max_tokens: 50}
  - {name: batch, arrival: {process: constant, rate: 10/s}, input_tokens: 1000, output_tokens: 50, max_tokens: 100}
strategies:
  - {name: split, placement: {model: [east, west]}, routing: {policy: failover, max_attempts: 3}}
`

func twinTestScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("twin-unit.yaml", []byte(twinScenario))
	require.NoError(t, err)
	return s
}

// twinReqSpec is one handmade request: its outcome and timings (ns from
// its intended send), and what the load test's attempts report.
type twinReqSpec struct {
	id         uint64
	class      string
	dep        string
	status     results.Status
	attempts   int
	intended   int64
	ttft, e2e  int64
	sendLag    int64
	fakeLag    int64
	queued     int64
	outputToks int32
	errClass   string
}

// records turns specs into the attempt and request records an engine
// writes: one attempt per attempt made, the last one deciding.
func (sp twinReqSpec) records(strategy string, rep int32) []results.Outcome {
	var out []results.Outcome
	sent := sp.intended + sp.sendLag
	for a := 1; a <= sp.attempts; a++ {
		o := results.Outcome{Kind: results.KindAttempt, Replication: rep, RequestID: sp.id, Attempt: int32(a), Class: sp.class, Strategy: strategy,
			Provider: "azure", Region: "eastus2", Deployment: sp.dep, Intended: sent, Sent: sent, InputTokens: 100, Lag: sp.fakeLag, Queued: sp.queued}
		if a < sp.attempts {
			o.Status, o.Done = results.StatusThrottled, sent+int64(time.Millisecond)
		} else {
			o.Status, o.ErrorClass = sp.status, sp.errClass
			o.Done = sp.intended + sp.e2e
			if sp.status == results.StatusOK {
				o.FirstToken, o.FirstByte, o.OutputTokens = sp.intended+sp.ttft, sp.intended+sp.ttft, sp.outputToks
			}
		}
		out = append(out, o)
	}
	req := out[len(out)-1]
	req.Kind, req.Attempt, req.Intended, req.Sent, req.Lag = results.KindRequest, int32(sp.attempts), sp.intended, sent, -1
	return append(out, req)
}

// baseSpecs is replication rep's stream as the simulator ran it: every
// request completes at east after one attempt, TTFT 100 ms plus a draw.
func baseSpecs(rep int, n int) []twinReqSpec {
	rng := rand.New(rand.NewPCG(uint64(rep), 9))
	specs := make([]twinReqSpec, n)
	for i := range specs {
		ttft := int64(100*time.Millisecond) + int64(rng.IntN(50))*int64(time.Millisecond)
		class := "chat"
		if i%10 == 0 {
			class = "batch"
		}
		specs[i] = twinReqSpec{id: uint64(i), class: class, dep: "east", status: results.StatusOK, attempts: 1, intended: int64(i) * int64(10*time.Millisecond),
			ttft: ttft, e2e: ttft + int64(100*time.Millisecond), outputToks: 20}
	}
	return specs
}

// writeTwinRun writes a run directory: records, a summary naming the
// strategy, and run.json with the scenario.
func writeTwinRun(t *testing.T, sc *scenarios.Scenario, source string, reps [][]twinReqSpec, load *results.Load) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, results.OutcomesFile))
	require.NoError(t, err)
	w, err := results.NewOutcomeWriter(f, true)
	require.NoError(t, err)
	for rep, specs := range reps {
		for _, sp := range specs {
			for _, o := range sp.records("split", int32(rep)) {
				if source == "sim" {
					o.Lag = 0
				}
				require.NoError(t, w.Write(&o))
			}
		}
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	sum := &results.Summary{Scenario: sc.Name, ScenarioSHA256: results.ScenarioHash(sc), Seed: sc.Seed, Source: source, Version: "test",
		Results: []results.Result{{Strategy: "split", Replications: len(reps)}}, Load: load}
	require.NoError(t, results.WriteSummary(dir, sum))
	require.NoError(t, results.WriteRunInfo(dir, &results.RunInfo{Command: "mcbench twin test", Version: "test", Scenario: sc, Source: "test"}))
	return dir
}

func replayLoad(n int) *results.Load {
	return &results.Load{Pacer: "replay", Target: "fake", Scheduled: uint64(n), Sent: uint64(n)}
}

// twinOf runs Twin on a simulation of sim's replications and a load test
// of the given specs.
func twinOf(t *testing.T, sim [][]twinReqSpec, load []twinReqSpec, opt TwinOptions) *TwinReport {
	t.Helper()
	sc := twinTestScenario(t)
	simRun, err := results.OpenRun(writeTwinRun(t, sc, "sim", sim, nil))
	require.NoError(t, err)
	loadRun, err := results.OpenRun(writeTwinRun(t, sc, "load", [][]twinReqSpec{load}, replayLoad(len(load))))
	require.NoError(t, err)
	r, err := Twin(simRun, loadRun, opt)
	require.NoError(t, err)
	return r
}

func simReps(n int) [][]twinReqSpec {
	return [][]twinReqSpec{baseSpecs(0, n), baseSpecs(1, n), baseSpecs(2, n)}
}

func defaultTol(t *testing.T) Tolerance {
	tol, err := ParseTolerance(DefaultTolerance, twinTestScenario(t))
	require.NoError(t, err)
	return tol
}

func TestTwinPairsRequestsByID(t *testing.T) {
	const n = 200
	sim := simReps(n)
	load := baseSpecs(0, n)
	for i := range load {
		load[i].ttft += int64(2 * time.Millisecond)
		load[i].e2e += int64(3 * time.Millisecond)
		load[i].fakeLag = -1
	}
	load[3].ttft += int64(40 * time.Millisecond) // the largest residual: +42 ms
	load[5].status, load[5].ttft = results.StatusThrottled, 0
	load[7].dep = "west"
	load[9].attempts = 2
	// The load generator writes records in completion order, not by ID.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(load), func(i, j int) { load[i], load[j] = load[j], load[i] })
	var kept []twinReqSpec
	for _, sp := range load {
		if sp.id != n-1 { // the last request never reached the load test's records
			kept = append(kept, sp)
		}
	}
	r := twinOf(t, sim, kept, TwinOptions{Tolerance: defaultTol(t)})

	assert.Equal(t, TwinPairing{Paired: n - 1, CompletedInBoth: n - 2, OnlyInSimulation: 1}, r.Pairing)
	assert.Equal(t, int64(n), r.Simulation.Requests)
	assert.Equal(t, int64(n-1), r.LoadTest.Requests)
	assert.Equal(t, 3, r.Simulation.Replications)

	// Exact per-request residuals: 2 ms TTFT (3 ms E2E) everywhere but one request.
	assert.Equal(t, int64(n-2), r.Residuals.TTFT.N)
	assert.InDelta(t, 2e6, float64(r.Residuals.TTFT.MedianNS), 0)
	assert.InDelta(t, 3e6, float64(r.Residuals.E2E.MedianNS), 0)
	assert.InDelta(t, 42e6, float64(r.Residuals.TTFT.MaxAbsNS), 0)
	assert.InDelta(t, 3e6, float64(r.Residuals.E2E.MaxAbsNS), 0)
	assert.InDelta(t, 2e6, float64(r.Residuals.TTFT.P1NS), 0)
	var binned int64
	for _, b := range r.Residuals.E2E.Histogram.Bins {
		binned += b.Count
	}
	assert.Equal(t, int64(n-2), binned+r.Residuals.E2E.Histogram.Below+r.Residuals.E2E.Histogram.Above)

	// Differing outcomes, listed by request ID with both sides.
	d := r.Differences
	assert.Equal(t, int64(4), d.Count)
	assert.Equal(t, int64(1), d.Status)
	assert.Equal(t, int64(1), d.Deployment)
	assert.Equal(t, int64(1), d.Attempts)
	assert.Equal(t, int64(1), d.OnlyInSimulation)
	require.Len(t, d.Listed, 4)
	assert.Equal(t, []uint64{5, 7, 9, n - 1}, []uint64{d.Listed[0].RequestID, d.Listed[1].RequestID, d.Listed[2].RequestID, d.Listed[3].RequestID})
	assert.Equal(t, []string{"status"}, d.Listed[0].Differs)
	assert.Equal(t, "ok", d.Listed[0].Predicted.Status)
	assert.Equal(t, "throttled", d.Listed[0].Measured.Status)
	assert.True(t, math.IsNaN(float64(d.Listed[0].Measured.TTFTSeconds)), "a throttled request has no TTFT")
	assert.Equal(t, "east", d.Listed[1].Predicted.Deployment)
	assert.Equal(t, "west", d.Listed[1].Measured.Deployment)
	assert.Equal(t, int32(2), d.Listed[2].Measured.Attempts)
	assert.Equal(t, []string{"missing"}, d.Listed[3].Differs)
	assert.Nil(t, d.Listed[3].Measured)

	// Per-class counts: the throttled request is a chat request.
	thr := r.Metric("throttles.chat")
	require.NotNil(t, thr)
	assert.Equal(t, 0.0, float64(thr.Predicted))
	assert.Equal(t, 1.0, float64(thr.Measured))
	assert.True(t, math.IsInf(float64(thr.RelativeError), 1), "predicted 0, measured 1: infinitely off (null in JSON)")
	assert.Equal(t, MetricNoTolerance, thr.Verdict)
	att := r.Metric("attempts.mean")
	require.NotNil(t, att)
	assert.InDelta(t, 1.0, float64(att.Predicted), 1e-12)
	assert.InDelta(t, 200.0/199, float64(att.Measured), 1e-12)
	assert.NotNil(t, r.Metric("cost.total"), "gpt-4o is priced")

	// The fakes did not report their lag: not used.
	assert.False(t, r.Validity.FakeLagReported)
	assert.True(t, r.Validity.Valid)
}

func TestTwinPredictedIsReplicationZeroWithInterval(t *testing.T) {
	sim := simReps(200)
	r := twinOf(t, sim, baseSpecs(0, 200), TwinOptions{Tolerance: defaultTol(t)})
	m := r.Metric("ttft.mean")
	require.NotNil(t, m)
	var sum, per [3]float64
	for rep := range 3 {
		for _, sp := range sim[rep] {
			sum[rep] += float64(sp.ttft)
		}
		per[rep] = sum[rep] / 200 / 1e9
	}
	assert.InDelta(t, per[0], float64(m.Predicted), 1e-12)
	iv := results.CI95(per[:])
	assert.InDelta(t, iv.Lo, m.PredictedCI95[0], 1e-12)
	assert.InDelta(t, iv.Hi, m.PredictedCI95[1], 1e-12)
	assert.Equal(t, 0.0, float64(m.RelativeError), "the load test saw exactly replication 0")
	for _, mm := range r.Metrics {
		if mm.Verdict != MetricNoTolerance {
			assert.Equal(t, VerdictPass, mm.Verdict, mm.ID)
		}
	}
	assert.Equal(t, VerdictPass, r.Verdict)
	assert.Empty(t, r.Differences.Listed)
}

func TestTwinVerdicts(t *testing.T) {
	const n = 200
	tol := defaultTol(t)
	slower := func(f float64) []twinReqSpec {
		load := baseSpecs(0, n)
		for i := range load {
			load[i].ttft = int64(float64(load[i].ttft) * f)
		}
		return load
	}

	t.Run("pass within tolerance", func(t *testing.T) {
		r := twinOf(t, simReps(n), slower(1.01), TwinOptions{Tolerance: tol, MaxSendLag: 20 * time.Millisecond, MaxFakeLag: 20 * time.Millisecond})
		assert.Equal(t, VerdictPass, r.Verdict)
		assert.Equal(t, VerdictPass, r.Metric("ttft.p50").Verdict)
		assert.Equal(t, MetricNoTolerance, r.Metric("ttft.p90").Verdict)
		assert.Empty(t, r.Reasons)
	})

	t.Run("fail on one metric", func(t *testing.T) {
		// TTFT 3% slower: beyond ±2% at p50, within ±5% at p99.
		r := twinOf(t, simReps(n), slower(1.03), TwinOptions{Tolerance: tol, MaxSendLag: 20 * time.Millisecond, MaxFakeLag: 20 * time.Millisecond})
		assert.Equal(t, VerdictFail, r.Verdict)
		assert.Equal(t, VerdictFail, r.Metric("ttft.p50").Verdict)
		assert.Equal(t, VerdictPass, r.Metric("ttft.p99").Verdict)
		require.Len(t, r.Reasons, 1)
		assert.Contains(t, r.Reasons[0], "ttft.p50")
		assert.Contains(t, r.Reasons[0], "beyond ±2.00%")
	})

	t.Run("invalid send lag takes precedence", func(t *testing.T) {
		load := slower(1.5)
		for i := range load {
			load[i].sendLag = int64(30 * time.Millisecond)
		}
		r := twinOf(t, simReps(n), load, TwinOptions{Tolerance: tol, MaxSendLag: 20 * time.Millisecond, MaxFakeLag: 20 * time.Millisecond})
		assert.Equal(t, VerdictInvalid, r.Verdict)
		assert.Equal(t, VerdictFail, r.Metric("ttft.p50").Verdict, "the metric is still outside; the verdict says it cannot be trusted")
		assert.False(t, r.Validity.Valid)
		assert.InDelta(t, 0.030, float64(r.Validity.SendLagP99Seconds), 1e-9)
		require.Len(t, r.Reasons, 1)
		assert.Contains(t, r.Reasons[0], "send lag p99 30 ms is beyond --max-send-lag 20ms")
	})

	t.Run("error when the target does not answer", func(t *testing.T) {
		load := baseSpecs(0, n)
		for i := range load {
			if i%10 == 3 {
				load[i].status, load[i].errClass = results.StatusFailed, "connection"
			}
		}
		r := twinOf(t, simReps(n), load, TwinOptions{Tolerance: tol, MaxSendLag: 20 * time.Millisecond, MaxFakeLag: 20 * time.Millisecond})
		assert.Equal(t, VerdictError, r.Verdict, "a target that drops connections says nothing about the model")
		assert.Equal(t, int64(n/10), r.Pairing.Unanswered)
		assert.Contains(t, strings.Join(r.Reasons, ";"), "did not answer 20 of the requests")
		// Nothing answered at all: still an error, never a pass.
		for i := range load {
			load[i].status, load[i].errClass = results.StatusFailed, "connection"
		}
		r = twinOf(t, simReps(n), load, TwinOptions{Tolerance: tol})
		assert.Equal(t, VerdictError, r.Verdict)
		// Failures the model predicts are not the target's fault.
		sim := simReps(n)
		for _, rep := range sim {
			for i := range rep {
				rep[i].status, rep[i].errClass = results.StatusFailed, "outage"
			}
		}
		r = twinOf(t, sim, load, TwinOptions{Tolerance: tol})
		assert.Equal(t, VerdictError, r.Verdict, "no metric with a tolerance can be computed when nothing completed")
		assert.Contains(t, strings.Join(r.Reasons, ";"), "no metric with a tolerance could be computed")
	})

	t.Run("invalid fake lag", func(t *testing.T) {
		load := baseSpecs(0, n)
		for i := range load {
			load[i].fakeLag = int64(time.Millisecond)
			if i%20 == 0 {
				load[i].fakeLag = int64(50 * time.Millisecond) // 5% of calls: the p99 is 50 ms
			}
		}
		r := twinOf(t, simReps(n), load, TwinOptions{Tolerance: tol, MaxSendLag: 20 * time.Millisecond, MaxFakeLag: 20 * time.Millisecond})
		assert.Equal(t, VerdictInvalid, r.Verdict)
		assert.True(t, r.Validity.FakeLagReported)
		assert.InDelta(t, 0.050, float64(r.Validity.FakeLagP99Seconds), 1e-9)
		assert.Contains(t, strings.Join(r.Reasons, ";"), "fake lag p99 50 ms is beyond --max-fake-lag 20ms")
		// Without a bound the same lag is reported but does not invalidate.
		r = twinOf(t, simReps(n), load, TwinOptions{Tolerance: tol})
		assert.Equal(t, VerdictPass, r.Verdict)
	})

	t.Run("fewer sent than scheduled", func(t *testing.T) {
		sc := twinTestScenario(t)
		simRun, err := results.OpenRun(writeTwinRun(t, sc, "sim", simReps(n), nil))
		require.NoError(t, err)
		l := replayLoad(n)
		l.Sent = n - 10
		loadRun, err := results.OpenRun(writeTwinRun(t, sc, "load", [][]twinReqSpec{baseSpecs(0, n)}, l))
		require.NoError(t, err)
		r, err := Twin(simRun, loadRun, TwinOptions{Tolerance: tol})
		require.NoError(t, err)
		assert.Equal(t, VerdictInvalid, r.Verdict)
		assert.Contains(t, r.Reasons[0], "sent 190 of the 200 requests scheduled")
	})

	t.Run("no tolerance passes", func(t *testing.T) {
		r := twinOf(t, simReps(n), slower(2), TwinOptions{})
		assert.Equal(t, VerdictPass, r.Verdict)
		assert.Equal(t, "pass (no metric has a tolerance)", r.Summary())
	})
}

func TestTwinRefusesRunsThatShareNoStream(t *testing.T) {
	sc := twinTestScenario(t)
	simDir := writeTwinRun(t, sc, "sim", simReps(50), nil)
	other := twinTestScenario(t)
	other.Seed = 6
	loadDir := writeTwinRun(t, other, "load", [][]twinReqSpec{baseSpecs(0, 50)}, replayLoad(50))
	simRun, err := results.OpenRun(simDir)
	require.NoError(t, err)
	loadRun, err := results.OpenRun(loadDir)
	require.NoError(t, err)
	_, err = Twin(simRun, loadRun, TwinOptions{})
	assert.ErrorContains(t, err, "share no request stream")
	_, err = Twin(loadRun, simRun, TwinOptions{})
	assert.ErrorContains(t, err, "not a simulation")

	l := replayLoad(50)
	l.Pacer = "constant"
	loadRun, err = results.OpenRun(writeTwinRun(t, sc, "load", [][]twinReqSpec{baseSpecs(0, 50)}, l))
	require.NoError(t, err)
	_, err = Twin(simRun, loadRun, TwinOptions{})
	assert.ErrorContains(t, err, "only the replay pacer")
}

func TestParseTolerance(t *testing.T) {
	sc := twinTestScenario(t)
	tol, err := ParseTolerance("ttft.p50=2%, e2e.p99=5.5%,wait.mean=10%,attempts.mean=0%,cost.total=1%,failures.chat=50%,throttles.batch=5%", sc)
	require.NoError(t, err)
	assert.Equal(t, Tolerance{{"ttft.p50", 0.02}, {"e2e.p99", 0.055}, {"wait.mean", 0.10}, {"attempts.mean", 0}, {"cost.total", 0.01},
		{"failures.chat", 0.5}, {"throttles.batch", 0.05}}, tol)
	assert.Equal(t, "ttft.p50=2%,e2e.p99=5.5%,wait.mean=10%,attempts.mean=0%,cost.total=1%,failures.chat=50%,throttles.batch=5%", tol.String())
	def, err := ParseTolerance(DefaultTolerance, sc)
	require.NoError(t, err)
	assert.Len(t, def, 4)
	for _, none := range []string{"", "none"} {
		tol, err = ParseTolerance(none, sc)
		require.NoError(t, err)
		assert.Empty(t, tol)
	}

	for spec, want := range map[string]string{
		"ttft.p5o=2%":             `"ttft.p5o=2%": unknown statistic "p5o" (use p50, p90, p99 or mean)`,
		"ttft.p50=2%,tfft.p99=5%": `"tfft.p99=5%": unknown metric "tfft" (use ttft, e2e, wait, attempts, cost, failures, throttles or timeouts)`,
		"wait.p99=5%":             `"wait.p99=5%": unknown statistic "p99" (use mean)`,
		"ttft.p50=2":              `"ttft.p50=2": "2" is not a percentage (write e.g. 2%)`,
		"ttft.p50=-1%":            `"ttft.p50=-1%": "-1%" is not a percentage ≥ 0 (write e.g. 2%)`,
		"ttft.p50=abc%":           `"ttft.p50=abc%": "abc%" is not a percentage ≥ 0 (write e.g. 2%)`,
		"ttft.p50":                `"ttft.p50": want METRIC.STATISTIC=PERCENT, e.g. ttft.p99=5%`,
		"ttft=2%":                 `"ttft=2%": "ttft" names no statistic (want METRIC.STATISTIC, e.g. ttft.p99)`,
		"ttft.p50=2%,ttft.p50=3%": `"ttft.p50=3%": ttft.p50 has a tolerance already`,
		"failures.web=1%":         `"failures.web=1%": scenario "twin-unit" has no workload "web" (failures are counted per workload: use chat or batch)`,
		"ttft.p50=2%,":            `"ttft.p50=2%,": empty rule (rules are separated by single commas, e.g. ` + DefaultTolerance + `)`,
	} {
		_, err := ParseTolerance(spec, sc)
		require.Error(t, err, spec)
		assert.Equal(t, want, err.Error(), spec)
	}
	// Without a scenario, workload names are not checked.
	_, err = ParseTolerance("failures.web=1%", nil)
	assert.NoError(t, err)
}

func TestTwinDocumentAndJSON(t *testing.T) {
	const n = 200
	load := baseSpecs(0, n)
	for i := range load {
		load[i].ttft += int64(time.Millisecond)
		load[i].e2e += int64(time.Millisecond)
		load[i].fakeLag = int64(time.Millisecond)
	}
	load[4].status = results.StatusFailed
	r := twinOf(t, simReps(n), load, TwinOptions{Tolerance: defaultTol(t), MaxSendLag: 20 * time.Millisecond, Version: "test", Command: "mcbench twin x"})
	doc := r.Document()
	for _, f := range doc.Figures() {
		assert.Empty(t, f.Missing, f.ID)
		assert.NotEmpty(t, f.PNG, f.ID)
	}
	ids := map[string]bool{}
	for _, f := range doc.Figures() {
		ids[f.ID] = true
	}
	assert.Equal(t, map[string]bool{FigTwinTTFT: true, FigTwinE2E: true, FigTwinQQ: true, FigTwinResiduals: true}, ids)
	dir := t.TempDir()
	files, err := doc.Write(dir, []string{FormatHTML, FormatMarkdown, FormatCSV})
	require.NoError(t, err)
	for _, want := range []string{"report.html", "report.md", "csv/twin-metrics.csv", "csv/twin-residuals.csv", "csv/twin-differing-requests.csv", "plots/twin-qq.png"} {
		assert.Contains(t, files, filepath.Join(dir, want))
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "verdict: pass")
	assert.Contains(t, string(md), "| ttft.p50 |")

	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	var doc2 map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc2))
	for _, k := range []string{"scenario", "scenario_sha256", "seed", "strategy", "simulation", "load_test", "pairing", "tolerance", "metrics", "residuals", "outcome_differences", "validity", "verdict", "reasons"} {
		assert.Contains(t, doc2, k)
	}
	v := doc2["validity"].(map[string]any)
	assert.Nil(t, v["max_fake_lag_seconds"], "no bound: null")
	assert.InDelta(t, 0.001, v["fake_lag_p99_seconds"], 1e-12)
	res := doc2["residuals"].(map[string]any)["ttft"].(map[string]any)
	assert.InDelta(t, 1e6, res["median_ns"], 0)
	var failed map[string]any
	for _, m := range doc2["metrics"].([]any) {
		if m.(map[string]any)["id"] == "failures.chat" {
			failed = m.(map[string]any)
		}
	}
	require.NotNil(t, failed)
	assert.Nil(t, failed["relative_error"], "predicted 0 failures, measured 1: null, not a made-up number")
	assert.Equal(t, []any{0.0, 0.0}, failed["predicted_ci95"], "no failure in any replication")

	// The same report twice gives the same bytes.
	var again bytes.Buffer
	require.NoError(t, r.WriteJSON(&again))
	assert.Equal(t, buf.String(), again.String())
}
