// Package bedrock speaks the Amazon Bedrock Runtime protocol from the client
// side: request bodies and SigV4 signing, and the response decoders that
// time a call as its body arrives (an incremental event-stream decoder for
// ConverseStream and InvokeModelWithResponseStream, StreamDecoder, and usage
// and error extraction for plain JSON bodies of Converse and InvokeModel).
// The load generator and the recording proxy use them.
//
// The wire format is the Amazon Bedrock Runtime API's as modelled in the
// AWS SDK for Go v2 (service/bedrockruntime v1.63.13), with the AWS
// event-stream framing of github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream
// (v1.7.27) and the ConverseStream event order of docs/references.md [12].
package bedrock

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcbench/mcbench/backends/internal/wirejson"
	"github.com/mcbench/mcbench/backends/timing"
)

// Frame limits of the event-stream format (AWS: a message's payload is at
// most 16 MiB and its headers at most 128 KiB). A prelude claiming more is
// malformed, so a corrupt length never makes the decoder buffer megabytes.
const (
	MaxHeaders = 128 << 10
	MaxFrame   = 16<<20 + MaxHeaders + minFrame
	minFrame   = 16 // prelude (8) + prelude CRC (4) + message CRC (4)
)

// StreamDecoder decodes a Bedrock event stream (application/vnd.amazon.eventstream)
// as it arrives and records its timing in a StreamTiming. It is a careful
// incremental parser of the binary framing (the AWS event-stream encoding
// of aws-sdk-go-v2's aws/protocol/eventstream): each frame's prelude CRC is
// checked before its length is trusted, and its message CRC before it is
// used. It does not use the SDK's eventstream.Decoder because
// that one reads from a blocking io.Reader and allocates every header of
// every frame; this one is pushed bytes as they arrive, slices the headers it
// needs in place, and copies only frames split across reads.
//
// Per frame it looks at :message-type, :event-type, :exception-type and
// :error-code:
//
//   - ConverseStream events: contentBlockDelta with delta.text (or
//     delta.toolUse.input) is content, its tokens the words of the text;
//     reasoning deltas are not content. messageStop gives Stop and ends the
//     stream; metadata gives usage (inputTokens, outputTokens).
//   - InvokeModelWithResponseStream "chunk" events: the base64 "bytes" hold
//     the model's own stream events. Anthropic (content_block_delta text or
//     tool JSON, message_start and message_delta usage, message_delta
//     stop_reason, message_stop), OpenAI chat chunks, Meta Llama (generation,
//     stop_reason) and the amazon-bedrock-invocationMetrics object, whose
//     token counts win, are understood.
//   - :message-type exception or error: an in-stream *timing.ServiceError
//     with the exception type or error code.
//
// A frame with a bad CRC or a header that does not parse is malformed; a
// body that ends inside a frame, or before the stream's stop event, is
// incomplete.
type StreamDecoder struct {
	// OnEvent, if set, is called with each decoded event.
	OnEvent func(timing.Event)

	t      *timing.Stream
	buf    []byte // a frame split across Feed calls
	off    int64  // offset of the next byte to be consumed
	done   bool
	failed bool
	raw    []byte // decoded "bytes" of a chunk event
	esc    []byte // unescaped base64, when the JSON escaped it
	chat   wirejson.Chat
}

// NewStreamDecoder returns a decoder that fills t.
func NewStreamDecoder(t *timing.Stream) *StreamDecoder {
	return &StreamDecoder{t: t}
}

// Write feeds p with arrival offset zero, so the decoder can sit behind an
// io.Writer where times do not matter. Use Feed to time a stream.
func (d *StreamDecoder) Write(p []byte) (int, error) {
	d.Feed(0, p)
	return len(p), nil
}

