package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/scenarios"
)

// stripComments drops a profile's comment lines, which name the recording as
// the command was given it.
func stripComments(s string) string { return regexp.MustCompile(`(?m)^#.*\n`).ReplaceAllString(s, "") }

func TestProfileFitExample(t *testing.T) {
	rec := "../../testdata/recordings/example.jsonl"
	out, errOut, err := execute(t, "profile", "fit", rec, "--deployment", "gpt-4o-eastus2")
	require.NoError(t, err)
	want, err := os.ReadFile("../../testdata/profiles/example.yaml")
	require.NoError(t, err)
	assert.Equal(t, stripComments(string(want)), stripComments(out), "the shipped profile is what the command fits")
	assert.Contains(t, out, "# fitted from "+rec)
	assert.Contains(t, errOut, `azure "gpt-4o-eastus2": 240 of 260 calls used`)
	assert.Contains(t, errOut, "KS distance")

	path := filepath.Join(t.TempDir(), "p.yaml")
	out, _, err = execute(t, "profile", "fit", rec, "--deployment", "anthropic.claude-3-haiku-20240307-v1:0", "--out", path)
	require.NoError(t, err)
	assert.Empty(t, out)
	l, err := scenarios.LoadProfile(path)
	require.NoError(t, err)
	assert.Positive(t, l.TTFT.Quantile(0.5))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestProfileFitUsageErrors(t *testing.T) {
	rec := "../../testdata/recordings/example.jsonl"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"profile", "fit", rec}, "holds several deployments"},
		{[]string{"profile", "fit", rec, "--deployment", "nope"}, `no deployment or model "nope"`},
		{[]string{"profile", "fit", rec, "--deployment", "gpt-4o-westus"}, "0 successful streamed calls"},
		{[]string{"profile", "fit", "no-such.jsonl"}, "no such file"},
		{[]string{"profile", "fit", "../../testdata/good/minimal.yaml"}, "line 1"},
		{[]string{"profile", "fit"}, "accepts 1 arg"},
		{[]string{"profile", "fit", rec, "--deployment", "gpt-4o-eastus2", "--out", "/no/such/dir/p.yaml"}, "--out"},
	} {
		_, _, err := execute(t, c.args...)
		require.Error(t, err, c.args)
		assert.True(t, isUsage(err), "%v: %v", c.args, err)
		assert.Contains(t, err.Error(), c.want, c.args)
	}
}

func TestProfiledScenarioSimulates(t *testing.T) {
	out, _, err := execute(t, "sim", "../../testdata/good/profiled.yaml", "--requests", "300", "--replications", "2", "--json", "--no-progress")
	require.NoError(t, err)
	assert.Contains(t, out, "east-first")
}
