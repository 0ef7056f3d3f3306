package fake

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSSEStreamGolden pins the exact bytes of a short Azure stream: the
// chunk order and shapes of docs/references.md [11].
func TestSSEStreamGolden(t *testing.T) {
	var enc azChunkEncoder
	enc.reset("chatcmpl-X", 1732000000, "gpt-4o", "fp_1")
	var b []byte
	b = enc.appendPromptFilter(b)
	b = enc.appendRole(b)
	b = enc.appendContentWords(b, 0, 0, 1)
	b = enc.appendContentWords(b, 0, 1, 2)
	b = enc.appendFinish(b, "stop")
	b = enc.appendUsage(b, 5, 3)
	b = enc.appendDone(b)
	meta := `"created":1732000000,"id":"chatcmpl-X","model":"gpt-4o","object":"chat.completion.chunk","system_fingerprint":"fp_1"`
	safe := `{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}`
	want := `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}` + "\n\n" +
		`data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],` + meta + `,"usage":null}` + "\n\n" +
		`data: {"choices":[{"content_filter_results":` + safe + `,"delta":{"content":"the"},"finish_reason":null,"index":0,"logprobs":null}],` + meta + `,"usage":null}` + "\n\n" +
		`data: {"choices":[{"content_filter_results":` + safe + `,"delta":{"content":" of and"},"finish_reason":null,"index":0,"logprobs":null}],` + meta + `,"usage":null}` + "\n\n" +
		`data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],` + meta + `,"usage":null}` + "\n\n" +
		`data: {"choices":[],` + meta + `,"usage":{"completion_tokens":3,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":5,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":8}}` + "\n\n" +
		"data: [DONE]\n\n"
	assert.Equal(t, want, string(b))

	// appendContent escapes; appendContentWords need not (next test).
	enc.reset("i", 1, "m", "f")
	c := enc.appendContent(nil, "a\"b\n")
	data := strings.TrimSuffix(strings.TrimPrefix(string(c), "data: "), "\n\n")
	var chunk struct {
		Choices []struct {
			Delta struct{ Content string } `json:"delta"`
		} `json:"choices"`
	}
	require.NoError(t, json.Unmarshal([]byte(data), &chunk))
	assert.Equal(t, "a\"b\n", chunk.Choices[0].Delta.Content)
}

// TestSSEVocabularyNeedsNoEscaping: appendContentWords copies the
// synthetic words into JSON strings verbatim, which is only right if no
// word needs escaping.
func TestSSEVocabularyNeedsNoEscaping(t *testing.T) {
	for _, w := range words {
		if q := appendQuotedJSON(nil, w); string(q) != `"`+w+`"` {
			t.Fatalf("word %q needs escaping: %s", w, q)
		}
	}
}

// TestSSEQuotedJSONMatchesEncodingJSON: appendQuotedJSON agrees with
// encoding/json (HTML escaping aside) on tricky strings.
func TestSSEQuotedJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\x7f", "\n\r\t", "é日本", "\u2028\u2029", "bad\xff\xc3", "<>&"} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendQuotedJSON(nil, s)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("%q: got %s, want %s", s, got, want.String())
		}
	}
}

func BenchmarkSSEQuotedJSON(b *testing.B) {
	s := strings.Repeat("plain words and a \"quote\" ", 8)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = appendQuotedJSON(buf[:0], s)
	}
}
