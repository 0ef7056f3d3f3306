// Package azure speaks the Azure OpenAI chat-completions protocol from the
// client side: request bodies, and the response decoders that time a call
// as its body arrives (an incremental SSE decoder for streams,
// StreamDecoder, and usage and error extraction for plain JSON bodies). The
// load generator and the recording proxy use them.
//
// The wire format is that of the Azure OpenAI REST API reference
// (Azure/azure-rest-api-specs, inference API 2024-10-21) for responses and
// error bodies, with Azure's order of streamed chunks as given in
// docs/references.md [11].
package azure

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/mcbench/mcbench/backends/internal/wirejson"
	"github.com/mcbench/mcbench/backends/timing"
)

// MaxLine bounds one SSE line. Azure's chunks are a few hundred bytes; a
// longer line is reported as malformed rather than buffered without end.
const MaxLine = 1 << 20

// StreamDecoder decodes an Azure OpenAI (or OpenAI) chat-completions SSE
// stream as it arrives and records its timing in a StreamTiming:
//
//   - every "data:" event is one event; comments and event:, id: and retry:
//     fields are tolerated (openai-go accepts them; azopenai does not);
//   - an event whose choices carry non-empty delta.content (or refusal, or
//     tool-call arguments) is a content event: the first one is the first
//     token, and each one's tokens are its words (at least one);
//   - finish_reason gives Stop, a usage object gives the token counts;
//   - "data: [DONE]" ends the stream; an event with a top-level "error" is
//     an in-stream error (a *timing.ServiceError with Status 0);
//   - data that is not a JSON object is malformed, and a body that ends
//     before [DONE] is incomplete.
//
// It keeps only the current line and event (at most MaxLine each), parses
// only the fields above, and does not allocate per event once its buffers
// have grown to the size of one event.
type StreamDecoder struct {
	// OnEvent, if set, is called with each decoded event.
	OnEvent func(timing.Event)

	t       *timing.Stream
	line    []byte // a line split across Feed calls
	data    []byte // the data of the event being assembled
	hasData bool
	cr      bool  // the last byte fed was '\r'; a following '\n' belongs to it
	off     int64 // bytes consumed, for error offsets
	done    bool
	failed  bool
	chat    wirejson.Chat
}

// NewStreamDecoder returns a decoder that fills t.
func NewStreamDecoder(t *timing.Stream) *StreamDecoder {
	return &StreamDecoder{t: t}
}

// Write feeds p with arrival offset zero, so the decoder can sit behind an
// io.Writer (io.Copy, a TeeReader) where times do not matter. Use Feed to
// time a stream.
func (d *StreamDecoder) Write(p []byte) (int, error) {
	d.Feed(0, p)
	return len(p), nil
}

// Feed consumes the bytes p, which arrived at offset at.
func (d *StreamDecoder) Feed(at time.Duration, p []byte) {
	for len(p) > 0 && !d.failed {
		if d.cr {
			d.cr = false
			if p[0] == '\n' {
				p = p[1:]
				d.off++
				continue
			}
		}
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			if len(d.line)+len(p) > MaxLine {
				d.fail(&timing.MalformedError{Offset: d.off, What: "SSE line longer than 1 MiB"})
				return
			}
			d.line = append(d.line, p...)
			d.off += int64(len(p))
			return
		}
		line := p[:i]
		if len(d.line) > 0 {
			if len(d.line)+i > MaxLine {
				d.fail(&timing.MalformedError{Offset: d.off, What: "SSE line longer than 1 MiB"})
				return
			}
			d.line = append(d.line, line...)
			line = d.line
		}
		d.cr = p[i] == '\r'
		d.off += int64(i + 1)
		d.processLine(at, line)
		d.line = d.line[:0]
		p = p[i+1:]
	}
}

