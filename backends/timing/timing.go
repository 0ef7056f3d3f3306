// Package timing holds what a response revealed about its timing and size
// as it arrived (Stream), the contract of the stream decoders that fill it
// (BodyDecoder, TimedBody), the errors they record and their one-word
// classes, and the mergeable histogram of inter-token gaps. The load
// generator and the recording proxy share it.
package timing

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"time"
)

// Stream is what one response revealed about its timing and size as it
// arrived. All times are offsets from the start of the request (just before
// it was sent), so they are free of wall-clock jumps.
//
// LLM benchmark tools use the same metric names for different quantities
// (vLLM's `vllm bench serve`, GuideLLM, genai-perf and LLMPerf each define
// TTFT and ITL their own way; see ray-project/llmperf#95). The definitions
// here are stated exactly and keep the three "first" events apart:
//
//   - TTFT is FirstToken: the first event carrying non-empty output text
//     (Azure: delta.content; Bedrock: contentBlockDelta text or the model's
//     text delta). Role-only, filter-result and empty chunks do not count
//     (as in genai-perf and LLMPerf; vLLM counts a role-only chunk,
//     vllm-project/vllm#15106).
//   - ITL is per chunk, like vLLM's: Gaps holds the gaps between consecutive
//     content events, the first token excluded (the TTFT is not a gap).
//   - TPOT is per token: PerToken() = (LastToken − FirstToken) / (Tokens − 1),
//     the formula GuideLLM calls ITL.
//
// A zero time means the event never happened; check the counters (Bytes,
// Chunks) rather than the times when a clock could read zero.
type Stream struct {
	// Headers is when the response headers arrived.
	Headers time.Duration
	// FirstByte is when the first body byte arrived.
	FirstByte time.Duration
	// FirstToken is when the first content event arrived (TTFT).
	FirstToken time.Duration
	// LastToken is when the last content event arrived.
	LastToken time.Duration
	// Done is when the body ended (EOF, error or close).
	Done time.Duration

	// Bytes is the body's length as read.
	Bytes int64
	// Events counts the decoded events (SSE events, event-stream frames).
	Events int
	// Chunks counts the events that carried content.
	Chunks int
	// Tokens counts the content tokens seen in the stream: the words of each
	// content event's text, at least one per event (a chunk of whitespace is
	// a token too). The fakes send one word per token, so for them Tokens
	// equals the output tokens; for real models it is an estimate, and
	// OutputTokens (from usage) is the count to trust.
	Tokens int

	// InputTokens and OutputTokens are the service's own usage counts, valid
	// when Usage is set.
	InputTokens, OutputTokens int
	// Usage says whether the response reported usage.
	Usage bool
	// Stop is the finish or stop reason ("stop", "length", "end_turn", …).
	Stop string
	// Ended says whether the stream reached its end marker ([DONE], or
	// messageStop / message_stop for Bedrock) or, for a plain body, EOF.
	Ended bool

	// Gaps are the gaps between consecutive content events.
	Gaps GapHist

	// Err is the first thing that went wrong: a *ServiceError (HTTP error
	// status or in-stream error), a *MalformedError, ErrIncomplete,
	// ErrBodyClosed, or the read error. Decoding stops counting at the
	// first error; Bytes and Done still advance.
	Err error
}

// Output returns the output tokens: the service's count when it reported
// usage, else the tokens counted in the stream.
func (t *Stream) Output() int {
	if t.Usage {
		return t.OutputTokens
	}
	return t.Tokens
}

// PerToken returns the mean time per output token after the first, (LastToken
// − FirstToken) / (Tokens − 1), or 0 with fewer than two tokens. This is the
// TPOT of vLLM and llm-load-test restricted to the token span, so a slow
// trailing usage event does not inflate it.
func (t *Stream) PerToken() time.Duration {
	if t.Tokens < 2 {
		return 0
	}
	return (t.LastToken - t.FirstToken) / time.Duration(t.Tokens-1)
}

// Fail records err unless an error is already recorded.
func (t *Stream) Fail(err error) {
	if t.Err == nil {
		t.Err = err
	}
}

// Content records a content event of the given tokens arriving at at.
func (t *Stream) Content(at time.Duration, tokens int) {
	if t.Chunks == 0 {
		t.FirstToken = at
	} else {
		t.Gaps.Add(at - t.LastToken)
	}
	t.LastToken = at
	t.Chunks++
	t.Tokens += tokens
}

