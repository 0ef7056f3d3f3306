package bedrock

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/mcbench/mcbench/backends/timing"
)

// sdkFrames counts the frames the SDK's decoder reads from data before it
// stops (at the end or at an error).
func sdkFrames(data []byte) int {
	dec := eventstream.NewDecoder()
	r := bytes.NewReader(data)
	var payload [512]byte // reused: the SDK would allocate every payload
	n := 0
	for r.Len() > 0 {
		if _, err := dec.Decode(r, payload[:0]); err != nil {
			break
		}
		n++
	}
	return n
}

// FuzzEventStreamDecode feeds arbitrary bytes, split at an arbitrary point,
// to the event-stream decoder and checks it against the SDK's decoder: it
// must not panic, must reach the same result however the bytes are split,
// must never accept a frame the SDK rejects, and when it rejects a frame's
// framing (CRC, lengths, headers) the SDK must reject that frame too.
//
// Each seed is one short stream of lean frames (only the two headers the
// decoder reads), and the body does no formatting. Go's fuzzer minimizes
// every input that finds new coverage with a number of calls that grows
// with the square of its length, and it cannot shorten a CRC-protected
// frame at all, so the old seed (the whole 1.3 KB conversation) at 200 µs
// a call kept both workers minimizing, the counters at 0/s, for up to a
// minute each time (issue 13, row 8). At 200 bytes and 10 µs a call a
// minimization takes a second or two.
func FuzzEventStreamDecode(f *testing.F) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	invoke := func(inner string) []byte { return lean(f, "chunk", `{"bytes":"`+b64(inner)+`"}`) }
	stop := lean(f, "messageStop", `{"stopReason":"end_turn"}`)
	f.Add(concat(lean(f, "contentBlockDelta", `{"delta":{"text":"Hi there"}}`), stop), uint16(10))
	f.Add(concat(lean(f, "contentBlockDelta", `{"delta":{"toolUse":{"input":"{}"}}}`),
		lean(f, "metadata", `{"usage":{"inputTokens":3,"outputTokens":1}}`)), uint16(100))
	f.Add(concat(lean(f, "contentBlockDelta", `{"delta":{"reasoningContent":{"text":"hm"}}}`), stop), uint16(50))
	f.Add(concat(invoke(`{"type":"content_block_delta","delta":{"text":"Hi"}}`), invoke(`{"type":"message_stop"}`)), uint16(3))
	f.Add(concat(invoke(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`),
		invoke(`{"amazon-bedrock-invocationMetrics":{"inputTokenCount":1}}`)), uint16(7))
	f.Add(invoke(`{"generation":"a b","stop_reason":"stop"}`), uint16(9))
	f.Add(invoke(`{"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]}`), uint16(11))
	f.Add(frame(f, "exception", ":exception-type", "throttlingException", `{"message":"x"}`), uint16(0))
	f.Add(frame(f, "error", ":error-code", "InternalFailure", ``), uint16(0))
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 0, 5, 0x2e, 0xa9, 0x27, 0, 0, 0, 0}, uint16(4))
	zeroed := concat(lean(f, "contentBlockDelta", `{"delta":{"text":"a"}}`), stop)
	for pos := 0; pos+12 <= len(zeroed); pos += int(binary.BigEndian.Uint32(zeroed[pos:])) {
		copy(zeroed[pos+8:pos+12], []byte{0, 0, 0, 0})
	}
	f.Add(zeroed, uint16(0x8005)) // the fuzz function fixes the CRCs
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		if split&0x8000 != 0 {
			// Let the fuzzer past the CRCs into headers and payloads.
			data = fixCRCs(data)
		}
		whole := decodeSplit(data, len(data)+1)
		k := int(split) % (len(data) + 1)
		var tm timing.Stream
		d := NewStreamDecoder(&tm)
		d.Feed(0, data[:k])
		d.Feed(0, data[k:])
		d.End(0, nil)
		if !whole.Equal(tm) {
			t.Fatalf("split at %d changes the result:\n%+v\n%+v", k, whole, tm)
		}
		if tm.Chunks > tm.Events || tm.Tokens < tm.Chunks || tm.Gaps.N != int64(max(tm.Chunks-1, 0)) {
			t.Fatalf("inconsistent counters %+v", tm)
		}
		if tm.Err == nil && !tm.Ended {
			t.Fatalf("no error but not ended: %+v", tm)
		}
		sdk := sdkFrames(data)
		if tm.Events > sdk {
			t.Fatalf("decoded %d frames, the SDK only %d", tm.Events, sdk)
		}
		var me *timing.MalformedError
		if errors.As(tm.Err, &me) && framing(me.What) && sdk > tm.Events {
			t.Fatalf("rejected frame %d (%s), which the SDK accepts", tm.Events+1, me.What)
		}
	})
}

