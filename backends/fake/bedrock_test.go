package fake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/internal/lateness"
	"github.com/mcbench/mcbench/scenarios"
)

// Model ids of testdata/fake/bedrock-basic.yaml.
const (
	brTestClaude   = "anthropic.claude-3-haiku-20240307-v1:0"
	brTestGPT      = "openai.gpt-oss-120b-1:0"
	brTestThrottle = "test.throttled-v1:0"
	brTestCut      = "test.cut-v1:0"
	brTestBad      = "test.malformed-v1:0"
	brTestDown     = "test.down-v1:0"
	brTestReset    = "test.reset-v1:0"
	brTestMidOut   = "test.midoutage-v1:0"
	brTestFull     = "test.full-v1:0"
	brTestSilent   = "test.silent-v1:0"
	brTestRegion   = "us-east-1"
)

// brMustLoad loads a testdata/fake scenario.
func brMustLoad(t testing.TB, file string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("../../testdata/fake/" + file)
	require.NoError(t, err)
	return sc
}

// brTestServer serves a testdata/fake scenario on a loopback port for the
// duration of the test.
func brTestServer(t testing.TB, file string) (*Server, string) {
	t.Helper()
	s, err := New(brMustLoad(t, file), Options{})
	require.NoError(t, err)
	l, err := Listen("127.0.0.1:0", false)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx, l, time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, "http://" + l.Addr().String()
}

// brDoer is the SDK client's HTTP client: it adds mcbench's output-length
// header (after signing, as a proxy would; the fake verifies only the
// signed headers) and counts attempts.
type brDoer struct {
	c        *http.Client
	output   int
	attempts atomic.Int64
}

func (d *brDoer) Do(r *http.Request) (*http.Response, error) {
	d.attempts.Add(1)
	if d.output > 0 {
		r.Header.Set(brOutputHeader, strconv.Itoa(d.output))
	}
	return d.c.Do(r)
}

type brClientOpt func(*bedrockruntime.Options, *brDoer)

func brWithOutput(n int) brClientOpt {
	return func(_ *bedrockruntime.Options, d *brDoer) { d.output = n }
}

func brWithCreds(ak, sk string) brClientOpt {
	return func(o *bedrockruntime.Options, _ *brDoer) {
		o.Credentials = credentials.NewStaticCredentialsProvider(ak, sk, "")
	}
}

func brWithAttempts(n int) brClientOpt {
	return func(o *bedrockruntime.Options, _ *brDoer) { o.RetryMaxAttempts = n }
}

// brClient is the real bedrockruntime client, changed only in endpoint and
// credentials (and, for tests that need them, retries and the HTTP client).
func brClient(t testing.TB, s *Server, base string, opts ...brClientOpt) (*bedrockruntime.Client, *brDoer) {
	t.Helper()
	c := s.Credentials()
	d := &brDoer{c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	t.Cleanup(d.c.CloseIdleConnections)
	o := bedrockruntime.Options{
		Region:       brTestRegion,
		BaseEndpoint: aws.String(base),
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		HTTPClient:   d,
	}
	for _, f := range opts {
		f(&o, d)
	}
	// AWS_BEARER_TOKEN_BEDROCK in the environment would switch the client to
	// bearer auth, which refuses plain http: pin SigV4.
	return bedrockruntime.New(o, func(o *bedrockruntime.Options) { o.AuthSchemePreference = []string{"sigv4"} }), d
}

func brConverseInput(model, prompt string, maxTokens int32) *bedrockruntime.ConverseInput {
	in := &bedrockruntime.ConverseInput{
		ModelId: aws.String(model),
		Messages: []types.Message{{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: prompt}},
		}},
		System: []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "be brief"}},
	}
	if maxTokens > 0 {
		in.InferenceConfig = &types.InferenceConfiguration{MaxTokens: aws.Int32(maxTokens)}
	}
	return in
}

func brStreamInput(in *bedrockruntime.ConverseInput) *bedrockruntime.ConverseStreamInput {
	return &bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages, System: in.System, InferenceConfig: in.InferenceConfig}
}

func brWords(input int32, n int32) string { return string(AppendWords(nil, uint64(input), 0, n)) }

// brSettled waits until no call of d is in flight: a response reaches the
// client just before its call settles (Plan.Done), so counters lag a little.
func brSettled(t testing.TB, d *Deployment) {
	t.Helper()
	require.Eventually(t, func() bool { return d.Stats.InFlight.Load() == 0 }, 5*time.Second, time.Millisecond)
}

func brCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestBedrockConverse(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, _ := brClient(t, s, base)
	ctx := brCtx(t)

	// 5 words of prompt + 2 of system; the workload's 12 output tokens.
	out, err := c.Converse(ctx, brConverseInput(brTestClaude, "tell me a short story", 0))
	require.NoError(t, err)
	msg := out.Output.(*types.ConverseOutputMemberMessage).Value
	assert.Equal(t, types.ConversationRoleAssistant, msg.Role)
	require.Len(t, msg.Content, 1)
	text := msg.Content[0].(*types.ContentBlockMemberText).Value
	assert.Equal(t, brWords(7, 12), text)
	assert.Len(t, strings.Fields(text), 12)
	assert.Equal(t, types.StopReasonEndTurn, out.StopReason)
	assert.Equal(t, int32(7), *out.Usage.InputTokens)
	assert.Equal(t, int32(12), *out.Usage.OutputTokens)
	assert.Equal(t, int32(19), *out.Usage.TotalTokens)
	require.NotNil(t, out.Metrics)
	assert.GreaterOrEqual(t, *out.Metrics.LatencyMs, int64(5+11)) // TTFT + 12 × 1 ms, rounded down
	rid, _ := awsmw.GetRequestIDMetadata(out.ResultMetadata)
	assert.Len(t, rid, 36)

	// maxTokens below the planned output caps it and says so.
	out, err = c.Converse(ctx, brConverseInput(brTestClaude, "tell me a short story", 5))
	require.NoError(t, err)
	assert.Equal(t, types.StopReasonMaxTokens, out.StopReason)
	assert.Equal(t, int32(5), *out.Usage.OutputTokens)
	assert.Equal(t, brWords(7, 5), out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value)

	// Inference profiles and ARNs resolve to the same deployment; so does the alias.
	for _, id := range []string{
		"us." + brTestClaude, "global." + brTestClaude,
		"arn:aws:bedrock:us-east-1::foundation-model/" + brTestClaude,
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu." + brTestClaude,
		"claude",
	} {
		_, err := c.Converse(ctx, brConverseInput(id, "hi", 0))
		assert.NoError(t, err, id)
	}
	brSettled(t, s.bedrock[brTestClaude])
	assert.EqualValues(t, 7, s.bedrock[brTestClaude].Stats.OK.Load())

	// The output-length header fixes the output.
	c40, _ := brClient(t, s, base, brWithOutput(40))
	out, err = c40.Converse(ctx, brConverseInput(brTestClaude, "one", 0))
	require.NoError(t, err)
	assert.Equal(t, int32(40), *out.Usage.OutputTokens)
	assert.Equal(t, brWords(3, 40), out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value)

	// Unknown model: ValidationException, as Bedrock answers ids it cannot resolve.
	_, err = c.Converse(ctx, brConverseInput("anthropic.nope-v9:0", "hi", 0))
	var ve *types.ValidationException
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.ErrorMessage(), "model identifier is invalid")

	// A model the scenario serves only on Azure: no access on Bedrock.
	_, err = c.Converse(ctx, brConverseInput("gpt-4o", "hi", 0))
	var ad *types.AccessDeniedException
	require.ErrorAs(t, err, &ad)

	// Validation the SDK leaves to the service.
	_, err = c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(brTestClaude)})
	require.ErrorAs(t, err, &ve)
	in := brConverseInput(brTestClaude, "hi", 0)
	in.InferenceConfig = &types.InferenceConfiguration{MaxTokens: aws.Int32(-3)}
	_, err = c.Converse(ctx, in)
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.ErrorMessage(), "inferenceConfig.maxTokens")
	in = brConverseInput(brTestClaude, "hi", 0)
	in.Messages[0].Role = types.ConversationRoleAssistant
	_, err = c.Converse(ctx, in)
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.ErrorMessage(), "must start with a user message")
}

func TestBedrockConverseStream(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, _ := brClient(t, s, base)
	ctx := brCtx(t)

	out, err := c.ConverseStream(ctx, brStreamInput(brConverseInput(brTestClaude, "tell me a short story", 0)))
	require.NoError(t, err)
	st := out.GetStream()
	defer st.Close()
	var order []string
	var text strings.Builder
	var meta *types.ConverseStreamMetadataEvent
	var stop types.StopReason
	for ev := range st.Events() {
		switch v := ev.(type) {
		case *types.ConverseStreamOutputMemberMessageStart:
			order = append(order, "messageStart")
			assert.Equal(t, types.ConversationRoleAssistant, v.Value.Role)
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			if len(order) == 0 || order[len(order)-1] != "delta" {
				order = append(order, "delta")
			}
			assert.Equal(t, int32(0), *v.Value.ContentBlockIndex)
			text.WriteString(v.Value.Delta.(*types.ContentBlockDeltaMemberText).Value)
		case *types.ConverseStreamOutputMemberContentBlockStop:
			order = append(order, "contentBlockStop")
		case *types.ConverseStreamOutputMemberMessageStop:
			order = append(order, "messageStop")
			stop = v.Value.StopReason
		case *types.ConverseStreamOutputMemberMetadata:
			order = append(order, "metadata")
			meta = &v.Value
		default:
			t.Fatalf("unexpected event %T", ev)
		}
	}
	require.NoError(t, st.Err())
	assert.Equal(t, []string{"messageStart", "delta", "contentBlockStop", "messageStop", "metadata"}, order)
	assert.Equal(t, brWords(7, 12), text.String())
	assert.Equal(t, types.StopReasonEndTurn, stop)
	require.NotNil(t, meta)
	assert.Equal(t, int32(7), *meta.Usage.InputTokens)
	assert.Equal(t, int32(12), *meta.Usage.OutputTokens)
	assert.Equal(t, int32(19), *meta.Usage.TotalTokens)
	assert.GreaterOrEqual(t, *meta.Metrics.LatencyMs, int64(5+11))
	brSettled(t, s.bedrock[brTestClaude])
	assert.EqualValues(t, 1, s.bedrock[brTestClaude].Stats.OK.Load())
	assert.EqualValues(t, 12, s.bedrock[brTestClaude].Stats.OutputTokens.Load())
}

