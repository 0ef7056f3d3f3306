package bedrock

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/mcbench/mcbench/backends/timing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frame encodes one event-stream message with the SDK's encoder.
func frame(t testing.TB, msgType, kindHeader, kind string, payload string) []byte {
	t.Helper()
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue(msgType))
	m.Headers.Set(kindHeader, eventstream.StringValue(kind))
	m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	m.Payload = []byte(payload)
	var b bytes.Buffer
	require.NoError(t, eventstream.NewEncoder().Encode(&b, m))
	return b.Bytes()
}

func event(t testing.TB, kind, payload string) []byte {
	return frame(t, "event", ":event-type", kind, payload)
}

// converse is a ConverseStream response in the order of docs/references.md
// [12], with the random padding field "p" real payloads carry.
func converse(t testing.TB) [][]byte {
	return [][]byte{
		event(t, "messageStart", `{"p":"abcdefgh","role":"assistant"}`),
		event(t, "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcd"}`),
		event(t, "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"thinking hard"}},"p":"ab"}`),
		event(t, "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":" big world"},"p":"abcdefghijkl"}`),
		event(t, "contentBlockDelta", `{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"a\":1}"}}}`),
		event(t, "contentBlockStop", `{"contentBlockIndex":0,"p":"x"}`),
		event(t, "messageStop", `{"p":"xyz","stopReason":"end_turn"}`),
		event(t, "metadata", `{"metrics":{"latencyMs":412},"p":"q","usage":{"inputTokens":25,"outputTokens":4,"totalTokens":29}}`),
	}
}

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

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestConverseStream(t *testing.T) {
	var tm timing.Stream
	d := NewStreamDecoder(&tm)
	var kinds []timing.EventKind
	d.OnEvent = func(ev timing.Event) { kinds = append(kinds, ev.Kind) }
	for i, f := range converse(t) {
		d.Feed(ms(50+5*i), f)
	}
	d.End(ms(100), nil)
	require.NoError(t, tm.Err)
	assert.True(t, tm.Ended)
	assert.Equal(t, 8, tm.Events)
	assert.Equal(t, 3, tm.Chunks, "text, text and tool input; reasoning is not content")
	assert.Equal(t, 1+2+1, tm.Tokens)
	assert.Equal(t, ms(55), tm.FirstToken)
	assert.Equal(t, ms(70), tm.LastToken)
	assert.Equal(t, "end_turn", tm.Stop)
	assert.True(t, tm.Usage)
	assert.Equal(t, [2]int{25, 4}, [2]int{tm.InputTokens, tm.OutputTokens})
	assert.Equal(t, int64(2), tm.Gaps.N)
	c, s, u, e := timing.EventContent, timing.EventStop, timing.EventUsage, timing.EventEnd
	assert.Equal(t, []timing.EventKind{0, c, 0, c, c, 0, s | e, u}, kinds)
}

func TestSplitAnywhere(t *testing.T) {
	body := bytes.Join(converse(t), nil)
	want := decodeSplit(body, len(body))
	require.NoError(t, want.Err)
	for n := 1; n < 70; n++ {
		assert.Equal(t, want, decodeSplit(body, n), "pieces of %d bytes", n)
	}
}

func chunk(t testing.TB, inner string) []byte {
	return event(t, "chunk", `{"bytes":"`+base64.StdEncoding.EncodeToString([]byte(inner))+`","p":"abc"}`)
}

func TestInvokeStreamAnthropic(t *testing.T) {
	frames := [][]byte{
		chunk(t, `{"type":"message_start","message":{"id":"msg_1","role":"assistant","usage":{"input_tokens":31,"output_tokens":1}}}`),
		chunk(t, `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
		chunk(t, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`),
		chunk(t, `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`),
		chunk(t, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there you"}}`),
		chunk(t, `{"type":"content_block_stop","index":0}`),
		chunk(t, `{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":3}}`),
		chunk(t, `{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":30,"outputTokenCount":3,"invocationLatency":500,"firstByteLatency":200}}`),
	}
	tm := decodeSplit(bytes.Join(frames, nil), 13)
	require.NoError(t, tm.Err)
	assert.True(t, tm.Ended)
	assert.Equal(t, 2, tm.Chunks)
	assert.Equal(t, 3, tm.Tokens)
	assert.Equal(t, "max_tokens", tm.Stop)
	assert.Equal(t, [2]int{30, 3}, [2]int{tm.InputTokens, tm.OutputTokens}, "invocation metrics win")
}