// Feed consumes the bytes p, which arrived at offset at.
func (d *StreamDecoder) Feed(at time.Duration, p []byte) {
	for len(p) > 0 && !d.failed {
		if len(d.buf) == 0 && len(p) >= 12 {
			// The common case: decode frames in place.
			total, ok := d.prelude(p)
			if !ok {
				return
			}
			if len(p) >= total {
				d.frame(at, p[:total])
				d.off += int64(total)
				p = p[total:]
				continue
			}
			d.buf = append(d.buf, p...)
			return
		}
		if len(d.buf) < 12 {
			n := min(12-len(d.buf), len(p))
			d.buf = append(d.buf, p[:n]...)
			p = p[n:]
			if len(d.buf) < 12 {
				return
			}
		}
		total, ok := d.prelude(d.buf)
		if !ok {
			return
		}
		n := min(total-len(d.buf), len(p))
		d.buf = append(d.buf, p[:n]...)
		p = p[n:]
		if len(d.buf) < total {
			return
		}
		d.frame(at, d.buf)
		d.off += int64(total)
		d.buf = d.buf[:0]
	}
}

// prelude checks the 12-byte prelude at the start of f and returns the
// frame's total length.
func (d *StreamDecoder) prelude(f []byte) (int, bool) {
	total := binary.BigEndian.Uint32(f[0:4])
	hlen := binary.BigEndian.Uint32(f[4:8])
	switch {
	case crc32.ChecksumIEEE(f[0:8]) != binary.BigEndian.Uint32(f[8:12]):
		d.malformed("prelude CRC mismatch")
	case total < minFrame || total > MaxFrame:
		d.malformed("frame length " + strconv.FormatUint(uint64(total), 10) + " out of range")
	case hlen > MaxHeaders || hlen > total-minFrame:
		d.malformed("headers length " + strconv.FormatUint(uint64(hlen), 10) + " out of range")
	default:
		return int(total), true
	}
	return 0, false
}

func (d *StreamDecoder) malformed(what string) {
	d.fail(&timing.MalformedError{Offset: d.off, What: what})
}

func (d *StreamDecoder) fail(err error) {
	d.failed = true
	d.t.Fail(err)
}

// headers are the frame headers the decoder reads, sliced from the frame.
type headers struct {
	messageType, eventType, exceptionType, errorCode []byte
}

// parseHeaders reads the header block h.
func parseHeaders(h []byte, out *headers) bool {
	for len(h) > 0 {
		nl := int(h[0])
		if len(h) == 1 && nl > 0 {
			// A name length with nothing after it: the SDK's decoder reads
			// it as the end of the headers, and so does this one, so that no
			// frame the SDK client accepts is reported as malformed.
			return true
		}
		if 1+nl+1 > len(h) {
			return false
		}
		name := h[1 : 1+nl]
		typ := h[1+nl]
		h = h[2+nl:]
		var size int
		switch typ {
		case 0, 1: // bool
		case 2:
			size = 1
		case 3:
			size = 2
		case 4:
			size = 4
		case 5, 8: // int64, timestamp
			size = 8
		case 9: // uuid
			size = 16
		case 6, 7: // bytes, string
			if len(h) < 2 {
				return false
			}
			n := int(binary.BigEndian.Uint16(h))
			if 2+n > len(h) {
				return false
			}
			if typ == 7 {
				v := h[2 : 2+n]
				switch string(name) {
				case ":message-type":
					out.messageType = v
				case ":event-type":
					out.eventType = v
				case ":exception-type":
					out.exceptionType = v
				case ":error-code":
					out.errorCode = v
				}
			}
			size = 2 + n
		default:
			return false
		}
		if size > len(h) {
			return false
		}
		h = h[size:]
	}
	return true
}

// frame decodes one complete frame f.
func (d *StreamDecoder) frame(at time.Duration, f []byte) {
	n := len(f)
	if crc32.ChecksumIEEE(f[:n-4]) != binary.BigEndian.Uint32(f[n-4:]) {
		d.malformed("message CRC mismatch")
		return
	}
	hlen := int(binary.BigEndian.Uint32(f[4:8]))
	var h headers
	if !parseHeaders(f[12:12+hlen], &h) {
		d.malformed("frame headers do not parse")
		return
	}
	payload := f[12+hlen : n-4]
	t := d.t
	t.Events++
	ev := timing.Event{At: at}
	switch string(h.messageType) {
	case "exception":
		d.fail(&timing.ServiceError{Code: string(h.exceptionType)})
		ev.Kind = timing.EventError
		d.emit(ev)
		return
	case "error":
		d.fail(&timing.ServiceError{Code: string(h.errorCode)})
		ev.Kind = timing.EventError
		d.emit(ev)
		return
	}
	if d.done && string(h.eventType) != "metadata" && string(h.eventType) != "chunk" {
		return // nothing but usage counts after the stop
	}
	var ok bool
	switch string(h.eventType) {
	case "contentBlockDelta":
		ok = d.contentBlockDelta(&ev, payload)
	case "messageStop":
		ok = d.messageStop(&ev, payload)
	case "metadata":
		ok = d.metadata(&ev, payload)
	case "chunk":
		ok = d.chunk(&ev, payload)
	default: // messageStart, contentBlockStart/Stop, and members added later
		ok = true
	}
	if !ok {
		if !d.failed {
			d.malformed(string(h.eventType) + " payload does not parse")
		}
		return
	}
	if ev.Kind&timing.EventContent != 0 && !d.done {
		t.Content(at, ev.Tokens)
	}
	if ev.Kind&timing.EventEnd != 0 {
		d.done = true
		t.Ended = true
	}
	d.emit(ev)
}

