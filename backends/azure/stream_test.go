package azure

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcbench/mcbench/backends/timing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Events in the order Azure sends them (docs/references.md [11]), content
// filtering on.
var azureEvents = []string{
	`{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}`,
	`{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1764000000,"id":"chatcmpl-1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","system_fingerprint":"fp_1","usage":null}`,
	`{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hello"},"finish_reason":null,"index":0,"logprobs":null}],"created":1764000000,"id":"chatcmpl-1","model":"gpt-4o-2024-11-20","object":"chat.completion.chunk","usage":null}`,
	`{"choices":[{"delta":{"content":" wide\nworld"},"finish_reason":null,"index":0}],"id":"chatcmpl-1","object":"chat.completion.chunk","usage":null}`,
	`{"choices":[{"delta":{"content":"\u0020!"},"finish_reason":null,"index":0}],"id":"chatcmpl-1","object":"chat.completion.chunk","usage":null}`,
	`{"choices":[{"delta":{},"finish_reason":"stop","index":0}],"id":"chatcmpl-1","object":"chat.completion.chunk","usage":null}`,
	`{"choices":[],"id":"chatcmpl-1","object":"chat.completion.chunk","usage":{"completion_tokens":5,"prompt_tokens":12,"total_tokens":17}}`,
	`[DONE]`,
}

func sse(events ...string) []byte {
	var b bytes.Buffer
	for _, e := range events {
		b.WriteString("data: " + e + "\n\n")
	}
	return b.Bytes()
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestStreamTimesEachEvent(t *testing.T) {
	var tm timing.Stream
	d := NewStreamDecoder(&tm)
	var got []timing.Event
	d.OnEvent = func(ev timing.Event) { got = append(got, ev) }
	for i, e := range azureEvents {
		d.Feed(ms(100+10*i), sse(e))
	}
	d.End(ms(200), nil)

	require.NoError(t, tm.Err)
	assert.True(t, tm.Ended)
	assert.Equal(t, 8, tm.Events)
	assert.Equal(t, 3, tm.Chunks)
	assert.Equal(t, 1+2+1, tm.Tokens, `"Hello", " wide\nworld", "\u0020!"`)
	assert.Equal(t, ms(120), tm.FirstToken, "the role chunk with empty content is not the first token")
	assert.Equal(t, ms(140), tm.LastToken)
	assert.Equal(t, "stop", tm.Stop)
	assert.True(t, tm.Usage)
	assert.Equal(t, 12, tm.InputTokens)
	assert.Equal(t, 5, tm.OutputTokens)
	assert.Equal(t, 5, tm.Output())
	assert.Equal(t, int64(2), tm.Gaps.N)
	assert.Equal(t, ms(20), tm.Gaps.Sum)
	assert.Equal(t, ms(10), tm.Gaps.Quantile(0.5))
	assert.Equal(t, (ms(140)-ms(120))/3, tm.PerToken())

	kinds := make([]timing.EventKind, len(got))
	for i, ev := range got {
		kinds[i] = ev.Kind
		assert.Equal(t, ms(100+10*i), ev.At)
	}
	assert.Equal(t, []timing.EventKind{0, 0, timing.EventContent, timing.EventContent, timing.EventContent,
		timing.EventStop, timing.EventUsage, timing.EventEnd}, kinds)
}

// decodeWhole feeds body in pieces of n bytes, all at time zero.
func decodeSplit(body []byte, n int) timing.Stream {
	var tm timing.Stream
	d := NewStreamDecoder(&tm)
	for len(body) > 0 {
		k := min(n, len(body))
		d.Feed(0, body[:k])
		body = body[k:]
	}
	d.End(0, nil)
	return tm
}

func TestStreamSplitAnywhere(t *testing.T) {
	body := sse(azureEvents...)
	want := decodeSplit(body, len(body))
	require.NoError(t, want.Err)
	for n := 1; n < 40; n++ {
		assert.Equal(t, want, decodeSplit(body, n), "pieces of %d bytes", n)
	}
	for _, eol := range []string{"\r\n", "\r"} {
		crlf := bytes.ReplaceAll(body, []byte("\n"), []byte(eol))
		for _, n := range []int{1, 2, 3, 7, len(crlf)} {
			assert.Equal(t, want, decodeSplit(crlf, n), "%q line ends, pieces of %d bytes", eol, n)
		}
	}
}

func TestStreamToleratesSSEExtras(t *testing.T) {
	body := ": keep-alive\n\nevent: message\nid: 7\nretry: 100\ndata: {\"choices\":[{\"delta\":\ndata: {\"content\":\"a b\"}}]}\n\n" +
		"data:{\"choices\":[{\"delta\":{\"content\":\"c\"}}]}\n\nunknown: x\n\ndata: [DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"late\"}}]}\n\n"
	tm := decodeSplit([]byte(body), 5)
	require.NoError(t, tm.Err)
	assert.Equal(t, 2, tm.Chunks, "a data field split over two lines is one event; nothing counts after [DONE]")
	assert.Equal(t, 3, tm.Tokens)
	assert.True(t, tm.Ended)
}

func TestStreamEndsAtEOFWithoutBlankLine(t *testing.T) {
	tm := decodeSplit([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]"), 4)
	require.NoError(t, tm.Err)
	assert.True(t, tm.Ended)
	assert.Equal(t, 1, tm.Chunks)
}

func TestStreamErrors(t *testing.T) {
	for _, c := range []struct {
		name, body string
		check      func(t *testing.T, err error)
	}{
		{"no [DONE]", string(sse(azureEvents[:4]...)), func(t *testing.T, err error) {
			assert.ErrorIs(t, err, timing.ErrIncomplete)
		}},
		{"cut mid-event", string(sse(azureEvents[:3]...)) + `data: {"choices":[{"del`, func(t *testing.T, err error) {
			var me *timing.MalformedError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, "malformed", timing.ErrorClass(err))
		}},
		{"not JSON", "data: {nope}\n\n", func(t *testing.T, err error) {
			var me *timing.MalformedError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, int64(14), me.Offset)
		}},
		{"not an object", "data: [1,2]\n\n", func(t *testing.T, err error) {
			var me *timing.MalformedError
			require.ErrorAs(t, err, &me)
		}},
		{"in-stream error", string(sse(azureEvents[2], `{"error":{"code":"content_filter","message":"secret prompt text"}}`)), func(t *testing.T, err error) {
			var se *timing.ServiceError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, timing.ServiceError{Code: "content_filter"}, *se)
			assert.NotContains(t, err.Error(), "secret", "messages are not kept")
			assert.Equal(t, "stream_error", timing.ErrorClass(err))
		}},
		{"error with null code", string(sse(`{"error":{"code":null,"type":"server_error","message":"x"}}`)), func(t *testing.T, err error) {
			var se *timing.ServiceError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "server_error", se.Code)
		}},
		{"line too long", "data: " + strings.Repeat("x", MaxLine+10), func(t *testing.T, err error) {
			var me *timing.MalformedError
			require.ErrorAs(t, err, &me)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, n := range []int{1, 3, len(c.body)} {
				tm := decodeSplit([]byte(c.body), n)
				require.Error(t, tm.Err)
				c.check(t, tm.Err)
			}
		})
	}
}