// brCollectConverseStream drains a ConverseStream, returning the text and
// the number of deltas seen, whether messageStop came, and the stream error.
func brCollectConverseStream(t *testing.T, c *bedrockruntime.Client, in *bedrockruntime.ConverseInput) (text string, deltas int, stopped bool, err error) {
	t.Helper()
	out, err := c.ConverseStream(brCtx(t), brStreamInput(in))
	if err != nil {
		return "", 0, false, err
	}
	st := out.GetStream()
	defer st.Close()
	var b strings.Builder
	for ev := range st.Events() {
		switch v := ev.(type) {
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			deltas++
			b.WriteString(v.Value.Delta.(*types.ContentBlockDeltaMemberText).Value)
		case *types.ConverseStreamOutputMemberMessageStop:
			stopped = true
		}
	}
	return b.String(), deltas, stopped, st.Err()
}

// brAnthropicBody is an InvokeModel body in the Anthropic Messages shape.
const brAnthropicBody = `{"anthropic_version":"bedrock-2023-05-31","max_tokens":100,"system":"be brief",` +
	`"messages":[{"role":"user","content":"tell me a story"},{"role":"assistant","content":[{"type":"text","text":"once upon"}]},` +
	`{"role":"user","content":[{"type":"text","text":"go on"}]}]}`

// brOpenAIBody is an InvokeModel body in the OpenAI chat-completions shape.
const brOpenAIBody = `{"model":"` + brTestGPT + `","max_completion_tokens":100,"stream_options":{"include_usage":true},` +
	`"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"tell me a story"}]}`

func TestBedrockInvokeModel(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, _ := brClient(t, s, base)
	ctx := brCtx(t)

	t.Run("anthropic", func(t *testing.T) {
		out, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{
			ModelId: aws.String(brTestClaude), Body: []byte(brAnthropicBody),
			ContentType: aws.String("application/json"), Accept: aws.String("application/json"),
		})
		require.NoError(t, err)
		assert.Equal(t, "application/json", *out.ContentType)
		var resp struct {
			ID, Type, Role, Model string
			Content               []struct{ Type, Text string }
			StopReason            string  `json:"stop_reason"`
			StopSequence          *string `json:"stop_sequence"`
			Usage                 struct {
				InputTokens  int `json:"input_tokens"`
				OutputTokens int `json:"output_tokens"`
			}
		}
		require.NoError(t, json.Unmarshal(out.Body, &resp))
		// 4 (story) + 2 (once upon) + 2 (go on) + 2 (system) = 10 words.
		assert.Equal(t, "message", resp.Type)
		assert.Equal(t, "assistant", resp.Role)
		assert.Equal(t, brTestClaude, resp.Model)
		assert.True(t, strings.HasPrefix(resp.ID, "msg_bdrk_"))
		require.Len(t, resp.Content, 1)
		assert.Equal(t, "text", resp.Content[0].Type)
		assert.Equal(t, brWords(10, 12), resp.Content[0].Text)
		assert.Equal(t, "end_turn", resp.StopReason)
		assert.Nil(t, resp.StopSequence)
		assert.Equal(t, 10, resp.Usage.InputTokens)
		assert.Equal(t, 12, resp.Usage.OutputTokens)
		raw := awsmw.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
		assert.Equal(t, "10", raw.Header.Get("X-Amzn-Bedrock-Input-Token-Count"))
		assert.Equal(t, "12", raw.Header.Get("X-Amzn-Bedrock-Output-Token-Count"))
		lat, err := strconv.Atoi(raw.Header.Get("X-Amzn-Bedrock-Invocation-Latency"))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, lat, 5+11)
	})

	t.Run("openai", func(t *testing.T) {
		out, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(brTestGPT), Body: []byte(brOpenAIBody)})
		require.NoError(t, err)
		var resp struct {
			ID, Object, Model string
			Created           int64
			Choices           []struct {
				Index   int
				Message struct{ Role, Content string }
				Finish  string `json:"finish_reason"`
			}
			Usage struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
				Total      int `json:"total_tokens"`
			}
		}
		require.NoError(t, json.Unmarshal(out.Body, &resp))
		assert.Equal(t, "chat.completion", resp.Object)
		assert.Equal(t, brTestGPT, resp.Model)
		assert.True(t, strings.HasPrefix(resp.ID, "chatcmpl-"))
		assert.InDelta(t, time.Now().Unix(), resp.Created, 5)
		require.Len(t, resp.Choices, 1)
		assert.Equal(t, "assistant", resp.Choices[0].Message.Role)
		assert.Equal(t, brWords(6, 12), resp.Choices[0].Message.Content)
		assert.Equal(t, "stop", resp.Choices[0].Finish)
		assert.Equal(t, 6, resp.Usage.Prompt)
		assert.Equal(t, 12, resp.Usage.Completion)
		assert.Equal(t, 18, resp.Usage.Total)
	})

	t.Run("openai model mismatch", func(t *testing.T) {
		body := strings.Replace(brOpenAIBody, brTestGPT, "openai.gpt-oss-20b-1:0", 1)
		_, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(brTestGPT), Body: []byte(body)})
		var ve *types.ValidationException
		require.ErrorAs(t, err, &ve)
		assert.Contains(t, ve.ErrorMessage(), "does not match")
	})

	t.Run("anthropic missing max_tokens", func(t *testing.T) {
		body := strings.Replace(brAnthropicBody, `"max_tokens":100,`, "", 1)
		_, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(brTestClaude), Body: []byte(body)})
		var ve *types.ValidationException
		require.ErrorAs(t, err, &ve)
		assert.Contains(t, ve.ErrorMessage(), "required key [max_tokens]")
	})
}