// processLine handles one complete line (without its end of line).
func (d *StreamDecoder) processLine(at time.Duration, line []byte) {
	if len(line) == 0 {
		d.dispatch(at)
		return
	}
	if line[0] == ':' {
		return // a comment (keep-alive)
	}
	field, value := line, []byte(nil)
	if c := bytes.IndexByte(line, ':'); c >= 0 {
		field, value = line[:c], line[c+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	if string(field) != "data" {
		return // event:, id:, retry: and unknown fields carry nothing timed
	}
	if d.hasData {
		if len(d.data)+1+len(value) > MaxLine {
			d.fail(&timing.MalformedError{Offset: d.off, What: "SSE event longer than 1 MiB"})
			return
		}
		d.data = append(d.data, '\n')
	}
	d.data = append(d.data, value...)
	d.hasData = true
}

// dispatch handles the event assembled so far, at the blank line ending it.
func (d *StreamDecoder) dispatch(at time.Duration) {
	if !d.hasData {
		return
	}
	data := d.data
	d.data, d.hasData = d.data[:0], false
	if d.done {
		return // nothing counts after [DONE]
	}
	t := d.t
	t.Events++
	ev := timing.Event{At: at}
	if string(data) == "[DONE]" {
		d.done = true
		t.Ended = true
		ev.Kind = timing.EventEnd
		d.emit(ev)
		return
	}
	c := &d.chat
	if !wirejson.ParseChat(data, c) {
		d.fail(&timing.MalformedError{Offset: d.off, What: "SSE data is not a JSON object"})
		return
	}
	if c.Error {
		d.fail(&timing.ServiceError{Code: wirejson.Text(c.Code)})
		ev.Kind = timing.EventError
		d.emit(ev)
		return
	}
	if c.Content {
		t.Content(at, c.Tokens)
		ev.Kind |= timing.EventContent
		ev.Tokens = c.Tokens
	}
	if c.Finish != nil {
		t.Stop = wirejson.Text(c.Finish)
		ev.Kind |= timing.EventStop
	}
	if c.Usage {
		t.Usage, t.InputTokens, t.OutputTokens = true, c.Prompt, c.Completion
		ev.Kind |= timing.EventUsage
	}
	d.emit(ev)
}

func (d *StreamDecoder) emit(ev timing.Event) {
	if d.OnEvent != nil {
		d.OnEvent(ev)
	}
}

func (d *StreamDecoder) fail(err error) {
	d.failed = true
	d.t.Fail(err)
}

// End finishes the stream. At a clean EOF an unterminated last line and
// event are still decoded (a lenient reading of the SSE rule that drops
// them); then a stream without [DONE] is incomplete. A read error ends an
// unfinished stream with that error.
func (d *StreamDecoder) End(at time.Duration, err error) {
	if d.failed || d.done {
		return
	}
	if err == nil {
		if len(d.line) > 0 {
			line := d.line
			d.line = nil
			d.processLine(at, line)
		}
		d.dispatch(at)
		if d.failed || d.done {
			return
		}
		err = timing.ErrIncomplete
	}
	d.fail(err)
}

// MaxBody bounds the JSON body kept to read usage and error codes from.
const MaxBody = 8 << 20

// maxErrorBody bounds an error body; Azure's are a few hundred bytes.
const maxErrorBody = 64 << 10

// NewBodyDecoder returns the decoder for a chat-completions response: an
// error decoder for a status of 400 and above (recording a
// *timing.ServiceError with the error code), a StreamDecoder for
// text/event-stream, and otherwise a JSON decoder that reads usage when the
// body ends.
func NewBodyDecoder(resp *http.Response, t *timing.Stream) timing.BodyDecoder {
	if resp.StatusCode >= 400 {
		status, hdrCode := resp.StatusCode, resp.Header.Get("x-ms-error-code")
		return &timing.BufferedDecoder{Limit: maxErrorBody, Parse: func(_ time.Duration, body []byte, _ bool, _ error) {
			code := ErrorCode(body)
			if code == "" {
				code = hdrCode
			}
			t.Fail(&timing.ServiceError{Status: status, Code: code})
		}}
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "text/event-stream") {
		return NewStreamDecoder(t)
	}
	return &timing.BufferedDecoder{Limit: MaxBody, Parse: func(_ time.Duration, body []byte, complete bool, err error) {
		switch {
		case err != nil:
			t.Fail(err)
			return
		case !complete:
			return // too long to read usage from; not the service's fault
		}
		t.Ended = true
		var c wirejson.Chat
		if !wirejson.ParseChat(body, &c) {
			t.Fail(&timing.MalformedError{What: "response body is not a JSON object"})
			return
		}
		t.Tokens = c.Tokens
		if c.Finish != nil {
			t.Stop = wirejson.Text(c.Finish)
		}
		if c.Usage {
			t.Usage, t.InputTokens, t.OutputTokens = true, c.Prompt, c.Completion
		}
	}}
}

// Usage returns the token usage of a non-streaming chat-completions response
// body.
func Usage(body []byte) (input, output int, ok bool) {
	var c wirejson.Chat
	if !wirejson.ParseChat(body, &c) || !c.Usage {
		return 0, 0, false
	}
	return c.Prompt, c.Completion, true
}

// ErrorCode returns the code of an Azure OpenAI error body
// ({"error": {"code": …, "type": …}}): the code, or the type when the code is
// null (as in 500 responses), or "" if the body is not an error.
func ErrorCode(body []byte) string {
	var c wirejson.Chat
	if !wirejson.ParseChat(body, &c) || !c.Error {
		return ""
	}
	return wirejson.Text(c.Code)
}
