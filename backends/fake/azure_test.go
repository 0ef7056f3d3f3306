package fake

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/ai/azopenai"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/internal/lateness"
	"github.com/mcbench/mcbench/scenarios"
)

// azTestKey is the key the test servers accept; azBadKey is any other.
const (
	azTestKey  = "azure-test-key-not-a-secret"
	azBadKey   = "azure-wrong-key"
	azAPIVer   = "2024-10-21"
	azPrompt   = "Summarise the quarterly report in three short bullet points please"
	azPromptTk = 10 // words in azPrompt
)

func azScenario(t testing.TB, file string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Load(filepath.Join("..", "..", "testdata", "fake", file))
	require.NoError(t, err)
	return s
}

// azNewServer builds the fake for a testdata/fake scenario.
func azNewServer(t testing.TB, file string, opt Options) *Server {
	t.Helper()
	opt.Credentials.APIKey = azTestKey
	srv, err := New(azScenario(t, file), opt)
	require.NoError(t, err)
	return srv
}

// azStart serves a scenario on 127.0.0.1 through httptest, optionally
// behind middleware that observes requests.
func azStart(t testing.TB, file string, mw func(http.Handler) http.Handler) (*Server, string) {
	t.Helper()
	srv := azNewServer(t, file, Options{})
	var h http.Handler = srv.Handler()
	if mw != nil {
		h = mw(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

// azServe serves through Server.Serve, with its timeouts, on 127.0.0.1.
func azServe(t testing.TB, srv *Server) string {
	t.Helper()
	l, err := Listen("127.0.0.1:0", false)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l, time.Second) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "http://" + l.Addr().String()
}

func azWords(n int) string { return string(AppendWords(nil, azWordSeed, 0, int32(n))) }

func azOpenAI(url string, opts ...option.RequestOption) *openai.Client {
	c := openai.NewClient(append([]option.RequestOption{
		azure.WithEndpoint(url, azAPIVer), azure.WithAPIKey(azTestKey), azure.WithUnsafeAllowHTTP(),
	}, opts...)...)
	return &c
}

func azLegacy(t testing.TB, url, key string, retries int32) *azopenai.Client {
	t.Helper()
	opts := &azopenai.ClientOptions{ClientOptions: policy.ClientOptions{InsecureAllowCredentialWithHTTP: true}}
	opts.Retry.MaxRetries = retries
	opts.Retry.RetryDelay = 10 * time.Millisecond
	c, err := azopenai.NewClientWithKeyCredential(url, azcore.NewKeyCredential(key), opts)
	require.NoError(t, err)
	return c
}

func azParams(dep string, maxTokens int64) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{
		Model:    dep,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You are terse."), openai.UserMessage(azPrompt)},
	}
	if maxTokens > 0 {
		p.MaxTokens = openai.Int(maxTokens)
	}
	return p
}

func azLegacyMessages() []azopenai.ChatRequestMessageClassification {
	return []azopenai.ChatRequestMessageClassification{
		&azopenai.ChatRequestSystemMessage{Content: azopenai.NewChatRequestSystemMessageContent("You are terse.")},
		&azopenai.ChatRequestUserMessage{Content: azopenai.NewChatRequestUserMessageContent(azPrompt)},
	}
}

const azSysTokens = 3 // "You are terse."

func outputTokens(n int) option.RequestOption {
	return option.WithHeader(OutputTokensHeader, strconv.Itoa(n))
}

var azUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// --- conformance with the real SDKs ---

func TestAzureOpenAIGoChat(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	client := azOpenAI(url)
	ctx := context.Background()

	var resp *http.Response
	c, err := client.Chat.Completions.New(ctx, azParams("aoai-instant", 50), outputTokens(12), option.WithResponseInto(&resp))
	require.NoError(t, err)
	assert.Equal(t, azWords(12), c.Choices[0].Message.Content)
	assert.Equal(t, "stop", c.Choices[0].FinishReason)
	assert.Equal(t, "assistant", string(c.Choices[0].Message.Role))
	assert.Equal(t, int64(azPromptTk+azSysTokens), c.Usage.PromptTokens)
	assert.Equal(t, int64(12), c.Usage.CompletionTokens)
	assert.Equal(t, int64(azPromptTk+azSysTokens+12), c.Usage.TotalTokens)
	assert.Equal(t, "gpt-4o-2024-11-20", c.Model, "model is the deployment's model, not its name")
	assert.Equal(t, "chat.completion", string(c.Object))
	assert.Regexp(t, `^chatcmpl-[A-Za-z0-9]{29}$`, c.ID)
	assert.InDelta(t, time.Now().Unix(), c.Created, 5)
	assert.Contains(t, c.RawJSON(), `"prompt_filter_results":[{"prompt_index":0,`, "Azure's prompt_filter_results is present")

	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Regexp(t, azUUID, resp.Header.Get("apim-request-id"))
	assert.Equal(t, resp.Header.Get("apim-request-id"), resp.Header.Get("x-request-id"))
	assert.Equal(t, "East US 2", resp.Header.Get("x-ms-region"))
	assert.Equal(t, "aoai-instant", resp.Header.Get("x-ms-deployment-name"))
	assert.Empty(t, resp.Header.Values("x-ratelimit-remaining-tokens"), "no quota, no rate-limit headers")

	// Output reaching max_tokens finishes with "length".
	c, err = client.Chat.Completions.New(ctx, azParams("aoai-instant", 7), outputTokens(50))
	require.NoError(t, err)
	assert.Equal(t, azWords(7), c.Choices[0].Message.Content)
	assert.Equal(t, "length", c.Choices[0].FinishReason)

	// Without the header the length comes from the scenario's workload (20);
	// max_completion_tokens is honoured like max_tokens.
	p := azParams("aoai-instant", 0)
	p.MaxCompletionTokens = openai.Int(100)
	c, err = client.Chat.Completions.New(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, azWords(20), c.Choices[0].Message.Content)
	assert.Equal(t, int64(20), c.Usage.CompletionTokens)
}

func TestAzureOpenAIGoStream(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	client := azOpenAI(url)
	for _, usage := range []bool{true, false} {
		t.Run(fmt.Sprintf("include_usage=%v", usage), func(t *testing.T) {
			p := azParams("aoai-const", 100)
			if usage {
				p.StreamOptions.IncludeUsage = openai.Bool(true)
			}
			var resp *http.Response
			s := client.Chat.Completions.NewStreaming(context.Background(), p, outputTokens(15), option.WithResponseInto(&resp))
			var acc openai.ChatCompletionAccumulator
			var chunks []openai.ChatCompletionChunk
			for s.Next() {
				chunks = append(chunks, s.Current())
				require.True(t, acc.AddChunk(s.Current()), "the accumulator takes every chunk")
			}
			require.NoError(t, s.Err())
			require.NoError(t, s.Close())
			assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Equal(t, "Sweden Central", resp.Header.Get("x-ms-region"))

			require.Len(t, acc.Choices, 1)
			assert.Equal(t, azWords(15), acc.Choices[0].Message.Content)
			assert.Equal(t, "stop", acc.Choices[0].FinishReason)
			// Azure's order: prompt filter, role, content (one token per
			// chunk, 5 ms apart, unless a stalled machine made tokens fall
			// due together), finish, [usage].
			if usage {
				assert.Equal(t, int64(azPromptTk+azSysTokens), acc.Usage.PromptTokens)
				assert.Equal(t, int64(15), acc.Usage.CompletionTokens)
			} else {
				assert.Zero(t, acc.Usage.TotalTokens)
			}
			require.Greater(t, len(chunks), 3)
			assert.Empty(t, chunks[0].Choices)
			assert.Empty(t, chunks[0].ID)
			assert.Contains(t, chunks[0].RawJSON(), `"prompt_filter_results"`)
			assert.Equal(t, "assistant", chunks[1].Choices[0].Delta.Role)
			assert.Equal(t, "gpt-4o", chunks[1].Model)
			last := chunks[len(chunks)-1]
			if usage {
				assert.Empty(t, last.Choices)
				assert.Equal(t, int64(15), last.Usage.CompletionTokens)
				last = chunks[len(chunks)-2]
			}
			assert.Equal(t, "stop", last.Choices[0].FinishReason)
			assert.Empty(t, last.Choices[0].Delta.Content)
		})
	}
}

func TestAzureOpenAIGoV1Route(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	// The plain OpenAI client: base URL /openai/v1/, key as a Bearer token,
	// deployment in the body's model.
	client := openai.NewClient(option.WithBaseURL(url+"/openai/v1/"), option.WithAPIKey(azTestKey), option.WithMaxRetries(0))
	ctx := context.Background()
	c, err := client.Chat.Completions.New(ctx, azParams("aoai-instant", 64), outputTokens(9))
	require.NoError(t, err)
	assert.Equal(t, azWords(9), c.Choices[0].Message.Content)

	s := client.Chat.Completions.NewStreaming(ctx, azParams("aoai-instant", 64), outputTokens(40))
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	require.NoError(t, s.Err())
	assert.Equal(t, azWords(40), acc.Choices[0].Message.Content, "tokens due together are grouped, the text is the same")

	_, err = client.Chat.Completions.New(ctx, azParams("no-such-deployment", 64))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Equal(t, "DeploymentNotFound", apiErr.Code)

	bad := openai.NewClient(option.WithBaseURL(url+"/openai/v1/"), option.WithAPIKey(azBadKey), option.WithMaxRetries(0))
	_, err = bad.Chat.Completions.New(ctx, azParams("aoai-instant", 64))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
}

func TestAzureAzopenaiChat(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	client := azLegacy(t, url, azTestKey, -1)
	ctx := context.Background()

	resp, err := client.GetChatCompletions(ctx, azopenai.ChatCompletionsOptions{
		DeploymentName: to.Ptr("aoai-instant"), Messages: azLegacyMessages(), MaxTokens: to.Ptr[int32](30),
	}, &azopenai.GetChatCompletionsOptions{})
	require.NoError(t, err)
	require.Len(t, resp.Choices, 1)
	assert.Equal(t, azWords(20), *resp.Choices[0].Message.Content)
	assert.Equal(t, azopenai.CompletionsFinishReasonStopped, *resp.Choices[0].FinishReason)
	assert.Equal(t, int32(azPromptTk+azSysTokens), *resp.Usage.PromptTokens)
	assert.Equal(t, int32(20), *resp.Usage.CompletionTokens)
	require.Len(t, resp.PromptFilterResults, 1)
	assert.False(t, *resp.PromptFilterResults[0].ContentFilterResults.Violence.Filtered)

	sresp, err := client.GetChatCompletionsStream(ctx, azopenai.ChatCompletionsStreamOptions{
		DeploymentName: to.Ptr("aoai-instant"), Messages: azLegacyMessages(), MaxTokens: to.Ptr[int32](20),
		StreamOptions: &azopenai.ChatCompletionStreamOptions{IncludeUsage: to.Ptr(true)},
	}, nil)
	require.NoError(t, err)
	defer sresp.ChatCompletionsStream.Close()
	var text strings.Builder
	var finish azopenai.CompletionsFinishReason
	var usage *azopenai.CompletionsUsage
	for {
		chunk, err := sresp.ChatCompletionsStream.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		for _, ch := range chunk.Choices {
			if ch.Delta != nil && ch.Delta.Content != nil {
				text.WriteString(*ch.Delta.Content)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
		if chunk.Usage != nil {
			usage = chunk.Usage
		}
	}
	assert.Equal(t, azWords(20), text.String())
	assert.Equal(t, azopenai.CompletionsFinishReasonTokenLimitReached, finish, "20 tokens = max_tokens")
	require.NotNil(t, usage)
	assert.Equal(t, int32(20), *usage.CompletionTokens)
}

func TestAzureAuth(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	ctx := context.Background()

	bad := openai.NewClient(azure.WithEndpoint(url, azAPIVer), azure.WithAPIKey(azBadKey), azure.WithUnsafeAllowHTTP(), option.WithMaxRetries(0))
	_, err := bad.Chat.Completions.New(ctx, azParams("aoai-instant", 10))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "401", apiErr.Code)
	assert.Contains(t, apiErr.Message, "Access denied due to invalid subscription key")
	assert.NotContains(t, apiErr.RawJSON(), azBadKey, "the key is never echoed")

	// The key is checked before the deployment: a wrong key learns nothing.
	_, err = bad.Chat.Completions.New(ctx, azParams("no-such-deployment", 10))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)

	_, err = azLegacy(t, url, azBadKey, -1).GetChatCompletions(ctx, azopenai.ChatCompletionsOptions{
		DeploymentName: to.Ptr("aoai-instant"), Messages: azLegacyMessages(),
	}, nil)
	var respErr *azcore.ResponseError
	require.ErrorAs(t, err, &respErr)
	assert.Equal(t, http.StatusUnauthorized, respErr.StatusCode)
	assert.Equal(t, "401", respErr.ErrorCode)

	// A Bearer token is accepted on the deployments route too (Entra ID's
	// header, carrying the key here); no credentials at all is a 401.
	for hdr, want := range map[string]int{"Bearer " + azTestKey: 200, "bearer " + azTestKey: 200, "Bearer " + azBadKey: 401, "": 401} {
		h := map[string]string{"Authorization": hdr} // "" sends neither header
		if hdr == "" {
			h["api-key"] = ""
		}
		resp, _ := azPost(t, url, "/openai/deployments/aoai-instant/chat/completions?api-version=x", azBody(azPrompt, nil), h)
		assert.Equal(t, want, resp.StatusCode, "Authorization: %q", hdr)
	}
}

func TestAzureDeploymentNotFound(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	ctx := context.Background()
	_, err := azOpenAI(url, option.WithMaxRetries(0)).Chat.Completions.New(ctx, azParams("no-such-deployment", 10))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Equal(t, "DeploymentNotFound", apiErr.Code)

	_, err = azLegacy(t, url, azTestKey, -1).GetChatCompletions(ctx, azopenai.ChatCompletionsOptions{
		DeploymentName: to.Ptr("no-such-deployment"), Messages: azLegacyMessages(),
	}, nil)
	var respErr *azcore.ResponseError
	require.ErrorAs(t, err, &respErr)
	assert.Equal(t, http.StatusNotFound, respErr.StatusCode)
	assert.Equal(t, "DeploymentNotFound", respErr.ErrorCode)
}

func TestAzureContentFilterSDK(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	ctx := context.Background()
	p := azParams("aoai-instant", 10)
	p.Messages = append(p.Messages, openai.UserMessage("please "+AzureContentFilterWord+" now"))
	_, err := azOpenAI(url, option.WithMaxRetries(0)).Chat.Completions.New(ctx, p)
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "content_filter", apiErr.Code)
	assert.Equal(t, "prompt", apiErr.Param)

	msgs := append(azLegacyMessages(), &azopenai.ChatRequestUserMessage{Content: azopenai.NewChatRequestUserMessageContent(AzureContentFilterWord)})
	_, err = azLegacy(t, url, azTestKey, -1).GetChatCompletions(ctx, azopenai.ChatCompletionsOptions{DeploymentName: to.Ptr("aoai-instant"), Messages: msgs}, nil)
	var cf *azopenai.ContentFilterResponseError
	require.ErrorAs(t, err, &cf, "azopenai recognises Azure's content_filter body")
	assert.True(t, *cf.ContentFilterResults.Violence.Filtered)
	assert.Equal(t, "medium", string(*cf.ContentFilterResults.Violence.Severity))
}

