package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// executeForValidate runs the root command with args and returns its
// standard output, standard error and error.
func executeForValidate(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&errOut)
	rootCmd.SetArgs(args)
	// cobra keeps the last ExecuteContext's context: start each run afresh.
	rootCmd.SetContext(context.Background())
	defer func() {
		rootCmd.SetOut(nil)
		rootCmd.SetErr(nil)
		rootCmd.SetArgs(nil)
	}()
	err := rootCmd.Execute()
	return out.String(), errOut.String(), err
}

func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

func TestValidateOK(t *testing.T) {
	out, errOut, err := executeForValidate(t, "validate", "../../testdata/good/multicloud.yaml", "demo")
	require.NoError(t, err)
	assert.Empty(t, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, "../../testdata/good/multicloud.yaml: ok (2 providers, 5 deployments, 6 workloads, 2 strategies)", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "demo: ok ("), lines[1])
}

func TestValidateReportsEveryProblem(t *testing.T) {
	out, errOut, err := executeForValidate(t, "validate", "../../testdata/good/minimal.yaml", "../../testdata/bad/unit-typos.yaml")
	require.Error(t, err)
	assert.True(t, isUsage(err), "an invalid scenario exits 2")
	assert.Equal(t, "1 of 2 scenarios invalid", err.Error())
	assert.Equal(t, "../../testdata/good/minimal.yaml: ok (1 provider, 1 deployment, 1 workload, 1 strategy)\n", out)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Len(t, lines, 5)
	assert.Equal(t, `../../testdata/bad/unit-typos.yaml:4:12: run.horizon: "5 minutes" is not a duration (examples: 250ms, 2m, 1h30m)`, lines[0])
	for _, l := range lines {
		assert.Regexp(t, `^\.\./\.\./testdata/bad/unit-typos\.yaml:\d+:\d+: [a-z_\[\]0-9.]+: .+`, l)
	}
}

func TestValidateMissing(t *testing.T) {
	_, errOut, err := executeForValidate(t, "validate", "nope.yaml", "nope")
	require.Error(t, err)
	assert.True(t, isUsage(err))
	assert.Contains(t, errOut, "nope.yaml: no such file or directory")
	assert.Contains(t, errOut, `"nope" is neither a scenario file nor a library scenario (available: `)
}

func TestValidateNoArgs(t *testing.T) {
	_, _, err := executeForValidate(t, "validate")
	require.Error(t, err)
	assert.True(t, isUsage(err))
}

func TestSchemaCommand(t *testing.T) {
	out, _, err := executeForValidate(t, "schema")
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", s["$schema"])
	assert.Equal(t, false, s["additionalProperties"])

	_, _, err = executeForValidate(t, "schema", "extra")
	require.Error(t, err)
	assert.True(t, isUsage(err))
}

func TestPlural(t *testing.T) {
	assert.Equal(t, "1 strategy", plural(1, "strategy"))
	assert.Equal(t, "0 strategies", plural(0, "strategy"))
	assert.Equal(t, "3 providers", plural(3, "provider"))
}