// brChunks drains an InvokeModelWithResponseStream into its inner JSONs.
func brChunks(t *testing.T, c *bedrockruntime.Client, model, body string) ([]map[string]any, error) {
	t.Helper()
	out, err := c.InvokeModelWithResponseStream(brCtx(t), &bedrockruntime.InvokeModelWithResponseStreamInput{
		ModelId: aws.String(model), Body: []byte(body), ContentType: aws.String("application/json"),
	})
	if err != nil {
		return nil, err
	}
	raw := awsmw.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	assert.Equal(t, "application/json", raw.Header.Get("X-Amzn-Bedrock-Content-Type"))
	st := out.GetStream()
	defer st.Close()
	var evs []map[string]any
	for ev := range st.Events() {
		ch, ok := ev.(*types.ResponseStreamMemberChunk)
		require.True(t, ok, "event %T", ev)
		var m map[string]any
		require.NoError(t, json.Unmarshal(ch.Value.Bytes, &m), string(ch.Value.Bytes))
		evs = append(evs, m)
	}
	return evs, st.Err()
}

func TestBedrockInvokeModelWithResponseStream(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, _ := brClient(t, s, base)

	t.Run("anthropic", func(t *testing.T) {
		evs, err := brChunks(t, c, brTestClaude, brAnthropicBody)
		require.NoError(t, err)
		var kinds []string
		var text strings.Builder
		for _, e := range evs {
			typ := e["type"].(string)
			if typ == "content_block_delta" {
				d := e["delta"].(map[string]any)
				assert.Equal(t, "text_delta", d["type"])
				text.WriteString(d["text"].(string))
				if kinds[len(kinds)-1] == typ {
					continue
				}
			}
			kinds = append(kinds, typ)
		}
		assert.Equal(t, []string{"message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}, kinds)
		assert.Equal(t, brWords(10, 12), text.String())
		start := evs[0]["message"].(map[string]any)
		assert.EqualValues(t, 10, start["usage"].(map[string]any)["input_tokens"])
		md := evs[len(evs)-2]
		assert.Equal(t, "end_turn", md["delta"].(map[string]any)["stop_reason"])
		assert.EqualValues(t, 12, md["usage"].(map[string]any)["output_tokens"])
		m := evs[len(evs)-1]["amazon-bedrock-invocationMetrics"].(map[string]any)
		assert.EqualValues(t, 10, m["inputTokenCount"])
		assert.EqualValues(t, 12, m["outputTokenCount"])
		assert.GreaterOrEqual(t, m["invocationLatency"].(float64), m["firstByteLatency"].(float64))
		assert.GreaterOrEqual(t, m["firstByteLatency"].(float64), 5.0)
	})

	t.Run("openai", func(t *testing.T) {
		evs, err := brChunks(t, c, brTestGPT, brOpenAIBody)
		require.NoError(t, err)
		require.Len(t, evs, 12+2) // a chunk per token, the finish chunk, the usage chunk
		var text strings.Builder
		for i, e := range evs[:12] {
			assert.Equal(t, "chat.completion.chunk", e["object"])
			assert.Equal(t, brTestGPT, e["model"])
			ch := e["choices"].([]any)[0].(map[string]any)
			d := ch["delta"].(map[string]any)
			if i == 0 {
				assert.Equal(t, "assistant", d["role"])
			}
			assert.Nil(t, ch["finish_reason"])
			text.WriteString(d["content"].(string))
		}
		assert.Equal(t, brWords(6, 12), text.String())
		fin := evs[12]["choices"].([]any)[0].(map[string]any)
		assert.Equal(t, "stop", fin["finish_reason"])
		u := evs[13]["usage"].(map[string]any)
		assert.EqualValues(t, 6, u["prompt_tokens"])
		assert.EqualValues(t, 12, u["completion_tokens"])
		assert.Empty(t, evs[13]["choices"])
		assert.EqualValues(t, 12, evs[13]["amazon-bedrock-invocationMetrics"].(map[string]any)["outputTokenCount"])
	})
}

func TestBedrockAuthSDK(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	ctx := brCtx(t)
	c := s.Credentials()

	bad, _ := brClient(t, s, base, brWithCreds(c.AccessKeyID, c.SecretAccessKey+"x"))
	_, err := bad.Converse(ctx, brConverseInput(brTestClaude, "hi", 0))
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "InvalidSignatureException", ae.ErrorCode())
	assert.Contains(t, ae.ErrorMessage(), "does not match")
	assert.NotContains(t, err.Error(), c.SecretAccessKey)

	unknown, _ := brClient(t, s, base, brWithCreds("AKIAUNKNOWN000000000", c.SecretAccessKey))
	_, err = unknown.ConverseStream(ctx, brStreamInput(brConverseInput(brTestClaude, "hi", 0)))
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "UnrecognizedClientException", ae.ErrorCode())
	var re *smithyhttp.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusForbidden, re.HTTPStatusCode())

	// Nothing was admitted.
	assert.EqualValues(t, 0, s.bedrock[brTestClaude].Stats.Requests.Load())
}

