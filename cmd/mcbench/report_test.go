package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/reports/tabletest"
	"github.com/mcbench/mcbench/results"
)

// simRun writes a short simulation of the demo scenario with records.
func simRun(t *testing.T, records bool) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"sim", "demo", "--replications", "2", "--horizon", "3m", "--out", dir, "--no-progress"}
	if records {
		args = append(args, "--records")
	}
	_, _, err := execute(t, args...)
	require.NoError(t, err)
	return dir
}

func TestReportOnSimRun(t *testing.T) {
	run := simRun(t, true)
	out := filepath.Join(t.TempDir(), "rep")
	stdout, stderr, err := execute(t, "report", run, "--out", out)
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "unpriced", "the demo's models are all priced")
	assert.Contains(t, stdout, "azure-failover")
	assert.Contains(t, stdout, "azure-bedrock-split")
	assert.Contains(t, stdout, "wrote "+filepath.Join(out, "report.html"))
	assert.Contains(t, stdout, "CSV tables in "+filepath.Join(out, "csv"))
	for _, f := range []string{"report.html", "report.md", "csv/strategies.csv", "csv/concentration.csv", "plots/ttft-cdf.png"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	// The methodology names the command that regenerates the report.
	assert.Contains(t, string(html), "mcbench report "+run+" --out="+out)

	// Default output directory, one format.
	stdout, _, err = execute(t, "report", run, "--format", "md")
	require.NoError(t, err)
	assert.Contains(t, stdout, filepath.Join(run, "report", "report.md"))
	assert.NoFileExists(t, filepath.Join(run, "report", "report.html"))
}

// TestReportParquet: --format parquet writes one Parquet file per table and
// the run's records as outcomes.parquet, and nothing else.
func TestReportParquet(t *testing.T) {
	run := simRun(t, true)
	out := filepath.Join(t.TempDir(), "rep")
	stdout, stderr, err := execute(t, "report", run, "--out", out, "--format", "parquet")
	require.NoError(t, err, stderr)
	pq := filepath.Join(out, "parquet")
	assert.Contains(t, stdout, "Parquet tables in "+pq)
	assert.Contains(t, stdout, "wrote "+filepath.Join(pq, "outcomes.parquet"))
	assert.NotContains(t, stdout, "CSV tables")
	assert.NoFileExists(t, filepath.Join(out, "report.html"))
	assert.NoDirExists(t, filepath.Join(out, "csv"))

	open := func(name string) *parquet.File {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(pq, name))
		require.NoError(t, err)
		f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err, name)
		return f
	}
	columns := func(f *parquet.File) map[string]parquet.Kind {
		out := map[string]parquet.Kind{}
		for _, c := range f.Schema().Fields() {
			out[c.Name()] = c.Type().Kind()
		}
		return out
	}
	strat := open("strategies.parquet")
	assert.Equal(t, int64(2), strat.NumRows(), "the demo has two strategies")
	cols := columns(strat)
	assert.Equal(t, parquet.ByteArray, cols["strategy"])
	assert.Equal(t, parquet.Int64, cols["requests"], "counts are integers")
	assert.Equal(t, parquet.Double, cols["ttft_p99_s"])
	for _, name := range []string{"concentration.parquet", "latency.parquet"} {
		assert.FileExists(t, filepath.Join(pq, name))
	}

	csvData, err := os.ReadFile(filepath.Join(run, "outcomes.csv"))
	require.NoError(t, err)
	records := int64(bytes.Count(csvData, []byte("\n")) - 1)
	outcomes := open("outcomes.parquet")
	assert.Equal(t, records, outcomes.NumRows())
	var names []string
	for _, c := range outcomes.Schema().Fields() {
		names = append(names, c.Name())
	}
	assert.Equal(t, results.OutcomeHeader, names)
	var first results.Outcome
	require.NoError(t, results.ReadOutcomes(bytes.NewReader(csvData), "outcomes.csv", func(o *results.Outcome) error {
		if first.Strategy == "" {
			first = *o
		}
		return nil
	}))
	got, err := parquet.ReadFile[reports.OutcomeRow](filepath.Join(pq, "outcomes.parquet"))
	require.NoError(t, err)
	require.Len(t, got, int(records))
	assert.Equal(t, reports.NewOutcomeRow(&first), got[0])
	// Arrow reads the outcomes typed: ids, counts and times as int64 (times
	// in nanoseconds, named _ns), cost as a float, the rest as text.
	for _, f := range tabletest.ReadParquet(t, filepath.Join(pq, "outcomes.parquet")) {
		switch {
		case f.Name == "cost_usd":
			assert.Equal(t, arrow.FLOAT64, f.Type.ID(), f.Name)
		case strings.HasSuffix(f.Name, "_ns") || strings.HasSuffix(f.Name, "_tokens") || slices.Contains([]string{"replication", "request_id", "attempt", "cross_cloud_bytes"}, f.Name):
			assert.Equal(t, arrow.INT64, f.Type.ID(), f.Name)
		default:
			assert.Equal(t, arrow.STRING, f.Type.ID(), f.Name)
		}
	}

	// compare writes the tables of the comparison, without records.
	cmp := filepath.Join(t.TempDir(), "cmp")
	stdout, _, err = execute(t, "compare", run, run, "--a", "azure-failover", "--b", "azure-bedrock-split", "--out", cmp, "--format", "parquet")
	require.NoError(t, err)
	assert.Contains(t, stdout, "Parquet tables in "+filepath.Join(cmp, "parquet"))
	assert.NoFileExists(t, filepath.Join(cmp, "parquet", "outcomes.parquet"))
}