// azRecorder is middleware that notes each request's arrival, retry count
// header and response status.
type azRecorder struct {
	mu   sync.Mutex
	hits []azHit
}

type azHit struct {
	arrived, answered time.Time
	retryCount        string
	status            int
	retryAfterMs      string
}

type azStatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *azStatusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }
func (w *azStatusWriter) Flush()            { w.ResponseWriter.(http.Flusher).Flush() }

func (rec *azRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := azHit{arrived: time.Now(), retryCount: r.Header.Get("X-Stainless-Retry-Count")}
		sw := &azStatusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		h.answered, h.status, h.retryAfterMs = time.Now(), sw.status, w.Header().Get("retry-after-ms")
		rec.mu.Lock()
		rec.hits = append(rec.hits, h)
		rec.mu.Unlock()
	})
}

func (rec *azRecorder) snapshot() []azHit {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.hits)
}

// TestAzureRetryAfter: a 429 carries retry-after-ms, and both SDKs wait that
// long before their retry, which the refilled quota then admits. The
// deployment admits one request per 100 ms; calls go back to back until one
// is throttled (normally the second), so a stall between calls cannot make
// the test miss its 429. That the retry is admitted is no luck either: it
// arrives at least retry-after-ms (rounded up) after the refusal.
func TestAzureRetryAfter(t *testing.T) {
	check := func(t *testing.T, rec *azRecorder, call func() error, retryHeader bool) {
		var hits []azHit
		k := -1
		for range 5 {
			require.NoError(t, call(), "the SDK retried any 429")
			hits = rec.snapshot()
			if k = slices.IndexFunc(hits, func(h azHit) bool { return h.status == 429 }); k >= 0 {
				break
			}
		}
		require.GreaterOrEqual(t, k, 0, "no call was throttled")
		require.Len(t, hits, k+2, "one retry after the 429")
		retry := hits[k+1]
		assert.Equal(t, 200, retry.status)
		ms, err := strconv.Atoi(hits[k].retryAfterMs)
		require.NoError(t, err)
		assert.True(t, ms >= 1 && ms <= 100, "retry-after-ms %d: at most one refill interval", ms)
		assert.GreaterOrEqual(t, retry.arrived.Sub(hits[k].answered), time.Duration(ms)*time.Millisecond, "the retry came after the advertised delay")
		if retryHeader {
			assert.Equal(t, "0", hits[k].retryCount)
			assert.Equal(t, "1", retry.retryCount, "openai-go numbers its retries")
		}
	}
	t.Run("openai-go", func(t *testing.T) {
		rec := &azRecorder{}
		_, url := azStart(t, "azure-basic.yaml", rec.wrap)
		client := azOpenAI(url, option.WithMaxRetries(2))
		check(t, rec, func() error {
			c, err := client.Chat.Completions.New(context.Background(), azParams("aoai-retry", 10), outputTokens(3))
			if err == nil {
				assert.Equal(t, azWords(3), c.Choices[0].Message.Content)
			}
			return err
		}, true)
	})
	t.Run("azopenai", func(t *testing.T) {
		rec := &azRecorder{}
		_, url := azStart(t, "azure-basic.yaml", rec.wrap)
		client := azLegacy(t, url, azTestKey, 3)
		opts := azopenai.ChatCompletionsOptions{DeploymentName: to.Ptr("aoai-retry"), Messages: azLegacyMessages()}
		check(t, rec, func() error {
			_, err := client.GetChatCompletions(context.Background(), opts, nil)
			return err
		}, false)
	})
}