// EventKind says what an event carried. An event can carry several things
// (an OpenAI chunk may hold the last text and the finish reason), so it is a
// set of bits.
type EventKind uint8

// Event kinds.
const (
	// EventContent: the event carried output text.
	EventContent EventKind = 1 << iota
	// EventStop: the event carried the finish or stop reason.
	EventStop
	// EventUsage: the event carried token usage.
	EventUsage
	// EventEnd: the stream's end marker ([DONE]; Bedrock: messageStop or
	// message_stop).
	EventEnd
	// EventError: an in-stream error or exception.
	EventError
)

// Event is one decoded event, reported to a decoder's hook (if any) as soon as
// it is decoded. Kind is 0 for events that carry nothing timed (role chunks,
// content-filter results, messageStart, pings).
type Event struct {
	// At is the arrival time of the bytes that completed the event.
	At time.Duration
	// Kind is what the event carried.
	Kind EventKind
	// Tokens is the event's content tokens (see Stream.Tokens).
	Tokens int
}

// BodyDecoder consumes a response body as it arrives and fills a
// Stream. Decoders keep bounded state (a partial line or frame), never
// the body, and do not allocate per event in the common case, so a load
// generator can run one per in-flight request. A decoder is used by one
// goroutine at a time.
type BodyDecoder interface {
	// Feed consumes p, which arrived at offset at from the request's start.
	// Problems are recorded in the timing's Err, not returned: the bytes are
	// the service's, and the caller passes them on regardless.
	Feed(at time.Duration, p []byte)
	// End is called once when the body ends, with nil at a clean EOF or the
	// error that ended it. It checks that the stream was complete.
	End(at time.Duration, err error)
}

// Errors recorded in Stream.Err.
var (
	// ErrIncomplete: the body ended before the stream's end marker, or in
	// the middle of an event or frame.
	ErrIncomplete = errors.New("stream ended before its end marker")
	// ErrBodyClosed: the reader closed the body before its end.
	ErrBodyClosed = errors.New("body closed before its end")
)

// MalformedError is a stream that could not be decoded.
type MalformedError struct {
	// Offset is the byte offset in the body where decoding failed.
	Offset int64
	// What says what was wrong.
	What string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("malformed stream at byte %d: %s", e.Offset, e.What)
}

// ServiceError is an error the service reported: an HTTP error status or an
// in-stream error event or exception. Only the code is kept: error messages
// can echo the input, and records must never hold prompts.
type ServiceError struct {
	// Status is the HTTP status (0 for an in-stream error).
	Status int
	// Code is the provider's error code or exception type ("429",
	// "DeploymentNotFound", "ThrottlingException", "modelStreamErrorException").
	Code string
}

func (e *ServiceError) Error() string {
	switch {
	case e.Status == 0:
		return "in-stream error " + strconv.Quote(e.Code)
	case e.Code == "":
		return "HTTP " + strconv.Itoa(e.Status)
	}
	return "HTTP " + strconv.Itoa(e.Status) + " " + strconv.Quote(e.Code)
}

// ErrorClass names an error recorded in a Stream in one word, for
// records: "" (nil), "http" (an error status), "stream_error" (an in-stream
// error), "malformed", "incomplete", "closed" (the reader stopped early) or
// "read" (the connection failed).
func ErrorClass(err error) string {
	var se *ServiceError
	var me *MalformedError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &se) && se.Status != 0:
		return "http"
	case se != nil:
		return "stream_error"
	case errors.As(err, &me):
		return "malformed"
	case errors.Is(err, ErrIncomplete), errors.Is(err, io.ErrUnexpectedEOF):
		return "incomplete"
	case errors.Is(err, ErrBodyClosed):
		return "closed"
	}
	return "read"
}

// TimedBody wraps a response body: every read is passed to a decoder with its
// arrival time, and when the body ends (EOF, error or Close) the decoder is
// ended and OnEnd is called once. This is the piece a load generator's
// RoundTripper and the recording proxy put between the transport and the
// reader; it adds one clock read per Read call.
type TimedBody struct {
	rc    io.ReadCloser
	start time.Time
	dec   BodyDecoder
	t     *Stream
	ended bool
	// OnEnd, if set, is called once when the body has ended, after the
	// decoder, in the goroutine that read or closed the body.
	OnEnd func(t *Stream)
}

