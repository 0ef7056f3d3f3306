package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/scenarios"
)

// Secrets the tests hand to `record`; none may appear in an error message
// or in the process list.
const (
	testAKID    = "AKIATESTRECORDPROXY1"
	testSecret  = "sEcReT-never-on-a-command-line-0123456789"
	testSession = "SeSsIoN-token-never-on-a-command-line"
)

// A secret given as a flag value is refused (exit 2) with how to pass it
// instead, and the message does not repeat it.
func TestRecordRefusesSecretFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "c.jsonl")
	for _, c := range []struct {
		args      []string
		env, file string
	}{
		{[]string{"--aws-secret-access-key", testSecret}, "AWS_SECRET_ACCESS_KEY", "--aws-secret-access-key-file"},
		{[]string{"--aws-secret-access-key=" + testSecret}, "AWS_SECRET_ACCESS_KEY", "--aws-secret-access-key-file"},
		{[]string{"--aws-session-token", testSession}, "AWS_SESSION_TOKEN", "--aws-session-token-file"},
		// Refused even before the required flags are checked: the advice
		// comes first.
		{[]string{"--aws-access-key-id", testAKID, "--aws-secret-access-key", testSecret}, "AWS_SECRET_ACCESS_KEY", "--aws-secret-access-key-file"},
	} {
		args := append([]string{"record"}, c.args...)
		if len(c.args) < 4 {
			args = append(args, "--upstream", "http://127.0.0.1:1", "--out", out)
		}
		err := executeCtx(context.Background(), io.Discard, args...)
		require.Error(t, err, c.args)
		assert.True(t, isUsage(err), "%v: %v", c.args, err)
		msg := err.Error()
		assert.Contains(t, msg, "not accepted as a flag value")
		assert.Contains(t, msg, c.env)
		assert.Contains(t, msg, c.file)
		assert.NotContains(t, msg, testSecret)
		assert.NotContains(t, msg, testSession)
	}
	_, err := os.Stat(out)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing is started before the refusal")
}

func TestRecordSecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte(" \n"), 0o600))
	secret := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secret, []byte(testSecret+"\n"), 0o600))
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	base := []string{"record", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "c.jsonl")}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--aws-access-key-id", testAKID, "--aws-secret-access-key-file", filepath.Join(dir, "missing")}, "--aws-secret-access-key-file"},
		{[]string{"--aws-access-key-id", testAKID, "--aws-secret-access-key-file", empty}, "is empty"},
		{[]string{"--aws-access-key-id", testAKID, "--aws-secret-access-key-file", dir}, "is a directory"},
		{[]string{"--aws-secret-access-key-file", secret}, "needs its access key id"},
		{[]string{"--aws-access-key-id", testAKID}, "needs its secret access key"},
		{[]string{"--aws-session-token-file", secret}, "needs a secret access key"},
	} {
		err := executeCtx(context.Background(), io.Discard, append(base, c.args...)...)
		require.Error(t, err, c.args)
		assert.True(t, isUsage(err), "%v: %v", c.args, err)
		assert.Contains(t, err.Error(), c.want)
		assert.NotContains(t, err.Error(), testSecret)
	}
}

// startSigningFake serves the demo scenario's fakes, which accept Bedrock
// calls signed with testAKID/testSecret only, and returns their URL and a
// Bedrock model id they serve.
func startSigningFake(t *testing.T) (string, string) {
	t.Helper()
	s, err := scenarios.Open("demo")
	require.NoError(t, err)
	srv, err := fake.New(s, fake.Options{Credentials: fake.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}})
	require.NoError(t, err)
	l, err := fake.Listen("127.0.0.1:0", false)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx, l, time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + l.Addr().String()
	for _, e := range srv.Endpoints(base) {
		if e.Provider == "bedrock" {
			return base, e.ModelID
		}
	}
	t.Fatal("demo has no bedrock deployment")
	return "", ""
}

// outputTokens asks the fake for a short answer.
type outputTokens struct{ c *http.Client }

func (d outputTokens) Do(r *http.Request) (*http.Response, error) {
	r.Header.Set(fake.OutputTokensHeader, "3")
	return d.c.Do(r)
}

// converseThrough sends one Bedrock Converse call through the proxy signed
// with credentials the fake does not know: it succeeds only if the proxy
// re-signed it with the fake's (the secret it was given).
func converseThrough(t *testing.T, proxy, model string) error {
	t.Helper()
	c := bedrockruntime.New(bedrockruntime.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(proxy),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIACLIENT", "client-secret", ""),
		HTTPClient:       outputTokens{&http.Client{Timeout: 30 * time.Second}},
		RetryMaxAttempts: 1,
	}, func(o *bedrockruntime.Options) { o.AuthSchemePreference = []string{"sigv4"} })
	_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{
		ModelId: aws.String(model),
		Messages: []brtypes.Message{{Role: brtypes.ConversationRoleUser,
			Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "hello"}}}},
		InferenceConfig: &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(8)},
	})
	return err
}

var listeningRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// runRecordInProcess starts `record` with args in-process and returns the
// proxy's URL and a stop function returning the command's stderr and error.
func runRecordInProcess(t *testing.T, args ...string) (string, func() (string, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- executeCtx(ctx, &stderr, append([]string{"record"}, args...)...) }()
	var proxy string
	require.Eventually(t, func() bool {
		if m := listeningRE.FindStringSubmatch(stderr.String()); m != nil {
			proxy = m[1]
		}
		select {
		case err := <-done:
			done <- err
			return true
		default:
		}
		return proxy != ""
	}, 10*time.Second, 5*time.Millisecond)
	require.NotEmpty(t, proxy, "record did not start: %s", stderr.String())
	return proxy, func() (string, error) { cancel(); err := <-done; return stderr.String(), err }
}