func (d *StreamDecoder) emit(ev timing.Event) {
	if d.OnEvent != nil {
		d.OnEvent(ev)
	}
}

// text marks ev as content carrying raw string v, if it is non-empty.
func text(ev *timing.Event, v []byte) {
	if s, ok := wirejson.Str(v); ok && len(s) > 0 {
		ev.Kind |= timing.EventContent
		ev.Tokens += max(1, wirejson.Words(s))
	}
}

// contentBlockDelta: {"contentBlockIndex":0,"delta":{"text":"…"}} or a
// toolUse or reasoningContent delta.
func (d *StreamDecoder) contentBlockDelta(ev *timing.Event, p []byte) bool {
	return wirejson.Each(p, func(k, v []byte) {
		if string(k) != "delta" {
			return
		}
		wirejson.Each(v, func(k, v []byte) {
			switch string(k) {
			case "text":
				text(ev, v)
			case "toolUse":
				wirejson.Each(v, func(k, v []byte) {
					if string(k) == "input" {
						text(ev, v)
					}
				})
			}
		})
	})
}

// messageStop: {"stopReason":"end_turn"}.
func (d *StreamDecoder) messageStop(ev *timing.Event, p []byte) bool {
	ev.Kind |= timing.EventStop | timing.EventEnd
	return wirejson.Each(p, func(k, v []byte) {
		if s, ok := wirejson.Str(v); ok && string(k) == "stopReason" {
			d.t.Stop = wirejson.Text(s)
		}
	})
}

// metadata: {"usage":{"inputTokens":…,"outputTokens":…},"metrics":{…}}.
func (d *StreamDecoder) metadata(ev *timing.Event, p []byte) bool {
	return wirejson.Each(p, func(k, v []byte) {
		if string(k) == "usage" && readUsage(v, d.t) {
			ev.Kind |= timing.EventUsage
		}
	})
}

// readUsage reads a usage object in any of the spellings Bedrock passes on:
// Converse (inputTokens), Anthropic (input_tokens), OpenAI (prompt_tokens),
// invocation metrics (inputTokenCount). It reports whether it found a count.
func readUsage(v []byte, t *timing.Stream) bool {
	found := false
	wirejson.Each(v, func(k, v []byte) {
		n, ok := wirejson.Int(v)
		if !ok {
			return
		}
		switch string(k) {
		case "inputTokens", "input_tokens", "prompt_tokens", "inputTokenCount", "prompt_token_count":
			t.InputTokens, found = n, true
		case "outputTokens", "output_tokens", "completion_tokens", "outputTokenCount", "generation_token_count":
			t.OutputTokens, found = n, true
		}
	})
	if found {
		t.Usage = true
	}
	return found
}

// chunk: {"bytes":"<base64 of the model's own stream event>"}.
func (d *StreamDecoder) chunk(ev *timing.Event, p []byte) bool {
	var b64 []byte
	if !wirejson.Each(p, func(k, v []byte) {
		if s, ok := wirejson.Str(v); ok && string(k) == "bytes" {
			b64 = s
		}
	}) || b64 == nil {
		return false
	}
	for _, c := range b64 {
		if c == '\\' {
			d.esc = wirejson.Unescape(d.esc[:0], b64)
			b64 = d.esc
			break
		}
	}
	if need := base64.StdEncoding.DecodedLen(len(b64)); cap(d.raw) < need {
		d.raw = make([]byte, need)
	}
	n, err := base64.StdEncoding.Decode(d.raw[:cap(d.raw)], b64)
	if err != nil {
		d.malformed("chunk bytes are not base64")
		return false
	}
	if !d.modelEvent(ev, d.raw[:n]) {
		d.malformed("chunk bytes are not a JSON object")
		return false
	}
	return true
}