// NewTimedBody wraps rc. start is the instant the request was sent; t is the
// timing dec fills.
func NewTimedBody(rc io.ReadCloser, start time.Time, t *Stream, dec BodyDecoder) *TimedBody {
	return &TimedBody{rc: rc, start: start, dec: dec, t: t}
}

// Read reads from the body and feeds what it read to the decoder.
func (b *TimedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 || err != nil {
		at := time.Since(b.start)
		if n > 0 && !b.ended {
			if b.t.Bytes == 0 {
				b.t.FirstByte = at
			}
			b.t.Bytes += int64(n)
			b.dec.Feed(at, p[:n])
		}
		if err != nil {
			if err == io.EOF {
				b.end(at, nil)
			} else {
				b.end(at, err)
			}
		}
	}
	return n, err
}

// Close closes the body; closing before EOF records ErrBodyClosed.
func (b *TimedBody) Close() error {
	err := b.rc.Close()
	b.end(time.Since(b.start), ErrBodyClosed)
	return err
}

func (b *TimedBody) end(at time.Duration, err error) {
	if b.ended {
		return
	}
	b.ended = true
	b.t.Done = at
	b.dec.End(at, err)
	if b.OnEnd != nil {
		b.OnEnd(b.t)
	}
}

// Gap histogram layout: HdrHistogram-style buckets over microseconds, exact
// below 32 µs, then 16 linear sub-buckets per power of two, so a bucket is at
// most 1/16 of its lower bound wide and a quantile read at the bucket's middle
// is within 3.2% of the true value. Gaps of 31·2^26 µs (about 35 minutes)
// and more share the last bucket.
const (
	gapSubBits = 4
	gapSub     = 1 << gapSubBits
	// GapBuckets is the number of buckets of a GapHist.
	GapBuckets = 28 * gapSub
)

// GapHist is a histogram of gaps between stream events: exact count, sum, min
// and max, plus fixed log-linear buckets (see GapBuckets) for quantiles. It
// is a value type of fixed size (under 2 KiB) so it never allocates, and
// histograms merge exactly, so percentiles over many calls come from merged
// histograms rather than from averaged percentiles.
type GapHist struct {
	// N is the number of gaps.
	N int64
	// Sum, Min and Max are exact.
	Sum, Min, Max time.Duration
	// Counts are the bucket counts.
	Counts [GapBuckets]uint32
}

// gapBucket returns the bucket of a gap of us microseconds.
func gapBucket(us uint64) int {
	if us < 2*gapSub {
		return int(us)
	}
	e := bits.Len64(us) - gapSubBits - 1
	i := gapSub*(e+1) + int(us>>uint(e)) - gapSub
	return min(i, GapBuckets-1)
}

// GapBucketBounds returns bucket i's range [lo, hi) in microseconds.
func GapBucketBounds(i int) (lo, hi uint64) {
	if i < 2*gapSub {
		return uint64(i), uint64(i) + 1
	}
	e := uint(i/gapSub - 1)
	lo = uint64(i%gapSub+gapSub) << e
	return lo, lo + 1<<e
}

// Add records one gap; negative gaps count as zero.
func (h *GapHist) Add(d time.Duration) {
	d = max(d, 0)
	if h.N == 0 || d < h.Min {
		h.Min = d
	}
	if d > h.Max {
		h.Max = d
	}
	h.N++
	h.Sum += d
	i := gapBucket(uint64(d / time.Microsecond))
	if h.Counts[i] < math.MaxUint32 {
		h.Counts[i]++
	}
}

// Merge adds o's gaps to h.
func (h *GapHist) Merge(o *GapHist) {
	if o.N == 0 {
		return
	}
	if h.N == 0 || o.Min < h.Min {
		h.Min = o.Min
	}
	h.Max = max(h.Max, o.Max)
	h.N += o.N
	h.Sum += o.Sum
	for i, c := range o.Counts {
		h.Counts[i] = uint32(min(uint64(h.Counts[i])+uint64(c), math.MaxUint32))
	}
}