// lean is an event frame with only the :message-type and :event-type
// headers, which is all the decoder reads: a short seed.
func lean(t testing.TB, kind, payload string) []byte {
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue("event"))
	m.Headers.Set(":event-type", eventstream.StringValue(kind))
	m.Payload = []byte(payload)
	var b bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func concat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// fixCRCs returns a copy of data with the prelude and message CRCs of every
// frame its length fields delimit set right.
func fixCRCs(data []byte) []byte {
	data = bytes.Clone(data)
	for pos := 0; pos+12 <= len(data); {
		total := int(binary.BigEndian.Uint32(data[pos:]))
		binary.BigEndian.PutUint32(data[pos+8:], crc32.ChecksumIEEE(data[pos:pos+8]))
		if total < 16 || total > len(data)-pos {
			break
		}
		binary.BigEndian.PutUint32(data[pos+total-4:], crc32.ChecksumIEEE(data[pos:pos+total-4]))
		pos += total
	}
	return data
}

func framing(what string) bool {
	return strings.Contains(what, "CRC") || strings.Contains(what, "out of range") || strings.Contains(what, "headers do not parse")
}

// FuzzEventStreamFrames builds well-formed frames with the SDK's encoder from
// fuzzed headers and payloads: every one must be decoded, none rejected for
// its framing.
func FuzzEventStreamFrames(f *testing.F) {
	f.Add("event", "contentBlockDelta", `{"delta":{"text":"a b"}}`, "x-extra", []byte{1, 2}, uint8(3))
	f.Add("event", "messageStop", `{"stopReason":"end_turn"}`, "", []byte(nil), uint8(1))
	f.Fuzz(func(t *testing.T, msgType, eventType, payload, extraName string, extraBytes []byte, copies uint8) {
		if len(extraName) > 255 || len(extraBytes) > 32767 || len(eventType) > 32767 || len(msgType) > 32767 {
			return
		}
		var m eventstream.Message
		m.Headers.Set(":message-type", eventstream.StringValue(msgType))
		m.Headers.Set(":event-type", eventstream.StringValue(eventType))
		if extraName != "" {
			m.Headers.Set(extraName, eventstream.BytesValue(extraBytes))
			m.Headers.Set(extraName+"-i", eventstream.Int64Value(int64(len(extraBytes))))
			m.Headers.Set(extraName+"-b", eventstream.BoolValue(true))
		}
		m.Payload = []byte(payload)
		var b bytes.Buffer
		n := int(copies%4) + 1
		for range n {
			if err := eventstream.NewEncoder().Encode(&b, m); err != nil {
				return
			}
		}
		tm := decodeSplit(b.Bytes(), 7)
		var me *timing.MalformedError
		if errors.As(tm.Err, &me) && framing(me.What) {
			t.Fatalf("well-formed frames rejected: %v", tm.Err)
		}
		if tm.Err == nil && tm.Events != n && msgType == "event" && !strings.Contains(eventType, "messageStop") {
			t.Fatalf("decoded %d of %d frames", tm.Events, n)
		}
	})
}
