package record

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/backends/timing"
	"github.com/mcbench/mcbench/scenarios"
)

// Secrets and text that must never reach a recording.
const (
	azKey      = "azure-key-DO-NOT-RECORD-1234"
	promptWord = "zanzibarquokka" // a word that appears only in prompts
	outputHdr  = "X-Mcbench-Output-Tokens"
)

// startProxy serves a recording proxy to upstream on 127.0.0.1 and returns
// its URL and the recording's path.
func startProxy(t *testing.T, upstream string, aws *aws.Credentials) (string, string, *Proxy) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	w, err := Create(path)
	require.NoError(t, err)
	u, err := url.Parse(upstream)
	require.NoError(t, err)
	p, err := New(Options{Upstream: u, Sink: w, AWS: aws, Logf: t.Logf})
	require.NoError(t, err)
	ts := httptest.NewServer(p)
	t.Cleanup(func() {
		ts.Close()
		require.NoError(t, w.Close())
	})
	return ts.URL, path, p
}

func readCalls(t *testing.T, path string) []Call {
	t.Helper()
	calls, truncated, err := ReadFile(path)
	require.NoError(t, err)
	require.False(t, truncated)
	return calls
}

// waitCalls waits for n lines: a line is written when the proxy's copy of
// the body ends, which can be just after the client has read it.
func waitCalls(t *testing.T, path string, n int) []Call {
	t.Helper()
	var calls []Call
	require.Eventually(t, func() bool {
		calls = readCalls(t, path)
		return len(calls) >= n
	}, 5*time.Second, 5*time.Millisecond)
	require.Len(t, calls, n)
	return calls
}