// Mean returns the mean gap (0 if there are none).
func (h *GapHist) Mean() time.Duration {
	if h.N == 0 {
		return 0
	}
	return h.Sum / time.Duration(h.N)
}

// Quantile returns the gap at quantile q in [0, 1]: the middle of the bucket
// holding it, clamped to [Min, Max]; q = 0 and q = 1 give Min and Max.
func (h *GapHist) Quantile(q float64) time.Duration {
	switch {
	case h.N == 0:
		return 0
	case q <= 0:
		return h.Min
	case q >= 1:
		return h.Max
	}
	total := uint64(0)
	for _, c := range h.Counts {
		total += uint64(c)
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	rank = max(rank, 1)
	seen := uint64(0)
	for i, c := range h.Counts {
		seen += uint64(c)
		if seen >= rank {
			lo, hi := GapBucketBounds(i)
			mid := time.Duration(lo+hi) * time.Microsecond / 2
			return min(max(mid, h.Min), h.Max)
		}
	}
	return h.Max
}

// gapJSON is GapHist's JSON form: the exact figures, a few quantiles for
// people reading the file, and the non-empty buckets as [lower bound in µs,
// count] pairs, from which the histogram is rebuilt exactly.
type gapJSON struct {
	N       int64       `json:"n"`
	MeanMS  float64     `json:"mean_ms"`
	MinMS   float64     `json:"min_ms"`
	P50MS   float64     `json:"p50_ms"`
	P90MS   float64     `json:"p90_ms"`
	P99MS   float64     `json:"p99_ms"`
	MaxMS   float64     `json:"max_ms"`
	SumMS   float64     `json:"sum_ms"`
	Buckets [][2]uint64 `json:"buckets"`
}

// Millis returns d in milliseconds rounded to the microsecond, the unit of
// the JSON records.
func Millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / 1e6
}

// FromMillis is the inverse of Millis.
func FromMillis(ms float64) time.Duration {
	return time.Duration(math.Round(ms * 1e6))
}

// MarshalJSON writes the histogram in its compact form.
func (h GapHist) MarshalJSON() ([]byte, error) {
	j := gapJSON{
		N: h.N, MeanMS: Millis(h.Mean()), MinMS: Millis(h.Min), MaxMS: Millis(h.Max), SumMS: Millis(h.Sum),
		P50MS: Millis(h.Quantile(0.5)), P90MS: Millis(h.Quantile(0.9)), P99MS: Millis(h.Quantile(0.99)),
		Buckets: [][2]uint64{},
	}
	for i, c := range h.Counts {
		if c > 0 {
			lo, _ := GapBucketBounds(i)
			j.Buckets = append(j.Buckets, [2]uint64{lo, uint64(c)})
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON rebuilds a histogram from its compact form; the quantiles in
// the input are ignored (they are derived).
func (h *GapHist) UnmarshalJSON(data []byte) error {
	var j gapJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*h = GapHist{N: j.N, Sum: FromMillis(j.SumMS), Min: FromMillis(j.MinMS), Max: FromMillis(j.MaxMS)}
	for _, b := range j.Buckets {
		if b[1] > math.MaxUint32 {
			return fmt.Errorf("gap bucket count %d out of range", b[1])
		}
		h.Counts[gapBucket(b[0])] += uint32(b[1])
	}
	return nil
}

// BufferedDecoder is the decoder of a body that is not a stream (a JSON
// response or an error): it keeps up to Limit bytes and hands them to Parse
// when the body ends. complete is false when the body was longer than Limit
// or did not end cleanly; Parse then sees only the start.
type BufferedDecoder struct {
	// Limit bounds the bytes kept.
	Limit int
	// Parse is called once by End.
	Parse func(at time.Duration, body []byte, complete bool, err error)
	buf   []byte
	over  bool
}

// Feed keeps p, up to the limit.
func (d *BufferedDecoder) Feed(_ time.Duration, p []byte) {
	if room := d.Limit - len(d.buf); len(p) > room {
		p = p[:max(room, 0)]
		d.over = true
	}
	d.buf = append(d.buf, p...)
}

// End hands what was kept to Parse.
func (d *BufferedDecoder) End(at time.Duration, err error) {
	d.Parse(at, d.buf, !d.over && err == nil, err)
	d.buf = nil
}
