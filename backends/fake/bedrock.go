package fake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// The Bedrock Runtime fake: Converse, ConverseStream, InvokeModel and
// InvokeModelWithResponseStream over restJson1 with SigV4, close enough to
// the real service that github.com/aws/aws-sdk-go-v2/service/bedrockruntime
// works against it with only BaseEndpoint and credentials changed.
//
// A request goes: read the body (bounded) → verify SigV4 → resolve the
// model id → decode and validate the body → Deployment.Admit (faults,
// quota, slots) → answer on the deployment's schedule: the first token at
// TTFT after admission, token i at TTFT + i·TPOT, and the end of the
// response (stop reason, usage) at TTFT + n·TPOT, the instant the
// simulator ends the same attempt. A stream sends nothing, headers
// included, before its first token; a non-streaming call answers at the
// end. Output text is AppendWords(seed = input tokens, from 0), one word
// per token, so a client can check it word for word.
//
// Input tokens are CountTokens over the text blocks and system prompts
// (Converse), or over the text content of the native body (InvokeModel).
// The mcbench request header x-mcbench-output-tokens fixes the output
// length (capped by max tokens); without it the scenario's output-length
// distribution is drawn. The stop reason is max_tokens / length when the
// output reached the request's limit, else end_turn / stop.
//
// Error mapping (x-amzn-ErrorType + {"message": …}, as Bedrock answers):
//
//	bad JSON / missing or invalid fields / body too large  400 ValidationException
//	unknown model id (also inference profiles, ARNs)       400 ValidationException "The provided model identifier is invalid."
//	                                                        (what Bedrock returns for ids it cannot resolve, rather
//	                                                        than 404 ResourceNotFoundException)
//	a model the scenario serves only on Azure               403 AccessDeniedException (Bedrock's answer for a model
//	                                                        the account has not been granted)
//	SigV4 failures                                          see sigv4.go
//	quota refusal                                           429 ThrottlingException (retried by the SDK as a throttle)
//	queue full                                              503 ServiceUnavailableException
//	outage window                                           503 ServiceUnavailableException: AWS documents it as "the
//	                                                        service isn't currently available", which is what an
//	                                                        outage is; InternalServerException (500) means a fault of
//	                                                        one request. An outage that starts while a response is in
//	                                                        flight fails it: 503 if nothing was sent yet, else an
//	                                                        in-stream serviceUnavailableException.
//	reset window / silent window                            the connection is reset (RST), no HTTP response
//	stream_cut                                              half the tokens, then the connection is reset
//	malformed                                               first event-stream frame with a bad CRC (streams),
//	                                                        truncated JSON (non-streaming)
//
// ResourceNotFoundException (404), ModelTimeoutException (408) and
// InternalServerException (500) exist in the SDK's model, but no scenario
// behaviour produces them: the fake has no ids it knows but cannot serve,
// no per-call time limit, and no internal faults besides the scenario's.
//
// Throttled responses carry no retry hint. The SDK's retryer (aws/retry
// v1.48.0) honours only X-Amz-Retry-After, which Bedrock does not send, and
// ignores Retry-After; so the client's own jittered backoff (base 1 s for
// throttles) applies, as against the real service.

const (
	brNSBedrock = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
	brNSCoral   = ":http://internal.amazon.com/coral/com.amazon.coral.service/"

	// brOutputHeader is mcbench's request header fixing the output length.
	brOutputHeader = "X-Mcbench-Output-Tokens"
)

// Pre-allocated header values: response header maps take them as they are,
// which saves an allocation per header per request. They are never mutated.
var (
	brCTJSON        = []string{"application/json"}
	brCTEventStream = []string{"application/vnd.amazon.eventstream"}
)

// brError is an error response: HTTP status, the x-amzn-ErrorType code, the
// message, and the namespace suffix of x-amzn-ErrorType.
type brError struct {
	status int
	code   string
	msg    string
	ns     string
}

func (e *brError) Error() string { return e.code + ": " + e.msg }

func brValidation(msg string) *brError {
	return &brError{http.StatusBadRequest, "ValidationException", msg, brNSBedrock}
}

var (
	errBrBadModel = brValidation("The provided model identifier is invalid.")
	errBrNoAccess = &brError{http.StatusForbidden, "AccessDeniedException", "You don't have access to the model with the specified model ID.", brNSBedrock}
	errBrUnavail  = &brError{http.StatusServiceUnavailable, "ServiceUnavailableException", "Bedrock is unable to process your request.", brNSBedrock}
	errBrTokens   = &brError{http.StatusTooManyRequests, "ThrottlingException", "Too many tokens, please wait before trying again.", brNSBedrock}
	errBrRequests = &brError{http.StatusTooManyRequests, "ThrottlingException", "Too many requests, please wait before trying again.", brNSBedrock}
)

// brOp is one of the four operations.
type brOp uint8

const (
	brOpConverse brOp = iota
	brOpConverseStream
	brOpInvoke
	brOpInvokeStream
)

func (op brOp) streaming() bool { return op == brOpConverseStream || op == brOpInvokeStream }

// brKind is the shape of a request body, and so of the response.
type brKind uint8

const (
	brKindConverse  brKind = iota
	brKindAnthropic        // Anthropic Messages body on InvokeModel
	brKindOpenAI           // OpenAI chat-completions body on InvokeModel (gpt-oss)
)

// brRequest is what the decoders extract from a body.
type brRequest struct {
	kind         brKind
	input        int32  // prompt tokens (words of the text blocks and system prompts)
	maxTokens    int32  // 0: not set
	model        string // OpenAI body's model field, echoed back
	includeUsage bool   // OpenAI stream_options.include_usage
}