// The secret access key is read from a file (and a session token from
// another) and used: the fake accepts the re-signed call.
func TestRecordSecretFromFile(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "ignored-when-a-file-is-given")
	t.Setenv("AWS_SESSION_TOKEN", "")
	up, model := startSigningFake(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("  "+testSecret+"\n"), 0o600))
	out := filepath.Join(dir, "calls.jsonl")
	proxy, stop := runRecordInProcess(t, "--upstream", up, "--out", out, "--grace", "2s",
		"--aws-access-key-id", testAKID, "--aws-secret-access-key-file", secretFile)
	cerr := converseThrough(t, proxy, model)
	stderr, err := stop()
	require.NoError(t, cerr, stderr)
	require.NoError(t, err)
	assert.Contains(t, stderr, "re-signed for the upstream")
	assert.NotContains(t, stderr, "can be read by group or others")
	assert.NotContains(t, stderr, testSecret)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.NotContains(t, string(data), testSecret)

	// A file others can read is used, with a warning.
	require.NoError(t, os.Chmod(secretFile, 0o644))
	proxy, stop = runRecordInProcess(t, "--upstream", up, "--out", out, "--grace", "2s",
		"--aws-access-key-id", testAKID, "--aws-secret-access-key-file", secretFile)
	require.NoError(t, converseThrough(t, proxy, model))
	stderr, err = stop()
	require.NoError(t, err)
	assert.Contains(t, stderr, "can be read by group or others")
	assert.Contains(t, stderr, "chmod 600")
}

// The documented default: credentials from the environment.
func TestRecordSecretFromEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", testAKID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	up, model := startSigningFake(t)
	proxy, stop := runRecordInProcess(t, "--upstream", up, "--out", filepath.Join(t.TempDir(), "c.jsonl"), "--grace", "2s")
	cerr := converseThrough(t, proxy, model)
	stderr, err := stop()
	require.NoError(t, cerr, stderr)
	require.NoError(t, err)
	assert.Contains(t, stderr, "re-signed for the upstream")

	// Without credentials the client's signature passes through, which
	// the fake refuses: the success above was the proxy's signing.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	proxy, stop = runRecordInProcess(t, "--upstream", up, "--out", filepath.Join(t.TempDir(), "d.jsonl"), "--grace", "2s")
	assert.Error(t, converseThrough(t, proxy, model))
	_, err = stop()
	require.NoError(t, err)
}

// recordChildEnv marks the test binary re-executed as `mcbench` by
// TestRecordSecretNotInProcessList: the child runs the CLI on the
// arguments after "--".
const recordChildEnv = "MCBENCH_TEST_RECORD_CHILD"

// TestRecordChild is the child process of TestRecordSecretNotInProcessList
// (it does nothing in a normal run).
func TestRecordChild(t *testing.T) {
	if os.Getenv(recordChildEnv) != "1" {
		return
	}
	resetFlags(rootCmd)
	rootCmd.SetArgs(flag.Args())
	if err := rootCmd.ExecuteContext(context.Background()); err != nil {
		os.Exit(1)
	}
}

// In the documented usage (secret in the environment or in a file) no
// secret reaches the process list, which every local user can read, while
// the proxy does sign with it. The child is a real process: its command
// line is read from /proc as ps would.
func TestRecordSecretNotInProcessList(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the child's command line from /proc (Linux only)")
	}
	up, model := startSigningFake(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600))
	for name, c := range map[string]struct {
		args []string
		env  []string
	}{
		"file": {[]string{"--aws-access-key-id", testAKID, "--aws-secret-access-key-file", secretFile}, nil},
		"env":  {nil, []string{"AWS_ACCESS_KEY_ID=" + testAKID, "AWS_SECRET_ACCESS_KEY=" + testSecret}},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"-test.run=^TestRecordChild$", "--", "record", "--upstream", up,
				"--out", filepath.Join(dir, name+".jsonl"), "--grace", "2s"}, c.args...)
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(append(os.Environ(), recordChildEnv+"=1", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="), c.env...)
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					select {
					case lines <- sc.Text():
					default:
					}
				}
				close(lines)
				exited <- cmd.Wait()
			}()
			defer func() { _ = cmd.Process.Kill() }()
			var proxy string
			timeout := time.After(60 * time.Second)
			for proxy == "" {
				select {
				case l, ok := <-lines:
					require.True(t, ok, "record exited before listening")
					if m := listeningRE.FindStringSubmatch(l); m != nil {
						proxy = m[1]
					}
				case <-timeout:
					t.Fatal("record did not start listening")
				}
			}
			cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline")
			require.NoError(t, err)
			argv := strings.ReplaceAll(string(cmdline), "\x00", " ")
			assert.Contains(t, argv, "record --upstream", "read the child's own command line")
			assert.NotContains(t, argv, testSecret)
			require.NoError(t, converseThrough(t, proxy, model), "the proxy signs with the secret it was given")

			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			select {
			case err := <-exited:
				require.NoError(t, err)
			case <-time.After(60 * time.Second):
				t.Fatal("record did not stop on SIGINT")
			}
		})
	}
}