func TestReportWithoutRecordsWarns(t *testing.T) {
	run := simRun(t, false)
	stdout, stderr, err := execute(t, "report", run, "--format", "html")
	require.NoError(t, err)
	assert.Contains(t, stderr, "warning: the run has no outcomes.csv")
	assert.Contains(t, stdout, "azure-failover")
}

func TestReportUsageErrors(t *testing.T) {
	run := simRun(t, true)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "accepts 1 arg"},
		{[]string{"report", t.TempDir()}, "not a run directory"},
		{[]string{"report", filepath.Join(run, "outcomes.csv")}, "is a file"},
		{[]string{"report", run, "--format", "docx"}, `unknown format "docx"`},
		{[]string{"report", run, "--baseline", "nope"}, `--baseline: baseline strategy "nope"`},
		{[]string{"report", run, "--slo-target", "99.9"}, "--slo-target"},
		{[]string{"report", run, "--state", "/nonexistent.csv"}, "--state"},
		{[]string{"report", run, "--pricing", t.TempDir()}, "--pricing"},
		{[]string{"compare", run}, "accepts 2 arg"},
		{[]string{"compare", run, run}, "--a and --b"},
		{[]string{"compare", run, run, "--a", "nope", "--b", "azure-failover"}, `no strategy "nope"`},
	} {
		_, _, err := execute(t, tc.args...)
		require.Error(t, err, tc.args)
		assert.True(t, isUsage(err), "%v: %v is not a usage error", tc.args, err)
		assert.ErrorContains(t, err, tc.want, tc.args)
	}
}

func TestCompareStrategiesOfOneRun(t *testing.T) {
	run := simRun(t, true)
	out := filepath.Join(t.TempDir(), "cmp")
	stdout, _, err := execute(t, "compare", run, run, "--a", "azure-failover", "--b", "azure-bedrock-split", "--out", out, "--format", "html,csv")
	require.NoError(t, err)
	assert.Contains(t, stdout, "B − A")
	assert.Contains(t, stdout, "p99 TTFT")
	assert.Contains(t, stdout, "paired per replication")
	assert.Contains(t, stdout, "wrote "+filepath.Join(out, "report.html"))
	lines := strings.Split(stdout, "\n")
	var n string
	for _, l := range lines {
		if strings.Contains(l, "mean TTFT") {
			n = l
		}
	}
	assert.Contains(t, n, " 2 ", "two paired replications: %q", n)
}

func TestCompareSimulationWithLoadTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a load test against the fakes")
	}
	sim := simRun(t, true)
	load := t.TempDir()
	_, _, err := execute(t, "load", "demo", "--strategy", "azure-failover", "--rate", "20", "--duration", "1s", "--warmup", "5s", "--out", load, "--no-progress", "--grace", "20s")
	require.NoError(t, err)
	// One second is inside the load test's five-second warm-up.
	_, _, err = execute(t, "report", load)
	require.Error(t, err)
	assert.True(t, isUsage(err))
	assert.ErrorContains(t, err, "--include-warmup")

	rep := filepath.Join(t.TempDir(), "rep")
	stdout, _, err := execute(t, "report", load, "--include-warmup", "--format", "html,csv,parquet", "--out", rep)
	require.NoError(t, err)
	assert.Contains(t, stdout, "azure-failover")
	// The load report's tables read back typed with Arrow.
	tables := tabletest.ReadDir(t, rep)
	require.Contains(t, tables, "load-test")
	assert.Equal(t, arrow.FLOAT64, tables["load-test"].Column("p99_s").Type.ID())
	assert.Equal(t, arrow.INT64, tables["request-outcomes"].Column("completed_requests").Type.ID())
	stdout, _, err = execute(t, "compare", sim, load, "--include-warmup")
	require.NoError(t, err)
	assert.Contains(t, stdout, "A: azure-failover")
	assert.Contains(t, stdout, "prediction against measurement")
	assert.Contains(t, stdout, "unpaired", "a simulation against a load test is never paired per replication")
	assert.NotContains(t, stdout, "paired per replication (common random numbers)")
}

// TestSessionsAndFaultWindowsEndToEnd: a federated simulation with records
// writes sessions.csv and a summary whose sessions and fault windows (with
// extra latency and cost against the fault-free run) reach the report.
func TestSessionsAndFaultWindowsEndToEnd(t *testing.T) {
	run := filepath.Join(t.TempDir(), "fed")
	stdout, stderr, err := execute(t, "sim", "federated", "--strategy", "circuit-breaker", "--replications", "1",
		"--horizon", "14m", "--out", run, "--records")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "sessions of agent-sessions")
	assert.Contains(t, stdout, "fault: outage of eastus2 from 10m0s for 3m0s")
	sessions, err := os.ReadFile(filepath.Join(run, "sessions.csv"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(sessions), "replication,session_id,class,strategy,orchestrator,"))
	assert.Greater(t, strings.Count(string(sessions), "\n"), 100)

	out := filepath.Join(t.TempDir(), "rep")
	_, stderr, err = execute(t, "report", run, "--out", out, "--format", "md,csv,parquet")
	require.NoError(t, err, stderr)
	// Every table reads back typed with Arrow, sessions and fault windows
	// included.
	tables := tabletest.ReadDir(t, out)
	for k, typ := range map[string]arrow.Type{"sessions.sessions": arrow.INT64, "sessions.completed_sessions_fraction": arrow.FLOAT64,
		"fault-windows.requests": arrow.INT64, "fault-windows.extra_e2e_s": arrow.FLOAT64, "fault-windows.extra_cost_usd": arrow.FLOAT64,
		"fault-impact.window_end_s": arrow.FLOAT64} {
		id, name, _ := strings.Cut(k, ".")
		require.Contains(t, tables, id)
		if c := tables[id].Column(name); assert.NotNil(t, c, k) {
			assert.Equal(t, typ, c.Type.ID(), k)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "Agentic sessions (from summary.json)")
	assert.Contains(t, string(md), "| circuit-breaker | agent-sessions |")
	assert.Contains(t, string(md), "Fault windows against the fault-free run (from summary.json)")
	assert.Contains(t, string(md), "| circuit-breaker | outage of eastus2 at 600 s for 180 s |")
}

// copyRun copies a run directory's files into a new temporary directory.
func copyRun(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
	}
	return dst
}

// A damaged summary.json or outcomes.csv is the user's input problem: one
// error naming the file and the field (or column), exit code 2; in
// compare, the path says which run.
func TestReportRefusesDamagedRunFiles(t *testing.T) {
	run := simRun(t, true)
	sumPath := filepath.Join(run, "summary.json")
	good, err := os.ReadFile(sumPath)
	require.NoError(t, err)
	for _, tc := range []struct {
		name, file, from, to, want string
	}{
		{"truncated", "summary.json", "", "", "summary.json:"},
		{"wrong type", "summary.json", `"requests": `, `"requests": "x", "y": `, "results.requests: got a JSON string, want an integer"},
		{"future version", "summary.json", `"schema_version": "` + results.CurrentSchema + `"`, `"schema_version": "9.0"`, "schema_version: written by a newer mcbench (schema 9.0); this build reads schema " + results.CurrentSchema},
		{"bad outcome row", "outcomes.csv", "\nrequest,", "\nrequest,x", "outcomes.csv:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyRun(t, run)
			p := filepath.Join(dir, tc.file)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			text := string(b)
			if tc.from == "" {
				text = string(good[:len(good)/3])
			} else {
				require.Contains(t, text, tc.from)
				text = strings.Replace(text, tc.from, tc.to, 1)
			}
			require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
			for _, args := range [][]string{{"report", dir}, {"compare", run, dir, "--a", "azure-failover", "--b", "azure-failover"}} {
				_, _, err := execute(t, args...)
				require.Error(t, err)
				assert.True(t, isUsage(err), "%v: exit 2 expected, got %v", args, err)
				assert.ErrorContains(t, err, p, "the error names the damaged file")
				assert.ErrorContains(t, err, tc.want)
			}
		})
	}
}