// modelEvent reads one of the model's own stream events (see StreamDecoder).
func (d *StreamDecoder) modelEvent(ev *timing.Event, p []byte) bool {
	var typ, delta, usage, message, metrics, generation, stop []byte
	choices := false
	if !wirejson.Each(p, func(k, v []byte) {
		switch string(k) {
		case "type":
			typ, _ = wirejson.Str(v)
		case "delta":
			delta = v
		case "usage":
			usage = v
		case "message":
			message = v
		case "amazon-bedrock-invocationMetrics":
			metrics = v
		case "choices":
			choices = true
		case "generation", "outputText":
			generation = v
		case "stop_reason", "completionReason":
			if !wirejson.IsNull(v) {
				stop, _ = wirejson.Str(v)
			}
		}
	}) {
		return false
	}
	t := d.t
	switch {
	case choices: // an OpenAI chat chunk (gpt-oss)
		c := &d.chat
		wirejson.ParseChat(p, c)
		if c.Content {
			ev.Kind |= timing.EventContent
			ev.Tokens = c.Tokens
		}
		if c.Finish != nil {
			t.Stop = wirejson.Text(c.Finish)
			ev.Kind |= timing.EventStop | timing.EventEnd
		}
		if c.Usage {
			t.Usage, t.InputTokens, t.OutputTokens = true, c.Prompt, c.Completion
			ev.Kind |= timing.EventUsage
		}
	case typ != nil: // Anthropic Messages stream events
		switch string(typ) {
		case "content_block_delta":
			wirejson.Each(delta, func(k, v []byte) {
				if string(k) == "text" || string(k) == "partial_json" {
					text(ev, v)
				}
			})
		case "message_start":
			wirejson.Each(message, func(k, v []byte) {
				if string(k) == "usage" && readUsage(v, t) {
					ev.Kind |= timing.EventUsage
				}
			})
		case "message_delta":
			wirejson.Each(delta, func(k, v []byte) {
				if s, ok := wirejson.Str(v); ok && string(k) == "stop_reason" {
					t.Stop = wirejson.Text(s)
					ev.Kind |= timing.EventStop
				}
			})
			if usage != nil && readUsage(usage, t) {
				ev.Kind |= timing.EventUsage
			}
		case "message_stop":
			ev.Kind |= timing.EventEnd
		}
	default: // Meta Llama, Amazon Titan
		if generation != nil {
			text(ev, generation)
		}
		if stop != nil {
			t.Stop = wirejson.Text(stop)
			ev.Kind |= timing.EventStop | timing.EventEnd
		}
	}
	if metrics != nil && readUsage(metrics, t) {
		ev.Kind |= timing.EventUsage
	}
	return true
}

// End finishes the stream: a body that ends inside a frame, or before the
// stop event, is incomplete (or fails with the read error that ended it).
func (d *StreamDecoder) End(_ time.Duration, err error) {
	if d.failed {
		return
	}
	if len(d.buf) > 0 || !d.done {
		if err == nil {
			err = timing.ErrIncomplete
		}
		d.fail(err)
	}
}

// MaxBody bounds the JSON body kept to read usage and error codes from.
const MaxBody = 8 << 20

const maxErrorBody = 64 << 10