func TestInvokeStreamOpenAIAndLlama(t *testing.T) {
	openai := [][]byte{
		chunk(t, `{"choices":[{"delta":{"role":"assistant","content":""},"index":0}],"object":"chat.completion.chunk"}`),
		chunk(t, `{"choices":[{"delta":{"content":"a b"},"index":0}],"object":"chat.completion.chunk"}`),
		chunk(t, `{"choices":[{"delta":{},"finish_reason":"stop","index":0}],"object":"chat.completion.chunk","amazon-bedrock-invocationMetrics":{"inputTokenCount":7,"outputTokenCount":2}}`),
	}
	tm := decodeSplit(bytes.Join(openai, nil), 1000)
	require.NoError(t, tm.Err)
	assert.Equal(t, [4]int{1, 2, 7, 2}, [4]int{tm.Chunks, tm.Tokens, tm.InputTokens, tm.OutputTokens})
	assert.Equal(t, "stop", tm.Stop)

	llama := [][]byte{
		chunk(t, `{"generation":"Hello","prompt_token_count":9,"generation_token_count":1,"stop_reason":null}`),
		chunk(t, `{"generation":" again","prompt_token_count":null,"generation_token_count":2,"stop_reason":"stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":9,"outputTokenCount":2}}`),
	}
	tm = decodeSplit(bytes.Join(llama, nil), 1000)
	require.NoError(t, tm.Err)
	assert.Equal(t, [4]int{2, 2, 9, 2}, [4]int{tm.Chunks, tm.Tokens, tm.InputTokens, tm.OutputTokens})
}

func TestChunkBytesEscaped(t *testing.T) {
	var b64 string
	for pad := ""; !bytes.ContainsRune([]byte(b64), '/'); pad += "?" {
		b64 = base64.StdEncoding.EncodeToString([]byte(`{"type":"content_block_delta","delta":{"text":"x` + pad + `"}}`))
	}
	esc := bytes.ReplaceAll([]byte(b64), []byte("/"), []byte(`\/`))
	require.NotEqual(t, b64, string(esc), "the payload must contain a slash for this test")
	tm := decodeSplit(append(event(t, "chunk", `{"bytes":"`+string(esc)+`"}`), event(t, "messageStop", `{}`)...), 1000)
	require.NoError(t, tm.Err)
	assert.Equal(t, 1, tm.Chunks)
}

func TestStreamErrors(t *testing.T) {
	good := converse(t)
	corrupt := bytes.Clone(good[1])
	corrupt[len(corrupt)-6] ^= 0xff
	badPrelude := bytes.Clone(good[1])
	badPrelude[3] ^= 0x01
	for _, c := range []struct {
		name  string
		body  []byte
		class string
		code  string
	}{
		{"no messageStop", bytes.Join(good[:5], nil), "incomplete", ""},
		{"cut mid-frame", append(bytes.Join(good, nil), good[1][:20]...), "incomplete", ""},
		{"message CRC", append(bytes.Clone(good[0]), corrupt...), "malformed", ""},
		{"prelude CRC", append(bytes.Clone(good[0]), badPrelude...), "malformed", ""},
		{"garbage", []byte("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello"), "malformed", ""},
		{"exception", append(bytes.Clone(good[1]), frame(t, "exception", ":exception-type", "throttlingException", `{"message":"slow down, prompt was: secret"}`)...), "stream_error", "throttlingException"},
		{"error", frame(t, "error", ":error-code", "InternalFailure", ``), "stream_error", "InternalFailure"},
		{"payload not JSON", event(t, "contentBlockDelta", `{"delta":`), "malformed", ""},
		{"chunk not base64", event(t, "chunk", `{"bytes":"%%%"}`), "malformed", ""},
		{"chunk not JSON", event(t, "chunk", `{"bytes":"`+base64.StdEncoding.EncodeToString([]byte("nope"))+`"}`), "malformed", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, n := range []int{1, 5, len(c.body)} {
				tm := decodeSplit(c.body, n)
				require.Error(t, tm.Err)
				assert.Equal(t, c.class, timing.ErrorClass(tm.Err), "%v", tm.Err)
				var se *timing.ServiceError
				if errors.As(tm.Err, &se) {
					assert.Equal(t, c.code, se.Code)
					assert.NotContains(t, tm.Err.Error(), "secret")
				}
			}
		})
	}
}

func TestHugePreludeIsNotBuffered(t *testing.T) {
	// A valid-CRC prelude claiming 1 GiB must fail at once, not wait for it.
	var tm timing.Stream
	d := NewStreamDecoder(&tm)
	f := frame(t, "event", ":event-type", "x", "")
	f[0] = 0x40 // 1 GiB
	copy(f[8:12], crcBE(f[:8]))
	d.Feed(0, f[:12])
	var me *timing.MalformedError
	require.ErrorAs(t, tm.Err, &me)
	assert.Contains(t, me.What, "out of range")
	assert.Nil(t, d.buf)
}

func TestReadErrorEndsStream(t *testing.T) {
	var tm timing.Stream
	d := NewStreamDecoder(&tm)
	d.Feed(0, converse(t)[1])
	boom := io.ErrUnexpectedEOF
	d.End(0, boom)
	assert.ErrorIs(t, tm.Err, boom)
}

