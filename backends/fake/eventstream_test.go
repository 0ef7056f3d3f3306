package fake

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brSDKEncode encodes the same message with the SDK's Encoder.
func brSDKEncode(t testing.TB, hs []brHeader, payload []byte) []byte {
	t.Helper()
	var m eventstream.Message
	for _, h := range hs {
		m.Headers = append(m.Headers, eventstream.Header{Name: h.Name, Value: eventstream.StringValue(h.Value)})
	}
	m.Payload = payload
	var buf bytes.Buffer
	require.NoError(t, eventstream.NewEncoder().Encode(&buf, m))
	return buf.Bytes()
}

func TestBedrockEventStreamMatchesSDK(t *testing.T) {
	cases := []struct {
		hs      []brHeader
		payload string
	}{
		{brEventHeaders("contentBlockDelta"), `{"contentBlockIndex":0,"delta":{"text":"the"}}`},
		{brEventHeaders("messageStart"), `{"role":"assistant"}`},
		{nil, ""},
		{[]brHeader{{"a", ""}}, ""},
		{[]brHeader{{strings.Repeat("n", 255), strings.Repeat("v", brMaxHeaderValLen)}}, "x"},
		{brEventHeaders("chunk"), strings.Repeat("payload ", 10000)},
	}
	for _, tc := range cases {
		hdr, err := brAppendHeaders(nil, tc.hs...)
		require.NoError(t, err)
		got, err := brAppendFrame([]byte("prefix"), hdr, []byte(tc.payload))
		require.NoError(t, err)
		require.Equal(t, "prefix", string(got[:6]))
		want := brSDKEncode(t, tc.hs, []byte(tc.payload))
		assert.Equal(t, want, got[6:], "frame bytes differ from the SDK encoder's")

		m, err := eventstream.NewDecoder().Decode(bytes.NewReader(got[6:]), nil)
		require.NoError(t, err)
		assert.Equal(t, tc.payload, string(m.Payload))
		require.Len(t, m.Headers, len(tc.hs))
		for i, h := range tc.hs {
			assert.Equal(t, h.Name, m.Headers[i].Name)
			assert.Equal(t, h.Value, m.Headers[i].Value.String())
		}
	}
}

func TestBedrockEventStreamLimits(t *testing.T) {
	_, err := brAppendHeaders(nil, brHeader{"", "v"})
	assert.ErrorIs(t, err, errBrHeaderName)
	_, err = brAppendHeaders(nil, brHeader{strings.Repeat("n", 256), "v"})
	assert.ErrorIs(t, err, errBrHeaderName)
	_, err = brAppendHeaders([]byte("keep"), brHeader{"n", strings.Repeat("v", brMaxHeaderValLen+1)})
	assert.ErrorIs(t, err, errBrHeaderValue)
	var hs []brHeader
	for range 5 {
		hs = append(hs, brHeader{"n", strings.Repeat("v", brMaxHeaderValLen)})
	}
	out, err := brAppendHeaders([]byte("keep"), hs...)
	assert.ErrorIs(t, err, errBrHeadersLen)
	assert.Equal(t, "keep", string(out), "a failed append leaves dst as it was")
	_, err = brAppendFrame(nil, nil, make([]byte, brMaxPayloadLen+1))
	assert.ErrorIs(t, err, errBrPayloadLen)
	_, err = brEndFrame([]byte("short"), 3, 0)
	assert.ErrorIs(t, err, errBrFrameInvalid)
}

func TestBedrockEventStreamCorrupt(t *testing.T) {
	f, err := brAppendFrame(nil, brHdrMessageStart, []byte(`{"role":"assistant"}`))
	require.NoError(t, err)
	brCorruptFrame(f)
	_, err = eventstream.NewDecoder().Decode(bytes.NewReader(f), nil)
	var ce eventstream.ChecksumError
	assert.True(t, errors.As(err, &ce), "%T %v", err, err)
}

// TestBedrockEventStreamSequence decodes a whole multi-frame buffer, as
// the client reads a stream, and checks the frames come back in order.
func TestBedrockEventStreamSequence(t *testing.T) {
	var b []byte
	for i := range int32(50) {
		var start int
		b, start = brBeginFrame(b, brHdrContentDelta)
		b = append(b, `{"contentBlockIndex":0,"delta":{"text":"`...)
		b = AppendWords(b, 3, i, 1)
		b = append(b, `"}}`...)
		var err error
		b, err = brEndFrame(b, start, len(brHdrContentDelta))
		require.NoError(t, err)
	}
	b = brAppendException(b, "throttlingException", "slow \"down\"")
	r := bytes.NewReader(b)
	dec := eventstream.NewDecoder()
	var text []byte
	for range 50 {
		m, err := dec.Decode(r, nil)
		require.NoError(t, err)
		assert.Equal(t, "contentBlockDelta", m.Headers.Get(":event-type").String())
		i := bytes.Index(m.Payload, []byte(`"text":"`))
		text = append(text, m.Payload[i+8:len(m.Payload)-3]...)
	}
	assert.Equal(t, string(AppendWords(nil, 3, 0, 50)), string(text))
	m, err := dec.Decode(r, nil)
	require.NoError(t, err)
	assert.Equal(t, "exception", m.Headers.Get(":message-type").String())
	assert.Equal(t, "throttlingException", m.Headers.Get(":exception-type").String())
	assert.JSONEq(t, `{"message":"slow \"down\""}`, string(m.Payload))
	_, err = dec.Decode(r, nil)
	assert.ErrorIs(t, err, io.EOF)
}

func BenchmarkBedrockEventStreamFrame(b *testing.B) {
	payload := []byte(`{"contentBlockIndex":0,"delta":{"text":" the"}}`)
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = brAppendFrame(buf[:0], brHdrContentDelta, payload)
		}
	})
	b.Run("sdk-encoder", func(b *testing.B) {
		var m eventstream.Message
		for _, h := range brEventHeaders("contentBlockDelta") {
			m.Headers.Set(h.Name, eventstream.StringValue(h.Value))
		}
		m.Payload = payload
		enc := eventstream.NewEncoder()
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			_ = enc.Encode(&buf, m)
		}
	})
}
