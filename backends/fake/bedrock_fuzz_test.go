package fake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzBedrockDecode feeds arbitrary bodies to the Converse and InvokeModel
// decoders and to the whole handler (SigV4 off): nothing may panic, a
// refusal is always a 4xx ValidationException in Bedrock's error shape,
// and an accepted body always gets a 200 with valid JSON.
func FuzzBedrockDecode(f *testing.F) {
	for _, seed := range []string{
		brBenchBody,
		brAnthropicBody,
		brOpenAIBody,
		`{"messages":[{"role":"user","content":[{"text":"a\nb\tc\u0020d"},{"image":{"format":"png","source":{"bytes":"AA=="}}}]},{"role":"assistant","content":[{"toolUse":{}}]}],"system":[{"cachePoint":{"type":"default"}}]}`,
		`{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":2147483648}}`,
		`{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}],"system":[{"type":"text","text":"x"}]}`,
		`{"model":"openai.gpt-oss-120b-1:0","messages":[{"role":"assistant","content":null},{"role":"tool","content":[{"type":"text","text":"r"}]}],"max_tokens":0}`,
		`{"messages":null}`, `[]`, `null`, `"x"`, `{"messages":[{"role":"user","content":"`, "\xff\xfe",
	} {
		f.Add([]byte(seed), uint8(0))
	}
	s, _ := New(brMustLoad(f, "bedrock-bench.yaml"), Options{})
	api := newBedrockAPI(s)
	api.noVerify = true
	mux := http.NewServeMux()
	api.register(mux)
	instant := s.bedrock[brBenchInstant]
	families := []*Deployment{
		{Name: "claude", Model: "anthropic.claude-3-haiku-20240307-v1:0"},
		{Name: "gpt", Model: "openai.gpt-oss-120b-1:0"},
		{Name: "other", Model: "meta.llama3-8b-instruct-v1:0"},
	}

	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		check := func(e *brError, what string) {
			if e == nil {
				return
			}
			assert.Equal(t, http.StatusBadRequest, e.status, what)
			assert.Equal(t, "ValidationException", e.code, what)
			assert.NotEmpty(t, e.msg, what)
			rec := httptest.NewRecorder()
			brWriteError(rec, "00000000-0000-4000-8000-000000000000", e)
			assert.True(t, json.Valid(rec.Body.Bytes()), "%s: error body %q", what, rec.Body.String())
		}
		var req brRequest
		e := brDecodeConverse(body, &req)
		check(e, "converse")
		if e == nil {
			assert.GreaterOrEqual(t, req.input, int32(0))
			assert.GreaterOrEqual(t, req.maxTokens, int32(0))
		}
		d := families[int(sel)%len(families)]
		req = brRequest{}
		e = brDecodeInvoke(body, brModelFamily(d.Model, d), d.Model, d, &req)
		check(e, "invoke")
		if e == nil {
			assert.GreaterOrEqual(t, req.input, int32(0))
			assert.NotEqual(t, brKindConverse, req.kind)
		}

		// The whole handler, non-streaming (streams share the decoders and
		// append the same strings).
		op := "converse"
		if sel&1 == 1 {
			op = "invoke"
		}
		r := httptest.NewRequest(http.MethodPost, "/model/"+url.PathEscape(instant.Model)+"/"+op, bytes.NewReader(body))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		switch rec.Code {
		case http.StatusOK:
			assert.True(t, json.Valid(rec.Body.Bytes()), "response %q", rec.Body.String())
		case http.StatusBadRequest:
			assert.True(t, strings.HasPrefix(rec.Header().Get("X-Amzn-Errortype"), "ValidationException:"))
			assert.True(t, json.Valid(rec.Body.Bytes()))
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

// FuzzEventStreamEncode checks the append-based encoder against the SDK:
// every frame it produces is byte-identical to the SDK Encoder's and
// decodes, with the SDK Decoder, to the same headers and payload.
func FuzzEventStreamEncode(f *testing.F) {
	f.Add(":event-type", "contentBlockDelta", ":message-type", "event", []byte(`{"contentBlockIndex":0,"delta":{"text":"the"}}`))
	f.Add("a", "", "b", "\x00\xff", []byte{})
	f.Add(strings.Repeat("n", 255), strings.Repeat("v", 300), "", "", []byte("payload"))
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string, payload []byte) {
		var hs []brHeader
		if n1 != "" {
			hs = append(hs, brHeader{n1, v1})
		}
		if n2 != "" && n2 != n1 { // the SDK's Headers.Set keeps one value per name
			hs = append(hs, brHeader{n2, v2})
		}
		hdr, err := brAppendHeaders(nil, hs...)
		if err != nil {
			for _, h := range hs {
				if len(h.Name) > brMaxHeaderNameLen || len(h.Value) > brMaxHeaderValLen {
					return
				}
			}
			t.Fatalf("valid headers refused: %v", err)
		}
		frame, err := brAppendFrame([]byte{0xAA}, hdr, payload)
		require.NoError(t, err)
		assert.Equal(t, byte(0xAA), frame[0], "the prefix of dst is kept")
		frame = frame[1:]
		assert.Equal(t, brSDKEncode(t, hs, payload), frame)

		m, err := eventstream.NewDecoder().Decode(bytes.NewReader(frame), nil)
		require.NoError(t, err)
		assert.Equal(t, len(payload), len(m.Payload))
		assert.True(t, bytes.Equal(payload, m.Payload))
		require.Len(t, m.Headers, len(hs))
		for i, h := range hs {
			assert.Equal(t, h.Name, m.Headers[i].Name)
			assert.Equal(t, h.Value, m.Headers[i].Value.String())
		}
	})
}
