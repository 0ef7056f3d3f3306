// Package record is mcbench's recording proxy: a reverse proxy to a real (or
// fake) Azure OpenAI or Bedrock Runtime endpoint that passes every call
// through and writes one JSON line per call with its timing and token counts,
// and never its prompt, completion or credentials. `mcbench profile fit`
// turns such a recording into a latency profile.
//
// # Recording format
//
// A recording is JSON Lines: one Call object per line, appended as each call
// ends, each line written whole with one write call so that a file cut short
// by a crash loses at most its last line. The fields are those of Call. Times
// are milliseconds (with microsecond precision) from Start, the instant the
// proxy sent the request upstream, so they exclude the client-to-proxy hop
// and include everything from there: connecting, the service's queueing and
// work, and the network back.
//
// The gaps between tokens are a histogram rather than a list, so a line stays
// a few hundred bytes however long the response: exact n, sum, min and max,
// p50/p90/p99 for people reading the file, and the non-empty buckets of a
// log-linear histogram (16 buckets per power of two of microseconds, so any
// quantile read from it is within 3.2%) as [lower bound µs, count] pairs.
// Histograms of many calls merge exactly (timing.GapHist). A gap is the
// time between two consecutive content events (chunks), the first token
// excluded; the per-token figure is (last_token_ms − ttft_ms) /
// (stream_tokens − 1).
//
// What is never written: message text of any kind (prompts, completions,
// error messages, which can echo input), request or response headers, and
// the URL's query string. Only the deployment or model id, the operation,
// the api-version value and counts are taken from the request.
package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mcbench/mcbench/backends/timing"
)

// Providers and operations as written in Call.
const (
	ProviderAzure   = "azure"
	ProviderBedrock = "bedrock"

	OpChat         = "chat.completions"
	OpConverse     = "converse"
	OpConverseStrm = "converse-stream"
	OpInvoke       = "invoke"
	OpInvokeStrm   = "invoke-with-response-stream"
)

// Call is one line of a recording.
type Call struct {
	// Start is when the proxy sent the request upstream (UTC).
	Start time.Time `json:"start"`
	// Provider is "azure" or "bedrock".
	Provider string `json:"provider"`
	// Deployment is the Azure deployment (from the path, or the body's
	// model on the /openai/v1 route).
	Deployment string `json:"deployment,omitempty"`
	// ModelID is the Bedrock model id, unescaped.
	ModelID string `json:"model_id,omitempty"`
	// Operation is chat.completions, converse, converse-stream, invoke or
	// invoke-with-response-stream.
	Operation string `json:"operation"`
	// APIVersion is Azure's api-version query parameter.
	APIVersion string `json:"api_version,omitempty"`
	// Region is where the call was served, as far as the call says: Azure's
	// x-ms-region response header ("East US"), or the region the Bedrock
	// request was signed for.
	Region string `json:"region,omitempty"`
	// RequestID is the service's request id (Azure apim-request-id, Bedrock
	// x-amzn-RequestId), to find the call in the provider's logs.
	RequestID string `json:"request_id,omitempty"`
	// Stream says whether the call asked for a streamed response, or got one.
	Stream bool `json:"stream"`
	// Status is the HTTP status (0: no response from upstream).
	Status int `json:"status"`
	// Error classifies what went wrong: "http" (an error status),
	// "stream_error", "malformed", "incomplete", "closed" (the client
	// stopped reading), "read" (the upstream connection failed),
	// "upstream" (no response at all) or "cancelled" (the client left
	// before the response). Empty on success.
	Error string `json:"error,omitempty"`
	// ErrorCode is the provider's error code or exception type, never its
	// message.
	ErrorCode string `json:"error_code,omitempty"`
	// MaxTokens is the output limit the request asked for (0: none).
	MaxTokens int `json:"max_tokens,omitempty"`
	// IncludeUsage says whether an Azure stream asked for a usage chunk.
	IncludeUsage bool `json:"include_usage,omitempty"`
	// RequestBytes is the request body's size.
	RequestBytes int64 `json:"request_bytes"`
	// InputWords counts the words of the prompt text, the way the fakes
	// count input tokens; an estimate for real models.
	InputWords int `json:"input_words"`
	// Usage says whether the response reported token usage; InputTokens
	// and OutputTokens are that usage.
	Usage        bool `json:"usage"`
	InputTokens  int  `json:"input_tokens"`
	OutputTokens int  `json:"output_tokens"`
	// StreamTokens counts content tokens in the stream (words, at least one
	// per content event); Chunks counts the content events.
	StreamTokens int `json:"stream_tokens"`
	Chunks       int `json:"chunks"`
	// Stop is the finish or stop reason.
	Stop string `json:"stop,omitempty"`
	// ResponseBytes is the response body's size as read.
	ResponseBytes int64 `json:"response_bytes"`
	// Concurrent is the number of calls in flight through the proxy when
	// this one started, itself included.
	Concurrent int `json:"concurrent"`
	// HeadersMS is the time to response headers.
	HeadersMS float64 `json:"time_to_headers_ms"`
	// FirstByteMS is the time to the first body byte.
	FirstByteMS float64 `json:"first_byte_ms"`
	// TTFTMS is the time to the first content token (0: none arrived).
	TTFTMS float64 `json:"ttft_ms"`
	// LastTokenMS is the time of the last content token.
	LastTokenMS float64 `json:"last_token_ms"`
	// TotalMS is the time until the response body ended.
	TotalMS float64 `json:"total_ms"`
	// Gaps are the gaps between content events of a stream.
	Gaps *timing.GapHist `json:"gaps,omitempty"`
}

