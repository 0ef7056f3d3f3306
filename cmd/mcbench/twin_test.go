package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

const twinCase = "../../testdata/twin/constant.yaml"

// twinLoose are the checks the twin tests hold a correct model to: the
// medians within 10% and lag bounds of five seconds, so a busy machine (two
// cores, -race) neither fails a correct model nor invalidates the run,
// while a model 20% off is still caught.
var twinLoose = []string{"--tolerance", "ttft.p50=10%,e2e.p50=10%", "--max-send-lag", "5s", "--max-fake-lag", "5s", "--no-progress"}

func TestTwinPassesOnACorrectModel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a load test against the fakes")
	}
	dir := filepath.Join(t.TempDir(), "twin")
	stdout, stderr, err := execute(t, append([]string{"twin", twinCase, "--strategy", "azure", "--out", dir,
		"--threshold", "error_rate<1%"}, twinLoose...)...)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Equal(t, 0, exitCode(err))
	assert.Contains(t, stdout, "thresholds of the load test: all passed")
	assert.Contains(t, stdout, "thresholds of the simulation: all passed")
	for _, run := range []string{"load", "sim"} {
		sum, err := results.ReadSummary(filepath.Join(dir, run, "summary.json"))
		require.NoError(t, err)
		require.Len(t, sum.Results[0].Thresholds, 1, run)
		assert.Equal(t, results.ThresholdResult{Expression: "error_rate<1%", Value: 0, Pass: true}, sum.Results[0].Thresholds[0], run)
	}
	for _, f := range []string{"report/twin.json", "report/report.html", "report/report.md", "report/csv/twin-metrics.csv",
		"report/plots/twin-qq.png", "load/outcomes.csv", "load/summary.json", "sim/outcomes.csv", "sim/summary.json"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	assert.Contains(t, stdout, "ttft.p50")
	assert.Contains(t, stdout, "validity: send lag p99")
	assert.Contains(t, stdout, "verdict: PASS")

	b, err := os.ReadFile(filepath.Join(dir, "report", "twin.json"))
	require.NoError(t, err)
	var got struct {
		Verdict string `json:"verdict"`
		Pairing struct {
			Paired          int64 `json:"paired"`
			CompletedInBoth int64 `json:"completed_in_both"`
		} `json:"pairing"`
		Differences struct {
			Count int64 `json:"count"`
		} `json:"outcome_differences"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, reports.VerdictPass, got.Verdict)
	assert.Equal(t, int64(300), got.Pairing.Paired, "every request of the stream, paired by ID")
	assert.Equal(t, int64(300), got.Pairing.CompletedInBoth, "at low utilisation every request completes in both")
	assert.Zero(t, got.Differences.Count)

	// Item 6 end to end: the two runs share scenario hash and seed, yet
	// compare does not call a simulation against a load test paired.
	stdout, _, err = execute(t, "compare", filepath.Join(dir, "sim"), filepath.Join(dir, "load"))
	require.NoError(t, err)
	assert.Contains(t, stdout, "one measurement of replication 0's request stream")
	assert.Contains(t, stdout, "mcbench twin")
	assert.NotContains(t, stdout, "paired per replication (common random numbers)")
}

// TestTwinFailsOnABrokenModel serves the scenario from fakes 20% slower
// than it says (another process, as `mcbench fake` would be) and expects
// the twin to say the model disagrees: exit 1.
func TestTwinFailsOnABrokenModel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a load test against the fakes")
	}
	y, err := os.ReadFile(twinCase)
	require.NoError(t, err)
	slowYAML := strings.NewReplacer("ttft: 100ms", "ttft: 120ms", "tpot: 5ms", "tpot: 6ms").Replace(string(y))
	require.NotEqual(t, string(y), slowYAML)
	slow, err := scenarios.Parse("slow.yaml", []byte(slowYAML))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, base, err := fake.StartLoopback(ctx, slow, fake.Options{})
	require.NoError(t, err)
	eps, err := json.Marshal(struct {
		Deployments []fake.Endpoint `json:"deployments"`
	}{srv.Endpoints(base)})
	require.NoError(t, err)
	epsFile := filepath.Join(t.TempDir(), "eps.json")
	require.NoError(t, os.WriteFile(epsFile, append(eps, '\n'), 0o644))

	dir := filepath.Join(t.TempDir(), "twin")
	stdout, stderr, err := execute(t, append([]string{"twin", twinCase, "--strategy", "azure", "--target", "endpoints", "--endpoints", epsFile, "--out", dir}, twinLoose...)...)
	require.Error(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Equal(t, exitTwinFail, exitCode(err), "the model is wrong, the measurement valid: %v", err)
	assert.Contains(t, err.Error(), "the simulator disagrees with the measurement")
	assert.Contains(t, err.Error(), "ttft.p50")
	assert.Contains(t, stdout, "verdict: FAIL")
	assert.FileExists(t, filepath.Join(dir, "report", "twin.json"), "a failing twin still writes its report")
}

func TestTwinUsageErrors(t *testing.T) {
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"twin", twinCase, "--strategy", "nope", "--out", out}, `scenario "twin-constant" has no strategy "nope" (it has: azure)`},
		{[]string{"twin", twinCase, "--out", out}, `--strategy is required (scenario "twin-constant" has: azure)`},
		{[]string{"twin", twinCase, "--strategy", "azure", "--out", out, "--tolerance", "ttft.p5o=2%"},
			`--tolerance: "ttft.p5o=2%": unknown statistic "p5o" (use p50, p90, p99 or mean)`},
		{[]string{"twin", twinCase, "--strategy", "azure", "--out", out, "--tolerance", "e2e.p99=5"}, `--tolerance: "e2e.p99=5": "5" is not a percentage`},
		{[]string{"twin", twinCase, "--strategy", "azure", "--out", out, "--target", "live"}, "a live service has no scenario model"},
		{[]string{"twin", twinCase, "--strategy", "azure", "--out", out, "--target", "endpoints"}, "--target endpoints needs --endpoints FILE"},
		{[]string{"twin", twinCase, "--strategy", "azure"}, "--out DIR is required"},
		{[]string{"twin", twinCase, "--strategy", "azure", "--out", out, "--duration", "1m", "--requests", "100"}, "give one"},
		{[]string{"twin", twinCase, "--strategy", "azure", "--out", out, "--replications", "1"}, "--replications: must be between 2 and 10000"},
		// The demo scenario's own run is 10 minutes at 35 requests/s: too long without a flag.
		{[]string{"twin", "demo", "--strategy", "azure-failover", "--out", out}, "bound it with --duration"},
		{[]string{"twin", "no-such-scenario", "--strategy", "x", "--out", out}, "no-such-scenario"},
	} {
		_, _, err := execute(t, tc.args...)
		require.Error(t, err, "%v", tc.args)
		assert.Equal(t, exitUsage, exitCode(err), "%v: %v", tc.args, err)
		assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
	}
	// A strategy that cannot be load-tested: it places nothing for the
	// layer the workload enters.
	src, err := os.ReadFile(twinCase)
	require.NoError(t, err)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(src), "strategies:\n", "strategies:\n  - {name: nothing, placement: {state: [aoai]}}\n", 1)), 0o644))
	_, _, err = execute(t, "twin", bad, "--strategy", "nothing", "--out", out)
	require.Error(t, err)
	assert.Equal(t, exitUsage, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), "places no deployment for layer model")

	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	assert.Empty(t, entries, "a usage error runs nothing and writes nothing")

	// An endpoints file without the strategy's deployment is a usage error
	// too, found before anything is sent.
	eps := filepath.Join(t.TempDir(), "eps.json")
	require.NoError(t, os.WriteFile(eps, []byte(`{"deployments":[{"name":"other","provider":"azure","endpoint":"http://127.0.0.1:1","deployment":"other","region":"eastus2","api_key":"k"}]}`), 0o644))
	_, _, err = execute(t, "twin", twinCase, "--strategy", "azure", "--out", out, "--target", "endpoints", "--endpoints", eps)
	require.Error(t, err)
	assert.Equal(t, exitUsage, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), `has no deployment "aoai"`)
}

func TestTwinHelpDocumentsExitCodes(t *testing.T) {
	stdout, _, err := execute(t, "twin", "--help")
	require.NoError(t, err)
	for _, want := range []string{"0  pass", "1  fail", "2  usage", "3  invalid", "4  error", "set to none"} {
		assert.Contains(t, stdout, want)
	}
}

// TestTwinInvalidMeasurementExitsThree: a send-lag bound no real sender
// can keep (1 ns) makes any measurement invalid: exit 3, with the lag and
// its bound in the message, even though the model is right.
func TestTwinInvalidMeasurementExitsThree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a load test against the fakes")
	}
	dir := filepath.Join(t.TempDir(), "twin")
	stdout, _, err := execute(t, "twin", twinCase, "--strategy", "azure", "--requests", "60", "--out", dir, "--no-progress",
		"--tolerance", "ttft.p50=10%", "--max-send-lag", "1ns", "--max-fake-lag", "1s")
	require.Error(t, err)
	assert.Equal(t, exitTwinInvalid, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), "is beyond --max-send-lag 1ns")
	assert.Contains(t, err.Error(), "rerun on a quieter machine or at a lower rate")
	assert.Contains(t, stdout, "verdict: INVALID")
}

// TestTwinThresholdCrossedExits99: a right model and a valid measurement,
// but a threshold no run meets: the verdict passes, the exit code is 99,
// and the message says which run crossed it.
func TestTwinThresholdCrossedExits99(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a load test against the fakes")
	}
	dir := filepath.Join(t.TempDir(), "twin")
	stdout, _, err := execute(t, "twin", twinCase, "--strategy", "azure", "--requests", "60", "--out", dir,
		"--threshold", "e2e.p99<1ms", "--tolerance", "none", "--max-send-lag", "5s", "--max-fake-lag", "5s", "--no-progress")
	require.Error(t, err)
	assert.Equal(t, exitThresholds, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), "azure (load): e2e.p99<1ms")
	assert.Contains(t, err.Error(), "azure (sim): e2e.p99<1ms")
	assert.Contains(t, stdout, "verdict: PASS")
	assert.Contains(t, stdout, "thresholds of the load test: 1 of 1 crossed")
}