func TestStreamReadErrorWins(t *testing.T) {
	var tm timing.Stream
	d := NewStreamDecoder(&tm)
	d.Feed(ms(1), sse(azureEvents[2]))
	boom := errors.New("connection reset")
	d.End(ms(2), boom)
	assert.ErrorIs(t, tm.Err, boom)
	assert.Equal(t, "read", timing.ErrorClass(tm.Err))
}

// TestTimedBodyThroughPipe checks the wrapper a transport uses: arrival
// times come from the reads, and OnEnd runs once.
func TestTimedBodyThroughPipe(t *testing.T) {
	pr, pw := io.Pipe()
	var tm timing.Stream
	start := time.Now()
	body := timing.NewTimedBody(pr, start, &tm, NewStreamDecoder(&tm))
	ends := 0
	body.OnEnd = func(*timing.Stream) { ends++ }
	go func() {
		for _, e := range azureEvents {
			_, _ = pw.Write(sse(e))
			time.Sleep(2 * time.Millisecond)
		}
		pw.Close()
	}()
	n, err := io.Copy(io.Discard, body)
	require.NoError(t, err)
	require.NoError(t, body.Close())
	assert.Equal(t, 1, ends)
	require.NoError(t, tm.Err)
	assert.Equal(t, int64(len(sse(azureEvents...))), n)
	assert.Equal(t, n, tm.Bytes)
	assert.Positive(t, tm.FirstByte)
	assert.GreaterOrEqual(t, tm.FirstToken, tm.FirstByte+4*time.Millisecond, "two events of 2ms come before the first token")
	assert.GreaterOrEqual(t, tm.Gaps.Min, 2*time.Millisecond)
	assert.GreaterOrEqual(t, tm.Done, tm.LastToken)
}

