package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

const minimalScenario = "../../testdata/good/minimal.yaml"

// quickScenario is a deployment that answers in tens of milliseconds, for
// load tests that should take about their --duration.
const quickScenario = `
name: quick
seed: 5
providers:
  - {name: azure, kind: azure, regions: [eastus2]}
deployments:
  - {name: aoai, provider: azure, region: eastus2, model: gpt-4o,
     capacity: {concurrency: 50}, latency: {ttft: 20ms, tpot: 2ms}}
workloads:
  - {name: chat, arrival: {process: poisson, rate: 5/s}, input_tokens: 30, output_tokens: 10, max_tokens: 20}
strategies:
  - {name: azure-only, placement: {model: [aoai]}, routing: {policy: failover, max_attempts: 1}}
`

// quickFile writes quickScenario to a file and returns its path.
func quickFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "quick.yaml")
	require.NoError(t, os.WriteFile(p, []byte(quickScenario), 0o644))
	return p
}

func TestUnknownCommandIsUsage(t *testing.T) {
	_, _, err := execute(t, "simm")
	require.Error(t, err)
	assert.Equal(t, exitUsage, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), `unknown command "simm"`)
	_, _, err = execute(t, "sim", "demo", "--no-such-flag")
	assert.Equal(t, exitUsage, exitCode(err), "%v", err)
}

// smallRun writes a small simulation with records into a new run directory.
func smallRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, err := execute(t, "sim", minimalScenario, "--requests", "400", "--replications", "2", "--out", dir, "--records", "--no-progress")
	require.NoError(t, err, stderr)
	return dir
}

// damage copies run into a new directory and applies fn to its files.
func damage(t *testing.T, run string, fn func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "damaged")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, f := range []string{results.SummaryFile, results.RunInfoFile, results.OutcomesFile} {
		b, err := os.ReadFile(filepath.Join(run, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	fn(dir)
	return dir
}

// TestBadRunDirectoryIsUsage: a damaged outcomes.csv, or a directory in
// its place, is the user's input: exit 2, naming the directory, and in
// compare whether it is RUN_A or RUN_B.
func TestBadRunDirectoryIsUsage(t *testing.T) {
	good := smallRun(t)
	for name, fn := range map[string]func(dir string){
		"bad status": func(dir string) {
			p := filepath.Join(dir, results.OutcomesFile)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			b = regexp.MustCompile(`,ok,`).ReplaceAll(b, []byte(",bogus,"))
			require.NoError(t, os.WriteFile(p, b, 0o644))
		},
		"truncated row": func(dir string) {
			f, err := os.OpenFile(filepath.Join(dir, results.OutcomesFile), os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteString("attempt,0,1\n")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		},
		"a directory": func(dir string) {
			p := filepath.Join(dir, results.OutcomesFile)
			require.NoError(t, os.Remove(p))
			require.NoError(t, os.Mkdir(p, 0o755))
		},
	} {
		t.Run(name, func(t *testing.T) {
			bad := damage(t, good, fn)
			_, _, err := execute(t, "report", bad)
			require.Error(t, err)
			assert.Equal(t, exitUsage, exitCode(err), "%v", err)
			assert.Contains(t, err.Error(), bad)

			_, _, err = execute(t, "compare", good, bad)
			require.Error(t, err)
			assert.Equal(t, exitUsage, exitCode(err), "%v", err)
			assert.Contains(t, err.Error(), "RUN_B ("+bad+")")

			_, _, err = execute(t, "compare", bad, good)
			require.Error(t, err)
			assert.Equal(t, exitUsage, exitCode(err), "%v", err)
			assert.Contains(t, err.Error(), "RUN_A ("+bad+")")
		})
	}
}

// TestUnwritableOutIsUsage: an --out that cannot be created is refused
// before anything runs, naming the flag and the directory (a file in the
// way: tests run as root, for whom permissions do not stop a write).
func TestUnwritableOutIsUsage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	under := filepath.Join(file, "run")
	good := smallRun(t)
	for _, args := range [][]string{
		{"sim", minimalScenario, "--requests", "100", "--out", under},
		{"sim", minimalScenario, "--requests", "100", "--records", "--out", file},
		{"load", minimalScenario, "--strategy", "azure-only", "--duration", "1s", "--out", under},
		{"report", good, "--out", under},
		{"compare", good, good, "--out", under},
	} {
		_, _, err := execute(t, args...)
		require.Error(t, err, args)
		assert.Equal(t, exitUsage, exitCode(err), "%v: %v", args, err)
		assert.Contains(t, err.Error(), "--out "+args[len(args)-1], args)
	}
}

// endpointsFile starts the scenario's fakes and writes an endpoints file
// for them, its credentials passed through edit.
func endpointsFile(t *testing.T, s *scenarios.Scenario, edit func(e *fake.Endpoint)) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, base, err := fake.StartLoopback(ctx, s, fake.Options{})
	require.NoError(t, err)
	eps := srv.Endpoints(base)
	for i := range eps {
		edit(&eps[i])
	}
	b, err := json.Marshal(struct {
		Deployments []fake.Endpoint `json:"deployments"`
	}{eps})
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "eps.json")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// TestLoadThatMeasuredNothing: every request refused authentication (the
// fakes check keys: 401), or every connection refused (a target that is
// gone): the load test exits exitUnmeasured, not 0, and still writes its
// summary, whose unanswered count is every request.
func TestLoadThatMeasuredNothing(t *testing.T) {
	path := quickFile(t)
	s, err := scenarios.Load(path)
	require.NoError(t, err)
	for name, edit := range map[string]func(e *fake.Endpoint){
		"wrong key (401)":    func(e *fake.Endpoint) { e.APIKey = "not-the-key" },
		"target gone":        func(e *fake.Endpoint) { e.Endpoint = "http://127.0.0.1:1" },
		"right key (answer)": func(e *fake.Endpoint) {},
	} {
		t.Run(name, func(t *testing.T) {
			eps := endpointsFile(t, s, edit)
			dir := filepath.Join(t.TempDir(), "run")
			_, _, err := execute(t, "load", path, "--strategy", "azure-only", "--target", "endpoints", "--endpoints", eps,
				"--rate", "20", "--duration", "1s", "--no-progress", "--out", dir)
			sum, rerr := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
			require.NoError(t, rerr, "the summary is written either way")
			r := sum.Results[0]
			require.Positive(t, r.Requests)
			if strings.HasPrefix(name, "right") {
				require.NoError(t, err)
				assert.Zero(t, sum.Load.Unanswered)
				return
			}
			require.Error(t, err)
			assert.Equal(t, exitUnmeasured, exitCode(err), "%v", err)
			assert.Contains(t, err.Error(), "failed to connect or were refused authentication")
			assert.Equal(t, r.Requests, sum.Load.Unanswered)
			assert.Zero(t, r.Completed)
		})
	}
}

// TestThresholds: the same run passes or crosses by its thresholds alone;
// crossed exits exitThresholds after writing the table and the block.
func TestThresholds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"sim", minimalScenario, "--requests", "400", "--replications", "2", "--no-progress", "--out", dir}
	stdout, stderr, err := execute(t, append(args, "--threshold", "e2e.p99<1h", "--threshold", "error_rate<=0%",
		"--threshold", "cost_per_successful_request<1")...)
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "thresholds: all passed")
	sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	require.NoError(t, err)
	require.Len(t, sum.Results[0].Thresholds, 3)
	for _, x := range sum.Results[0].Thresholds {
		assert.True(t, x.Pass, x.Expression)
		assert.True(t, x.Value.Known(), x.Expression)
	}

	stdout, _, err = execute(t, append(args, "--threshold", "e2e.p99<1ms", "--threshold", "throughput_rps>=0")...)
	require.Error(t, err)
	assert.Equal(t, exitThresholds, exitCode(err), "%v", err)
	assert.Contains(t, err.Error(), "azure-only: e2e.p99<1ms")
	assert.NotContains(t, err.Error(), "throughput_rps")
	assert.Regexp(t, `thresholds: 1 of 2 crossed\n.*\n\s+azure-only\s+e2e.p99<1ms\s+\S+s\s+FAIL\n\s+azure-only\s+throughput_rps>=0\s+\S+\s+pass`, stdout)
	sum, err = results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	require.NoError(t, err)
	assert.False(t, sum.Results[0].Thresholds[0].Pass, "the summary records the crossing")
	assert.True(t, sum.Results[0].Thresholds[1].Pass)

	// --json keeps stdout a JSON document: the table goes to stderr.
	stdout, stderr, err = execute(t, "sim", minimalScenario, "--requests", "400", "--replications", "2", "--json", "--threshold", "e2e.p99<1ms")
	assert.Equal(t, exitThresholds, exitCode(err))
	assert.True(t, json.Valid([]byte(stdout)))
	assert.Contains(t, stderr, "thresholds: 1 of 1 crossed")

	for _, bad := range []string{"e2e.p99<<2s", "latency<2s", "error_rate<2s"} {
		_, _, err = execute(t, "sim", minimalScenario, "--requests", "100", "--threshold", bad)
		require.Error(t, err)
		assert.Equal(t, exitUsage, exitCode(err))
		assert.Contains(t, err.Error(), `--threshold: threshold "`+bad+`"`)
	}
}

