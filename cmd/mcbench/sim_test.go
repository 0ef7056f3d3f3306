package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// execute runs the CLI in-process with fresh flag values (cobra keeps flag
// state between Execute calls) and returns stdout, stderr and the error.
func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	resetFlags(rootCmd)
	return executeForValidate(t, args...)
}

// resetFlags puts every flag of c and its subcommands back to its default
// (cobra keeps flag state between Execute calls in one process).
func resetFlags(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(nil)
		} else {
			_ = f.Value.Set(f.DefValue)
		}
		f.Changed = false
	})
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}

func TestSimJSONIsByteIdentical(t *testing.T) {
	a, _, err := execute(t, "sim", "demo", "--json", "--replications", "2", "--horizon", "3m")
	require.NoError(t, err)
	b, _, err := execute(t, "sim", "demo", "--json", "--replications", "2", "--horizon", "3m")
	require.NoError(t, err)
	require.Equal(t, a, b)
	var sum results.Summary
	require.NoError(t, json.Unmarshal([]byte(a), &sum))
	require.Equal(t, "demo", sum.Scenario)
	require.Len(t, sum.Results, 2)
	for _, r := range sum.Results {
		assert.Equal(t, 2, r.Replications)
		assert.Positive(t, r.Completed)
	}
	// The documented field names are present.
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(a), &raw))
	res := raw["results"].([]any)[0].(map[string]any)
	for _, k := range []string{"strategy", "replications", "requests", "completed", "rejected", "timed_out", "throughput_rps", "p_wait", "wait_seconds", "ttft_seconds", "e2e_seconds"} {
		assert.Contains(t, res, k)
	}
	for _, k := range []string{"mean", "p50", "p90", "p99", "max", "mean_ci95"} {
		assert.Contains(t, res["e2e_seconds"], k)
	}
}

func TestSimTableAndStrategyFilter(t *testing.T) {
	out, _, err := execute(t, "sim", "demo", "--strategy", "azure-failover", "--replications", "2", "--horizon", "2m")
	require.NoError(t, err)
	assert.Contains(t, out, "azure-failover")
	assert.NotContains(t, out, "azure-bedrock-split")
	assert.Contains(t, out, "E2E mean ±95%")
}

func TestSimOutWritesSummaryAndRecords(t *testing.T) {
	dir := t.TempDir()
	_, _, err := execute(t, "sim", "demo", "--replications", "2", "--horizon", "2m", "--out", dir, "--records")
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var sum results.Summary
	require.NoError(t, json.Unmarshal(b, &sum))
	f, err := os.Open(filepath.Join(dir, "outcomes.csv"))
	require.NoError(t, err)
	defer f.Close()
	requests := map[string]int64{}
	ok := map[string]int64{}
	require.NoError(t, results.ReadOutcomes(f, "outcomes.csv", func(o *results.Outcome) error {
		// Warm-up (the first minute) is in the records but not in the summary.
		if o.Kind == results.KindRequest && o.Intended >= 60e9 {
			requests[o.Strategy]++
			if o.Status == results.StatusOK {
				ok[o.Strategy]++
			}
		}
		return nil
	}))
	for _, r := range sum.Results {
		assert.Equal(t, r.Requests, requests[r.Strategy], r.Strategy)
		assert.Equal(t, r.Completed, ok[r.Strategy], r.Strategy)
	}
	_, err = os.Stat(filepath.Join(dir, ".parts"))
	assert.True(t, os.IsNotExist(err), "part files are cleaned up")
}

func TestSimUserMistakesExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"sim", "no-such-scenario"},
		{"sim", "demo", "--replications", "0"},
		{"sim", "demo", "--requests", "lots"},
		{"sim", "demo", "--horizon", "5"},
		{"sim", "demo", "--strategy", "nope"},
		{"sim", "demo", "--records"},
		{"sim", "demo", "--bogus-flag"},
		{"sim"},
	} {
		_, _, err := execute(t, args...)
		require.Error(t, err, "%v", args)
		assert.True(t, isUsage(err), "%v should be a usage error (exit 2), got %v", args, err)
	}
}

func TestVersion(t *testing.T) {
	out, _, err := execute(t, "version")
	require.NoError(t, err)
	assert.Regexp(t, `^mcbench \S+ go1\.\d+`, out)
}