// bedrockAPI serves the Bedrock routes of one Server.
type bedrockAPI struct {
	s    *Server
	auth *brVerifier
	ids  brIDs
	// noVerify skips SigV4 verification; only benchmarks set it, to
	// measure what verification costs.
	noVerify bool
}

// registerBedrock adds the Bedrock Runtime routes.
func (s *Server) registerBedrock(mux *http.ServeMux) { newBedrockAPI(s).register(mux) }

func newBedrockAPI(s *Server) *bedrockAPI {
	b := &bedrockAPI{s: s, auth: newBrVerifier(s.creds)}
	b.ids.init()
	return b
}

// register adds the four operations. ServeMux matches wildcards against
// the escaped path segment and unescapes the value, so a modelId with %3A
// or %2F (inference-profile ARNs) stays one segment.
func (b *bedrockAPI) register(mux *http.ServeMux) {
	mux.HandleFunc("POST /model/{modelId}/converse", func(w http.ResponseWriter, r *http.Request) { b.serve(w, r, brOpConverse) })
	mux.HandleFunc("POST /model/{modelId}/converse-stream", func(w http.ResponseWriter, r *http.Request) { b.serve(w, r, brOpConverseStream) })
	mux.HandleFunc("POST /model/{modelId}/invoke", func(w http.ResponseWriter, r *http.Request) { b.serve(w, r, brOpInvoke) })
	mux.HandleFunc("POST /model/{modelId}/invoke-with-response-stream", func(w http.ResponseWriter, r *http.Request) { b.serve(w, r, brOpInvokeStream) })
}

// brIDs makes x-amzn-RequestId values: UUID-shaped, a random per-server
// half and a counter, so ids are unique without a crypto/rand call each.
type brIDs struct {
	hi  uint64
	ctr atomic.Uint64
}

func (g *brIDs) init() {
	var b [8]byte
	_, _ = rand.Read(b[:])
	g.hi = binary.BigEndian.Uint64(b[:])
}

func (g *brIDs) next() string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], g.hi)
	binary.BigEndian.PutUint64(raw[8:], g.ctr.Add(1))
	raw[6] = raw[6]&0x0f | 0x40 // version 4 layout, as AWS's ids look
	raw[8] = raw[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexd[c>>4], hexd[c&15]
		j += 2
	}
	return string(out[:])
}

// Response and body buffers are pooled: a Converse round trip then needs
// no buffer allocation at all.
var brBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const brMaxPooledBuf = 256 << 10

func brGetBuf() *[]byte { return brBufPool.Get().(*[]byte) }

func brPutBuf(b *[]byte, last []byte) {
	if cap(last) > brMaxPooledBuf {
		return
	}
	*b = last[:0]
	brBufPool.Put(b)
}

// serve runs one request of any of the four operations.
func (b *bedrockAPI) serve(w http.ResponseWriter, r *http.Request, op brOp) {
	t0 := time.Now()
	rid := b.ids.next()
	bp := brGetBuf()
	buf := (*bp)[:0]
	defer func() { brPutBuf(bp, buf) }()

	body, e := brReadBody(r, buf, b.s.maxBody)
	buf = body
	if e != nil {
		brWriteError(w, rid, e)
		return
	}
	if !b.noVerify {
		if e := b.auth.verify(r, body); e != nil {
			brWriteError(w, rid, e)
			return
		}
	}
	id := r.PathValue("modelId")
	d := b.lookup(id)
	if d == nil {
		brWriteError(w, rid, b.unknownModel(id))
		return
	}
	want, e := brWantOutput(r)
	if e != nil {
		brWriteError(w, rid, e)
		return
	}
	var req brRequest
	if op == brOpConverse || op == brOpConverseStream {
		e = brDecodeConverse(body, &req)
	} else {
		e = brDecodeInvoke(body, brModelFamily(id, d), id, d, &req)
	}
	if e != nil {
		brWriteError(w, rid, e)
		return
	}

	call := Call{InputTokens: req.input, MaxTokens: req.maxTokens, WantOutput: want}
	if msg := b.s.readCall(r, &call); msg != "" {
		brWriteError(w, rid, brValidation(msg))
		return
	}
	p, ref := d.Admit(r.Context(), call)
	if ref != nil {
		b.refuse(w, rid, ref)
		return
	}
	maxTok := req.maxTokens
	if maxTok <= 0 {
		maxTok = DefaultMaxTokens
	}
	x := brExchange{
		w: w, r: r, rid: rid, d: d, p: p, req: &req, op: op,
		t0: t0, tA: p.Start.Add(p.Back), seed: uint64(max(req.input, 0)), maxHit: p.Output >= maxTok,
		model: brEchoModel(id, d, &req),
	}
	if op.streaming() {
		buf = x.stream(buf[:0])
	} else {
		buf = x.respond(buf[:0])
	}
}

// lookup resolves a model id as Bedrock accepts it: a base model id, a
// deployment alias, a cross-region inference profile ("us.", "eu.",
// "global.", …) or an ARN whose last path element is one of those.
func (b *bedrockAPI) lookup(id string) *Deployment {
	if d := b.s.bedrock[id]; d != nil {
		return d
	}
	if strings.HasPrefix(id, "arn:") {
		i := strings.LastIndexByte(id, '/')
		if i < 0 {
			return nil
		}
		id = id[i+1:]
		if d := b.s.bedrock[id]; d != nil {
			return d
		}
	}
	if i := strings.IndexByte(id, '.'); i > 0 && brGeoPrefix(id[:i]) {
		return b.s.bedrock[id[i+1:]]
	}
	return nil
}