// NewBodyDecoder returns the decoder for a Bedrock Runtime response: an error
// decoder for a status of 400 and above (recording a *timing.ServiceError
// with the error type), a StreamDecoder for an event stream, and otherwise a
// JSON decoder that reads usage (Converse, or InvokeModel's model-native
// body, or the X-Amzn-Bedrock-*-Token-Count headers) when the body ends.
func NewBodyDecoder(resp *http.Response, t *timing.Stream) timing.BodyDecoder {
	h := resp.Header
	if resp.StatusCode >= 400 {
		status, hdrType := resp.StatusCode, h.Get("X-Amzn-ErrorType")
		return &timing.BufferedDecoder{Limit: maxErrorBody, Parse: func(_ time.Duration, body []byte, _ bool, _ error) {
			code := ErrorType(hdrType, body)
			t.Fail(&timing.ServiceError{Status: status, Code: code})
		}}
	}
	if ct := h.Get("Content-Type"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/vnd.amazon.eventstream") {
		return NewStreamDecoder(t)
	}
	hin, hout := h.Get("X-Amzn-Bedrock-Input-Token-Count"), h.Get("X-Amzn-Bedrock-Output-Token-Count")
	return &timing.BufferedDecoder{Limit: MaxBody, Parse: func(_ time.Duration, body []byte, complete bool, err error) {
		switch {
		case err != nil:
			t.Fail(err)
			return
		case !complete:
			return
		}
		t.Ended = true
		if !parseBody(body, t) {
			t.Fail(&timing.MalformedError{What: "response body is not a JSON object"})
		}
		if !t.Usage {
			in, err1 := strconv.Atoi(hin)
			out, err2 := strconv.Atoi(hout)
			if err1 == nil && err2 == nil {
				t.Usage, t.InputTokens, t.OutputTokens = true, in, out
			}
		}
	}}
}

// parseBody reads a Converse or InvokeModel response body into t: usage,
// stop reason and the words of the output text.
func parseBody(body []byte, t *timing.Stream) bool {
	words := func(v []byte) {
		if s, ok := wirejson.Str(v); ok {
			t.Tokens += wirejson.Words(s)
		}
	}
	blocks := func(v []byte) { // [{"text": "…"}, {"type":"text","text":"…"}]
		wirejson.Elems(v, func(b []byte) {
			wirejson.Each(b, func(k, v []byte) {
				if string(k) == "text" {
					words(v)
				}
			})
		})
	}
	choices := false
	ok := wirejson.Each(body, func(k, v []byte) {
		switch string(k) {
		case "usage":
			readUsage(v, t)
		case "stopReason", "stop_reason", "completionReason":
			if s, ok := wirejson.Str(v); ok {
				t.Stop = wirejson.Text(s)
			}
		case "output": // Converse: {"message":{"content":[…]}}
			wirejson.Each(v, func(k, v []byte) {
				if string(k) == "message" {
					wirejson.Each(v, func(k, v []byte) {
						if string(k) == "content" {
							blocks(v)
						}
					})
				}
			})
		case "content": // Anthropic
			blocks(v)
		case "generation", "outputText":
			words(v)
		case "prompt_token_count", "generation_token_count":
			if n, ok := wirejson.Int(v); ok {
				t.Usage = true
				if string(k) == "prompt_token_count" {
					t.InputTokens = n
				} else {
					t.OutputTokens = n
				}
			}
		case "choices":
			choices = true
		}
	})
	if ok && choices {
		var c wirejson.Chat
		wirejson.ParseChat(body, &c)
		t.Tokens = c.Tokens
		if c.Finish != nil {
			t.Stop = wirejson.Text(c.Finish)
		}
		if c.Usage {
			t.Usage, t.InputTokens, t.OutputTokens = true, c.Prompt, c.Completion
		}
	}
	return ok
}

// Usage returns the token usage of a non-streaming Converse or InvokeModel
// response body.
func Usage(body []byte) (input, output int, ok bool) {
	var t timing.Stream
	if !parseBody(body, &t) || !t.Usage {
		return 0, 0, false
	}
	return t.InputTokens, t.OutputTokens, true
}

// ErrorType returns the error type of a Bedrock error response the way the
// SDK resolves it (aws-sdk-go-v2 service/bedrockruntime v1.63.13): the
// X-Amzn-ErrorType header, else the body's __type, else its code;
// whatever follows a ':' and precedes a '#' is dropped
// ("ThrottlingException:http://internal…" → "ThrottlingException").
func ErrorType(header string, body []byte) string {
	code := header
	if code == "" {
		var typ, c []byte
		wirejson.Each(body, func(k, v []byte) {
			switch s, _ := wirejson.Str(v); string(k) {
			case "__type":
				typ = s
			case "code", "Code":
				c = s
			}
		})
		if typ == nil {
			typ = c
		}
		code = wirejson.Text(typ)
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return code
}