// brSignedRequest builds a request signed the way the SDK signs, with
// X-Amz-Date t.
func brSignedRequest(t testing.TB, base, model, op string, body []byte, ak, sk string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/model/"+url.PathEscape(model)+"/"+op, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk},
		req, hex.EncodeToString(sum[:]), "bedrock", brTestRegion, at))
	return req
}

// brDo sends a plain HTTP request and returns the status, error type and message.
func brDo(t testing.TB, req *http.Request) (status int, errType, msg string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode >= 400 {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Len(t, resp.Header.Get("X-Amzn-Requestid"), 36)
		var e struct{ Message string }
		require.NoError(t, json.Unmarshal(b, &e), string(b))
		errType, _, _ = strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
		msg = e.Message
	}
	return resp.StatusCode, errType, msg
}

func TestBedrockPlainHTTPErrors(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c := s.Credentials()
	good := []byte(`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`)
	now := time.Now()
	sign := func(model, op string, body []byte) *http.Request {
		return brSignedRequest(t, base, model, op, body, c.AccessKeyID, c.SecretAccessKey, now)
	}

	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		typ    string
		msg    string
	}{
		{"ok", func() *http.Request { return sign(brTestClaude, "converse", good) }, 200, "", ""},
		{"unsigned", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, base+"/model/"+url.PathEscape(brTestClaude)+"/converse", bytes.NewReader(good))
			return r
		}, 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"garbled authorization", func() *http.Request {
			r := sign(brTestClaude, "converse", good)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense")
			return r
		}, 400, "IncompleteSignatureException", "Credential"},
		{"bearer", func() *http.Request {
			r := sign(brTestClaude, "converse", good)
			r.Header.Set("Authorization", "Bearer ABSK-not-a-key")
			return r
		}, 403, "UnrecognizedClientException", "security token"},
		{"expired", func() *http.Request {
			return brSignedRequest(t, base, brTestClaude, "converse", good, c.AccessKeyID, c.SecretAccessKey, now.Add(-20*time.Minute))
		}, 403, "InvalidSignatureException", "Signature expired"},
		{"future", func() *http.Request {
			return brSignedRequest(t, base, brTestClaude, "converse", good, c.AccessKeyID, c.SecretAccessKey, now.Add(20*time.Minute))
		}, 403, "InvalidSignatureException", "not yet current"},
		{"tampered body", func() *http.Request {
			r := sign(brTestClaude, "converse", good)
			evil := bytes.Replace(good, []byte("hi"), []byte("yo"), 1)
			r.Body = io.NopCloser(bytes.NewReader(evil))
			return r
		}, 403, "InvalidSignatureException", "does not match"},
		{"tampered path", func() *http.Request {
			r := sign(brTestClaude, "converse", good)
			r2 := sign(brTestGPT, "converse", good)
			r2.Header = r.Header
			return r2
		}, 403, "InvalidSignatureException", "does not match"},
		{"content sha mismatch", func() *http.Request {
			r := sign(brTestClaude, "converse", good)
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
			return r
		}, 403, "InvalidSignatureException", "x-amz-content-sha256"},
		{"unknown model", func() *http.Request { return sign("anthropic.unknown-v1:0", "converse", good) }, 400, "ValidationException", "model identifier is invalid"},
		{"bad json", func() *http.Request { return sign(brTestClaude, "converse", []byte(`{"messages":[`)) }, 400, "ValidationException", "Malformed input"},
		{"no messages", func() *http.Request { return sign(brTestClaude, "converse", []byte(`{}`)) }, 400, "ValidationException", "user message"},
		{"bad role", func() *http.Request {
			return sign(brTestClaude, "converse", []byte(`{"messages":[{"role":"robot","content":[{"text":"hi"}]}]}`))
		}, 400, "ValidationException", "[user, assistant]"},
		{"empty content", func() *http.Request {
			return sign(brTestClaude, "converse-stream", []byte(`{"messages":[{"role":"user","content":[]}]}`))
		}, 400, "ValidationException", "is empty"},
		{"empty block", func() *http.Request {
			return sign(brTestClaude, "converse", []byte(`{"messages":[{"role":"user","content":[{}]}]}`))
		}, 400, "ValidationException", "must set one member"},
		{"maxTokens 0", func() *http.Request {
			return sign(brTestClaude, "converse", []byte(`{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":0}}`))
		}, 400, "ValidationException", "greater than or equal to 1"},
		{"too large", func() *http.Request {
			big := []byte(`{"messages":[{"role":"user","content":[{"text":"` + strings.Repeat("word ", 300_000) + `"}]}]}`)
			return sign(brTestClaude, "converse", big)
		}, 400, "ValidationException", "larger than"},
		{"bad output header", func() *http.Request {
			r := sign(brTestClaude, "converse", good)
			r.Header.Set(brOutputHeader, "lots")
			return r
		}, 400, "ValidationException", "x-mcbench-output-tokens"},
		{"invoke anthropic without version", func() *http.Request {
			return sign(brTestClaude, "invoke", []byte(`{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`))
		}, 400, "ValidationException", "anthropic_version"},
		{"invoke bad content", func() *http.Request {
			return sign(brTestClaude, "invoke", []byte(`{"anthropic_version":"bedrock-2023-05-31","max_tokens":10,"messages":[{"role":"user","content":7}]}`))
		}, 400, "ValidationException", "content"},
		{"throttled", func() *http.Request {
			return sign(brTestThrottle, "converse", []byte(`{"messages":[{"role":"user","content":[{"text":"a b c"}]}],"inferenceConfig":{"maxTokens":100}}`))
		}, 429, "ThrottlingException", "Too many tokens"},
		{"outage", func() *http.Request { return sign(brTestDown, "converse", good) }, 503, "ServiceUnavailableException", "unable to process"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, typ, msg := brDo(t, tc.req())
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.typ, typ)
			assert.Contains(t, msg, tc.msg)
			assert.NotContains(t, msg, c.SecretAccessKey)
		})
	}

	t.Run("error type header", func(t *testing.T) {
		resp, err := http.DefaultClient.Do(sign(brTestThrottle, "converse", good))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", resp.Header.Get("x-amzn-ErrorType"))
		assert.Empty(t, resp.Header.Get("Retry-After"))
		assert.Empty(t, resp.Header.Get("X-Amz-Retry-After"))
	})
	t.Run("wrong method", func(t *testing.T) {
		resp, err := http.Get(base + "/model/" + url.PathEscape(brTestClaude) + "/converse")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
}

func TestBedrockThrottlingSDKRetries(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, d := brClient(t, s, base, brWithAttempts(2))
	_, err := c.Converse(brCtx(t), brConverseInput(brTestThrottle, "a b c", 100))
	var te *types.ThrottlingException
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.ErrorMessage(), "Too many tokens")
	// The SDK retried: two attempts reached the deployment, both throttled.
	dep := s.bedrock[brTestThrottle]
	assert.EqualValues(t, 2, d.attempts.Load())
	assert.EqualValues(t, 2, dep.Stats.Requests.Load())
	assert.EqualValues(t, 2, dep.Stats.Throttled.Load())
}

