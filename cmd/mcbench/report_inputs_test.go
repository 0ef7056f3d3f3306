package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A NaN or infinite cost in outcomes.csv is refused (exit 2) with the
// file, line, column and field; no document is written, so "$NaN" cannot
// reach one.
func TestReportRefusesNonFiniteCost(t *testing.T) {
	run := simRun(t, true)
	for _, bad := range []string{"NaN", "Inf"} {
		dir := copyRun(t, run)
		p := filepath.Join(dir, "outcomes.csv")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		lines := strings.SplitAfter(string(b), "\n")
		// cost_usd is the second-to-last column (before lag_ns).
		re := regexp.MustCompile(`,[0-9.e-]+,(-?[0-9]+)\n$`)
		require.Regexp(t, re, lines[5])
		lines[5] = re.ReplaceAllString(lines[5], ","+bad+",$1\n")
		require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644))
		out := filepath.Join(t.TempDir(), "rep")
		_, _, err = execute(t, "report", dir, "--out", out)
		require.Error(t, err, bad)
		assert.True(t, isUsage(err), "%s: exit 2 expected, got %v", bad, err)
		assert.Regexp(t, regexp.QuoteMeta(p)+`:6:\d+: cost_usd: "`+bad+`" is not a finite number`, err.Error())
		// --out is created (and checked writable) before the analysis.
		_, statErr := os.Stat(filepath.Join(out, "report.html"))
		assert.True(t, os.IsNotExist(statErr), "no document is written")
	}
}

// A run file that is a symbolic link out of the run directory is refused
// (exit 2), naming the link.
func TestReportRefusesSymlinkOutOfTheRun(t *testing.T) {
	run := simRun(t, true)
	dir := copyRun(t, run)
	p := filepath.Join(dir, "outcomes.csv")
	require.NoError(t, os.Remove(p))
	require.NoError(t, os.Symlink(filepath.Join(run, "outcomes.csv"), p))
	_, _, err := execute(t, "report", dir, "--out", filepath.Join(t.TempDir(), "rep"))
	require.Error(t, err)
	assert.True(t, isUsage(err), "%v", err)
	assert.ErrorContains(t, err, p+": a symbolic link to ")
	assert.ErrorContains(t, err, "outside the run directory")
}
