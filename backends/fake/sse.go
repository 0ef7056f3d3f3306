package fake

import (
	"strconv"
	"unicode/utf8"
)

// Server-sent events and the Azure OpenAI chat-completion chunk encoder.
//
// Chunks are built by appending into a caller's reused buffer: most of every
// chunk is a constant, and the parts that are fixed for one stream (id,
// created, model, fingerprint) are rendered once per stream. encoding/json
// per chunk would cost a reflection walk and several allocations per token,
// which is what limits a fake serving thousands of streams.

// sseDone is the event that ends an OpenAI-style stream.
const sseDone = "data: [DONE]\n\n"

const azHexDigits = "0123456789abcdef"

// appendQuotedJSON appends s as a JSON string literal, escaping what
// encoding/json escapes (quotes, backslashes, control characters, U+2028 and
// U+2029) except HTML characters, and replacing invalid UTF-8 with U+FFFD as
// encoding/json does, so any Go string round-trips through any JSON decoder.
func appendQuotedJSON(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', azHexDigits[b>>4], azHexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but end lines in JavaScript;
		// encoding/json escapes them, so do the same.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', azHexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Constant pieces of Azure OpenAI responses. Azure serialises keys in
// alphabetical order; the fake does too, so captured bodies diff cleanly.
const (
	// azFilterSafe is a content_filter_results object for a completion
	// chunk: the four harm categories, all safe.
	azFilterSafe = `{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}`
	// azPromptFilterSafe adds the jailbreak detector, which Azure runs on prompts.
	azPromptFilterSafe = `{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}`
	// azCompletionFilterSafe adds the protected-material detectors, which
	// Azure runs on whole (non-streamed) completions.
	azCompletionFilterSafe = `{"hate":{"filtered":false,"severity":"safe"},"protected_material_code":{"filtered":false,"detected":false},"protected_material_text":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}`
	// azPromptFilterResults is the prompt_filter_results array.
	azPromptFilterResults = `[{"prompt_index":0,"content_filter_results":` + azPromptFilterSafe + `}]`

	// azPromptFilterEvent is the first event of an Azure stream: no choices,
	// empty id/model/object, created 0, only the prompt's filter results.
	azPromptFilterEvent = `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":` + azPromptFilterResults + "}\n\n"

	azRoleChoice    = `data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],`
	azContentOpen   = `data: {"choices":[{"content_filter_results":` + azFilterSafe + `,"delta":{"content":`
	azContentClose  = `},"finish_reason":null,"index":0,"logprobs":null}],`
	azFinishOpen    = `data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":`
	azFinishClose   = `,"index":0,"logprobs":null}],`
	azUsageOpen     = `data: {"choices":[],`
	azNullUsageTail = `,"usage":null}` + "\n\n"
)

// azChunkEncoder renders the events of one Azure OpenAI chat-completion
// stream in Azure's order: prompt filter results, role, content, finish,
// usage (only if the client asked for it), [DONE]. A zero encoder is ready
// for reset; reuse it across streams to keep its buffer.
type azChunkEncoder struct {
	// meta is `"created":…,"id":"…","model":"…","object":"chat.completion.chunk","system_fingerprint":"…"`,
	// the fields every chunk after the first repeats.
	meta []byte
}

// reset prepares the encoder for a new stream.
func (e *azChunkEncoder) reset(id string, created int64, model, fingerprint string) {
	m := append(e.meta[:0], `"created":`...)
	m = strconv.AppendInt(m, created, 10)
	m = append(m, `,"id":`...)
	m = appendQuotedJSON(m, id)
	m = append(m, `,"model":`...)
	m = appendQuotedJSON(m, model)
	m = append(m, `,"object":"chat.completion.chunk","system_fingerprint":`...)
	m = appendQuotedJSON(m, fingerprint)
	e.meta = m
}

// appendPromptFilter appends the first event, which carries only the
// prompt's content-filter results.
func (e *azChunkEncoder) appendPromptFilter(dst []byte) []byte {
	return append(dst, azPromptFilterEvent...)
}

// appendRole appends the event that opens the assistant message.
func (e *azChunkEncoder) appendRole(dst []byte) []byte {
	dst = append(dst, azRoleChoice...)
	dst = append(dst, e.meta...)
	return append(dst, azNullUsageTail...)
}

// appendContent appends a content event carrying text.
func (e *azChunkEncoder) appendContent(dst []byte, text string) []byte {
	dst = append(dst, azContentOpen...)
	dst = appendQuotedJSON(dst, text)
	dst = append(dst, azContentClose...)
	dst = append(dst, e.meta...)
	return append(dst, azNullUsageTail...)
}

// appendContentWords appends a content event carrying output tokens
// [from, from+n) of the synthetic text (see AppendWords). The vocabulary is
// plain ASCII letters, so the words are copied without escaping.
func (e *azChunkEncoder) appendContentWords(dst []byte, seed uint64, from, n int32) []byte {
	dst = append(dst, azContentOpen...)
	dst = append(dst, '"')
	dst = AppendWords(dst, seed, from, n)
	dst = append(dst, '"')
	dst = append(dst, azContentClose...)
	dst = append(dst, e.meta...)
	return append(dst, azNullUsageTail...)
}

// appendMalformed appends a content event whose JSON is cut off half-way:
// the malformed fault. It is still one well-framed SSE event, so the
// clients fail in their JSON decoder rather than in their SSE reader.
func (e *azChunkEncoder) appendMalformed(dst []byte, seed uint64, from, n int32) []byte {
	start := len(dst)
	dst = e.appendContentWords(dst, seed, from, n)
	cut := start + (len(dst)-start)/2
	return append(dst[:cut], '\n', '\n')
}

// appendFinish appends the event that closes the choice with reason.
func (e *azChunkEncoder) appendFinish(dst []byte, reason string) []byte {
	dst = append(dst, azFinishOpen...)
	dst = appendQuotedJSON(dst, reason)
	dst = append(dst, azFinishClose...)
	dst = append(dst, e.meta...)
	return append(dst, azNullUsageTail...)
}

// appendUsage appends the last data event, sent only when the request set
// stream_options.include_usage: no choices, just the token counts.
func (e *azChunkEncoder) appendUsage(dst []byte, prompt, completion int32) []byte {
	dst = append(dst, azUsageOpen...)
	dst = append(dst, e.meta...)
	dst = append(dst, `,"usage":`...)
	dst = appendAzUsage(dst, prompt, completion)
	return append(dst, '}', '\n', '\n')
}

// appendDone appends the [DONE] sentinel.
func (e *azChunkEncoder) appendDone(dst []byte) []byte { return append(dst, sseDone...) }

// appendAzUsage appends a usage object with the detail objects Azure sends.
func appendAzUsage(dst []byte, prompt, completion int32) []byte {
	dst = append(dst, `{"completion_tokens":`...)
	dst = strconv.AppendInt(dst, int64(completion), 10)
	dst = append(dst, `,"completion_tokens_details":{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0},"prompt_tokens":`...)
	dst = strconv.AppendInt(dst, int64(prompt), 10)
	dst = append(dst, `,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":`...)
	dst = strconv.AppendInt(dst, int64(prompt)+int64(completion), 10)
	return append(dst, '}')
}