func TestBedrockOutageAndQueueFull(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	ctx := brCtx(t)
	c, d := brClient(t, s, base, brWithAttempts(2))
	_, err := c.Converse(ctx, brConverseInput(brTestDown, "hi", 0))
	var su *types.ServiceUnavailableException
	require.ErrorAs(t, err, &su)
	assert.EqualValues(t, 2, d.attempts.Load(), "503 is retried")

	// One slot, no queue: a second call while the first holds it gets 503.
	c1, _ := brClient(t, s, base, brWithAttempts(1))
	held := make(chan error, 1)
	go func() {
		_, err := c1.Converse(ctx, brConverseInput(brTestFull, "hi", 0))
		held <- err
	}()
	full := s.bedrock[brTestFull]
	require.Eventually(t, func() bool { return full.Stats.InFlight.Load() == 1 }, 5*time.Second, time.Millisecond)
	_, err = c1.ConverseStream(ctx, brStreamInput(brConverseInput(brTestFull, "hi", 0)))
	require.ErrorAs(t, err, &su)
	require.NoError(t, <-held)
	assert.EqualValues(t, 1, full.Stats.Rejected.Load())
}

func TestBedrockStreamCut(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, _ := brClient(t, s, base, brWithAttempts(1))

	text, deltas, stopped, err := brCollectConverseStream(t, c, brConverseInput(brTestCut, "tell me a short story", 0))
	require.Error(t, err, "a cut stream must end with an error")
	assert.False(t, stopped)
	assert.LessOrEqual(t, deltas, 6)
	assert.True(t, strings.HasPrefix(brWords(7, 12), text))

	_, err = brChunks(t, c, brTestCut, brAnthropicBody)
	require.Error(t, err)

	// Non-streaming: half a body, then a reset.
	_, err = c.Converse(brCtx(t), brConverseInput(brTestCut, "hi", 0))
	require.Error(t, err)
	dep := s.bedrock[brTestCut]
	brSettled(t, dep)
	assert.EqualValues(t, 3, dep.Stats.Failed.Load())
	assert.EqualValues(t, 0, dep.Stats.OK.Load())
	assert.EqualValues(t, 18, dep.Stats.OutputTokens.Load()) // 6 per call
}

func TestBedrockMalformed(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, _ := brClient(t, s, base, brWithAttempts(1))

	_, deltas, _, err := brCollectConverseStream(t, c, brConverseInput(brTestBad, "hi", 0))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "checksum")
	assert.Equal(t, 0, deltas)

	_, err = brChunks(t, c, brTestBad, `{"messages":[{"role":"user","content":"hi"}]}`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "checksum")

	_, err = c.Converse(brCtx(t), brConverseInput(brTestBad, "hi", 0))
	require.Error(t, err)
	var ae smithy.APIError
	assert.False(t, errors.As(err, &ae), "a corrupt body is not an API error: %v", err)
	brSettled(t, s.bedrock[brTestBad])
	assert.EqualValues(t, 3, s.bedrock[brTestBad].Stats.Failed.Load())
}