// TestLoadThresholds: a load test against the fakes, one threshold
// crossed: exit 99 with the block in summary.json.
func TestLoadThresholds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	stdout, _, err := execute(t, "load", quickFile(t), "--strategy", "azure-only", "--rate", "20", "--duration", "1s",
		"--no-progress", "--out", dir, "--threshold", "availability>=50%", "--threshold", "ttft.mean<1us")
	require.Error(t, err)
	assert.Equal(t, exitThresholds, exitCode(err), "%v", err)
	assert.Contains(t, stdout, "thresholds: 1 of 2 crossed")
	sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	require.NoError(t, err)
	require.Len(t, sum.Results[0].Thresholds, 2)
	assert.True(t, sum.Results[0].Thresholds[0].Pass)
	assert.False(t, sum.Results[0].Thresholds[1].Pass)
}

// TestExitCodeTable: every command's help ends with the table, and the
// README's table has the same codes.
func TestExitCodeTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	codes := regexp.MustCompile(`(?m)^  (\d+) `).FindAllStringSubmatch(exitCodesHelp, -1)
	require.Len(t, codes, 7)
	for _, c := range codes {
		assert.Regexp(t, "(?m)^\\| `"+c[1]+"` \\|", string(readme), "README lists exit code %s", c[1])
	}
	// The usage text --help prints, read without running --help: a parsed
	// --help would stay in the flag set's record of set flags, which
	// report's regenerate command lists, for the tests that follow.
	for _, name := range []string{"sim", "load", "report", "compare", "twin", "validate"} {
		c, _, err := rootCmd.Find([]string{name})
		require.NoError(t, err)
		usage := c.UsageString()
		assert.Contains(t, usage, "Exit codes:\n  0    success", name)
		assert.Contains(t, usage, "  99   a --threshold was crossed", name)
	}
}