// unknownModel is the error for a model id lookup did not resolve: a
// model the scenario serves only on Azure is a Bedrock model the account
// has no access to (403 AccessDeniedException, as Bedrock answers for
// models not enabled); anything else is an invalid identifier.
func (b *bedrockAPI) unknownModel(id string) *brError {
	for _, d := range b.s.deps {
		if d.ProviderKind == scenarios.KindAzure && (d.Name == id || d.Model == id) {
			return errBrNoAccess
		}
	}
	return errBrBadModel
}

// brGeoPrefix reports whether p is a cross-region inference-profile prefix.
func brGeoPrefix(p string) bool {
	switch p {
	case "us", "eu", "apac", "global", "us-gov", "jp", "au", "ca":
		return true
	}
	return false
}

// brModelFamily says which native body a model takes on InvokeModel.
func brModelFamily(id string, d *Deployment) brKind {
	m := d.Model
	if m == "" {
		m = id
	}
	switch {
	case strings.Contains(m, "anthropic.") || strings.Contains(id, "anthropic."):
		return brKindAnthropic
	case strings.Contains(m, "openai.") || strings.Contains(m, "gpt-oss") || strings.Contains(id, "openai."):
		return brKindOpenAI
	}
	return brKindConverse // unknown family: decided by the body's fields
}

func brEchoModel(id string, d *Deployment, req *brRequest) string {
	if req.model != "" {
		return req.model
	}
	if d.Model != "" {
		return d.Model
	}
	return id
}

// brReadBody reads the whole body into buf, refusing more than limit bytes.
func brReadBody(r *http.Request, buf []byte, limit int64) ([]byte, *brError) {
	if r.ContentLength > limit {
		return buf, brTooLarge(limit)
	}
	if r.ContentLength > int64(cap(buf)) {
		buf = make([]byte, 0, r.ContentLength)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, brTooLarge(limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, brValidation("Failed to read the request body.")
		}
	}
}

func brTooLarge(limit int64) *brError {
	return brValidation("The request body is larger than the " + strconv.FormatInt(limit, 10) + " bytes allowed.")
}

// brWantOutput reads mcbench's x-mcbench-output-tokens header (-1 if absent).
func brWantOutput(r *http.Request) (int32, *brError) {
	v := r.Header[brOutputHeader]
	if len(v) == 0 {
		return -1, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 32)
	if err != nil || n < 0 {
		return 0, brValidation("x-mcbench-output-tokens must be a whole number >= 0.")
	}
	return int32(n), nil
}

// refuse answers a call Admit did not admit.
func (b *bedrockAPI) refuse(w http.ResponseWriter, rid string, ref *Refusal) {
	switch ref.Status {
	case results.StatusThrottled:
		if ref.Reason == "quota_requests" {
			brWriteError(w, rid, errBrRequests)
		} else {
			brWriteError(w, rid, errBrTokens)
		}
	case results.StatusRejected:
		brWriteError(w, rid, errBrUnavail)
	default:
		switch ref.Reason {
		case "reset", "silent", "cancelled":
			// reset: the fault resets connections. silent: Admit held the call
			// until the window closed or the client left; either way it is
			// never answered. cancelled: the client left while queued.
			brAbort(w)
		default: // outage
			brWriteError(w, rid, errBrUnavail)
		}
	}
}