func TestBedrockReset(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, _ := brClient(t, s, base, brWithAttempts(1))
	_, err := c.Converse(brCtx(t), brConverseInput(brTestReset, "hi", 0))
	require.Error(t, err)
	var ae smithy.APIError
	assert.False(t, errors.As(err, &ae), "a reset has no HTTP response: %v", err)
	assert.EqualValues(t, 1, s.bedrock[brTestReset].Stats.Failed.Load())
}

func TestBedrockSilent(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	c, _ := brClient(t, s, base, brWithAttempts(1))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ConverseStream(ctx, brStreamInput(brConverseInput(brTestSilent, "hi", 0)))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "never answered: the client's timeout ends it")
	dep := s.bedrock[brTestSilent]
	require.Eventually(t, func() bool { return dep.Stats.Failed.Load() == 1 }, 5*time.Second, time.Millisecond,
		"the held call fails once the client leaves")
}

func TestBedrockOutageMidStream(t *testing.T) {
	s, base := brTestServer(t, "bedrock-basic.yaml")
	// 100 tokens 20 ms apart after 50 ms: the outage at 1 s catches it at about token 48.
	c, _ := brClient(t, s, base, brWithAttempts(1), brWithOutput(100))
	_, deltas, stopped, err := brCollectConverseStream(t, c, brConverseInput(brTestMidOut, "hi", 0))
	var su *types.ServiceUnavailableException
	require.ErrorAs(t, err, &su)
	assert.False(t, stopped)
	assert.Greater(t, deltas, 10)
	assert.Less(t, deltas, 100)
	brSettled(t, s.bedrock[brTestMidOut])
	assert.EqualValues(t, 1, s.bedrock[brTestMidOut].Stats.Failed.Load())
}

// TestBedrockInStreamExceptions checks that the exception frames the fake
// can send decode, in the real SDK, into the typed errors Bedrock's
// stream unions declare.
func TestBedrockInStreamExceptions(t *testing.T) {
	for _, tc := range []struct {
		typ   string
		check func(error) bool
	}{
		{"throttlingException", func(err error) bool { var e *types.ThrottlingException; return errors.As(err, &e) }},
		{"serviceUnavailableException", func(err error) bool { var e *types.ServiceUnavailableException; return errors.As(err, &e) }},
		{"internalServerException", func(err error) bool { var e *types.InternalServerException; return errors.As(err, &e) }},
		{"validationException", func(err error) bool { var e *types.ValidationException; return errors.As(err, &e) }},
		{"modelStreamErrorException", func(err error) bool { var e *types.ModelStreamErrorException; return errors.As(err, &e) }},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			var frames []byte
			frames, start := brBeginFrame(frames, brHdrMessageStart)
			frames = append(frames, `{"role":"assistant"}`...)
			frames, err := brEndFrame(frames, start, len(brHdrMessageStart))
			require.NoError(t, err)
			frames = brAppendException(frames, tc.typ, "slow down")
			mux := http.NewServeMux()
			mux.HandleFunc("POST /model/{id}/converse-stream", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
				_, _ = w.Write(frames)
			})
			l, err := Listen("127.0.0.1:0", false)
			require.NoError(t, err)
			hs := &http.Server{Handler: mux}
			go func() { _ = hs.Serve(l) }()
			t.Cleanup(func() { _ = hs.Close() })
			s := &Server{creds: Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}}
			c, _ := brClient(t, s, "http://"+l.Addr().String())
			_, _, _, err = brCollectConverseStream(t, c, brConverseInput("m", "hi", 0))
			require.Error(t, err)
			assert.True(t, tc.check(err), "%T %v", err, err)
			assert.Contains(t, err.Error(), "slow down")
		})
	}
}

// TestBedrockQuotaOutputBurn checks Bedrock's quota rule end to end: each
// request reserves input + maxTokens × output_burn on admission and is
// settled to input + output × output_burn when it completes.
func TestBedrockQuotaOutputBurn(t *testing.T) {
	s, base := brTestServer(t, "bedrock-quota.yaml")
	dep := s.bedrock["anthropic.claude-sonnet-4-20250514-v1:0"]
	c := s.Credentials()
	// 10 words, maxTokens 100: reserves 10 + 100×5 = 510 of the 6000 bucket.
	body := []byte(`{"messages":[{"role":"user","content":[{"text":"one two three four five six seven eight nine ten"}]}],"inferenceConfig":{"maxTokens":100}}`)
	burst := func(n int) (ok, throttled int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		reqs := make([]*http.Request, n)
		for i := range reqs {
			reqs[i] = brSignedRequest(t, base, dep.Model, "converse", body, c.AccessKeyID, c.SecretAccessKey, time.Now())
		}
		for _, r := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.DefaultClient.Do(r)
				if !assert.NoError(t, err) {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				defer mu.Unlock()
				switch resp.StatusCode {
				case http.StatusOK:
					ok++
				case http.StatusTooManyRequests:
					throttled++
				default:
					t.Errorf("status %d", resp.StatusCode)
				}
			}()
		}
		wg.Wait()
		return ok, throttled
	}
	t0 := time.Now()
	// All 20 arrive within the 300 ms TTFT, so none has settled yet:
	// floor(6000 / 510) = 11 admitted; the 390 left (+100/s refill) is short of 510.
	ok, thr := burst(20)
	assert.Equal(t, 11, ok)
	assert.Equal(t, 9, thr)
	brSettled(t, dep)
	// Each of the 11 produced 10 tokens and was refunded 510 - (10 + 10×5) = 450,
	// so the bucket holds 390 + 11×450 = 5340 plus the refill: 10 more fit.
	ok, thr = burst(20)
	elapsed := time.Since(t0)
	require.Less(t, elapsed, 2700*time.Millisecond, "the refill (100/s) must stay under one reservation's slack for exact counts")
	assert.Equal(t, 10, ok)
	assert.Equal(t, 10, thr)
	brSettled(t, dep)
	assert.EqualValues(t, 21, dep.Stats.OK.Load())
	assert.EqualValues(t, 19, dep.Stats.Throttled.Load())
	// Without the settlement (Azure's rule) the second burst would admit none.
}

