package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/results"
)

// TestFaultTimesAgree: for a simulation that crosses the demo's outage
// (5–7 min), time to fail over and to recover are the same in the CLI's
// summary.json, the report's R1 table (computed from the records) and its
// summary.json table, cell for cell, and the CLI prints no 0 for a time it
// did not observe.
func TestFaultTimesAgree(t *testing.T) {
	dir := t.TempDir()
	stdout, _, err := execute(t, "sim", "demo", "--replications", "2", "--horizon", "8m", "--out", dir, "--records", "--no-progress")
	require.NoError(t, err)
	assert.Contains(t, stdout, "time to fail over")
	run, err := results.OpenRun(dir)
	require.NoError(t, err)
	an, err := reports.Analyze(run, reports.DefaultOptions())
	require.NoError(t, err)
	sum := map[string]results.FaultResult{}
	for _, r := range run.Summary.Results {
		require.Len(t, r.Faults, 1)
		sum[r.Strategy] = r.Faults[0]
	}
	seen := 0
	for _, m := range an.Strategies {
		f := m.Resilience.Faults[0]
		s := sum[m.Name]
		for _, c := range []struct {
			name           string
			report, summed float64
			why, sumWhy    string
		}{
			{"time to fail over", f.TimeToFailover, float64(s.TimeToFailoverSeconds), f.FailoverWhy, s.FailoverWhy()},
			{"time to recover", f.TimeToRecover, float64(s.TimeToRecoverSeconds), f.RecoverWhy, s.RecoverWhy()},
		} {
			if math.IsNaN(c.summed) {
				assert.True(t, math.IsNaN(c.report), "%s %s: summary null, report %v", m.Name, c.name, c.report)
			} else {
				seen++
				assert.InDelta(t, c.summed, c.report, 1e-9, "%s %s", m.Name, c.name)
			}
			assert.Equal(t, c.sumWhy, c.why, "%s %s", m.Name, c.name)
		}
	}
	require.Positive(t, seen, "the outage produced observed times to compare")

	// The two tables print the same cells.
	var impact, windows *reports.Table
	for _, tb := range an.Document().Tables() {
		switch tb.ID {
		case "fault-impact":
			impact = tb
		case "fault-windows":
			windows = tb
		}
	}
	require.NotNil(t, impact)
	require.NotNil(t, windows)
	col := func(tb *reports.Table, name string) int {
		for i, c := range tb.Columns {
			if c == name {
				return i
			}
		}
		t.Fatalf("table %s has no column %q", tb.ID, name)
		return -1
	}
	require.Equal(t, len(impact.Rows), len(windows.Rows))
	for i := range impact.Rows {
		for _, name := range []string{"time to fail over", "time to recover"} {
			a, b := impact.Rows[i][col(impact, name)], windows.Rows[i][col(windows, name)]
			assert.Equal(t, b.Text, a.Text, "row %d, %s", i, name)
			assert.Equal(t, b.Val, a.Val, "row %d, %s", i, name)
			assert.NotEqual(t, "0", a.Text, "an unobserved time is never 0")
		}
	}
}