// brWriteError writes an error response in Bedrock's shape.
func brWriteError(w http.ResponseWriter, rid string, e *brError) {
	h := w.Header()
	h["Content-Type"] = brCTJSON
	h["X-Amzn-Requestid"] = []string{rid}
	h["X-Amzn-Errortype"] = []string{e.code + e.ns}
	body := make([]byte, 0, len(e.msg)+16)
	body = append(body, `{"message":`...)
	body = brAppendJSONString(body, e.msg)
	body = append(body, '}')
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// brAbort drops the connection without a response, as a reset or a cut
// does. On HTTP/1.1 it hijacks the connection and closes it with
// SO_LINGER 0, so the peer sees a TCP RST: a plain close (FIN) would end a
// chunked body early, which the SDK's event-stream reader (smithy-go
// v1.28.9) treats like a clean end of stream, hiding the cut. Elsewhere
// (HTTP/2) it aborts the handler, which resets the stream. The caller must
// return without touching w afterwards.
func brAbort(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			brResetConn(c)
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func brResetConn(c net.Conn) {
	raw := c
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		raw = nc.NetConn()
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = raw.Close()
}

// ---------------------------------------------------------------------------
// Request decoding.

// brConverseRequest holds the Converse fields the fake reads; the rest of
// the request (toolConfig, additionalModelRequestFields, …) is accepted
// and ignored.
type brConverseRequest struct {
	Messages        []brConverseMessage `json:"messages"`
	System          []brContentBlock    `json:"system"`
	InferenceConfig *struct {
		MaxTokens *int64 `json:"maxTokens"`
	} `json:"inferenceConfig"`
}

type brConverseMessage struct {
	Role    string           `json:"role"`
	Content []brContentBlock `json:"content"`
}

// brContentBlock is the ContentBlock / SystemContentBlock union. Only text
// is read; the other members only need to be recognised, so that a block
// with no member at all can be refused as Bedrock refuses it.
type brContentBlock struct {
	Text             *string         `json:"text"`
	Image            json.RawMessage `json:"image"`
	Document         json.RawMessage `json:"document"`
	Video            json.RawMessage `json:"video"`
	Audio            json.RawMessage `json:"audio"`
	ToolUse          json.RawMessage `json:"toolUse"`
	ToolResult       json.RawMessage `json:"toolResult"`
	GuardContent     json.RawMessage `json:"guardContent"`
	CachePoint       json.RawMessage `json:"cachePoint"`
	ReasoningContent json.RawMessage `json:"reasoningContent"`
	CitationsContent json.RawMessage `json:"citationsContent"`
	SearchResult     json.RawMessage `json:"searchResult"`
}

func (c *brContentBlock) empty() bool {
	return c.Text == nil && c.Image == nil && c.Document == nil && c.Video == nil && c.Audio == nil &&
		c.ToolUse == nil && c.ToolResult == nil && c.GuardContent == nil && c.CachePoint == nil &&
		c.ReasoningContent == nil && c.CitationsContent == nil && c.SearchResult == nil
}

// brDecodeConverse decodes and validates a Converse / ConverseStream body.
func brDecodeConverse(body []byte, out *brRequest) *brError {
	var req brConverseRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return brValidation("Malformed input request: the request body is not valid JSON for Converse, please reformat your input and try again.")
	}
	if len(req.Messages) == 0 {
		return brValidation("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	var input int64
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Role != "user" && m.Role != "assistant" {
			return brValidation("1 validation error detected: Value at 'messages." + strconv.Itoa(i+1) + ".member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]")
		}
		if i == 0 && m.Role != "user" {
			return brValidation("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
		}
		if len(m.Content) == 0 {
			return brValidation("The content field in the Message object at messages." + strconv.Itoa(i) + " is empty. Add a ContentBlock object to the content field and try again.")
		}
		for j := range m.Content {
			c := &m.Content[j]
			if c.empty() {
				return brValidation("The content block at messages." + strconv.Itoa(i) + ".content." + strconv.Itoa(j) + " must set one member, such as text.")
			}
			if c.Text != nil {
				input += int64(CountTokens(*c.Text))
			}
		}
	}
	for j := range req.System {
		c := &req.System[j]
		if c.empty() {
			return brValidation("The system content block at system." + strconv.Itoa(j) + " must set one member, such as text.")
		}
		if c.Text != nil {
			input += int64(CountTokens(*c.Text))
		}
	}
	out.kind = brKindConverse
	out.input = int32(min(input, 1<<31-1))
	if ic := req.InferenceConfig; ic != nil && ic.MaxTokens != nil {
		mt, e := brMaxTokens(*ic.MaxTokens, "inferenceConfig.maxTokens")
		if e != nil {
			return e
		}
		out.maxTokens = mt
	}
	return nil
}

func brMaxTokens(v int64, field string) (int32, *brError) {
	if v < 1 {
		return 0, brValidation("1 validation error detected: Value '" + strconv.FormatInt(v, 10) + "' at '" + field + "' failed to satisfy constraint: Member must have value greater than or equal to 1")
	}
	if v > 1<<31-1 {
		return 0, brValidation("1 validation error detected: Value '" + strconv.FormatInt(v, 10) + "' at '" + field + "' failed to satisfy constraint: Member must have value less than or equal to 2147483647")
	}
	return int32(v), nil
}

// brInvokeBody is the union of the Anthropic Messages and OpenAI
// chat-completions fields the fake reads from an InvokeModel body.
type brInvokeBody struct {
	AnthropicVersion    *string           `json:"anthropic_version"`
	Model               *string           `json:"model"`
	MaxTokens           *int64            `json:"max_tokens"`
	MaxCompletionTokens *int64            `json:"max_completion_tokens"`
	Messages            []brInvokeMessage `json:"messages"`
	System              json.RawMessage   `json:"system"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type brInvokeMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// brTextPart is a content part of either body shape: {"type":"text","text":…}.
type brTextPart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

// brDecodeInvoke decodes and validates an InvokeModel body. The body's
// fields decide its shape (anthropic_version: Anthropic; model,
// max_completion_tokens or stream_options: OpenAI), else the model's
// family, else OpenAI chat completions, the most common native shape.
func brDecodeInvoke(body []byte, family brKind, pathID string, d *Deployment, out *brRequest) *brError {
	var req brInvokeBody
	if err := json.Unmarshal(body, &req); err != nil {
		return brValidation("Malformed input request: the request body is not valid JSON, please reformat your input and try again.")
	}
	kind := family
	switch {
	case req.AnthropicVersion != nil:
		kind = brKindAnthropic
	case req.Model != nil || req.MaxCompletionTokens != nil || req.StreamOptions != nil:
		kind = brKindOpenAI
	case kind == brKindConverse:
		kind = brKindOpenAI
	}
	out.kind = kind
	if kind == brKindAnthropic {
		return brDecodeAnthropic(&req, out)
	}
	return brDecodeOpenAI(&req, pathID, d, out)
}

func brMalformed(detail string) *brError {
	return brValidation("Malformed input request: " + detail + ", please reformat your input and try again.")
}

func brDecodeAnthropic(req *brInvokeBody, out *brRequest) *brError {
	if req.AnthropicVersion == nil {
		return brMalformed("#: required key [anthropic_version] not found")
	}
	if req.MaxTokens == nil {
		return brMalformed("#: required key [max_tokens] not found")
	}
	mt, e := brMaxTokens(*req.MaxTokens, "max_tokens")
	if e != nil {
		return e
	}
	out.maxTokens = mt
	if len(req.Messages) == 0 {
		return brMalformed("#: required key [messages] not found or empty")
	}
	var input int64
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Role != "user" && m.Role != "assistant" {
			return brMalformed("#/messages/" + strconv.Itoa(i) + "/role: " + brQuoteShort(m.Role) + " is not a valid enum value")
		}
		if i == 0 && m.Role != "user" {
			return brValidation("messages: first message must use the \"user\" role")
		}
		n, ok := brCountContent(m.Content, false)
		if !ok {
			return brMalformed("#/messages/" + strconv.Itoa(i) + "/content: expected a string or an array of content blocks")
		}
		input += n
	}
	if len(req.System) > 0 {
		n, ok := brCountContent(req.System, false)
		if !ok {
			return brMalformed("#/system: expected a string or an array of text blocks")
		}
		input += n
	}
	out.input = int32(min(input, 1<<31-1))
	return nil
}

func brDecodeOpenAI(req *brInvokeBody, pathID string, d *Deployment, out *brRequest) *brError {
	if req.Model != nil {
		m := *req.Model
		if m != pathID && m != d.Model && m != d.Name {
			return brValidation("The model " + brQuoteShort(m) + " in the request body does not match the model in the request path.")
		}
		out.model = m
	}
	switch {
	case req.MaxCompletionTokens != nil:
		mt, e := brMaxTokens(*req.MaxCompletionTokens, "max_completion_tokens")
		if e != nil {
			return e
		}
		out.maxTokens = mt
	case req.MaxTokens != nil:
		mt, e := brMaxTokens(*req.MaxTokens, "max_tokens")
		if e != nil {
			return e
		}
		out.maxTokens = mt
	}
	if len(req.Messages) == 0 {
		return brValidation("'messages' is a required property and must not be empty.")
	}
	var input int64
	for i := range req.Messages {
		m := &req.Messages[i]
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			return brValidation("Invalid value for 'messages[" + strconv.Itoa(i) + "].role': " + brQuoteShort(m.Role) + ".")
		}
		n, ok := brCountContent(m.Content, m.Role == "assistant")
		if !ok {
			return brValidation("Invalid type for 'messages[" + strconv.Itoa(i) + "].content': expected a string or an array of content parts.")
		}
		input += n
	}
	if req.StreamOptions != nil {
		out.includeUsage = req.StreamOptions.IncludeUsage
	}
	out.input = int32(min(input, 1<<31-1))
	return nil
}

// brCountContent counts the words of a native content value: a string or
// an array of parts whose text parts count. nullOK admits null or absent
// content (an OpenAI assistant message that only calls tools).
func brCountContent(raw json.RawMessage, nullOK bool) (int64, bool) {
	raw = brTrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nullOK
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		return int64(CountTokens(s)), true
	case '[':
		var parts []brTextPart
		if json.Unmarshal(raw, &parts) != nil {
			return 0, false
		}
		var n int64
		for _, p := range parts {
			if p.Text != nil && (p.Type == "text" || p.Type == "") {
				n += int64(CountTokens(*p.Text))
			}
		}
		return n, true
	}
	return 0, false
}

func brTrimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// brQuoteShort quotes a client-supplied value for an error message, cut
// to a sane length.
func brQuoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return "'" + s + "'"
}

// ---------------------------------------------------------------------------
// Answering.

// brExchange is one admitted call being answered.
type brExchange struct {
	w      http.ResponseWriter
	r      *http.Request
	rid    string
	d      *Deployment
	p      *Plan
	req    *brRequest
	op     brOp
	t0     time.Time // request received
	tA     time.Time // service start on the plan, plus the way back to the caller
	seed   uint64
	maxHit bool   // the output reached max_tokens
	model  string // echoed in native responses
	timer  *time.Timer
	first  time.Duration // first token, from t0 (for invocation metrics)

	// Streaming state: frames not yet written, the inner-JSON scratch of
	// chunk events, and the flusher.
	out, scratch []byte
	fl           http.Flusher
}

// due returns when token i is due (i = Output: the end of the response).
func (x *brExchange) due(i int32) time.Time {
	return x.tA.Add(x.p.TTFT + time.Duration(i)*x.p.TPOT)
}

// tokensBy returns how many tokens were due strictly before t.
func (x *brExchange) tokensBy(t time.Time) int32 {
	first := x.tA.Add(x.p.TTFT)
	if t.Before(first) || t.Equal(first) {
		return 0
	}
	if x.p.TPOT <= 0 {
		return x.p.Output
	}
	n := int64(t.Sub(first)/x.p.TPOT) + 1
	return int32(min(n, int64(x.p.Output)))
}

// until sleeps until t (reusing one timer per exchange); false if the
// client went away first.
func (x *brExchange) until(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return x.r.Context().Err() == nil
	}
	if x.timer == nil {
		x.timer = time.NewTimer(d)
	} else {
		x.timer.Reset(d)
	}
	select {
	case <-x.timer.C:
		return true
	case <-x.r.Context().Done():
		x.timer.Stop()
		return false
	}
}

// outageAt returns the first instant in [x.tA, end] at which an outage
// window of the deployment is open: a call in flight then fails.
func (x *brExchange) outageAt(end time.Time) (time.Time, bool) {
	d := x.d
	origin := d.origin()
	from, to := x.tA.Sub(origin), end.Sub(origin)
	best, found := time.Duration(0), false
	for _, w := range d.faults {
		if w.kind != scenarios.FaultOutage || w.start > to || w.end <= from {
			continue
		}
		at := max(w.start, from)
		if !found || at < best {
			best, found = at, true
		}
	}
	return origin.Add(best), found
}

func (x *brExchange) stopReason() string {
	switch x.req.kind {
	case brKindOpenAI:
		if x.maxHit {
			return "length"
		}
		return "stop"
	default:
		if x.maxHit {
			return "max_tokens"
		}
		return "end_turn"
	}
}

// respond answers a non-streaming call at the end of its service time.
func (x *brExchange) respond(buf []byte) []byte {
	p := x.p
	n := p.Output
	end := x.due(n)
	switch p.Fault {
	case scenarios.FaultMalformed:
		if !x.until(x.due(0)) {
			p.Done(0, false)
			return buf
		}
		buf = x.appendBody(buf, n)
		buf = buf[:len(buf)/2] // truncated JSON: the client's decoder fails
		x.writeBody(buf, n)
		p.Done(0, false)
		return buf
	case scenarios.FaultStreamCut:
		half := n / 2
		if !x.until(x.due(half)) {
			p.Done(x.tokensBy(time.Now()), false)
			return buf
		}
		buf = x.appendBody(buf, n)
		x.setHeaders(n, len(buf))
		x.w.WriteHeader(http.StatusOK)
		_, _ = x.w.Write(buf[:len(buf)/2])
		p.Done(half, false)
		brAbort(x.w)
		return buf
	}
	if at, down := x.outageAt(end); down {
		ok := x.until(at)
		p.Done(x.tokensBy(at), false)
		if ok {
			brWriteError(x.w, x.rid, errBrUnavail)
		}
		return buf
	}
	if !x.until(end) {
		p.Done(x.tokensBy(time.Now()), false)
		return buf
	}
	x.first = x.due(0).Sub(x.t0)
	buf = x.appendBody(buf, n)
	x.writeBody(buf, n)
	p.Done(n, true)
	return buf
}

func (x *brExchange) setHeaders(n int32, length int) {
	h := x.w.Header()
	h["Content-Type"] = brCTJSON
	h["X-Amzn-Requestid"] = []string{x.rid}
	h["Content-Length"] = []string{strconv.Itoa(length)}
	setQueueHeader(h, x.p)
	var lag lagTracker
	lag.at(x.due(n))
	h[LagHeader] = lag.value()
	if x.op == brOpInvoke {
		h["X-Amzn-Bedrock-Input-Token-Count"] = []string{strconv.Itoa(int(x.req.input))}
		h["X-Amzn-Bedrock-Output-Token-Count"] = []string{strconv.Itoa(int(n))}
		h["X-Amzn-Bedrock-Invocation-Latency"] = []string{strconv.FormatInt(time.Since(x.t0).Milliseconds(), 10)}
	}
}

func (x *brExchange) writeBody(body []byte, n int32) {
	x.setHeaders(n, len(body))
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(body)
}

// appendBody appends the non-streaming response body of n output tokens.
func (x *brExchange) appendBody(b []byte, n int32) []byte {
	in := int64(x.req.input)
	switch x.req.kind {
	case brKindConverse:
		b = append(b, `{"metrics":{"latencyMs":`...)
		b = strconv.AppendInt(b, time.Since(x.t0).Milliseconds(), 10)
		b = append(b, `},"output":{"message":{"content":[{"text":"`...)
		b = AppendWords(b, x.seed, 0, n)
		b = append(b, `"}],"role":"assistant"}},"stopReason":"`...)
		b = append(b, x.stopReason()...)
		b = append(b, `","usage":{"inputTokens":`...)
		b = strconv.AppendInt(b, in, 10)
		b = append(b, `,"outputTokens":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `,"totalTokens":`...)
		b = strconv.AppendInt(b, in+int64(n), 10)
		b = append(b, `}}`...)
	case brKindAnthropic:
		b = append(b, `{"id":"msg_bdrk_`...)
		b = brAppendIDHex(b, x.rid)
		b = append(b, `","type":"message","role":"assistant","model":`...)
		b = brAppendJSONString(b, x.model)
		b = append(b, `,"content":[{"type":"text","text":"`...)
		b = AppendWords(b, x.seed, 0, n)
		b = append(b, `"}],"stop_reason":"`...)
		b = append(b, x.stopReason()...)
		b = append(b, `","stop_sequence":null,"usage":{"input_tokens":`...)
		b = strconv.AppendInt(b, in, 10)
		b = append(b, `,"output_tokens":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `}}`...)
	case brKindOpenAI:
		b = append(b, `{"id":"chatcmpl-`...)
		b = brAppendIDHex(b, x.rid)
		b = append(b, `","object":"chat.completion","created":`...)
		b = strconv.AppendInt(b, x.t0.Unix(), 10)
		b = append(b, `,"model":`...)
		b = brAppendJSONString(b, x.model)
		b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":"`...)
		b = AppendWords(b, x.seed, 0, n)
		b = append(b, `"},"finish_reason":"`...)
		b = append(b, x.stopReason()...)
		b = append(b, `"}],"usage":{"prompt_tokens":`...)
		b = strconv.AppendInt(b, in, 10)
		b = append(b, `,"completion_tokens":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `,"total_tokens":`...)
		b = strconv.AppendInt(b, in+int64(n), 10)
		b = append(b, `}}`...)
	}
	return b
}

// brFlushAt is how much a stream buffers before writing even if no wait
// is due (only when tokens are due faster than they can be written).
const brFlushAt = 16 << 10

// flush writes the frames buffered in x.out and flushes them to the
// client; false if the client is gone.
func (x *brExchange) flush() bool {
	if len(x.out) > 0 {
		_, err := x.w.Write(x.out)
		x.out = x.out[:0]
		if err != nil {
			return false
		}
	}
	if x.fl != nil {
		x.fl.Flush()
	}
	return true
}

// brMinFirstByte is the earliest a stream answers after its request was
// read, whatever the TTFT. It guards against a client-side race that only
// loopback speeds expose: Go's transport returns the response while its
// write loop still has to confirm the request body's EOF; the SDK then
// closes the body, and smithy-go's closed body answers that WriteTo with
// io.EOF, which the transport takes for a write error and closes the
// connection, killing the stream (observed with smithy-go v1.28.9 when the
// headers went out ~150 µs after the body arrived). Real Bedrock is a
// network round trip away and never wins that race.
const brMinFirstByte = time.Millisecond

// stream answers a streaming call on the token schedule. Nothing is sent
// before the first token is due: the headers, messageStart and the first
// delta go out together at TTFT, and each later frame is flushed before
// the stream waits for the next.
func (x *brExchange) stream(buf []byte) []byte {
	x.out = buf
	p := x.p
	n := p.Output
	end := x.due(n)
	cutAt, down := x.outageAt(end)
	first := x.due(0)
	if floor := x.t0.Add(brMinFirstByte); first.Before(floor) {
		first = floor
	}
	if down && !cutAt.After(first) {
		// The outage opened before the first byte: an ordinary 503.
		ok := x.until(cutAt)
		p.Done(0, false)
		if ok {
			brWriteError(x.w, x.rid, errBrUnavail)
		}
		return x.out
	}
	if !x.until(first) {
		p.Done(0, false)
		return x.out
	}
	h := x.w.Header()
	h["Content-Type"] = brCTEventStream
	h["X-Amzn-Requestid"] = []string{x.rid}
	setQueueHeader(h, x.p)
	h["Trailer"] = brLagTrailer
	if x.op == brOpInvokeStream {
		h["X-Amzn-Bedrock-Content-Type"] = brCTJSON
		sp := brGetBuf()
		x.scratch = (*sp)[:0]
		defer func() { brPutBuf(sp, x.scratch) }()
	}
	x.w.WriteHeader(http.StatusOK)
	x.fl, _ = x.w.(http.Flusher)
	x.first = time.Since(x.t0)

	if p.Fault == scenarios.FaultMalformed {
		mark := len(x.out)
		x.appendStart()
		if len(x.out) == mark {
			x.appendToken(0)
		}
		// Keep the first frame only, with its CRC broken.
		x.out = x.out[:mark+int(binary.BigEndian.Uint32(x.out[mark:]))]
		brCorruptFrame(x.out)
		x.flush()
		p.Done(0, false)
		return x.out
	}

	send := n
	if p.Fault == scenarios.FaultStreamCut {
		send = n / 2
	}
	x.appendStart()
	var sent int32
	lag := lagTracker(max(time.Since(first), 0))
	for i := int32(0); i < send; i++ {
		due := x.due(i)
		if down && !due.Before(cutAt) {
			x.failInStream(cutAt, sent)
			return x.out
		}
		if time.Until(due) > 0 {
			if !x.flush() || !x.until(due) {
				p.Done(x.tokensBy(time.Now()), false)
				return x.out
			}
			lag.at(due)
		}
		x.appendToken(i)
		sent++
		if len(x.out) >= brFlushAt && !x.flush() {
			p.Done(sent, false)
			return x.out
		}
	}
	if p.Fault == scenarios.FaultStreamCut {
		x.flush()
		p.Done(sent, false)
		brAbort(x.w)
		return x.out
	}
	if down && !end.Before(cutAt) {
		x.failInStream(cutAt, sent)
		return x.out
	}
	if time.Until(end) > 0 {
		if !x.flush() || !x.until(end) {
			p.Done(sent, false)
			return x.out
		}
	}
	x.appendFinish(n)
	ok := x.flush()
	lag.at(end)
	h[LagHeader] = lag.value() // sent as the trailer declared above
	p.Done(n, ok)
	return x.out
}

// brLagTrailer declares the LagHeader trailer of a stream.
var brLagTrailer = []string{LagHeader}

// failInStream ends a stream the outage caught in flight: at the outage's
// start, an in-stream serviceUnavailableException, which the SDK's stream
// reader returns from Err as *types.ServiceUnavailableException.
func (x *brExchange) failInStream(at time.Time, sent int32) {
	if !x.flush() || !x.until(at) {
		x.p.Done(sent, false)
		return
	}
	x.out = brAppendException(x.out, "serviceUnavailableException", errBrUnavail.msg)
	x.flush()
	x.p.Done(sent, false)
}

// brAppendException appends an in-stream modelled exception frame.
func brAppendException(dst []byte, exceptionType, msg string) []byte {
	hdr := brExceptionHeaders(exceptionType)
	dst, start := brBeginFrame(dst, hdr)
	dst = append(dst, `{"message":`...)
	dst = brAppendJSONString(dst, msg)
	dst = append(dst, '}')
	dst, _ = brEndFrame(dst, start, len(hdr))
	return dst
}

// Event payloads. ConverseStream events are frames of their own type;
// InvokeModelWithResponseStream wraps each native event in a "chunk"
// frame whose payload is {"bytes":"<base64 of the native JSON>"}, built in
// x.scratch first.

// beginEvent starts a ConverseStream event frame in x.out.
func (x *brExchange) beginEvent(hdr []byte) int {
	var start int
	x.out, start = brBeginFrame(x.out, hdr)
	return start
}

func (x *brExchange) endEvent(start int, hdr []byte) {
	x.out, _ = brEndFrame(x.out, start, len(hdr))
}

// chunk wraps x.scratch in a chunk frame.
func (x *brExchange) chunk() { x.out = brAppendChunk(x.out, x.scratch) }

// appendStart appends the events that open a response (none for OpenAI,
// whose first chunk carries the role with the first token).
func (x *brExchange) appendStart() {
	switch {
	case x.op == brOpConverseStream:
		st := x.beginEvent(brHdrMessageStart)
		x.out = append(x.out, `{"role":"assistant"}`...)
		x.endEvent(st, brHdrMessageStart)
	case x.req.kind == brKindAnthropic:
		b := append(x.scratch[:0], `{"type":"message_start","message":{"id":"msg_bdrk_`...)
		b = brAppendIDHex(b, x.rid)
		b = append(b, `","type":"message","role":"assistant","model":`...)
		b = brAppendJSONString(b, x.model)
		b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":`...)
		b = strconv.AppendInt(b, int64(x.req.input), 10)
		x.scratch = append(b, `,"output_tokens":1}}}`...)
		x.chunk()
		x.scratch = append(x.scratch[:0], `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`...)
		x.chunk()
	}
}

// appendToken appends the event carrying output token i.
func (x *brExchange) appendToken(i int32) {
	switch {
	case x.op == brOpConverseStream:
		st := x.beginEvent(brHdrContentDelta)
		x.out = append(x.out, `{"contentBlockIndex":0,"delta":{"text":"`...)
		x.out = AppendWords(x.out, x.seed, i, 1)
		x.out = append(x.out, `"}}`...)
		x.endEvent(st, brHdrContentDelta)
	case x.req.kind == brKindAnthropic:
		b := append(x.scratch[:0], `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`...)
		b = AppendWords(b, x.seed, i, 1)
		x.scratch = append(b, `"}}`...)
		x.chunk()
	default:
		b := x.openAIChunkHead(x.scratch[:0])
		if i == 0 {
			b = append(b, `{"index":0,"delta":{"role":"assistant","content":"`...)
		} else {
			b = append(b, `{"index":0,"delta":{"content":"`...)
		}
		b = AppendWords(b, x.seed, i, 1)
		x.scratch = append(b, `"},"finish_reason":null}]}`...)
		x.chunk()
	}
}

// appendFinish appends the events that close a complete response of n tokens.
func (x *brExchange) appendFinish(n int32) {
	in := int64(x.req.input)
	latency := time.Since(x.t0).Milliseconds()
	switch {
	case x.op == brOpConverseStream:
		st := x.beginEvent(brHdrContentBlockStop)
		x.out = append(x.out, `{"contentBlockIndex":0}`...)
		x.endEvent(st, brHdrContentBlockStop)
		st = x.beginEvent(brHdrMessageStop)
		x.out = append(x.out, `{"stopReason":"`...)
		x.out = append(x.out, x.stopReason()...)
		x.out = append(x.out, `"}`...)
		x.endEvent(st, brHdrMessageStop)
		st = x.beginEvent(brHdrMetadata)
		b := append(x.out, `{"metrics":{"latencyMs":`...)
		b = strconv.AppendInt(b, latency, 10)
		b = append(b, `},"usage":{"inputTokens":`...)
		b = strconv.AppendInt(b, in, 10)
		b = append(b, `,"outputTokens":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `,"totalTokens":`...)
		b = strconv.AppendInt(b, in+int64(n), 10)
		x.out = append(b, `}}`...)
		x.endEvent(st, brHdrMetadata)
	case x.req.kind == brKindAnthropic:
		x.scratch = append(x.scratch[:0], `{"type":"content_block_stop","index":0}`...)
		x.chunk()
		b := append(x.scratch[:0], `{"type":"message_delta","delta":{"stop_reason":"`...)
		b = append(b, x.stopReason()...)
		b = append(b, `","stop_sequence":null},"usage":{"output_tokens":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		x.scratch = append(b, `}}`...)
		x.chunk()
		b = append(x.scratch[:0], `{"type":"message_stop",`...)
		b = x.appendInvocationMetrics(b, n, latency)
		x.scratch = append(b, '}')
		x.chunk()
	default:
		b := x.openAIChunkHead(x.scratch[:0])
		b = append(b, `{"index":0,"delta":{},"finish_reason":"`...)
		b = append(b, x.stopReason()...)
		b = append(b, `"}]`...)
		if !x.req.includeUsage {
			b = append(b, ',')
			b = x.appendInvocationMetrics(b, n, latency)
		}
		x.scratch = append(b, '}')
		x.chunk()
		if x.req.includeUsage {
			b = x.openAIChunkHead(x.scratch[:0])
			b = append(b, `],"usage":{"prompt_tokens":`...)
			b = strconv.AppendInt(b, in, 10)
			b = append(b, `,"completion_tokens":`...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, `,"total_tokens":`...)
			b = strconv.AppendInt(b, in+int64(n), 10)
			b = append(b, `},`...)
			b = x.appendInvocationMetrics(b, n, latency)
			x.scratch = append(b, '}')
			x.chunk()
		}
	}
}

// openAIChunkHead appends a chat.completion.chunk up to the opening of its
// choices array.
func (x *brExchange) openAIChunkHead(b []byte) []byte {
	b = append(b, `{"id":"chatcmpl-`...)
	b = brAppendIDHex(b, x.rid)
	b = append(b, `","object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, x.t0.Unix(), 10)
	b = append(b, `,"model":`...)
	b = brAppendJSONString(b, x.model)
	return append(b, `,"choices":[`...)
}

// appendInvocationMetrics appends Bedrock's "amazon-bedrock-invocationMetrics"
// member, which ends every InvokeModelWithResponseStream response.
func (x *brExchange) appendInvocationMetrics(b []byte, n int32, latency int64) []byte {
	b = append(b, `"amazon-bedrock-invocationMetrics":{"inputTokenCount":`...)
	b = strconv.AppendInt(b, int64(x.req.input), 10)
	b = append(b, `,"outputTokenCount":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"invocationLatency":`...)
	b = strconv.AppendInt(b, latency, 10)
	b = append(b, `,"firstByteLatency":`...)
	b = strconv.AppendInt(b, x.first.Milliseconds(), 10)
	return append(b, '}')
}

// brAppendChunk appends a "chunk" event carrying inner as base64 bytes.
func brAppendChunk(dst, inner []byte) []byte {
	dst, start := brBeginFrame(dst, brHdrChunk)
	dst = append(dst, `{"bytes":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, inner)
	dst = append(dst, `"}`...)
	dst, _ = brEndFrame(dst, start, len(brHdrChunk))
	return dst
}

// brAppendIDHex appends the request id's hex digits (dashes dropped).
func brAppendIDHex(b []byte, rid string) []byte {
	for i := 0; i < len(rid); i++ {
		if rid[i] != '-' {
			b = append(b, rid[i])
		}
	}
	return b
}

// brAppendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, so a hostile model id cannot break the response.
func brAppendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