// TestBedrockLatency holds measured timings to the deployment's model
// (constant TTFT 50 ms, 10 ms per token) at low load. Times are measured by
// the client from just before the call, so they include signing,
// verification and loopback. Lateness is the machine's load; earliness
// would be a bug. So: no token may ever arrive before its schedule
// (TTFT + i × 10 ms), while the TTFT and gap bounds are held on medians
// and widened by what the machine showed during the run: the p90 of how
// late 1 ms sleeps woke (internal/lateness), and for TTFT the client's own
// cost of a call, measured on an instant deployment of the same server.
// That is what lets it run under the race detector, which makes the
// client's signing and decoding several times slower, and on a busy
// machine, without a skip.
func TestBedrockLatency(t *testing.T) {
	const (
		model   = "anthropic.claude-3-5-haiku-20241022-v1:0"
		instant = "anthropic.claude-3-haiku-20240307-v1:0" // no latency: the client's cost
		ttft    = 50 * time.Millisecond
		tpot    = 10 * time.Millisecond
		tokens  = 30
		runs    = 7
	)
	s, base := brTestServer(t, "bedrock-latency.yaml")
	c, _ := brClient(t, s, base)
	ctx := brCtx(t)
	// Warm the connection so TTFT does not include the TCP handshake.
	_, err := c.Converse(ctx, brConverseInput(model, "hi", 1))
	require.NoError(t, err)

	// stream calls model and returns when each content token arrived,
	// counted from just before the call.
	stream := func(model string) []time.Duration {
		sent := time.Now()
		out, err := c.ConverseStream(ctx, brStreamInput(brConverseInput(model, "hi", 0)))
		require.NoError(t, err)
		st := out.GetStream()
		defer st.Close()
		var at []time.Duration
		for ev := range st.Events() {
			if _, ok := ev.(*types.ConverseStreamOutputMemberContentBlockDelta); ok {
				at = append(at, time.Since(sent))
			}
		}
		require.NoError(t, st.Err())
		require.Equal(t, tokens, len(at))
		return at
	}
	var ttfts, gaps, costs []time.Duration
	late := lateness.During(func() {
		for range runs {
			at := stream(model)
			for n, a := range at {
				if due := ttft + time.Duration(n)*tpot; a < due {
					t.Errorf("token %d arrived %v after the call, before its schedule %v", n, a, due)
				}
				if n > 0 {
					gaps = append(gaps, a-at[n-1])
				}
			}
			ttfts = append(ttfts, at[0])
			costs = append(costs, stream(instant)[0])
		}
	})
	slices.Sort(ttfts)
	slices.Sort(costs)
	medTTFT, cost, slack := ttfts[len(ttfts)/2], costs[len(costs)/2], late.P90()
	t.Logf("client cost of a call (median TTFT of an instant model) %v; %v", cost, late)
	assert.GreaterOrEqual(t, medTTFT, ttft)
	assert.LessOrEqual(t, medTTFT, ttft+cost+3*time.Millisecond+slack, "median TTFT %v (all: %v); client cost %v, %v", medTTFT, ttfts, cost, late)
	// A late wake-up shortens the next gap rather than shifting the rest
	// (the schedule is absolute), so the median gap is the decode speed.
	var sum time.Duration
	for _, g := range gaps {
		sum += g
	}
	mean := sum / time.Duration(len(gaps))
	slices.Sort(gaps)
	median := gaps[len(gaps)/2]
	assert.InDelta(t, float64(tpot), float64(median), float64(time.Millisecond+slack), "median gap %v, %v", median, late)
	assert.InDelta(t, float64(tpot), float64(mean), float64(tpot/10+slack), "mean gap %v, %v", mean, late)
	t.Logf("TTFT min %v median %v max %v; gaps: median %v mean %v p10 %v p90 %v max %v (n=%d)",
		ttfts[0], medTTFT, ttfts[len(ttfts)-1], median, mean, gaps[len(gaps)/10], gaps[len(gaps)*9/10], gaps[len(gaps)-1], len(gaps))
}
