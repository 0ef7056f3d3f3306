package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
)

// TestFlagLimits checks that every bounded flag refuses a value past its
// limit as a usage error (exit code 2) that names the flag, the limit and
// how to raise it, before any work starts.
func TestFlagLimits(t *testing.T) {
	w := 4 * runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "demo", "--workers", "100000000"}, fmt.Sprintf("--workers: 100000000 is more than the limit of %d (4 × %d CPUs", w, w/4)},
		{[]string{"sim", "demo", "--workers", "100000000"}, "raise it with MCBENCH_LIMITS=workers=100000000"},
		{[]string{"sim", "demo", "--workers", "0"}, "--workers: must be at least 1, got 0 (leave the flag out for one worker per CPU)"},
		{[]string{"sim", "demo", "--workers", "-1"}, "--workers: must be at least 1, got -1"},
		{[]string{"sim", "demo", "--requests", "1e12"}, "--requests: 1e12 is more than the limit of 1000000000 requests per replication; raise it with MCBENCH_LIMITS=requests=1000000000000"},
		{[]string{"sim", "demo", "--requests", "1e308"}, "--requests: 1e308 is more than the limit of 1000000000 requests per replication"},
		{[]string{"sim", "demo", "--requests", "2.5"}, `--requests: "2.5" is not a positive whole count`},
		{[]string{"sim", "demo", "--horizon", "90d"}, "--horizon: 90d is longer than the limit of 720h0m0s; raise it with MCBENCH_LIMITS=horizon=2160h0m0s"},
		{[]string{"sim", "demo", "--horizon", "1e308h"}, `--horizon: "1e308h" is not a positive duration of at most 720h0m0s`},
		{[]string{"sim", "demo", "--replications", "20000"}, "--replications: 20000 is more than the limit of 10000; raise it with MCBENCH_LIMITS=replications=20000"},
		{[]string{"load", "demo", "--strategy", "azure-failover", "--workers", "100000000"}, "--workers: 100000000 is more than the limit of 10000 initial workers"},
		{[]string{"load", "demo", "--strategy", "azure-failover", "--workers", "0"}, "--workers: must be at least 1, got 0"},
		{[]string{"load", "demo", "--strategy", "azure-failover", "--rate", "NaN"}, "--rate must be a number > 0, got NaN"},
		{[]string{"load", "demo", "--strategy", "azure-failover", "--duration", "1000h"}, "--duration: must be between 0 and 720h0m0s (the limit), got 1000h0m0s"},
		{[]string{"load", "demo", "--strategy", "azure-failover", "--rate", "1e9", "--duration", "1h"}, "--rate 1e+09 for --duration 1h0m0s is about 3.6e+12 requests, more than the limit of 1000000000"},
	} {
		_, _, err := execute(t, c.args...)
		require.Error(t, err, "%v", c.args)
		assert.Contains(t, err.Error(), c.want, "%v", c.args)
		var ue usageError
		assert.True(t, errors.As(err, &ue), "%v: exit code 2", c.args)
	}
	// At the limit is allowed.
	_, _, err := execute(t, "sim", "demo", "--workers", fmt.Sprint(w), "--replications", "1", "--horizon", "2m", "--no-progress")
	require.NoError(t, err)
}

func TestLimitsEnvRaises(t *testing.T) {
	t.Setenv("MCBENCH_LIMITS", "workers=100")
	_, _, err := execute(t, "sim", "demo", "--workers", "100", "--replications", "1", "--horizon", "2m", "--no-progress")
	require.NoError(t, err)

	t.Setenv("MCBENCH_LIMITS", "replicatons=20000")
	_, _, err = execute(t, "sim", "demo")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `MCBENCH_LIMITS: unknown limit "replicatons"`)
	var ue usageError
	assert.True(t, errors.As(err, &ue))
}

// TestSimUnstable runs a scenario whose only deployment gets twice the
// requests it can serve and has no queue limit: sim stops at the in-flight
// limit, says why, and still writes what finished.
func TestSimUnstable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "over.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`name: over
replications: 1
run: {requests: 1M}
providers:
  - {name: p, kind: generic, regions: [r]}
deployments:
  - {name: d, provider: p, region: r, capacity: {concurrency: 1}, latency: {ttft: {dist: exponential, mean: 1s}}}
workloads:
  - {name: w, origin: r, arrival: {process: poisson, rate: 2/s}}
strategies:
  - {name: s, placement: {model: [d]}}
`), 0o644))
	t.Setenv("MCBENCH_LIMITS", "in_flight=300")
	out := filepath.Join(dir, "run")
	stdout, _, err := execute(t, "sim", path, "--out", out, "--no-progress")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unstable: arrival rate exceeds capacity: strategy "s" (replication 0) held 301 requests in flight`)
	assert.Contains(t, err.Error(), `300 of them waiting at deployment "d", the limit of 300`)
	assert.Contains(t, stdout, "strategy")
	sum, rerr := results.ReadSummary(filepath.Join(out, "summary.json"))
	require.NoError(t, rerr)
	assert.True(t, sum.Interrupted)
	assert.Positive(t, sum.Results[0].Completed)
}

// childArgsEnv makes the test binary run mcbench's main with these
// arguments (space-separated) instead of the tests.
const childArgsEnv = "MCBENCH_LIMITS_TEST_CHILD_ARGS"

// TestWorkersChildProcess is row 2 of issue 13 end to end: a real process
// given --workers 100000000 used to allocate 19.8 GB over 9 minutes; it
// now exits with code 2 and the limit, before any simulation starts, as a
// few requests with the default workers show.
func TestWorkersChildProcess(t *testing.T) {
	if args := os.Getenv(childArgsEnv); args != "" {
		os.Args = append([]string{"mcbench"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	run := func(args string) (int, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkersChildProcess$")
		cmd.Env = append(os.Environ(), childArgsEnv+"="+args)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stderr.String()
		}
		require.NoError(t, err)
		return 0, stderr.String()
	}
	code, stderr := run("sim demo --workers 100000000 --requests 1k --no-progress")
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "--workers: 100000000 is more than the limit of")
	code, stderr = run("sim demo --workers -1 --requests 1k --no-progress")
	assert.Equal(t, 2, code, stderr)
	code, stderr = run("sim demo --requests 1k --no-progress")
	assert.Equal(t, 0, code, stderr)
}
