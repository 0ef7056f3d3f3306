package results

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/scenarios"
)

// A summary with a strategy that measured nothing (an interrupted
// simulation that never started it) encodes, with null figures where the
// NaNs are, the fields in their usual order, and reads back as NaN.
func TestUnmeasuredResultEncodesAsNulls(t *testing.T) {
	s := sample()
	s.Source, s.Load = "sim", nil
	none := Result{Strategy: "b", Deployments: []DeploymentResult{{Name: "d"}}}
	none.MarkUnmeasured()
	s.Results = append(s.Results, none)
	// Any NaN left in a plain float64 field is written as null too.
	s.Results[0].Sessions[0].MeanSteps = math.NaN()

	var buf bytes.Buffer
	require.NoError(t, EncodeSummary(&buf, s), "no 'json: unsupported value: NaN'")
	assert.NotContains(t, buf.String(), "NaN")
	var raw struct {
		Results []map[string]json.RawMessage `json:"results"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &raw))
	b := raw.Results[1]
	for _, k := range []string{"throughput_rps", "p_wait", "wait_seconds", "little", "token_cost_usd", "token_cost_per_successful_request_usd"} {
		assert.Equal(t, "null", string(b[k]), k)
	}
	assert.JSONEq(t, `{"mean":null,"p50":null,"p90":null,"p99":null,"max":null,"mean_ci95":null,"p99_ci95":null}`, string(b["e2e_seconds"]))
	assert.Contains(t, string(raw.Results[0]["sessions"]), `"mean_steps": null`)
	// throughput_rps keeps its place, after attempts.
	text := buf.String()
	second := text[strings.Index(text, `"strategy": "b"`):]
	assert.Less(t, strings.Index(second, `"attempts"`), strings.Index(second, `"throughput_rps": null`))
	assert.Less(t, strings.Index(second, `"throughput_rps": null`), strings.Index(second, `"throughput_rps_ci95"`))

	p := filepath.Join(t.TempDir(), SummaryFile)
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	got, err := ReadSummary(p)
	require.NoError(t, err)
	r := got.Results[1]
	assert.True(t, r.Unmeasured())
	assert.True(t, math.IsNaN(r.ThroughputRPS), "null reads as NaN, not as a measured 0")
	assert.True(t, math.IsNaN(r.E2ESeconds.P99))
	assert.False(t, got.Results[0].Unmeasured())
	assert.InDelta(t, 1.0/3, got.Results[0].ThroughputRPS, 1e-12)
}

// killedRun makes a run directory as a killed run leaves it: run.json,
// and records (in outcomes.csv or in part files) whose last line is cut.
func killedRun(t *testing.T, command string, parts bool) string {
	t.Helper()
	dir := t.TempDir()
	sc, err := scenarios.Open("demo")
	require.NoError(t, err)
	require.NoError(t, WriteRunInfo(dir, &RunInfo{Command: command, Version: "v", Scenario: sc, Source: sc.Source}))
	recs := func(strategy string, rep int32) []Outcome {
		return []Outcome{
			{Kind: KindAttempt, Replication: rep, RequestID: 1, Attempt: 1, Strategy: strategy, Deployment: "aoai-eastus2", Intended: 1e9, Done: 2e9, Status: StatusOK},
			{Kind: KindRequest, Replication: rep, RequestID: 1, Attempt: 1, Strategy: strategy, Deployment: "aoai-eastus2", Intended: 1e9, Done: 2e9, Status: StatusOK},
			{Kind: KindAttempt, Replication: rep, RequestID: 2, Attempt: 1, Strategy: strategy, Deployment: "aoai-eastus2", Intended: 3e9, Done: 4e9, Status: StatusThrottled},
			{Kind: KindRequest, Replication: rep, RequestID: 2, Attempt: 1, Strategy: strategy, Deployment: "aoai-eastus2", Intended: 3e9, Done: 4e9, Status: StatusThrottled},
		}
	}
	write := func(path string, header bool, os_ []Outcome) {
		var buf bytes.Buffer
		w, err := NewOutcomeWriter(&buf, header)
		require.NoError(t, err)
		for i := range os_ {
			require.NoError(t, w.Write(&os_[i]))
		}
		require.NoError(t, w.Flush())
		buf.WriteString("attempt,0,3,1,chat,azure-fail") // the record being written when the run died
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	if !parts {
		write(filepath.Join(dir, OutcomesFile), true, append(recs("azure-failover", 0), recs("azure-failover", 1)...))
		return dir
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, PartsDir), 0o755))
	write(filepath.Join(dir, PartsDir, "azure-bedrock-split-00000.csv"), false, recs("azure-bedrock-split", 0))
	write(filepath.Join(dir, PartsDir, "azure-failover-00000.csv"), false, recs("azure-failover", 0))
	write(filepath.Join(dir, PartsDir, "azure-failover-00001.csv"), false, recs("azure-failover", 1))
	require.NoError(t, os.WriteFile(filepath.Join(dir, PartsDir, "azure-failover-00000.sessions.csv"), []byte("x"), 0o644))
	return dir
}

// A load test killed before its first checkpoint: no summary.json.
// OpenRun rebuilds one from the records and run.json, says so, and reads
// the records up to the last whole one.
func TestOpenRunRebuildsAKilledLoadTest(t *testing.T) {
	dir := killedRun(t, "mcbench load demo --strategy azure-failover --pacer=poisson --rate 5 --warmup 2s --out x", false)
	run, err := OpenRun(dir)
	require.NoError(t, err)
	assert.True(t, run.Rebuilt)
	assert.True(t, run.HasOutcomes)
	require.Len(t, run.Warnings, 1)
	assert.Contains(t, run.Warnings[0], "has no summary.json")
	s := run.Summary
	assert.True(t, s.Interrupted)
	assert.Equal(t, "load", s.Source)
	assert.True(t, run.HashVerified)
	require.Len(t, s.Results, 1)
	r := s.Results[0]
	assert.Equal(t, "azure-failover", r.Strategy)
	assert.Equal(t, 2, r.Replications)
	assert.EqualValues(t, 4, r.Requests)
	assert.EqualValues(t, 2, r.Completed)
	assert.EqualValues(t, 2, r.Rejected)
	assert.EqualValues(t, 4, r.Attempts)
	require.Len(t, r.Deployments, 1)
	assert.EqualValues(t, 2, r.Deployments[0].Throttled)
	assert.True(t, math.IsNaN(r.ThroughputRPS))
	require.NotNil(t, s.Load)
	assert.Equal(t, "poisson", s.Load.Pacer)
	assert.Equal(t, 5.0, s.Load.Rate)
	assert.Equal(t, 2.0, s.Load.WarmupSeconds)
	assert.Equal(t, 3.0, s.Load.ScheduleSeconds)
	n := 0
	require.NoError(t, run.Outcomes(func(*Outcome) error { n++; return nil }), "the cut record is left out")
	assert.Equal(t, 8, n)
	// The rebuilt summary encodes.
	require.NoError(t, EncodeSummary(&bytes.Buffer{}, s))
}

// A simulation killed with --records: its records are still in part
// files. OpenRun reads them under one header, in merge order.
func TestOpenRunReadsUnmergedParts(t *testing.T) {
	dir := killedRun(t, "mcbench sim demo --out x --records", true)
	run, err := OpenRun(dir)
	require.NoError(t, err)
	assert.True(t, run.Rebuilt)
	assert.True(t, run.HasOutcomes)
	assert.Equal(t, "sim", run.Summary.Source)
	assert.Len(t, run.Warnings, 2)
	assert.Contains(t, strings.Join(run.Warnings, "\n"), "part files")
	var names []string
	for _, r := range run.Summary.Results {
		names = append(names, r.Strategy)
	}
	assert.Equal(t, []string{"azure-failover", "azure-bedrock-split"}, names, "scenario order")
	var strategies []string
	require.NoError(t, run.Outcomes(func(o *Outcome) error {
		if o.Kind == KindRequest {
			strategies = append(strategies, o.Strategy)
		}
		return nil
	}))
	assert.Equal(t, []string{"azure-bedrock-split", "azure-bedrock-split", "azure-failover", "azure-failover", "azure-failover", "azure-failover"}, strategies)

	// With a checkpoint summary.json, the summary is the checkpoint's and
	// the records still come from the parts.
	cp := &Summary{Scenario: "demo", Source: "sim", Interrupted: true, ScenarioSHA256: ScenarioHash(run.Info.Scenario),
		Results: []Result{{Strategy: "azure-failover", Replications: 1, Requests: 2, Completed: 1, Rejected: 1}}}
	require.NoError(t, WriteSummary(dir, cp))
	run, err = OpenRun(dir)
	require.NoError(t, err)
	assert.False(t, run.Rebuilt)
	assert.True(t, run.HasOutcomes)
	assert.EqualValues(t, 2, run.Summary.Results[0].Requests)
	n := 0
	require.NoError(t, run.Outcomes(func(*Outcome) error { n++; return nil }))
	assert.Equal(t, 12, n)
}

// A directory without records nor summary is still refused, with the
// error that names the missing summary.json.
func TestOpenRunWithoutRecordsOrSummaryIsRefused(t *testing.T) {
	dir := killedRun(t, "mcbench sim demo --out x", false)
	require.NoError(t, os.Remove(filepath.Join(dir, OutcomesFile)))
	_, err := OpenRun(dir)
	require.ErrorIs(t, err, ErrNotRunDir)
	assert.Contains(t, err.Error(), "summary.json")
}
