package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
)

// TestFakeCommandJSONAndStop starts `mcbench fake --json`, reads the first
// stdout line, checks the endpoints answer, and stops it by cancelling its
// context (as SIGINT does).
func TestFakeCommandJSONAndStop(t *testing.T) {
	execute(t, "version") // reset flags
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	rootCmd.SetOut(pw)
	rootCmd.SetErr(io.Discard)
	rootCmd.SetArgs([]string{"fake", "--scenario", "demo", "--json", "--quiet"})
	done := make(chan error, 1)
	go func() {
		done <- rootCmd.ExecuteContext(ctx)
		pw.Close()
	}()
	defer func() {
		rootCmd.SetOut(nil)
		rootCmd.SetErr(nil)
		rootCmd.SetArgs(nil)
	}()
	line, err := bufio.NewReader(pr).ReadBytes('\n')
	require.NoError(t, err)
	var got struct {
		Deployments []fake.Endpoint `json:"deployments"`
	}
	require.NoError(t, json.Unmarshal(line, &got))
	require.Len(t, got.Deployments, 3)
	providers := map[string]int{}
	for _, d := range got.Deployments {
		providers[d.Provider]++
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, d.Endpoint)
		if d.Provider == "azure" {
			assert.NotEmpty(t, d.APIKey)
			assert.NotEmpty(t, d.Deployment)
		} else {
			assert.NotEmpty(t, d.AccessKeyID)
			assert.NotEmpty(t, d.SecretAccessKey)
			assert.Equal(t, "openai.gpt-oss-120b-1:0", d.ModelID)
		}
	}
	assert.Equal(t, map[string]int{"azure": 2, "bedrock": 1}, providers)
	// The listener answers (any status: routes are the protocol handlers' business).
	resp, err := http.Get(got.Deployments[0].Endpoint + "/")
	require.NoError(t, err)
	resp.Body.Close()
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("fake did not stop on cancel")
	}
}

func TestFakeRefusesNonLoopback(t *testing.T) {
	_, _, err := execute(t, "fake", "--scenario", "demo", "--listen", "0.0.0.0:0")
	require.Error(t, err)
	assert.True(t, isUsage(err))
	assert.Contains(t, err.Error(), "non-loopback")
	_, _, err = execute(t, "fake")
	assert.True(t, isUsage(err))
}