func TestTimedBodyClosedEarly(t *testing.T) {
	var tm timing.Stream
	body := timing.NewTimedBody(io.NopCloser(bytes.NewReader(sse(azureEvents...))), time.Now(), &tm, NewStreamDecoder(&tm))
	buf := make([]byte, 100)
	_, err := body.Read(buf)
	require.NoError(t, err)
	require.NoError(t, body.Close())
	assert.ErrorIs(t, tm.Err, timing.ErrBodyClosed)
	assert.Equal(t, "closed", timing.ErrorClass(tm.Err))
}

func response(status int, ct string, hdr ...string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}}
	r.Header.Set("Content-Type", ct)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func decodeBody(resp *http.Response, body string) timing.Stream {
	var tm timing.Stream
	d := NewBodyDecoder(resp, &tm)
	d.Feed(ms(5), []byte(body))
	d.End(ms(6), nil)
	return tm
}

func TestBodyDecoders(t *testing.T) {
	tm := decodeBody(response(200, "application/json"), `{"choices":[{"finish_reason":"length","index":0,"message":{"content":"one two three","role":"assistant"}}],"usage":{"completion_tokens":3,"prompt_tokens":9,"total_tokens":12}}`)
	require.NoError(t, tm.Err)
	assert.Equal(t, timing.Stream{Tokens: 3, Usage: true, InputTokens: 9, OutputTokens: 3, Stop: "length", Ended: true}, tm)

	tm = decodeBody(response(429, "application/json", "retry-after", "1"), `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation ... exceeded"}}`)
	assert.Equal(t, &timing.ServiceError{Status: 429, Code: "429"}, tm.Err)
	assert.Equal(t, "http", timing.ErrorClass(tm.Err))

	tm = decodeBody(response(404, "text/plain", "x-ms-error-code", "DeploymentNotFound"), `not json`)
	assert.Equal(t, &timing.ServiceError{Status: 404, Code: "DeploymentNotFound"}, tm.Err)

	tm = decodeBody(response(200, "text/event-stream; charset=utf-8"), string(sse(azureEvents...)))
	require.NoError(t, tm.Err)
	assert.Equal(t, 3, tm.Chunks)

	tm = decodeBody(response(200, "application/json"), `{"choices":`)
	var me *timing.MalformedError
	assert.ErrorAs(t, tm.Err, &me)

	in, out, ok := Usage([]byte(`{"usage":{"prompt_tokens":4,"completion_tokens":2}}`))
	assert.True(t, ok)
	assert.Equal(t, [2]int{4, 2}, [2]int{in, out})
	_, _, ok = Usage([]byte(`{"usage":null}`))
	assert.False(t, ok)
	assert.Equal(t, "", ErrorCode([]byte(`{"choices":[]}`)))
}

// TestStreamDoesNotAllocatePerEvent checks the decoder's promise: decoding
// ten times as many events costs no more allocations.
func TestStreamDoesNotAllocatePerEvent(t *testing.T) {
	chunk := sse(azureEvents[2])
	allocs := func(events int) float64 {
		return testing.AllocsPerRun(20, func() {
			var tm timing.Stream
			d := NewStreamDecoder(&tm)
			for i := range events {
				d.Feed(time.Duration(i), chunk)
			}
			d.Feed(0, sse("[DONE]"))
			d.End(0, nil)
		})
	}
	few, many := allocs(10), allocs(1000)
	t.Logf("allocations: %v for 10 events, %v for 1000", few, many)
	assert.LessOrEqual(t, many, few+1)
}

// chunkStruct is what encoding/json would need to read the same fields.
type chunkStruct struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error *struct {
		Code json.RawMessage `json:"code"`
	} `json:"error"`
}

// BenchmarkStreamDecoder measures the hand scanner on Azure content chunks;
// compare with BenchmarkEncodingJSONReusedStruct.
func BenchmarkStreamDecoder(b *testing.B) {
	chunk := sse(azureEvents[2])
	var tm timing.Stream
	d := NewStreamDecoder(&tm)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Feed(time.Duration(i), chunk)
	}
	if tm.Err != nil || tm.Chunks == 0 {
		b.Fatal(tm.Err)
	}
}

// BenchmarkEncodingJSONReusedStruct is the alternative design: line
// splitting aside, encoding/json into one reused struct.
func BenchmarkEncodingJSONReusedStruct(b *testing.B) {
	data := []byte(azureEvents[2])
	var c chunkStruct
	b.SetBytes(int64(len(data) + 8))
	b.ReportAllocs()
	for b.Loop() {
		c.Usage, c.Error = nil, nil
		if err := json.Unmarshal(data, &c); err != nil {
			b.Fatal(err)
		}
	}
}