func TestAzureStreamCut(t *testing.T) {
	_, url := azStart(t, "azure-faults.yaml", nil)
	ctx := context.Background()
	client := azOpenAI(url, option.WithMaxRetries(0))

	s := client.Chat.Completions.NewStreaming(ctx, azParams("aoai-cut", 100), outputTokens(20))
	var text strings.Builder
	for s.Next() {
		for _, ch := range s.Current().Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	require.Error(t, s.Err(), "a cut stream is an error, not a short answer")
	assert.Equal(t, azWords(10), text.String(), "the cut comes after half the tokens")

	_, err := client.Chat.Completions.New(ctx, azParams("aoai-cut", 100))
	require.Error(t, err, "a cut non-streaming body fails too")

	sresp, err := azLegacy(t, url, azTestKey, -1).GetChatCompletionsStream(ctx, azopenai.ChatCompletionsStreamOptions{
		DeploymentName: to.Ptr("aoai-cut"), Messages: azLegacyMessages(),
	}, nil)
	require.NoError(t, err)
	defer sresp.ChatCompletionsStream.Close()
	var rerr error
	for rerr == nil {
		_, rerr = sresp.ChatCompletionsStream.Read()
	}
	assert.NotErrorIs(t, rerr, io.EOF, "azopenai reports the cut")
}

func TestAzureMalformed(t *testing.T) {
	_, url := azStart(t, "azure-faults.yaml", nil)
	ctx := context.Background()
	client := azOpenAI(url, option.WithMaxRetries(0))
	s := client.Chat.Completions.NewStreaming(ctx, azParams("aoai-malformed", 100))
	n := 0
	for s.Next() {
		n++
	}
	var se *json.SyntaxError
	assert.ErrorAs(t, s.Err(), &se)
	assert.Equal(t, 2, n, "prompt filter and role chunks decode; the first content chunk does not")

	_, err := client.Chat.Completions.New(ctx, azParams("aoai-malformed", 100))
	require.Error(t, err)

	sresp, err := azLegacy(t, url, azTestKey, -1).GetChatCompletionsStream(ctx, azopenai.ChatCompletionsStreamOptions{
		DeploymentName: to.Ptr("aoai-malformed"), Messages: azLegacyMessages(),
	}, nil)
	require.NoError(t, err)
	defer sresp.ChatCompletionsStream.Close()
	var rerr error
	for rerr == nil {
		_, rerr = sresp.ChatCompletionsStream.Read()
	}
	assert.ErrorAs(t, rerr, &se)
}

func TestAzureOutage(t *testing.T) {
	_, url := azStart(t, "azure-faults.yaml", nil)
	ctx := context.Background()
	_, err := azOpenAI(url, option.WithMaxRetries(0)).Chat.Completions.New(ctx, azParams("aoai-outage", 10))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	assert.Equal(t, "ServiceUnavailable", apiErr.Code)

	_, err = azLegacy(t, url, azTestKey, -1).GetChatCompletions(ctx, azopenai.ChatCompletionsOptions{
		DeploymentName: to.Ptr("aoai-outage"), Messages: azLegacyMessages(),
	}, nil)
	var respErr *azcore.ResponseError
	require.ErrorAs(t, err, &respErr)
	assert.Equal(t, http.StatusServiceUnavailable, respErr.StatusCode)
	assert.Equal(t, "ServiceUnavailable", respErr.ErrorCode)

	// A stream already running when an outage opens is cut, as the
	// simulator cuts calls in service: 100 tokens at 10 ms would take a
	// second, the outage opens at 400 ms.
	// (Were this machine to stall past 400 ms first, the call gets the 503:
	// an error either way; the chunk count is bounded either way.)
	s := azOpenAI(url, option.WithMaxRetries(0)).Chat.Completions.NewStreaming(ctx, azParams("aoai-late-outage", 200), outputTokens(100))
	n := 0
	for s.Next() {
		n++
	}
	require.Error(t, s.Err())
	assert.LessOrEqual(t, n, 2+40, "no token due after the outage opened (5 ms + 40 × 10 ms > 400 ms) was sent")
	t.Logf("stream cut after %d chunks", n)
}

func TestAzureResetAndSilent(t *testing.T) {
	srv, url := azStart(t, "azure-faults.yaml", nil)
	body := azBody(azPrompt, nil)
	req, _ := http.NewRequest("POST", url+"/openai/deployments/aoai-silent/chat/completions?api-version=x", strings.NewReader(body))
	req.Header.Set("api-key", azTestKey)
	req.Header.Set("Content-Type", "application/json")
	// The window is the first 300 ms of the server's life: a call made in
	// it hangs until the window closes, then the connection drops.
	if time.Since(srv.start) < 250*time.Millisecond {
		_, err := http.DefaultClient.Do(req)
		require.Error(t, err, "a silent deployment hangs up without answering")
		assert.GreaterOrEqual(t, time.Since(srv.start), 300*time.Millisecond, "not before the window closed")
	} else {
		t.Log("the machine stalled past the silent window; checking only what follows it")
		time.Sleep(time.Until(srv.start.Add(300 * time.Millisecond)))
	}
	resp, _ := azPost(t, url, "/openai/deployments/aoai-silent/chat/completions?api-version=x", body, nil)
	assert.Equal(t, 200, resp.StatusCode, "after the window it answers")

	req, _ = http.NewRequest("POST", url+"/openai/deployments/aoai-reset/chat/completions?api-version=x", strings.NewReader(body))
	req.Header.Set("api-key", azTestKey)
	req.Header.Set("Content-Type", "application/json")
	_, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ECONNRESET, "reset sends a TCP RST")
}