// OK reports whether the call succeeded: a 2xx status and no error.
func (c *Call) OK() bool { return c.Status >= 200 && c.Status < 300 && c.Error == "" }

// Name returns the deployment (Azure) or model id (Bedrock) the call went to.
func (c *Call) Name() string {
	if c.Deployment != "" {
		return c.Deployment
	}
	return c.ModelID
}

// Input returns the input tokens: the service's usage if it reported it,
// else the proxy's word count of the prompt.
func (c *Call) Input() int {
	if c.Usage && c.InputTokens > 0 {
		return c.InputTokens
	}
	return c.InputWords
}

// Output returns the output tokens: the service's usage if it reported it,
// else the tokens counted in the stream.
func (c *Call) Output() int {
	if c.Usage {
		return c.OutputTokens
	}
	return c.StreamTokens
}

// PerTokenMS returns the mean time per output token after the first,
// (LastTokenMS − TTFTMS) / (StreamTokens − 1), or 0 with fewer than two.
func (c *Call) PerTokenMS() float64 {
	if c.StreamTokens < 2 || c.TTFTMS <= 0 {
		return 0
	}
	return (c.LastTokenMS - c.TTFTMS) / float64(c.StreamTokens-1)
}

// Writer appends calls to a recording. It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	f   *os.File
	buf bytes.Buffer
	n   int
}

// Create opens path for appending (creating it if needed), so that a second
// recording session adds to the first.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Writer{f: f}, nil
}

// Write appends one call as one line, with a single write so that the line
// is either in the file whole or not at all (short of a full disk), and
// readable as soon as Write returns, crash or not.
func (w *Writer) Write(c *Call) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return os.ErrClosed
	}
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil { // Encode ends the line with '\n'
		return err
	}
	if _, err := w.f.Write(w.buf.Bytes()); err != nil {
		return err
	}
	w.n++
	return nil
}

// Count returns the calls written so far.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Close syncs the file to disk and closes it.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}

// MaxLine bounds one line of a recording when reading it.
const MaxLine = 1 << 20

// Read reads a recording. Blank lines are skipped; a last line without its
// newline that does not parse is what a crash mid-write leaves, and is
// dropped with truncated set. Any other line that does not parse is an error
// naming its line number.
func Read(r io.Reader) (calls []Call, truncated bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it, up to MaxLine.
			full := append([]byte(nil), b...)
			for errors.Is(err, bufio.ErrBufferFull) && len(full) <= MaxLine {
				b, err = br.ReadSlice('\n')
				full = append(full, b...)
			}
			if len(full) > MaxLine {
				return nil, false, fmt.Errorf("line %d: longer than %d bytes; not a recording?", line, MaxLine)
			}
			b = full
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, err
		}
		last := errors.Is(err, io.EOF)
		if len(bytes.TrimSpace(b)) > 0 {
			var c Call
			if jerr := json.Unmarshal(b, &c); jerr != nil {
				if last && !bytes.HasSuffix(b, []byte("\n")) {
					return calls, true, nil
				}
				return nil, false, fmt.Errorf("line %d: %w", line, jerr)
			}
			calls = append(calls, c)
		}
		if last {
			return calls, false, nil
		}
	}
}

// ReadFile reads the recording at path (see Read).
func ReadFile(path string) (calls []Call, truncated bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	calls, truncated, err = Read(f)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return calls, truncated, nil
}