// TestStreamTimingThroughProxy uses a scripted upstream, so the timing is
// known: a role chunk at once, five content chunks 15 ms apart, then finish,
// usage and [DONE]. The client must get the bytes unchanged.
func TestStreamTimingThroughProxy(t *testing.T) {
	var sent bytes.Buffer
	var sentMu sync.Mutex
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/openai/deployments/my%2Fdep/chat/completions", r.URL.EscapedPath())
		assert.Empty(t, r.Header.Get("Accept-Encoding"), "the proxy asks for an uncompressed stream")
		assert.Equal(t, azKey, r.Header.Get("api-key"), "Azure keys pass through")
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		write := func(s string) {
			sentMu.Lock()
			sent.WriteString(s)
			sentMu.Unlock()
			_, _ = io.WriteString(w, s)
			w.(http.Flusher).Flush()
		}
		write(`data: {"choices":[{"delta":{"role":"assistant","content":""}}]}` + "\n\n")
		for i := range 5 {
			time.Sleep(15 * time.Millisecond)
			write(fmt.Sprintf(`data: {"choices":[{"delta":{"content":" w%d"}}]}`+"\n\n", i))
		}
		write(`data: {"choices":[{"delta":{},"finish_reason":"stop"}]}` + "\n\n" +
			`data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}` + "\n\n" + "data: [DONE]\n\n")
	}))
	defer up.Close()
	proxy, path, _ := startProxy(t, up.URL, nil)

	body := `{"messages":[{"role":"user","content":"tell me about ` + promptWord + ` now"}],"stream":true,"max_tokens":50,"stream_options":{"include_usage":true}}`
	req, err := http.NewRequest("POST", proxy+"/openai/deployments/my%2Fdep/chat/completions?api-version=2024-10-21", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("api-key", azKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	sentMu.Lock()
	assert.Equal(t, sent.String(), string(got), "the stream passes through unchanged")
	sentMu.Unlock()

	c := waitCalls(t, path, 1)[0]
	assert.Equal(t, "azure", c.Provider)
	assert.Equal(t, "my/dep", c.Deployment)
	assert.Equal(t, OpChat, c.Operation)
	assert.Equal(t, "2024-10-21", c.APIVersion)
	assert.True(t, c.Stream)
	assert.True(t, c.IncludeUsage)
	assert.Equal(t, 200, c.Status)
	assert.True(t, c.OK())
	assert.Equal(t, 50, c.MaxTokens)
	assert.Equal(t, 5, c.InputWords)
	assert.Equal(t, [4]int{3, 5, 5, 5}, [4]int{c.InputTokens, c.OutputTokens, c.StreamTokens, c.Chunks})
	assert.Equal(t, "stop", c.Stop)
	assert.Equal(t, int64(len(got)), c.ResponseBytes)
	assert.Equal(t, 1, c.Concurrent)
	// Sleeps overrun, never underrun, and a stalled reader only delays: so
	// lower bounds are exact and upper bounds generous.
	assert.GreaterOrEqual(t, c.TTFTMS, 15.0)
	assert.GreaterOrEqual(t, c.LastTokenMS, 75.0)
	assert.Less(t, c.TTFTMS, 5000.0)
	assert.LessOrEqual(t, c.HeadersMS, c.TTFTMS)
	assert.GreaterOrEqual(t, c.TotalMS, c.LastTokenMS)
	require.NotNil(t, c.Gaps)
	assert.Equal(t, int64(4), c.Gaps.N)
	assert.GreaterOrEqual(t, c.Gaps.Max, 15*time.Millisecond)
	assert.InDelta(t, c.LastTokenMS-c.TTFTMS, timing.Millis(c.Gaps.Sum), 0.01)
	assertClean(t, path)
}

// assertClean checks the recording for anything it must never hold.
func assertClean(t *testing.T, path string, secrets ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(data)
	for _, bad := range append(secrets, azKey, promptWord, "Authorization", "Signature", "AWS4", "api-key", "X-Amz") {
		assert.NotContains(t, s, bad)
	}
	// The fakes' output words (fake.AppendWords) must not appear as text.
	assert.NotContains(t, s, string(fake.AppendWords(nil, 0, 0, 3)))
	assert.NotContains(t, s, " of and")
}

func TestUpstreamUnreachable(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	addr := up.URL
	up.Close()
	proxy, path, _ := startProxy(t, addr, nil)
	resp, err := http.Post(proxy+"/model/amazon.nova-lite-v1%3A0/converse", "application/json", strings.NewReader(`{"messages":[]}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	c := waitCalls(t, path, 1)[0]
	assert.Equal(t, "bedrock", c.Provider)
	assert.Equal(t, "amazon.nova-lite-v1:0", c.ModelID)
	assert.Equal(t, 0, c.Status)
	assert.Equal(t, "upstream", c.Error)
	assert.False(t, c.OK())
}

func TestUnrecognisedRoutesPassUnrecorded(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello "+r.URL.Path)
	}))
	defer up.Close()
	proxy, path, _ := startProxy(t, up.URL, nil)
	resp, err := http.Post(proxy+"/openai/models", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "hello /openai/models", string(b))
	time.Sleep(20 * time.Millisecond)
	assert.Empty(t, readCalls(t, path))
}

func TestClassify(t *testing.T) {
	for path, want := range map[string]route{
		"/openai/deployments/gpt-4o/chat/completions":            {provider: ProviderAzure, operation: OpChat, deployment: "gpt-4o"},
		"/openai/v1/chat/completions":                            {provider: ProviderAzure, operation: OpChat, v1: true},
		"/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke": {provider: ProviderBedrock, operation: OpInvoke, modelID: "anthropic.claude-3-haiku-20240307-v1:0"},
		"/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse-stream": {provider: ProviderBedrock, operation: OpConverseStrm,
			modelID: "arn:aws:bedrock:us-east-1:1:inference-profile/us.x"},
	} {
		got, ok := classify(path)
		assert.True(t, ok, path)
		assert.Equal(t, want, got, path)
	}
	for _, path := range []string{"/openai/deployments//chat/completions", "/openai/deployments/a/b/chat/completions", "/model/x/other", "/model//converse", "/", "/openai/models"} {
		_, ok := classify(path)
		assert.False(t, ok, path)
	}
}

func TestParseRequest(t *testing.T) {
	info := parseRequest(route{provider: ProviderBedrock, operation: OpConverseStrm},
		[]byte(`{"messages":[{"role":"user","content":[{"text":"a b c"},{"image":{}}]}],"system":[{"text":"be terse"}],"inferenceConfig":{"maxTokens":77}}`))
	assert.Equal(t, reqInfo{stream: true, maxTokens: 77, inputWords: 5}, info)
	info = parseRequest(route{provider: ProviderBedrock, operation: OpInvoke},
		[]byte(`{"anthropic_version":"bedrock-2023-05-31","max_tokens":9,"system":"x y","messages":[{"role":"user","content":"one"}]}`))
	assert.Equal(t, reqInfo{maxTokens: 9, inputWords: 3}, info)
	info = parseRequest(route{provider: ProviderAzure, operation: OpChat, v1: true},
		[]byte(`{"model":"dep","max_tokens":5,"max_completion_tokens":6,"messages":[{"role":"user","content":[{"type":"text","text":"hi there"}]}]}`))
	assert.Equal(t, reqInfo{maxTokens: 6, inputWords: 2, model: "dep"}, info)
	assert.Equal(t, reqInfo{}, parseRequest(route{provider: ProviderAzure}, []byte(`not json`)))
}

func TestCredentialScope(t *testing.T) {
	region, service, ok := credentialScope("AWS4-HMAC-SHA256 Credential=AKID/20261126/eu-west-3/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	assert.True(t, ok)
	assert.Equal(t, [2]string{"eu-west-3", "bedrock"}, [2]string{region, service})
	for _, bad := range []string{"", "Bearer x", "AWS4-HMAC-SHA256 Credential=AKID/20261126/bedrock/aws4_request"} {
		_, _, ok := credentialScope(bad)
		assert.False(t, ok, bad)
	}
}

func TestNewRejectsBadUpstreams(t *testing.T) {
	w := &memSink{}
	for _, raw := range []string{"", "example.com", "ftp://example.com", "https://example.com/?api-key=x", "https://user:pw@example.com"} {
		u, _ := url.Parse(raw)
		_, err := New(Options{Upstream: u, Sink: w})
		assert.Error(t, err, raw)
	}
}

type memSink struct {
	mu    sync.Mutex
	calls []Call
}

func (m *memSink) Write(c *Call) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, *c)
	return nil
}

// --- against the real fakes, with the real SDK clients ---

func startFake(t *testing.T) (*fake.Server, string) {
	t.Helper()
	s, err := scenarios.Load(filepath.Join("testdata", "record.yaml"))
	require.NoError(t, err)
	srv, err := fake.New(s, fake.Options{Credentials: fake.Credentials{APIKey: azKey}})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

func TestAzureFakeThroughProxy(t *testing.T) {
	_, fakeURL := startFake(t)
	proxy, path, _ := startProxy(t, fakeURL, nil)
	client := openai.NewClient(azure.WithEndpoint(proxy, "2024-10-21"), azure.WithAPIKey(azKey), azure.WithUnsafeAllowHTTP(),
		option.WithMaxRetries(0), option.WithHeader(outputHdr, "12"))
	params := openai.ChatCompletionNewParams{
		Model:     "gpt4o",
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("please describe " + promptWord + " in detail")},
		MaxTokens: openai.Int(100),
	}
	ctx := context.Background()

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, int64(12), acc.Usage.CompletionTokens)

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{}
	done, err := client.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	assert.Equal(t, int64(12), done.Usage.CompletionTokens)

	params.Model = "no-such-deployment"
	_, err = client.Chat.Completions.New(ctx, params)
	require.Error(t, err)

	calls := waitCalls(t, path, 3)
	s, n, e := calls[0], calls[1], calls[2]
	for _, c := range calls[:2] {
		assert.True(t, c.OK(), "%+v", c)
		assert.Equal(t, "gpt4o", c.Deployment)
		assert.Equal(t, 100, c.MaxTokens)
		assert.Equal(t, 5, c.InputWords)
		assert.Equal(t, [2]int{5, 12}, [2]int{c.InputTokens, c.OutputTokens})
		assert.GreaterOrEqual(t, c.TotalMS, 30+12*3.0, "the answer ends at TTFT + 12 TPOT")
	}
	assert.True(t, s.Stream)
	assert.Equal(t, 12, s.StreamTokens)
	assert.GreaterOrEqual(t, s.TTFTMS, 30.0)
	assert.GreaterOrEqual(t, s.LastTokenMS, 30+11*3.0)
	assert.Less(t, s.TTFTMS, 5000.0)
	require.NotNil(t, s.Gaps)
	assert.Equal(t, int64(s.Chunks-1), s.Gaps.N, "the fake may group tokens that fall due together")
	assert.False(t, n.Stream)
	assert.Nil(t, n.Gaps)
	assert.Equal(t, 404, e.Status)
	assert.Equal(t, "http", e.Error)
	assert.Equal(t, "DeploymentNotFound", e.ErrorCode)
	assert.Equal(t, "East US 2", s.Region, "from x-ms-region")
	assert.NotEmpty(t, s.RequestID)
	assertClean(t, path)
}

// brDoer adds the fake's output-length header after signing, as the fake's
// own tests do.
type brDoer struct{ c *http.Client }

func (d brDoer) Do(r *http.Request) (*http.Response, error) {
	r.Header.Set(outputHdr, "10")
	return d.c.Do(r)
}

func bedrockClient(base, ak, sk string) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(base),
		Credentials:      credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient:       brDoer{&http.Client{}},
		RetryMaxAttempts: 1,
	}, func(o *bedrockruntime.Options) { o.AuthSchemePreference = []string{"sigv4"} })
}

func converseInput(model string) *bedrockruntime.ConverseInput {
	return &bedrockruntime.ConverseInput{
		ModelId: aws.String(model),
		Messages: []brtypes.Message{{Role: brtypes.ConversationRoleUser,
			Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "explain " + promptWord + " briefly"}}}},
		InferenceConfig: &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(64)},
	}
}

func converseStreamInput(model string) *bedrockruntime.ConverseStreamInput {
	in := converseInput(model)
	return &bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages, InferenceConfig: in.InferenceConfig}
}

// TestBedrockFakeThroughProxy drives the four Bedrock operations with the
// real SDK client through the proxy. The client signs with credentials the
// fake does not know; the proxy re-signs with the fake's, so the fake's full
// SigV4 check (which covers the Host) passes.
func TestBedrockFakeThroughProxy(t *testing.T) {
	srv, fakeURL := startFake(t)
	fc := srv.Credentials()
	proxy, path, _ := startProxy(t, fakeURL, &aws.Credentials{AccessKeyID: fc.AccessKeyID, SecretAccessKey: fc.SecretAccessKey})
	const clientAK, clientSK = "AKIACLIENTONLY000000", "client-secret-DO-NOT-RECORD"
	client := bedrockClient(proxy, clientAK, clientSK)
	ctx := context.Background()
	model := "anthropic.claude-3-haiku-20240307-v1:0"

	out, err := client.Converse(ctx, converseInput(model))
	require.NoError(t, err)
	assert.Equal(t, int32(10), *out.Usage.OutputTokens)

	cs, err := client.ConverseStream(ctx, converseStreamInput(model))
	require.NoError(t, err)
	for range cs.GetStream().Events() {
	}
	require.NoError(t, cs.GetStream().Err())

	invokeBody := []byte(`{"anthropic_version":"bedrock-2023-05-31","max_tokens":32,"messages":[{"role":"user","content":"say ` + promptWord + `"}]}`)
	_, err = client.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(model), Body: invokeBody, ContentType: aws.String("application/json")})
	require.NoError(t, err)
	is, err := client.InvokeModelWithResponseStream(ctx, &bedrockruntime.InvokeModelWithResponseStreamInput{ModelId: aws.String(model), Body: invokeBody, ContentType: aws.String("application/json")})
	require.NoError(t, err)
	for range is.GetStream().Events() {
	}
	require.NoError(t, is.GetStream().Err())

	// stream_cut: half the tokens, then the connection drops.
	// The proxy resets the client's connection as the fake reset its own,
	// so the client sees the failure (a graceful close would look like the
	// end of the stream to the SDK).
	cut, err := client.ConverseStream(ctx, converseStreamInput("test.cut-v1:0"))
	require.NoError(t, err)
	for range cut.GetStream().Events() {
	}
	assert.Error(t, cut.GetStream().Err())

	calls := waitCalls(t, path, 5)
	ops := map[string]Call{}
	for _, c := range calls[:4] {
		assert.True(t, c.OK(), "%+v", c)
		assert.Equal(t, model, c.ModelID)
		assert.Equal(t, "bedrock", c.Provider)
		assert.True(t, c.Usage)
		assert.Equal(t, 10, c.OutputTokens, c.Operation)
		ops[c.Operation] = c
	}
	assert.Equal(t, 3, ops[OpConverse].InputWords)
	assert.Equal(t, "us-east-1", ops[OpConverse].Region, "the signing region")
	assert.NotEmpty(t, ops[OpConverse].RequestID)
	assert.Equal(t, 64, ops[OpConverse].MaxTokens)
	assert.Equal(t, 32, ops[OpInvoke].MaxTokens)
	for _, op := range []string{OpConverseStrm, OpInvokeStrm} {
		c := ops[op]
		assert.True(t, c.Stream, op)
		assert.Equal(t, 10, c.StreamTokens, op)
		assert.GreaterOrEqual(t, c.TTFTMS, 30.0, op)
		// Token i is due at TTFT + i·TPOT after admission; a stalled reader
		// can only make things later, so only lower bounds are safe.
		assert.GreaterOrEqual(t, c.LastTokenMS, 30+9*3.0, op)
		assert.Less(t, c.TTFTMS, 5000.0, op)
	}
	assert.Equal(t, "test.cut-v1:0", calls[4].ModelID)
	assert.Contains(t, []string{"incomplete", "read"}, calls[4].Error)
	assertClean(t, path, clientAK, clientSK, fc.AccessKeyID, fc.SecretAccessKey)
}

// TestBedrockPassThroughWithoutCredentials: with no credentials to re-sign
// with, the proxy keeps the client's signature and Host header, which a fake
// (checking the signature against the Host it receives) accepts.
func TestBedrockPassThroughWithoutCredentials(t *testing.T) {
	srv, fakeURL := startFake(t)
	proxy, path, _ := startProxy(t, fakeURL, nil)
	fc := srv.Credentials()
	client := bedrockClient(proxy, fc.AccessKeyID, fc.SecretAccessKey)
	_, err := client.Converse(context.Background(), converseInput("anthropic.claude-3-haiku-20240307-v1:0"))
	require.NoError(t, err)
	c := waitCalls(t, path, 1)[0]
	assert.True(t, c.OK())
	assertClean(t, path, fc.SecretAccessKey)
}

// TestManyConcurrentCalls checks that concurrent lines are whole and counted.
func TestManyConcurrentCalls(t *testing.T) {
	_, fakeURL := startFake(t)
	proxy, path, p := startProxy(t, fakeURL, nil)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"messages":[{"role":"user","content":"%s"}],"stream":%v,"max_tokens":20}`, strings.Repeat("w ", i+1), i%2 == 0)
			req, _ := http.NewRequest("POST", proxy+"/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21", strings.NewReader(body))
			req.Header.Set("api-key", azKey)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(outputHdr, "5")
			resp, err := http.DefaultClient.Do(req)
			if assert.NoError(t, err) {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	calls := waitCalls(t, path, n)
	seen := map[int]bool{}
	maxConc := 0
	for _, c := range calls {
		assert.True(t, c.OK())
		seen[c.InputWords] = true
		maxConc = max(maxConc, c.Concurrent)
	}
	assert.Len(t, seen, n, "every call once")
	assert.Greater(t, maxConc, 1)
	assert.Eventually(t, func() bool { return p.InFlight() == 0 }, time.Second, time.Millisecond)
}

func TestReadToleratesCrashedLastLine(t *testing.T) {
	good := `{"start":"2026-11-26T10:00:00Z","provider":"azure","deployment":"d","operation":"chat.completions","status":200}`
	calls, truncated, err := Read(strings.NewReader(good + "\n\n" + good + "\n" + good[:40]))
	require.NoError(t, err)
	assert.True(t, truncated)
	assert.Len(t, calls, 2)

	_, _, err = Read(strings.NewReader(good + "\n{broken\n" + good + "\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")

	long := `{"provider":"` + strings.Repeat("x", 100<<10) + `"}` + "\n"
	calls, _, err = Read(strings.NewReader(long))
	require.NoError(t, err)
	assert.Len(t, calls, 1)
}

func TestWriterAppendsWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.jsonl")
	w, err := Create(path)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			g := timing.GapHist{}
			g.Add(time.Duration(i) * time.Millisecond)
			assert.NoError(t, w.Write(&Call{Provider: "azure", Deployment: strconv.Itoa(i), Gaps: &g}))
		})
	}
	wg.Wait()
	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.Write(&Call{}), os.ErrClosed)
	calls := readCalls(t, path)
	assert.Len(t, calls, 100)
	// Reopening appends.
	w, err = Create(path)
	require.NoError(t, err)
	require.NoError(t, w.Write(&Call{Provider: "bedrock"}))
	require.NoError(t, w.Close())
	assert.Len(t, readCalls(t, path), 101)
	// The histogram survives the round trip.
	for _, c := range calls {
		i, _ := strconv.Atoi(c.Deployment)
		assert.Equal(t, time.Duration(i)*time.Millisecond, c.Gaps.Max)
		b, _ := json.Marshal(c.Gaps)
		assert.Contains(t, string(b), `"buckets":[[`)
	}
}