// Run directories written before summary.json had a schema_version still
// open in report (migrated, see results.ReadSummary).
func TestReportOpensThePreviousLayout(t *testing.T) {
	for _, kind := range []string{"sim", "load"} {
		dir := copyRun(t, filepath.Join("..", "..", "testdata", "legacy-v0", kind))
		out := filepath.Join(t.TempDir(), "report")
		stdout, _, err := execute(t, "report", dir, "--out", out, "--format", "md")
		require.NoError(t, err, kind)
		assert.Contains(t, stdout, "azure-", kind)
		assert.FileExists(t, filepath.Join(out, "report.md"))
		if kind == "sim" {
			// Its fault windows were booked by arrival, and its times to
			// fail over and recover measured by earlier rules: left out.
			md, err := os.ReadFile(filepath.Join(out, "report.md"))
			require.NoError(t, err)
			assert.Contains(t, string(md), "earlier definition")
			assert.Contains(t, string(md), "This summary.json has schema 0.0")
		}
	}
}

// TestReportPDF: --format pdf prints the HTML report with headless
// Chromium; without a browser it writes nothing, says what to install and
// exits with the usage code.
func TestReportPDF(t *testing.T) {
	run := simRun(t, true)

	// No browser: PATH has none and nothing names one.
	t.Setenv("PATH", t.TempDir())
	t.Setenv(chromiumEnv, "")
	out := filepath.Join(t.TempDir(), "rep")
	_, _, err := execute(t, "report", run, "--out", out, "--format", "html,pdf")
	require.Error(t, err)
	assert.Equal(t, exitUsage, exitCode(err))
	assert.ErrorContains(t, err, "apt-get install chromium")
	assert.ErrorContains(t, err, "--chromium PATH")
	assert.NoDirExists(t, out, "nothing is written when the PDF cannot be")

	_, _, err = execute(t, "report", run, "--out", out, "--format", "pdf", "--chromium", "/nonexistent/chromium")
	assert.Equal(t, exitUsage, exitCode(err))
	assert.ErrorContains(t, err, "--chromium=/nonexistent/chromium")
	t.Setenv(chromiumEnv, "/nonexistent/chrome")
	_, _, err = execute(t, "report", run, "--out", out, "--format", "pdf")
	assert.Equal(t, exitUsage, exitCode(err))
	assert.ErrorContains(t, err, chromiumEnv+"=/nonexistent/chrome")

	// A browser: given by its path, it prints; html is not asked for, so
	// only the PDF is written.
	t.Setenv(chromiumEnv, "")
	bin := ""
	for _, dir := range filepath.SplitList(origPath) {
		for _, n := range reports.ChromiumNames {
			if p := filepath.Join(dir, n); bin == "" && isExecutable(p) {
				bin = p
			}
		}
	}
	if bin == "" {
		t.Skip("chromium is not installed (.ci/run installs it)")
	}
	stdout, stderr, err := execute(t, "report", run, "--out", out, "--format", "pdf", "--chromium", bin)
	require.NoError(t, err, stderr)
	pdf := filepath.Join(out, "report.pdf")
	assert.Contains(t, stdout, "wrote "+pdf)
	b, err := os.ReadFile(pdf)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(b, []byte("%PDF-")))
	assert.NoFileExists(t, filepath.Join(out, "report.html"))
	assert.NotContains(t, stderr, "logged in Chromium", "the report logs nothing in Chromium")

	// compare prints its document the same way.
	cmp := filepath.Join(t.TempDir(), "cmp")
	stdout, stderr, err = execute(t, "compare", run, run, "--a", "azure-failover", "--b", "azure-bedrock-split", "--out", cmp, "--format", "html,pdf", "--chromium", bin)
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "wrote "+filepath.Join(cmp, "report.pdf"))
	assert.FileExists(t, filepath.Join(cmp, "report.html"))
}

// origPath is PATH when the tests started (TestReportPDF empties it).
var origPath = os.Getenv("PATH")

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
