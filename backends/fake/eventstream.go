package fake

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// An append-based encoder for the AWS event-stream binary framing
// (application/vnd.amazon.eventstream) that Bedrock's streaming operations
// answer with. The SDK's own eventstream.Encoder works, but it goes through
// io.Writer, binary.Write and interface values for every header; a token
// stream sends one frame per output token, so the fake builds frames in
// place in a reused buffer instead. The tests check byte-for-byte equality
// with the SDK's Encoder and decode every frame with its Decoder.
//
// Frame layout (big-endian):
//
//	total_length u32 | headers_length u32 | prelude_crc u32 |
//	headers | payload | message_crc u32
//
// prelude_crc covers the first 8 bytes; message_crc covers everything
// before it. Each header is name_len u8, name, type u8, value; Bedrock only
// uses type 7 (string: u16 length + bytes), so that is the only type here.

// Event-stream limits from the AWS framing specification; the Go SDK
// enforces the header ones when it encodes.
const (
	brPreludeLen       = 12 // total_length, headers_length, prelude_crc
	brMaxHeaderNameLen = 255
	brMaxHeaderValLen  = 1<<15 - 1
	brMaxHeadersLen    = 128 << 10
	brMaxPayloadLen    = 16 << 20
	brHeaderTypeString = 7
)

var (
	errBrHeaderName   = errors.New("eventstream: header name must be 1 to 255 bytes")
	errBrHeaderValue  = errors.New("eventstream: header value longer than 32767 bytes")
	errBrHeadersLen   = errors.New("eventstream: headers longer than 128 KiB")
	errBrPayloadLen   = errors.New("eventstream: payload longer than 16 MiB")
	errBrFrameInvalid = errors.New("eventstream: frame start out of range")
)

// brHeader is one event-stream header with a string value.
type brHeader struct{ Name, Value string }

// brAppendHeaders appends the wire encoding of string-valued headers, in
// order. Frames reuse the result: the headers of an event type never change.
func brAppendHeaders(dst []byte, hs ...brHeader) ([]byte, error) {
	start := len(dst)
	for _, h := range hs {
		if len(h.Name) == 0 || len(h.Name) > brMaxHeaderNameLen {
			return dst[:start], errBrHeaderName
		}
		if len(h.Value) > brMaxHeaderValLen {
			return dst[:start], errBrHeaderValue
		}
		dst = append(dst, byte(len(h.Name)))
		dst = append(dst, h.Name...)
		dst = append(dst, brHeaderTypeString, byte(len(h.Value)>>8), byte(len(h.Value)))
		dst = append(dst, h.Value...)
	}
	if len(dst)-start > brMaxHeadersLen {
		return dst[:start], errBrHeadersLen
	}
	return dst, nil
}

// brBeginFrame starts a frame at the end of dst: a prelude placeholder
// followed by the pre-encoded header block. The caller appends the payload
// directly after it, then calls brEndFrame with the returned start offset,
// so payloads are never built in one buffer and copied into another.
func brBeginFrame(dst, headers []byte) (out []byte, start int) {
	start = len(dst)
	dst = append(dst, make([]byte, brPreludeLen)...)
	return append(dst, headers...), start
}

// brEndFrame completes the frame begun at start (whose header block is
// headersLen bytes long): it fills in the prelude and both CRCs.
func brEndFrame(dst []byte, start, headersLen int) ([]byte, error) {
	if start < 0 || start+brPreludeLen+headersLen > len(dst) {
		return dst, errBrFrameInvalid
	}
	if headersLen > brMaxHeadersLen {
		return dst[:start], errBrHeadersLen
	}
	if len(dst)-start-brPreludeLen-headersLen > brMaxPayloadLen {
		return dst[:start], errBrPayloadLen
	}
	total := len(dst) - start + 4
	binary.BigEndian.PutUint32(dst[start:], uint32(total))
	binary.BigEndian.PutUint32(dst[start+4:], uint32(headersLen))
	binary.BigEndian.PutUint32(dst[start+8:], crc32.ChecksumIEEE(dst[start:start+8]))
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:])), nil
}

// brAppendFrame appends a whole frame with the given header block and payload.
func brAppendFrame(dst, headers, payload []byte) ([]byte, error) {
	dst, start := brBeginFrame(dst, headers)
	dst = append(dst, payload...)
	return brEndFrame(dst, start, len(headers))
}

// brCorruptFrame breaks the message CRC of the frame that ends dst, the
// "malformed" fault: the decoder must reject it with a checksum error.
func brCorruptFrame(dst []byte) {
	if len(dst) > 0 {
		dst[len(dst)-1] ^= 0xff
	}
}

// Pre-encoded header blocks of the frames the fake sends. The order
// (:event-type, :content-type, :message-type) is Bedrock's.
var (
	brHdrMessageStart     = brMustHeaders(brEventHeaders("messageStart"))
	brHdrContentDelta     = brMustHeaders(brEventHeaders("contentBlockDelta"))
	brHdrContentBlockStop = brMustHeaders(brEventHeaders("contentBlockStop"))
	brHdrMessageStop      = brMustHeaders(brEventHeaders("messageStop"))
	brHdrMetadata         = brMustHeaders(brEventHeaders("metadata"))
	brHdrChunk            = brMustHeaders(brEventHeaders("chunk"))
)

func brEventHeaders(eventType string) []brHeader {
	return []brHeader{
		{":event-type", eventType},
		{":content-type", "application/json"},
		{":message-type", "event"},
	}
}

// brExceptionHeaders are the headers of an in-stream modelled exception,
// e.g. "throttlingException": the SDK decodes the payload into the typed
// error (*types.ThrottlingException) that the stream's Err returns.
func brExceptionHeaders(exceptionType string) []byte {
	return brMustHeaders([]brHeader{
		{":exception-type", exceptionType},
		{":content-type", "application/json"},
		{":message-type", "exception"},
	})
}

func brMustHeaders(hs []brHeader) []byte {
	b, err := brAppendHeaders(nil, hs...)
	if err != nil {
		panic(err)
	}
	return b
}
