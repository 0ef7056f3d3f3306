package wirejson

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, ` { } `, `[]`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"x\"y\\u00e9"}`, `-0.5e+3`, `"\ud83d"`,
		`{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `1e`, `"\x"`, "\"\x01\"", `tru`, `nul`,
		`{"a":1}x`, `{} {}`, `"\u12"`, `[-]`, `{"a" 1}`, `{1:2}`, ``, ` `,
	} {
		assert.Equal(t, json.Valid([]byte(s)), Valid([]byte(s)), "%q", s)
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"choices":[{"delta":{"content":"hi"}}]}`, `[1,2.5e3,"x",true,null]`, `{"a":{"b":[]}}`, `"\u0041"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := json.Valid(data)
		if got := Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", data, got, want)
		}
		obj := Each(data, func(k, v []byte) {
			if !json.Valid(v) {
				t.Fatalf("member value %q is not valid JSON", v)
			}
		})
		if obj && !want {
			t.Fatalf("Each accepted invalid JSON %q", data)
		}
		arr := Elems(data, func(v []byte) {})
		if arr && !want {
			t.Fatalf("Elems accepted invalid JSON %q", data)
		}
		var c Chat
		ParseChat(data, &c)
		_ = Words(data)
		_ = Unescape(nil, data)
	})
}

func TestWords(t *testing.T) {
	for s, n := range map[string]int{
		``: 0, `a`: 1, ` a `: 1, `a b`: 2, `a\nb`: 2, `a\tb\r\nc`: 3, `a\u0020b`: 2, `a\u00e9b`: 1, `\"a\" b`: 2, `  `: 0, `\n`: 0, `a\`: 1,
	} {
		assert.Equal(t, n, Words([]byte(s)), "%q", s)
	}
}

func TestIntAndText(t *testing.T) {
	for s, want := range map[string]int{`12`: 12, `-3`: -3, `12.0`: 12, `1e3`: 1, `99999999999`: 2147483647} {
		n, ok := Int([]byte(s))
		assert.True(t, ok, s)
		assert.Equal(t, want, n, s)
	}
	for _, s := range []string{``, `x`, `"1"`, `-`, `1x`} {
		_, ok := Int([]byte(s))
		assert.False(t, ok, s)
	}
	assert.Equal(t, "stop", Text([]byte("stop")))
	assert.Equal(t, `a"b/c`, Text([]byte(`a\"b\/c`)))
	assert.Equal(t, "A?", string(Unescape(nil, []byte(`\u0041\u00e9`))))
	assert.Equal(t, `\u00`, string(Unescape(nil, []byte(`\u00`))))
}

func TestParseChat(t *testing.T) {
	var c Chat
	assert.True(t, ParseChat([]byte(`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"x\": 1}"}}]},"finish_reason":null},{"delta":{"content":"two words","reasoning_content":"not counted"},"finish_reason":"length"}],"usage":null}`), &c))
	assert.True(t, c.Content)
	assert.Equal(t, 2+2, c.Tokens)
	assert.Equal(t, "length", string(c.Finish))
	assert.False(t, c.Usage)
	assert.True(t, ParseChat([]byte(`{"error":{"code":429,"message":"m"}}`), &c))
	assert.Equal(t, "429", string(c.Code))
	assert.False(t, ParseChat([]byte(`{"choices":[}`), &c))
}

func TestValidDepthLimit(t *testing.T) {
	for _, n := range []int{9999, 10000, 10001} {
		b := make([]byte, 0, 2*n)
		for range n {
			b = append(b, '[')
		}
		for range n {
			b = append(b, ']')
		}
		assert.Equal(t, json.Valid(b), Valid(b), "depth %d", n)
	}
}
