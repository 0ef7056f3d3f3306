package fake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/mcbench/mcbench/scenarios"
)

// FuzzAzureDecode: whatever the body and content type, the request decoder
// never panics, every error it reports is a 4xx with Azure's error shape,
// and what it accepts is valid JSON with sane counts. The same input is
// also sent through the whole handler, whose every answer must be a 200 or
// a well-formed Azure error (500 only for the __server_error__ trigger).
func FuzzAzureDecode(f *testing.F) {
	for _, s := range []string{
		azBody(azPrompt, nil),
		azBody(azPrompt, map[string]any{"max_tokens": 5, "stream": true, "stream_options": map[string]any{"include_usage": true}}),
		`{"model":"aoai-instant","messages":[{"role":"user","content":[{"type":"text","text":"a b"},{"type":"image_url","image_url":{"url":"x"}}]}],"max_completion_tokens":3}`,
		`{"messages":[{"role":"system","content":"x\ny \u00e9"},{"role":"assistant","content":null}]}`,
		`{"messages":[]}`, `{"messages":"x"}`, `{"messages":[{"content":1}]}`, `{"max_tokens":-1,"messages":[{"role":"user","content":"x"}]}`,
		`{"messages":[{"role":"user","content":"` + AzureContentFilterWord + `"}]}`,
		`{"messages":[{"role":"user","content":"` + AzureServerErrorWord + `"}]}`,
		`{`, `null`, `[]`, `"x"`, ``, `{"messages":[{"role":"user","content":"a"}],"max_tokens":1e400}`,
	} {
		f.Add([]byte(s), "application/json", false)
		f.Add([]byte(s), "application/json; charset=utf-8", true)
	}
	f.Add([]byte(`{}`), "text/plain", false)
	f.Add([]byte(`{}`), "", false)
	f.Add([]byte(`{}`), "application/vnd.api+json", false)

	// Only an instant deployment: whatever model a v1 body names, the
	// handler never sleeps.
	sc, err := scenarios.Parse("fuzz", []byte(`
name: fuzz
providers: [{name: azure, kind: azure, regions: [eastus2]}]
deployments:
  - {name: aoai-instant, provider: azure, region: eastus2, capacity: {concurrency: 1000}, latency: {ttft: 0s}}
workloads: [{name: w, arrival: {process: poisson, rate: 1/s}, output_tokens: 5}]
strategies: [{name: s, placement: {model: [aoai-instant]}}]
`))
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(sc, Options{Credentials: Credentials{APIKey: azTestKey}, MaxBodyBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()

	f.Fuzz(func(t *testing.T, body []byte, ct string, v1 bool) {
		if e := azCheckContentType(ct); e != nil {
			azCheckError(t, e, false)
		}
		chat, e := azDecode(body, v1)
		if e != nil {
			azCheckError(t, e, false)
		} else {
			if !json.Valid(body) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
			if chat.input < 0 || chat.input > AzureContextWindow || chat.maxTokens < 0 || chat.maxTokens > AzureContextWindow {
				t.Fatalf("counts out of range: %+v", chat)
			}
			if v1 && chat.model == "" {
				t.Fatal("v1 request accepted without a model")
			}
		}

		// The whole handler, both routes, against the instant deployment.
		path := "/openai/deployments/aoai-instant/chat/completions?api-version=x"
		if v1 {
			path = "/openai/v1/chat/completions"
		}
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("api-key", azTestKey)
		req.Header.Set(OutputTokensHeader, "3")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		got, _ := io.ReadAll(res.Body)
		switch {
		case res.StatusCode == 200:
			if e != nil {
				t.Fatalf("handler answered 200 where the decoder said %d", e.status)
			}
		case res.StatusCode == 500 && e == nil && chat.serverError:
		case res.StatusCode >= 400 && res.StatusCode < 500:
			var env struct {
				Error *struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(got, &env); err != nil || env.Error == nil || env.Error.Message == "" {
				t.Fatalf("status %d with a body that is not Azure's error shape: %q", res.StatusCode, got)
			}
			if res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("error content type %q", res.Header.Get("Content-Type"))
			}
		default:
			t.Fatalf("status %d: %q", res.StatusCode, got)
		}
	})
}

// azCheckError checks an error is a client error and renders as JSON with
// a message (and, for the content filter, its inner error).
func azCheckError(t *testing.T, e *azError, allow5xx bool) {
	t.Helper()
	if e.status < 400 || e.status > 499 && !allow5xx {
		t.Fatalf("decoder error with status %d: %s", e.status, e.message)
	}
	b := e.appendBody(nil)
	var env struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Error["message"] == "" {
		t.Fatalf("error body %q: %v", b, err)
	}
}

// azValidUTF8 is s as encoding/json decodes it after appendQuotedJSON:
// each invalid byte becomes U+FFFD.
func azValidUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// FuzzSSEEncode: for any id, model, fingerprint and content text, a whole
// encoded stream parses as strict SSE (data lines and blank lines only, one
// JSON object per line, as azopenai requires), every chunk is valid JSON
// that round-trips its strings, and openai-go's SSE decoder and chunk type
// accept every event; a malformed chunk is well framed but not JSON.
func FuzzSSEEncode(f *testing.F) {
	f.Add("chatcmpl-abc", "gpt-4o", "fp_1", "hello", int64(1732000000), int32(10), int32(3), uint64(0), int32(0), int32(1))
	f.Add("", "", "", "", int64(0), int32(0), int32(0), uint64(7), int32(5), int32(16))
	f.Add("id\"\\\n", "m\u2028odel\x00", "fp\xff", "line\nbreak\ttab \"quoted\" \\ \x01 \u2029 é 日本 \xc3", int64(-1), int32(-5), int32(1<<30), uint64(1<<63), int32(1<<30), int32(-3))
	f.Fuzz(func(t *testing.T, id, model, fp, text string, created int64, prompt, completion int32, seed uint64, from, n int32) {
		from = max(from, 0) % 10000
		n = max(n, 0)%64 + 1
		var enc azChunkEncoder
		enc.reset(id, created, model, fp)
		var buf []byte
		buf = enc.appendPromptFilter(buf)
		buf = enc.appendRole(buf)
		buf = enc.appendContent(buf, text)
		buf = enc.appendContentWords(buf, seed, from, n)
		buf = enc.appendFinish(buf, text)
		buf = enc.appendUsage(buf, prompt, completion)
		buf = enc.appendDone(buf)

		// Strict framing.
		events := strings.Split(string(buf), "\n\n")
		if events[len(events)-1] != "" {
			t.Fatalf("stream does not end with a blank line: %q", events[len(events)-1])
		}
		events = events[:len(events)-1]
		if len(events) != 7 {
			t.Fatalf("%d events, want 7", len(events))
		}
		type chunk struct {
			ID          string `json:"id"`
			Model       string `json:"model"`
			Fingerprint string `json:"system_fingerprint"`
			Created     int64  `json:"created"`
			Choices     []struct {
				Delta struct {
					Content *string `json:"content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				Prompt     int64 `json:"prompt_tokens"`
				Completion int64 `json:"completion_tokens"`
				Total      int64 `json:"total_tokens"`
			} `json:"usage"`
		}
		var chunks []chunk
		for i, ev := range events {
			data, ok := strings.CutPrefix(ev, "data: ")
			if !ok || strings.ContainsAny(data, "\r\n") {
				t.Fatalf("event %d is not one data line: %q", i, ev)
			}
			if i == len(events)-1 {
				if data != "[DONE]" {
					t.Fatalf("last event %q", data)
				}
				continue
			}
			var c chunk
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				t.Fatalf("event %d: %v: %s", i, err, data)
			}
			chunks = append(chunks, c)
		}
		for i, c := range chunks[1:] {
			if c.ID != azValidUTF8(id) || c.Model != azValidUTF8(model) || c.Fingerprint != azValidUTF8(fp) || c.Created != created {
				t.Fatalf("chunk %d metadata %q %q %q %d", i+1, c.ID, c.Model, c.Fingerprint, c.Created)
			}
		}
		if got := *chunks[2].Choices[0].Delta.Content; got != azValidUTF8(text) {
			t.Fatalf("content %q, want %q", got, azValidUTF8(text))
		}
		if got, want := *chunks[3].Choices[0].Delta.Content, string(AppendWords(nil, seed, from, n)); got != want {
			t.Fatalf("words %q, want %q", got, want)
		}
		if got := *chunks[4].Choices[0].FinishReason; got != azValidUTF8(text) {
			t.Fatalf("finish reason %q", got)
		}
		if u := chunks[5].Usage; u == nil || u.Prompt != int64(prompt) || u.Completion != int64(completion) || u.Total != int64(prompt)+int64(completion) {
			t.Fatalf("usage %+v", u)
		}

		// openai-go's decoder and chunk type take the stream as it is.
		res := &http.Response{Header: http.Header{"Content-Type": {"text/event-stream; charset=utf-8"}}, Body: io.NopCloser(bytes.NewReader(buf))}
		s := ssestream.NewStream[openai.ChatCompletionChunk](ssestream.NewDecoder(res), nil)
		got := 0
		for s.Next() {
			got++
		}
		if s.Err() != nil || got != 6 {
			t.Fatalf("openai-go read %d chunks, err %v", got, s.Err())
		}

		// The malformed fault: framed, not JSON.
		bad := enc.appendMalformed(nil, seed, from, n)
		data, ok := strings.CutPrefix(string(bad), "data: ")
		if !ok || !strings.HasSuffix(data, "\n\n") || strings.Count(data, "\n") != 2 {
			t.Fatalf("malformed chunk badly framed: %q", bad)
		}
		if json.Valid([]byte(strings.TrimSuffix(data, "\n\n"))) {
			t.Fatalf("malformed chunk is valid JSON: %q", bad)
		}
	})
}
