package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/backends/record"
	"github.com/mcbench/mcbench/scenarios"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// executeCtx runs the CLI in-process with ctx and fresh flag values, writing
// stderr to errOut.
func executeCtx(ctx context.Context, errOut io.Writer, args ...string) error {
	resetFlags(rootCmd)
	// cobra hands the root's context to a subcommand only if it has none:
	// without this, a subcommand keeps the first context it ever ran with
	// (perhaps cancelled). Afterwards the subcommands get a live one, so
	// ctx, cancelled by the caller, does not stop the next test's command.
	for _, c := range rootCmd.Commands() {
		c.SetContext(ctx)
	}
	rootCmd.SetOut(io.Discard)
	rootCmd.SetErr(errOut)
	rootCmd.SetArgs(args)
	defer func() {
		for _, c := range rootCmd.Commands() {
			c.SetContext(context.Background())
		}
		rootCmd.SetOut(nil)
		rootCmd.SetErr(nil)
		rootCmd.SetArgs(nil)
	}()
	return rootCmd.ExecuteContext(ctx)
}

const recordKey = "cli-test-key-never-recorded"

func TestRecordCommand(t *testing.T) {
	s, err := scenarios.Load("../../testdata/good/minimal.yaml")
	require.NoError(t, err)
	srv, err := fake.New(s, fake.Options{Credentials: fake.Credentials{APIKey: recordKey}})
	require.NoError(t, err)
	up := httptest.NewServer(srv.Handler())
	defer up.Close()

	out := filepath.Join(t.TempDir(), "calls.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- executeCtx(ctx, &stderr, "record", "--upstream", up.URL, "--out", out, "--grace", "2s")
	}()

	addrRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var proxy string
	require.Eventually(t, func() bool {
		m := addrRE.FindStringSubmatch(stderr.String())
		if m != nil {
			proxy = m[1]
		}
		return m != nil
	}, 5*time.Second, 5*time.Millisecond)

	for _, stream := range []string{"true", "false"} {
		req, err := http.NewRequest("POST", proxy+"/openai/deployments/aoai-east/chat/completions?api-version=2024-10-21",
			strings.NewReader(`{"messages":[{"role":"user","content":"secret prompt words"}],"max_tokens":8,"stream":`+stream+`}`))
		require.NoError(t, err)
		req.Header.Set("api-key", recordKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(fake.OutputTokensHeader, "3")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
	}
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, stderr.String(), "stopped; 2 calls recorded")

	calls, _, err := record.ReadFile(out)
	require.NoError(t, err)
	require.Len(t, calls, 2)
	for _, c := range calls {
		assert.True(t, c.OK())
		assert.Equal(t, "aoai-east", c.Deployment)
		assert.Equal(t, 3, c.Input())
		assert.Equal(t, 3, c.Output())
	}
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.NotContains(t, string(data), recordKey)
	assert.NotContains(t, string(data), "secret prompt")
}

func TestRecordUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"record", "--out", "x.jsonl"}, "--upstream is required"},
		{[]string{"record", "--upstream", "http://127.0.0.1:1"}, "--out is required"},
		{[]string{"record", "--upstream", "ftp://x", "--out", filepath.Join(dir, "a.jsonl")}, "not http or https"},
		{[]string{"record", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "b.jsonl"), "--listen", "0.0.0.0:0"}, "non-loopback"},
		{[]string{"record", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "c.jsonl"), "--aws-access-key-id", "AKIA"}, "needs its secret access key"},
		{[]string{"record", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "no", "such", "dir.jsonl")}, "--out"},
		{[]string{"record", "extra"}, "accepts 0 arg"},
	} {
		err := executeCtx(context.Background(), io.Discard, c.args...)
		require.Error(t, err, c.args)
		assert.True(t, isUsage(err), "%v: %v", c.args, err)
		assert.Contains(t, err.Error(), c.want)
	}
}