func resp(status int, ct string, hdr ...string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}}
	r.Header.Set("Content-Type", ct)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func decodeBody(r *http.Response, body []byte) timing.Stream {
	var tm timing.Stream
	d := NewBodyDecoder(r, &tm)
	d.Feed(0, body)
	d.End(0, nil)
	return tm
}

func TestBodyDecoders(t *testing.T) {
	tm := decodeBody(resp(200, "application/json"), []byte(`{"metrics":{"latencyMs":300},"output":{"message":{"content":[{"text":"one two"}],"role":"assistant"}},"stopReason":"end_turn","usage":{"inputTokens":12,"outputTokens":2,"totalTokens":14}}`))
	require.NoError(t, tm.Err)
	assert.Equal(t, timing.Stream{Tokens: 2, Usage: true, InputTokens: 12, OutputTokens: 2, Stop: "end_turn", Ended: true}, tm)

	tm = decodeBody(resp(200, "application/json"), []byte(`{"id":"m","type":"message","content":[{"type":"text","text":"a b c"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":3}}`))
	assert.Equal(t, [3]int{3, 5, 3}, [3]int{tm.Tokens, tm.InputTokens, tm.OutputTokens})

	tm = decodeBody(resp(200, "application/json", "X-Amzn-Bedrock-Input-Token-Count", "8", "X-Amzn-Bedrock-Output-Token-Count", "4"), []byte(`{"generation_text_without_usage":"x"}`))
	assert.Equal(t, [2]int{8, 4}, [2]int{tm.InputTokens, tm.OutputTokens})

	tm = decodeBody(resp(200, "application/json"), []byte(`{"choices":[{"message":{"content":"x y"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`))
	assert.Equal(t, [3]int{2, 3, 2}, [3]int{tm.Tokens, tm.InputTokens, tm.OutputTokens})

	tm = decodeBody(resp(429, "application/json", "X-Amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"), []byte(`{"message":"Too many requests"}`))
	assert.Equal(t, &timing.ServiceError{Status: 429, Code: "ThrottlingException"}, tm.Err)
	tm = decodeBody(resp(400, "application/json"), []byte(`{"__type":"com.amazon.bedrock#ValidationException","message":"bad"}`))
	assert.Equal(t, &timing.ServiceError{Status: 400, Code: "ValidationException"}, tm.Err)
	tm = decodeBody(resp(403, "application/json"), []byte(`{"code":"AccessDeniedException"}`))
	assert.Equal(t, &timing.ServiceError{Status: 403, Code: "AccessDeniedException"}, tm.Err)

	tm = decodeBody(resp(200, "application/vnd.amazon.eventstream"), bytes.Join(converse(t), nil))
	require.NoError(t, tm.Err)
	assert.Equal(t, 3, tm.Chunks)

	in, out, ok := Usage([]byte(`{"usage":{"inputTokens":1,"outputTokens":2}}`))
	assert.True(t, ok)
	assert.Equal(t, [2]int{1, 2}, [2]int{in, out})
}

func TestDoesNotAllocatePerFrame(t *testing.T) {
	delta := event(t, "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcdefghijklmnop"}`)
	anth := chunk(t, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`)
	stop := event(t, "messageStop", `{"stopReason":"end_turn"}`)
	for _, f := range [][]byte{delta, anth} {
		allocs := func(n int) float64 {
			return testing.AllocsPerRun(20, func() {
				var tm timing.Stream
				d := NewStreamDecoder(&tm)
				for i := range n {
					d.Feed(time.Duration(i), f)
				}
				d.Feed(0, stop)
				d.End(0, nil)
			})
		}
		few, many := allocs(10), allocs(1000)
		t.Logf("allocations: %v for 10 frames, %v for 1000", few, many)
		assert.LessOrEqual(t, many, few+1)
	}
}

// BenchmarkConverseDelta measures one contentBlockDelta frame; compare with
// BenchmarkSDKDecoder, the SDK's decoder reading the same frame.
func BenchmarkConverseDelta(b *testing.B) {
	f := event(b, "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcdefghijklmnopqrstuvwxyz0123"}`)
	var tm timing.Stream
	d := NewStreamDecoder(&tm)
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Feed(time.Duration(i), f)
	}
	if tm.Err != nil {
		b.Fatal(tm.Err)
	}
}

func BenchmarkSDKDecoder(b *testing.B) {
	f := event(b, "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcdefghijklmnopqrstuvwxyz0123"}`)
	dec := eventstream.NewDecoder()
	buf := make([]byte, 0, 1024)
	r := bytes.NewReader(f)
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(f)
		if _, err := dec.Decode(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func crcBE(b []byte) []byte {
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], crc32.ChecksumIEEE(b))
	return out[:]
}
