package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
)

// These tests send real signals to a real mcbench process: a run stopped
// by SIGINT or SIGTERM writes a complete run directory and exits with
// exitInterrupted; a run killed outright (SIGKILL) leaves one that
// `mcbench report` still reads. They poll for the run's files rather than
// guess a sleep, with generous limits for a busy machine.

// buildMcbench builds this command into a temporary directory.
func buildMcbench(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mcbench")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// child is a running mcbench process and its output.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

func start(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	require.NoError(t, c.cmd.Start())
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// wait waits for the process to end and returns its exit code (-1 when a
// signal ended it).
func (c *child) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-c.done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("wait: %v", err)
		}
		return c.cmd.ProcessState.ExitCode()
	case <-time.After(3 * time.Minute):
		t.Fatalf("the process did not end in 3 minutes; stderr:\n%s", c.stderr.String())
		return 0
	}
}

// waitFor polls until cond holds, failing the test if the process ends or
// 2 minutes pass first.
func (c *child) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		select {
		case err := <-c.done:
			t.Fatalf("the process ended (%v) before %s; stderr:\n%s", err, what, c.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 2 minutes; stderr:\n%s", what, c.stderr.String())
		}
	}
}

// partsWritten reports whether a simulation has flushed records into a
// part file of dir.
func partsWritten(dir string) bool {
	ents, _ := os.ReadDir(filepath.Join(dir, results.PartsDir))
	for _, e := range ents {
		if info, err := e.Info(); err == nil && info.Size() > 0 {
			return true
		}
	}
	return false
}

// recordLines counts the complete lines of dir's outcomes.csv.
func recordLines(dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, results.OutcomesFile))
	return bytes.Count(b, []byte("\n"))
}

// report runs `mcbench report DIR` and returns its stdout and stderr,
// failing the test unless it succeeds.
func report(t *testing.T, bin, dir string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "report", dir, "--format", "md")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "mcbench report %s: %s", dir, stderr.String())
	assert.NotContains(t, stdout.String(), "NaN")
	return stdout.String(), stderr.String()
}

// Row 1 of issue 13: Ctrl-C on a simulation with strategies not yet
// started used to fail with "json: unsupported value: NaN" and leave no
// summary.json nor run.json, only unmerged part files.
func TestSimSIGINTLeavesACompleteRun(t *testing.T) {
	bin := buildMcbench(t)
	dir := filepath.Join(t.TempDir(), "run")
	// One worker: the second strategy cannot start before the first one's
	// 2M-request replication ends.
	c := start(t, bin, "sim", "demo", "--requests", "2M", "--workers", "1", "--out", dir, "--records", "--no-progress")
	c.waitFor(t, "records in "+results.PartsDir, func() bool { return partsWritten(dir) })
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGINT))
	assert.Equal(t, exitInterrupted, c.wait(t), "stderr:\n%s", c.stderr.String())
	assert.Contains(t, c.stderr.String(), "interrupted")
	assert.NotContains(t, c.stdout.String(), "NaN")
	assert.NotContains(t, c.stderr.String(), "unsupported value")

	for _, f := range []string{results.SummaryFile, results.RunInfoFile, results.OutcomesFile} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	assert.NoDirExists(t, filepath.Join(dir, results.PartsDir), "the part files are merged")
	sum, err := results.ReadSummary(filepath.Join(dir, results.SummaryFile))
	require.NoError(t, err)
	assert.True(t, sum.Interrupted)
	require.Len(t, sum.Results, 2)
	assert.Positive(t, sum.Results[0].Requests, "the first strategy's figures cover what was simulated")
	assert.True(t, sum.Results[1].Unmeasured(), "the second strategy never started")

	// Its figures are null in the file, not zeros and not NaN.
	b, err := os.ReadFile(filepath.Join(dir, results.SummaryFile))
	require.NoError(t, err)
	var raw struct {
		Results []map[string]any `json:"results"`
	}
	require.NoError(t, json.Unmarshal(b, &raw))
	second := raw.Results[1]
	for _, k := range []string{"throughput_rps", "p_wait", "wait_seconds", "little", "token_cost_usd"} {
		assert.Contains(t, second, k)
		assert.Nil(t, second[k], k)
	}
	assert.Nil(t, second["e2e_seconds"].(map[string]any)["p99"])
	assert.NotNil(t, raw.Results[0]["throughput_rps"])

	_, stderr := report(t, bin, dir)
	assert.Contains(t, stderr, "interrupted")
}

// Row 4 of issue 13: a load test killed outright left outcomes.csv but no
// summary.json nor run.json, and `mcbench report` refused the directory.
func TestLoadSIGKILLIsReportable(t *testing.T) {
	bin := buildMcbench(t)
	dir := filepath.Join(t.TempDir(), "run")
	c := start(t, bin, "load", "demo", "--strategy", "azure-failover", "--rate", "20", "--duration", "10m", "--out", dir, "--no-progress")
	c.waitFor(t, "records in outcomes.csv", func() bool { return recordLines(dir) >= 5 })
	require.NoError(t, c.cmd.Process.Kill())
	c.wait(t)

	assert.FileExists(t, filepath.Join(dir, results.RunInfoFile))
	out, stderr := report(t, bin, dir)
	assert.Contains(t, out, "azure-failover")
	// Killed before its first checkpoint, it has no summary.json and the
	// report says what it rebuilt; after one, the checkpoint says the run
	// was interrupted.
	assert.True(t, strings.Contains(stderr, "has no summary.json") || strings.Contains(stderr, "interrupted"), "stderr:\n%s", stderr)
	run, err := results.OpenRun(dir)
	require.NoError(t, err)
	assert.True(t, run.Summary.Interrupted)
	assert.Equal(t, "load", run.Summary.Source)
}

// Row 4 of issue 13: a simulation killed outright left only its hidden
// part files.
func TestSimSIGKILLIsReportable(t *testing.T) {
	bin := buildMcbench(t)
	dir := filepath.Join(t.TempDir(), "run")
	c := start(t, bin, "sim", "demo", "--requests", "2M", "--out", dir, "--records", "--no-progress")
	c.waitFor(t, "records in "+results.PartsDir, func() bool { return partsWritten(dir) })
	require.NoError(t, c.cmd.Process.Kill())
	c.wait(t)

	out, stderr := report(t, bin, dir)
	assert.Contains(t, out, "azure-failover")
	assert.Contains(t, stderr, "part files")
	run, err := results.OpenRun(dir)
	require.NoError(t, err)
	assert.True(t, run.HasOutcomes)
	assert.True(t, run.Summary.Interrupted)
}

// SIGTERM on a load test stops it as Ctrl-C does: everything written,
// exit code exitInterrupted.
func TestLoadSIGTERMLeavesACompleteRun(t *testing.T) {
	bin := buildMcbench(t)
	dir := filepath.Join(t.TempDir(), "run")
	c := start(t, bin, "load", "demo", "--strategy", "azure-failover", "--rate", "20", "--duration", "10m", "--out", dir, "--no-progress", "--grace", "5s")
	c.waitFor(t, "records in outcomes.csv", func() bool { return recordLines(dir) >= 5 })
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, exitInterrupted, c.wait(t), "stderr:\n%s", c.stderr.String())
	run, err := results.OpenRun(dir)
	require.NoError(t, err)
	assert.False(t, run.Rebuilt)
	assert.True(t, run.Summary.Interrupted)
	assert.Positive(t, run.Summary.Results[0].Requests)
	assert.NotContains(t, c.stdout.String(), "NaN")
}