// TestAzureQueueFull: one slot, no queue. While a first call holds the slot
// (its TTFT is 30 s; the test cancels it), a second is refused at once
// with a 429 whose hint is the mean service time over the concurrency.
func TestAzureQueueFull(t *testing.T) {
	srv, url := azStart(t, "azure-basic.yaml", nil)
	var dep *Deployment
	for _, d := range srv.Deployments() {
		if d.Name == "aoai-full" {
			dep = d
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", url+"/openai/deployments/aoai-full/chat/completions?api-version=x", strings.NewReader(azBody(azPrompt, nil)))
		req.Header.Set("api-key", azTestKey)
		req.Header.Set("Content-Type", "application/json")
		_, err := http.DefaultClient.Do(req)
		first <- err
	}()
	require.Eventually(t, func() bool { return dep.Stats.InFlight.Load() == 1 }, 10*time.Second, time.Millisecond)

	resp, b := azPost(t, url, "/openai/deployments/aoai-full/chat/completions?api-version=x", azBody(azPrompt, nil), nil)
	assert.Equal(t, 429, resp.StatusCode)
	assert.Equal(t, "429", azErrorField(t, b, "code"))
	assert.Contains(t, azErrorField(t, b, "message"), "at capacity")
	assert.Equal(t, "30", resp.Header.Get("retry-after"))
	assert.Equal(t, "30000", resp.Header.Get("retry-after-ms"), "a slot frees in one mean service time / concurrency")
	assert.Equal(t, int64(1), dep.Stats.Rejected.Load())

	cancel()
	require.Error(t, <-first)
	require.Eventually(t, func() bool { return dep.Stats.InFlight.Load() == 0 }, 10*time.Second, time.Millisecond, "a client that leaves frees its slot")
}

// --- the wire, with plain net/http ---

// azBody is a request body with one user message and extra fields.
func azBody(prompt string, extra map[string]any) string {
	m := map[string]any{"messages": []map[string]any{{"role": "user", "content": prompt}}}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// azPost posts body with the test key (unless hdr sets another credential
// header) and JSON content type (unless hdr sets one; "" removes it).
func azPost(t testing.TB, url, path, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if _, ok := hdr["Authorization"]; !ok {
		req.Header.Set("api-key", azTestKey)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// azErrorField returns error.<field> of an error body: a string, "null",
// or "<absent>".
func azErrorField(t testing.TB, body []byte, field string) string {
	t.Helper()
	var env struct {
		Error map[string]json.RawMessage `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &env), "%s", body)
	require.NotNil(t, env.Error, "%s", body)
	raw, ok := env.Error[field]
	if !ok {
		return "<absent>"
	}
	if string(raw) == "null" {
		return "null"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func TestAzureBadRequests(t *testing.T) {
	srv := azNewServer(t, "azure-basic.yaml", Options{MaxBodyBytes: 2 << 20})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	small := azNewServer(t, "azure-basic.yaml", Options{MaxBodyBytes: 1024})
	tsSmall := httptest.NewServer(small.Handler())
	t.Cleanup(tsSmall.Close)

	const dep = "/openai/deployments/aoai-instant/chat/completions?api-version=" + azAPIVer
	long := strings.Repeat("word ", AzureContextWindow+1)
	cases := []struct {
		name, url, path, body string
		hdr                   map[string]string
		status                int
		code, param           string // "null": JSON null
	}{
		{"bad json", ts.URL, dep, `{"messages": [`, nil, 400, "invalid_request_error", "null"},
		{"not an object", ts.URL, dep, `[1,2]`, nil, 400, "invalid_request_error", "null"},
		{"missing messages", ts.URL, dep, `{"max_tokens": 5}`, nil, 400, "invalid_request_error", "messages"},
		{"null messages", ts.URL, dep, `{"messages": null}`, nil, 400, "invalid_request_error", "messages"},
		{"empty messages", ts.URL, dep, `{"messages": []}`, nil, 400, "invalid_request_error", "messages"},
		{"messages not an array", ts.URL, dep, `{"messages": "hi"}`, nil, 400, "invalid_request_error", "messages"},
		{"missing role", ts.URL, dep, `{"messages": [{"content": "hi"}]}`, nil, 400, "invalid_request_error", "messages[0].role"},
		{"unknown role", ts.URL, dep, `{"messages": [{"role":"user","content":"a"},{"role": "robot", "content": "hi"}]}`, nil, 400, "invalid_request_error", "messages[1].role"},
		{"content a number", ts.URL, dep, `{"messages": [{"role": "user", "content": 42}]}`, nil, 400, "invalid_request_error", "messages[0].content"},
		{"bad content part", ts.URL, dep, `{"messages": [{"role": "user", "content": [{"text": "x"}]}]}`, nil, 400, "invalid_request_error", "messages[0].content"},
		{"max_tokens zero", ts.URL, dep, azBody("hi", map[string]any{"max_tokens": 0}), nil, 400, "invalid_request_error", "max_tokens"},
		{"max_tokens a string", ts.URL, dep, azBody("hi", map[string]any{"max_tokens": "ten"}), nil, 400, "invalid_request_error", "max_tokens"},
		{"stream_options without stream", ts.URL, dep, azBody("hi", map[string]any{"stream_options": map[string]any{"include_usage": true}}), nil, 400, "invalid_request_error", "stream_options"},
		{"text/plain", ts.URL, dep, azBody("hi", nil), map[string]string{"Content-Type": "text/plain"}, 400, "invalid_request_error", "null"},
		{"no content type", ts.URL, dep, azBody("hi", nil), map[string]string{"Content-Type": ""}, 400, "invalid_request_error", "null"},
		{"bad output header", ts.URL, dep, azBody("hi", nil), map[string]string{OutputTokensHeader: "-3"}, 400, "invalid_request_error", "null"},
		{"prompt beyond the window", ts.URL, dep, azBody(long, nil), nil, 400, "context_length_exceeded", "messages"},
		{"max_tokens beyond the window", ts.URL, dep, azBody("hi there", map[string]any{"max_tokens": AzureContextWindow}), nil, 400, "context_length_exceeded", "messages"},
		{"content filter", ts.URL, dep, azBody("tell me "+AzureContentFilterWord, nil), nil, 400, "content_filter", "prompt"},
		{"server error", ts.URL, dep, azBody(AzureServerErrorWord, nil), nil, 500, "null", "null"},
		{"v1 without model", ts.URL, "/openai/v1/chat/completions", azBody("hi", nil), nil, 400, "invalid_request_error", "model"},
		{"oversized", tsSmall.URL, dep, azBody(strings.Repeat("x ", 1000), nil), nil, 413, "RequestEntityTooLarge", "<absent>"},
		{"missing api-version", ts.URL, "/openai/deployments/aoai-instant/chat/completions", azBody("hi", nil), nil, 404, "404", "<absent>"},
		{"malformed path", ts.URL, "/openai/deployments/aoai-instant/completions?api-version=x", azBody("hi", nil), nil, 404, "404", "<absent>"},
		{"unknown deployment", ts.URL, "/openai/deployments/nope/chat/completions?api-version=x", azBody("hi", nil), nil, 404, "DeploymentNotFound", "<absent>"},
		{"wrong key", ts.URL, dep, azBody("hi", nil), map[string]string{"api-key": azBadKey}, 401, "401", "<absent>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := azPost(t, c.url, c.path, c.body, c.hdr)
			require.Equal(t, c.status, resp.StatusCode, "%s", body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Regexp(t, azUUID, resp.Header.Get("apim-request-id"))
			assert.Equal(t, c.code, azErrorField(t, body, "code"))
			assert.Equal(t, c.param, azErrorField(t, body, "param"))
			assert.NotEmpty(t, azErrorField(t, body, "message"))
			if c.code == "null" {
				assert.Empty(t, resp.Header.Values("x-ms-error-code"))
			} else {
				assert.Equal(t, c.code, resp.Header.Get("x-ms-error-code"))
			}
		})
	}

	t.Run("content filter innererror", func(t *testing.T) {
		_, body := azPost(t, ts.URL, dep, azBody(AzureContentFilterWord, nil), nil)
		var env struct {
			Error struct {
				Status     int `json:"status"`
				InnerError struct {
					Code   string `json:"code"`
					Result map[string]struct {
						Filtered bool   `json:"filtered"`
						Severity string `json:"severity"`
					} `json:"content_filter_result"`
				} `json:"innererror"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(body, &env))
		assert.Equal(t, 400, env.Error.Status)
		assert.Equal(t, "ResponsibleAIPolicyViolation", env.Error.InnerError.Code)
		assert.True(t, env.Error.InnerError.Result["violence"].Filtered)
	})

	t.Run("oversized, length unknown", func(t *testing.T) {
		req, _ := http.NewRequest("POST", tsSmall.URL+dep, io.MultiReader(strings.NewReader(azBody(strings.Repeat("x ", 1000), nil))))
		req.Header.Set("api-key", azTestKey)
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = -1 // chunked: the limit is found while reading
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 413, resp.StatusCode)
		assert.Equal(t, "RequestEntityTooLarge", azErrorField(t, b, "code"))
	})

	t.Run("content parts and escapes", func(t *testing.T) {
		body := `{"messages":[{"role":"system","content":"a\nb\tc"},{"role":"user","content":[{"type":"text","text":"one two"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"three"}]},{"role":"assistant","content":null}],"max_tokens":5}`
		resp, b := azPost(t, ts.URL, dep, body, map[string]string{OutputTokensHeader: "2"})
		require.Equal(t, 200, resp.StatusCode, "%s", b)
		var c openai.ChatCompletion
		require.NoError(t, json.Unmarshal(b, &c))
		assert.Equal(t, int64(3+3), c.Usage.PromptTokens, "escaped whitespace separates words; text parts count, images do not")
	})
}

// azEvent is one SSE event as a client saw it.
type azEvent struct {
	at   time.Time
	data string
}

// azReadSSE reads a stream strictly: only "data: " lines, each followed by
// a blank line, as azopenai v0.7.2 requires.
func azReadSSE(r io.Reader) ([]azEvent, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var evs []azEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if err == io.EOF && line == "" {
				return evs, nil
			}
			return evs, err
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			return evs, fmt.Errorf("not a data line: %q", line)
		}
		at := time.Now()
		blank, err := br.ReadString('\n')
		if err != nil || blank != "\n" {
			return evs, fmt.Errorf("event not followed by a blank line: %q, %v", blank, err)
		}
		evs = append(evs, azEvent{at: at, data: strings.TrimSuffix(data, "\n")})
	}
}

// azTokenTimes returns the text of a stream's content chunks and when each
// token arrived. When a stream runs behind its schedule (a short TPOT draw
// and timer overshoot, or a loaded machine) tokens share a chunk, so tests
// time tokens, not chunks.
func azTokenTimes(evs []azEvent) (string, []time.Time) {
	var text strings.Builder
	var at []time.Time
	for _, e := range evs {
		var c azChunk
		if json.Unmarshal([]byte(e.data), &c) != nil || len(c.Choices) == 0 || c.Choices[0].Delta.Content == nil {
			continue
		}
		text.WriteString(*c.Choices[0].Delta.Content)
		for range strings.Fields(*c.Choices[0].Delta.Content) {
			at = append(at, e.at)
		}
	}
	return text.String(), at
}

// azChunk is the subset of a chunk the wire tests check.
type azChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Delta struct {
			Role    *string `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage         json.RawMessage   `json:"usage"`
	PromptFilters []json.RawMessage `json:"prompt_filter_results"`
}

// azStreamRaw posts a streaming request and reads its events.
func azStreamRaw(t testing.TB, client *http.Client, url, dep string, out int, usage bool) (sent time.Time, evs []azEvent, err error) {
	extra := map[string]any{"stream": true, "max_tokens": 1000}
	if usage {
		extra["stream_options"] = map[string]any{"include_usage": true}
	}
	req, _ := http.NewRequest("POST", url+"/openai/deployments/"+dep+"/chat/completions?api-version="+azAPIVer, strings.NewReader(azBody(azPrompt, extra)))
	req.Header.Set("api-key", azTestKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(OutputTokensHeader, strconv.Itoa(out))
	sent = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return sent, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return sent, nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	evs, err = azReadSSE(resp.Body)
	return sent, evs, err
}

func TestAzureStreamWireOrder(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	// 4 tokens 50 ms apart: one per chunk unless the machine stalls > 50 ms.
	sent, evs, err := azStreamRaw(t, http.DefaultClient, url, "aoai-soak", 4, true)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(evs), 1+1+1+1+1+1)
	assert.Equal(t, "[DONE]", evs[len(evs)-1].data)
	chunks := make([]azChunk, len(evs)-1)
	for i, e := range evs[:len(evs)-1] {
		require.NoError(t, json.Unmarshal([]byte(e.data), &chunks[i]), e.data)
	}

	pf := chunks[0] // 1. prompt filter results only
	assert.Empty(t, pf.Choices)
	assert.Equal(t, "", pf.ID)
	assert.Equal(t, "", pf.Object)
	assert.Equal(t, "", pf.Model)
	assert.Equal(t, int64(0), pf.Created)
	assert.Len(t, pf.PromptFilters, 1)

	role := chunks[1] // 2. role
	require.Len(t, role.Choices, 1)
	assert.Equal(t, "assistant", *role.Choices[0].Delta.Role)
	assert.Equal(t, "", *role.Choices[0].Delta.Content)
	assert.Nil(t, role.Choices[0].FinishReason)
	assert.Equal(t, "null", string(role.Usage))
	assert.Regexp(t, `^chatcmpl-`, role.ID)
	assert.Equal(t, "gpt-4o", role.Model)

	content := chunks[2 : len(chunks)-2] // 3. content
	var text string
	for _, c := range content {
		require.Len(t, c.Choices, 1)
		assert.Nil(t, c.Choices[0].Delta.Role)
		assert.Nil(t, c.Choices[0].FinishReason)
		text += *c.Choices[0].Delta.Content
		assert.Equal(t, role.ID, c.ID)
		assert.Equal(t, role.Created, c.Created)
		assert.Equal(t, "chat.completion.chunk", c.Object)
		assert.Equal(t, "null", string(c.Usage))
	}
	assert.Equal(t, azWords(4), text)
	if len(content) != 4 {
		t.Logf("tokens were grouped into %d chunks (the machine stalled)", len(content))
	}

	fin := chunks[len(chunks)-2] // 4. finish
	require.Len(t, fin.Choices, 1)
	assert.Equal(t, "stop", *fin.Choices[0].FinishReason)
	assert.Nil(t, fin.Choices[0].Delta.Content)
	assert.Nil(t, fin.Choices[0].Delta.Role)

	u := chunks[len(chunks)-1] // 5. usage
	assert.Empty(t, u.Choices)
	assert.JSONEq(t, `{"completion_tokens":4,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":10,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":14}`, string(u.Usage))

	// The first token is never early: it comes at TTFT (10 ms) or later.
	assert.GreaterOrEqual(t, evs[2].at.Sub(sent), 10*time.Millisecond)
}

// TestAzureLongStreamOutlivesReadTimeout: Serve's ReadTimeout bounds reading
// the request only; a stream (or a slow answer) longer than it is not cut.
func TestAzureLongStreamOutlivesReadTimeout(t *testing.T) {
	srv := azNewServer(t, "azure-basic.yaml", Options{})
	srv.readTimeout = 150 * time.Millisecond
	url := azServe(t, srv)
	_, evs, err := azStreamRaw(t, http.DefaultClient, url, "aoai-const", 80, false) // 50 ms + 81 × 5 ms
	require.NoError(t, err)
	assert.Equal(t, "[DONE]", evs[len(evs)-1].data)
	text, _ := azTokenTimes(evs)
	assert.Equal(t, azWords(80), text)

	resp, body := azPost(t, url, "/openai/deployments/aoai-const/chat/completions?api-version=x", azBody("hi", nil), map[string]string{OutputTokensHeader: "60"})
	assert.Equal(t, 200, resp.StatusCode, "%s", body)
}

// TestAzureSlowClient: a client trickling its body is cut off at the
// server's read timeout with a 408, not served for as long as it likes.
func TestAzureSlowClient(t *testing.T) {
	srv := azNewServer(t, "azure-basic.yaml", Options{})
	srv.readTimeout = 300 * time.Millisecond
	url := azServe(t, srv)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	body := azBody(strings.Repeat("slow ", 100), nil) // 500+ bytes: 25 s at one byte per 50 ms
	start := time.Now()
	_, err = fmt.Fprintf(conn, "POST /openai/deployments/aoai-instant/chat/completions?api-version=x HTTP/1.1\r\nHost: x\r\napi-key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", azTestKey, len(body))
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { // one byte every 50 ms: the whole body would take seconds
		defer close(done)
		for i := 0; i < len(body); i++ {
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	assert.Equal(t, "RequestTimeout", azErrorField(t, b, "code"))
	assert.Less(t, time.Since(start), 10*time.Second, "cut off at the 300 ms read timeout, long before the body would end")
	conn.Close()
	<-done
}

// --- quotas ---

// azBurst sends n identical requests at once and returns the status counts
// and one 429's headers and body.
func azBurst(t *testing.T, url, dep, body string, n int) (map[int]int, http.Header, []byte) {
	t.Helper()
	var mu sync.Mutex
	counts := map[int]int{}
	var h429 http.Header
	var b429 []byte
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", url+"/openai/deployments/"+dep+"/chat/completions?api-version=x", strings.NewReader(body))
			req.Header.Set("api-key", azTestKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if !assert.NoError(t, err) {
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			counts[resp.StatusCode]++
			if resp.StatusCode == 429 {
				h429, b429 = resp.Header, b
			}
		})
	}
	wg.Wait()
	return counts, h429, b429
}

// TestAzureQuotaTokens: Azure reserves prompt + max_tokens per request. The
// bucket holds 6000 tokens; each request costs 100 + 100 = 200, so exactly
// 30 of 50 simultaneous requests are admitted. (It refills 10 tokens/s: a
// 31st would need 20 s.)
func TestAzureQuotaTokens(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	prompt := strings.TrimSpace(strings.Repeat("lorem ", 100))
	counts, h, b := azBurst(t, url, "aoai-tokens", azBody(prompt, map[string]any{"max_tokens": 100}), 50)
	assert.Equal(t, map[int]int{200: 30, 429: 20}, counts)
	require.NotNil(t, h)
	ra, err := strconv.Atoi(h.Get("retry-after"))
	require.NoError(t, err)
	ms, err := strconv.Atoi(h.Get("retry-after-ms"))
	require.NoError(t, err)
	assert.True(t, ms > 15_000 && ms <= 20_000, "retry-after-ms %d: up to 200 tokens at 10/s", ms)
	assert.Equal(t, (ms+999)/1000, ra, "retry-after is retry-after-ms in whole seconds, rounded up")
	assert.Equal(t, "429", h.Get("x-ms-error-code"))
	assert.Contains(t, azErrorField(t, b, "message"), "exceeded token rate limit")
	assert.Contains(t, azErrorField(t, b, "message"), "Please retry after "+strconv.Itoa(ra)+" seconds")
	rem, err := strconv.Atoi(h.Get("x-ratelimit-remaining-tokens"))
	require.NoError(t, err)
	assert.Less(t, rem, 200, "less than one request's reservation left")

	// The reservation is prompt + max_tokens whatever is produced: a request
	// without max_tokens reserves the 4096 default and no longer fits.
	resp, _ := azPost(t, url, "/openai/deployments/aoai-tokens/chat/completions?api-version=x", azBody("hi", nil), nil)
	assert.Equal(t, 429, resp.StatusCode)
}

// TestAzureQuotaRequests: a 6/min limit over a 100 s window is a bucket of
// 10 requests refilled one per 10 s: exactly 10 of 25 get through.
func TestAzureQuotaRequests(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	resp, _ := azPost(t, url, "/openai/deployments/aoai-requests/chat/completions?api-version=x", azBody("hi", nil), nil)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "9", resp.Header.Get("x-ratelimit-remaining-requests"))
	assert.Empty(t, resp.Header.Values("x-ratelimit-remaining-tokens"), "no token limit, no header")
	counts, h, b := azBurst(t, url, "aoai-requests", azBody("hi", nil), 25)
	assert.Equal(t, map[int]int{200: 9, 429: 16}, counts)
	assert.Contains(t, azErrorField(t, b, "message"), "exceeded call rate limit")
	ra, err := strconv.Atoi(h.Get("retry-after"))
	require.NoError(t, err)
	assert.True(t, ra > 5 && ra <= 10, "retry-after %d: up to one request at 0.1/s", ra)
}

// --- latency ---

// azLatencySample runs n streams of out tokens against dep, conc at a time,
// and returns each one's client-side TTFT (send → first content chunk) and
// mean token gap.
func azLatencySample(t *testing.T, url, dep string, n, conc, out int) (ttft, gap []time.Duration) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	ttft, gap = make([]time.Duration, n), make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				sent, evs, err := azStreamRaw(t, client, url, dep, out, false)
				if !assert.NoError(t, err) {
					return
				}
				text, at := azTokenTimes(evs)
				if !assert.Equal(t, azWords(out), text) {
					return
				}
				ttft[i] = at[0].Sub(sent)
				gap[i] = at[out-1].Sub(at[0]) / time.Duration(out-1)
			}
		})
	}
	wg.Wait()
	return ttft, gap
}

func azQuantile(xs []time.Duration, q float64) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

// azCollect gathers assertion failures of one timing attempt.
type azCollect struct{ errs []string }

// Errorf keeps the Error and Messages lines of a testify report.
func (c *azCollect) Errorf(format string, args ...any) {
	var keep []string
	for _, l := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "Error:") || strings.HasPrefix(l, "Messages:") {
			keep = append(keep, strings.Join(strings.Fields(l), " "))
		}
	}
	c.errs = append(c.errs, strings.Join(keep, " "))
}

// azJudge holds a measurement's timing assertions; slack widens every
// upper bound by the machine's observed timer lateness.
type azJudge func(c *azCollect, slack time.Duration)

// azHops is how many wake-ups a measured time passes through (the client's
// send, the fake's timer, its write, the client's read), each as late as
// any other goroutine's on a loaded machine.
const azHops = 4

// azTiming runs a wall-clock measurement up to three times and passes on
// the first attempt whose assertions all hold: a regression in the fake
// fails every attempt, a burst of load on the machine only some. If all
// three fail, the last measurement is judged once more with its bounds
// widened by azHops times the lateness (p99) that a concurrent timer probe
// (internal/lateness) saw in 1 ms sleeps during it: on a machine that
// stalls, the fake is held to what the machine's own timers could do, never
// excused entirely (on an idle machine that is a few milliseconds).
func azTiming(t *testing.T, measure func() azJudge) {
	t.Helper()
	var msgs []string
	var late lateness.Lateness
	var judge azJudge
	for attempt := 1; attempt <= 3; attempt++ {
		late = lateness.During(func() { judge = measure() })
		c := &azCollect{}
		judge(c, 0)
		if len(c.errs) == 0 {
			return
		}
		msgs = c.errs
		t.Logf("attempt %d: %v; failed: %s", attempt, late, strings.Join(c.errs, "; "))
	}
	slack := azHops * late.P99()
	c := &azCollect{}
	judge(c, slack)
	if len(c.errs) == 0 {
		t.Logf("passed only with bounds widened by %d × the machine's timer lateness (p99): %v", azHops, slack)
		return
	}
	t.Errorf("timing out of tolerance in 3 attempts, and with %v of slack for the machine's timer lateness (%v):\n%s\n(last without slack: %s)",
		slack, late, strings.Join(c.errs, "\n"), strings.Join(msgs, "; "))
}

// TestAzureLatencyConstant: with ttft 50 ms and tpot 5 ms, client-side TTFT
// is never below 50 ms (deterministic: the fake sleeps at least TTFT after
// the request arrived), its median is within 50–53 ms and its p90 within
// 50–56 ms; the median of the streams' mean token gaps is within 5 ms ±
// 0.5 ms (the schedule is absolute, so gaps do not accumulate timer
// overshoot). Quantiles rather than every sample are bounded because on a
// loaded 2-core machine the Go timer itself occasionally overshoots by tens
// of milliseconds; those stalls are the machine's, not the fake's.
func TestAzureLatencyConstant(t *testing.T) {
	_, url := azStart(t, "azure-basic.yaml", nil)
	azTiming(t, func() azJudge {
		ttft, gap := azLatencySample(t, url, "aoai-const", 200, 20, 10)
		for i := range ttft {
			require.GreaterOrEqual(t, ttft[i], 50*time.Millisecond, "never early")
		}
		return func(c *azCollect, slack time.Duration) {
			p50, p90 := azQuantile(ttft, 0.5), azQuantile(ttft, 0.9)
			assert.LessOrEqual(c, p50, 53*time.Millisecond+slack, "TTFT p50")
			assert.LessOrEqual(c, p90, 56*time.Millisecond+slack, "TTFT p90")
			g50 := azQuantile(gap, 0.5)
			assert.InDelta(c, 5*time.Millisecond, g50, float64(500*time.Microsecond+slack), "median token gap")
			t.Logf("TTFT p50 %v p90 %v max %v; token gap p50 %v p90 %v", p50, p90, azQuantile(ttft, 1), g50, azQuantile(gap, 0.9))
		}
	})
}

// TestAzureLatencyLognormal: 1,600 streams, 40 at a time (low load), against
// lognormal TTFT (median 40 ms, p99 80 ms) and TPOT (median 4 ms, p99
// 8 ms). The measured p10/p50/p90 of TTFT and of the per-stream token gap
// match the distributions' quantiles within 5% + 2 ms. With 1,600 samples
// the sampling error of these quantiles is under about 1 ms (p90 of TTFT:
// the scenario seed's 1,600 draws put it 1.1 ms above the distribution's),
// leaving most of the tolerance to the fake's timing.
func TestAzureLatencyLognormal(t *testing.T) {
	srv, url := azStart(t, "azure-basic.yaml", nil)
	var d *Deployment
	for _, x := range srv.Deployments() {
		if x.Name == "aoai-lognormal" {
			d = x
		}
	}
	azTiming(t, func() azJudge {
		ttft, gap := azLatencySample(t, url, "aoai-lognormal", 1600, 40, 6)
		return func(c *azCollect, slack time.Duration) {
			for _, q := range []float64{0.1, 0.5, 0.9} {
				for _, m := range []struct {
					name string
					got  []time.Duration
					dist *scenarios.Sampler
				}{{"ttft", ttft, &d.lat.TTFT}, {"tpot", gap, &d.lat.TPOT}} {
					want := time.Duration(m.dist.Quantile(q) * 1e9)
					got := azQuantile(m.got, q)
					tol := want/20 + 2*time.Millisecond + slack
					assert.InDelta(c, want, got, float64(tol), "%s p%.0f: got %v, want %v ± %v", m.name, q*100, got, want, tol)
					t.Logf("%s p%.0f: got %v, want %v ± %v", m.name, q*100, got, want, tol)
				}
			}
		}
	})
}

// TestAzureThousandStreams holds 1,000 concurrent streams of 20 tokens at
// 50 ms gaps (about 1 s each). A barrier in front of the handler releases
// the requests only once all 1,000 are in the server, so they are held at
// once by construction, not by the luck of scheduling; every stream must
// then complete intact. Pass/fail does not depend on the wall clock; the
// duration and the deployment's peak in-flight count are logged.
func TestAzureThousandStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 streams")
	}
	const n, out = 1000, 20
	var arrived atomic.Int64
	all := make(chan struct{})
	barrier := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if arrived.Add(1) == n {
				close(all)
			}
			select {
			case <-all:
			case <-time.After(time.Minute):
			}
			next.ServeHTTP(w, r)
		})
	}
	srv, url := azStart(t, "azure-basic.yaml", barrier)
	var dep *Deployment
	for _, d := range srv.Deployments() {
		if d.Name == "aoai-soak" {
			dep = d
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	var failed, peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the deployment's in-flight count, every 5 ms
		defer close(sampled)
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if p := dep.Stats.InFlight.Load(); p > peak.Load() {
					peak.Store(p)
				}
			}
		}
	}()
	want := azWords(out)
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			_, evs, err := azStreamRaw(t, client, url, "aoai-soak", out, false)
			text, _ := azTokenTimes(evs)
			if err != nil || text != want || evs[len(evs)-1].data != "[DONE]" {
				if failed.Add(1) <= 3 {
					t.Logf("stream failed: %v, %d events", err, len(evs))
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	close(stop)
	<-sampled
	select {
	case <-all:
	default:
		t.Fatalf("only %d of %d requests were in the server at once", arrived.Load(), n)
	}
	assert.Zero(t, failed.Load())
	assert.Equal(t, int64(n), dep.Stats.OK.Load())
	assert.Zero(t, dep.Stats.InFlight.Load())
	t.Logf("%d streams × %d tokens in %v; peak in flight %d", n, out, el, peak.Load())
}

func TestAzureIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := azNewRequestID()
		require.Regexp(t, azUUID, id)
		require.False(t, seen[id])
		seen[id] = true
		require.Regexp(t, `^chatcmpl-[A-Za-z0-9]{29}$`, azNewCompletionID())
	}
	assert.Equal(t, int64(1), azRetryAfterSeconds(0))
	assert.Equal(t, int64(1), azRetryAfterSeconds(time.Second))
	assert.Equal(t, int64(2), azRetryAfterSeconds(time.Second+time.Nanosecond))
	assert.Equal(t, int64(1), azRetryAfterMillis(0))
	assert.Equal(t, int64(101), azRetryAfterMillis(100*time.Millisecond+1))
	v, ok := azQueryValue("a=1&api-version=2024-10-21&b", "api-version")
	assert.True(t, ok)
	assert.Equal(t, "2024-10-21", v)
	_, ok = azQueryValue("a=1&b=2", "api-version")
	assert.False(t, ok)
}
