package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/scenarios"
)

const liveScenario = `
name: live-against-fakes
seed: 3
providers:
  - {name: azure, kind: azure, regions: [eastus2]}
  - {name: aws, kind: bedrock, regions: [us-east-1]}
deployments:
  - {name: aoai, provider: azure, region: eastus2, model: gpt-4o, endpoint: "BASE",
     capacity: {concurrency: 100}, latency: {ttft: 20ms, tpot: 2ms}}
  - {name: claude, provider: aws, region: us-east-1, model: anthropic.claude-sonnet-4-v1:0, endpoint: "BASE",
     capacity: {concurrency: 100}, latency: {ttft: 20ms, tpot: 2ms}}
workloads:
  - {name: chat, arrival: {process: poisson, rate: 5/s}, input_tokens: 30, output_tokens: 10, max_tokens: 20}
strategies:
  - {name: split, placement: {model: [aoai, claude]}, routing: {policy: weighted, max_attempts: 1}}
`

// TestLoadLiveAgainstFakes drives the live path (scenario endpoints,
// credentials from the environment, SigV4 from the AWS default chain)
// against fakes on loopback standing in for the clouds.
func TestLoadLiveAgainstFakes(t *testing.T) {
	s, err := scenarios.Parse("live.yaml", []byte(strings.ReplaceAll(liveScenario, "BASE", "http://127.0.0.1:1")))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, base, err := fake.StartLoopback(ctx, s, fake.Options{})
	require.NoError(t, err)
	c := srv.Credentials()
	t.Setenv("AZURE_OPENAI_API_KEY", c.APIKey)
	t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_BEARER_TOKEN_BEDROCK", "")

	dir := t.TempDir()
	path := filepath.Join(dir, "live.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(liveScenario, "BASE", base)), 0o644))

	_, _, err = execute(t, "load", path, "--strategy", "split", "--target", "live", "--rate", "5", "--duration", "2s")
	require.Error(t, err, "live traffic needs --live")
	assert.True(t, isUsage(err))

	out, errOut, err := execute(t, "load", path, "--strategy", "split", "--target", "live", "--live",
		"--rate", "20", "--duration", "2s", "--json", "--no-progress", "--out", filepath.Join(dir, "run"))
	require.NoError(t, err, errOut)
	assert.Contains(t, errOut, "it could cost at most $", "the cost bound is printed first")
	var sum struct {
		Results []struct {
			Requests, Completed int64
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.Positive(t, sum.Results[0].Requests)
	assert.Equal(t, sum.Results[0].Requests, sum.Results[0].Completed, "both clouds answered, signed and keyed")
	for _, f := range []string{"summary.json", "outcomes.csv", "results.vegeta", "latency.hlog", "run.json"} {
		b, err := os.ReadFile(filepath.Join(dir, "run", f))
		require.NoError(t, err, f)
		assert.NotContains(t, string(b), c.APIKey, "%s must not hold the API key", f)
		assert.NotContains(t, string(b), c.SecretAccessKey, "%s must not hold the AWS secret", f)
	}
	assert.NotContains(t, out+errOut, c.SecretAccessKey)
}
