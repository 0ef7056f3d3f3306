package fake

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Azure OpenAI chat completions, as specified by the Azure OpenAI REST API
// reference (Azure/azure-rest-api-specs, inference API 2024-10-21) and
// Microsoft Learn's v1 API page, with the streamed chunk order of
// docs/references.md [11] (checked against openai-go/v3 v3.98.0 and
// azopenai v0.7.2).
//
// Routes:
//
//	POST /openai/deployments/{deployment}/chat/completions?api-version=…
//	POST /openai/v1/chat/completions    (deployment in the body's "model")
//
// Anything else under /openai/ answers 404 {"error":{"code":"404","message":"Resource not found"}}.
//
// Test triggers: a prompt containing the word __content_filter__ is refused
// with Azure's 400 content_filter error (innererror ResponsibleAIPolicyViolation);
// one containing __server_error__ gets Azure's 500 server_error. The header
// x-mcbench-output-tokens: N asks for exactly N output tokens (capped by
// max_tokens); without it the length is drawn from the scenario.
//
// The synthetic output is deterministic: the i-th output token of every
// response is the word AppendWords(nil, 0, i, 1) (seed 0), so a client can
// compute the text it should receive.
//
// How refusals and faults reach the client: a quota refusal and a full
// queue are 429 with retry-after / retry-after-ms; an outage is 503
// ServiceUnavailable, and a call in flight when an outage window opens has
// its connection dropped (as the simulator fails calls in service); reset
// sends a TCP RST; silent hangs up once the window ends (or the client
// leaves); stream_cut drops the connection where the (Output/2+1)-th token
// would have been sent; malformed corrupts the first content chunk (a
// non-streaming body is cut in half instead).

const (
	// AzureContentFilterWord in a prompt triggers Azure's 400 content_filter error.
	AzureContentFilterWord = "__content_filter__"
	// AzureServerErrorWord in a prompt triggers Azure's 500 server_error.
	AzureServerErrorWord = "__server_error__"
	// AzureContextWindow is the context window, in tokens, every fake Azure
	// deployment enforces (a 128k-token model such as gpt-4o): a prompt
	// longer than it, or prompt + max_tokens beyond it, gets 400
	// context_length_exceeded.
	AzureContextWindow = 128_000
	// OutputTokensHeader asks the fake for an exact number of output tokens.
	OutputTokensHeader = "X-Mcbench-Output-Tokens"
)

const (
	// azWordSeed is the AppendWords seed of every Azure response (see above).
	azWordSeed = 0
	// azMaxTokensPerChunk bounds how many output tokens that fall due at the
	// same instant (a TPOT far below timer resolution, or a stream running
	// behind schedule) are grouped into one content chunk, instead of a
	// burst of one-token events each costing a flush.
	azMaxTokensPerChunk = 16
	// azPooledBufMax is the largest buffer returned to a pool; a rare huge
	// prompt should not pin its memory for the life of the process.
	azPooledBufMax = 64 << 10
)

// azureHandler serves the Azure OpenAI routes of one Server.
type azureHandler struct {
	s    *Server
	deps map[string]*azureDeployment
}

// azureDeployment is a Deployment with what its responses repeat, rendered
// once: header values, the model name and fingerprint, outage start times.
type azureDeployment struct {
	d           *Deployment
	model       string
	fingerprint string
	region      []string // x-ms-region value
	name        []string // x-ms-deployment-name value
	// outages are the starts of the deployment's outage windows, sorted, so
	// calls in flight when one opens are cut as the simulator cuts them.
	outages []time.Duration
}

func (s *Server) registerAzure(mux *http.ServeMux) {
	h := &azureHandler{s: s, deps: make(map[string]*azureDeployment, len(s.azure))}
	for name, d := range s.azure {
		h.deps[name] = newAzureDeployment(d)
	}
	mux.HandleFunc("POST /openai/deployments/{deployment}/chat/completions", h.deploymentRoute)
	mux.HandleFunc("POST /openai/v1/chat/completions", h.v1Route)
	// Azure answers every other path under /openai/ with this 404. The
	// pattern is /openai/ rather than / so the Bedrock routes keep theirs.
	mux.HandleFunc("/openai/", h.notFoundRoute)
}

func newAzureDeployment(d *Deployment) *azureDeployment {
	model := d.Model
	if model == "" {
		model = d.Name
	}
	f := fnv.New64a()
	f.Write([]byte(model))
	fp := strconv.FormatUint(f.Sum64(), 16)
	for len(fp) < 10 {
		fp = "0" + fp
	}
	ad := &azureDeployment{
		d: d, model: model, fingerprint: "fp_" + fp[:10],
		region: []string{azureRegionDisplayName(d.Region)}, name: []string{d.Name},
	}
	for _, w := range d.faults {
		if w.kind == scenarios.FaultOutage {
			ad.outages = append(ad.outages, w.start)
		}
	}
	for i := 1; i < len(ad.outages); i++ { // few windows: insertion sort
		for j := i; j > 0 && ad.outages[j] < ad.outages[j-1]; j-- {
			ad.outages[j], ad.outages[j-1] = ad.outages[j-1], ad.outages[j]
		}
	}
	return ad
}

// nextOutage returns when the first outage window opening after t begins,
// or the zero time if none does.
func (ad *azureDeployment) nextOutage(t time.Time) time.Time {
	origin := ad.d.origin()
	now := t.Sub(origin)
	for _, s := range ad.outages {
		if s > now {
			return origin.Add(s)
		}
	}
	return time.Time{}
}

// azureRegions maps Azure region names to the display names Azure puts in
// x-ms-region.
var azureRegions = map[string]string{
	"eastus": "East US", "eastus2": "East US 2", "westus": "West US", "westus2": "West US 2",
	"westus3": "West US 3", "centralus": "Central US", "northcentralus": "North Central US",
	"southcentralus": "South Central US", "canadaeast": "Canada East", "canadacentral": "Canada Central",
	"brazilsouth": "Brazil South", "swedencentral": "Sweden Central", "francecentral": "France Central",
	"germanywestcentral": "Germany West Central", "westeurope": "West Europe", "northeurope": "North Europe",
	"uksouth": "UK South", "switzerlandnorth": "Switzerland North", "norwayeast": "Norway East",
	"polandcentral": "Poland Central", "spaincentral": "Spain Central", "italynorth": "Italy North",
	"australiaeast": "Australia East", "japaneast": "Japan East", "koreacentral": "Korea Central",
	"southindia": "South India", "centralindia": "Central India", "southeastasia": "Southeast Asia",
	"eastasia": "East Asia", "uaenorth": "UAE North", "southafricanorth": "South Africa North",
}

func azureRegionDisplayName(region string) string {
	if n, ok := azureRegions[region]; ok {
		return n
	}
	return region
}

// --- routes ---

func (h *azureHandler) notFoundRoute(w http.ResponseWriter, r *http.Request) {
	h.fail(w, azNewRequestID(), nil, azResourceNotFound())
}

func (h *azureHandler) deploymentRoute(w http.ResponseWriter, r *http.Request) {
	reqID := azNewRequestID()
	// Public reports say Azure answers a missing api-version with the
	// generic 404; any value is accepted.
	version, ok := azQueryValue(r.URL.RawQuery, "api-version")
	if !ok || version == "" {
		h.fail(w, reqID, nil, azResourceNotFound())
		return
	}
	// The key is checked before the deployment, so a wrong key never
	// learns which deployments exist (Azure's gateway authenticates first;
	// public 401 reports show no deployment check).
	if !h.authorized(r) {
		h.fail(w, reqID, nil, azUnauthorized())
		return
	}
	dep := h.deps[r.PathValue("deployment")]
	if dep == nil {
		h.fail(w, reqID, nil, azDeploymentNotFound())
		return
	}
	h.serve(w, r, reqID, version, dep)
}

func (h *azureHandler) v1Route(w http.ResponseWriter, r *http.Request) {
	reqID := azNewRequestID()
	if !h.authorized(r) {
		h.fail(w, reqID, nil, azUnauthorized())
		return
	}
	h.serve(w, r, reqID, "v1", nil)
}

// authorized checks the api-key header, or a Bearer token (what the plain
// OpenAI client sends on /openai/v1), in constant time.
func (h *azureHandler) authorized(r *http.Request) bool {
	var got string
	if v := r.Header["Api-Key"]; len(v) > 0 {
		got = v[0]
	} else if v := r.Header["Authorization"]; len(v) > 0 && len(v[0]) > 7 && strings.EqualFold(v[0][:7], "bearer ") {
		got = v[0][7:]
	} else {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(h.s.creds.APIKey)) == 1
}

// azQueryValue finds key in a raw query string without building url.Values
// (a map per request on the hot path).
func azQueryValue(raw, key string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
		}
		return v, true
	}
	return "", false
}

// serve handles an authorised chat-completions request; dep is nil on the
// v1 route, where the body names the deployment.
func (h *azureHandler) serve(w http.ResponseWriter, r *http.Request, reqID, version string, dep *azureDeployment) {
	if e := azCheckContentType(r.Header.Get("Content-Type")); e != nil {
		h.fail(w, reqID, dep, e)
		return
	}
	buf, e := h.readBody(w, r)
	if e != nil {
		h.fail(w, reqID, dep, e)
		return
	}
	chat, e := azDecode(buf.Bytes(), dep == nil)
	azPutBuffer(buf)
	if e != nil {
		h.fail(w, reqID, dep, e)
		return
	}
	if dep == nil {
		if dep = h.deps[chat.model]; dep == nil {
			h.fail(w, reqID, nil, azDeploymentNotFound())
			return
		}
	}
	want := int32(-1)
	if v := r.Header[OutputTokensHeader]; len(v) > 0 {
		n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 32)
		if err != nil || n < 0 {
			h.fail(w, reqID, dep, azInvalidRequest("The x-mcbench-output-tokens header must be a non-negative integer.", ""))
			return
		}
		want = int32(n)
	}
	switch {
	case chat.filter:
		h.fail(w, reqID, dep, azContentFiltered())
		return
	case chat.serverError:
		h.fail(w, reqID, dep, azServerError())
		return
	}

	call := Call{InputTokens: chat.input, MaxTokens: chat.maxTokens, WantOutput: want}
	if msg := h.s.readCall(r, &call); msg != "" {
		h.fail(w, reqID, dep, azInvalidRequest(msg, ""))
		return
	}
	plan, ref := dep.d.Admit(r.Context(), call)
	if ref != nil {
		h.refuse(w, reqID, version, dep, chat.input, chat.maxTokens, ref)
		return
	}
	// The plan's clock starts when the call holds a slot on the plan: the
	// model's TTFT excludes queueing, which the client sees on top. Every
	// event goes out the link latency back to the caller later.
	start := plan.Start.Add(plan.Back)
	if chat.stream {
		h.stream(w, r, reqID, dep, &chat, plan, start)
	} else {
		h.complete(w, r, reqID, dep, &chat, plan, start)
	}
}

// --- request body ---

var azBufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func azPutBuffer(b *bytes.Buffer) {
	if b.Cap() <= azPooledBufMax {
		b.Reset()
		azBufferPool.Put(b)
	}
}

// readBody reads the body, at most s.maxBody bytes, within the server's
// read timeout. The returned buffer goes back with azPutBuffer.
func (h *azureHandler) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, *azError) {
	limit := h.s.maxBody
	if r.ContentLength > limit {
		return nil, azTooLarge(limit)
	}
	buf := azBufferPool.Get().(*bytes.Buffer)
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		azPutBuffer(buf)
		var mb *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &mb):
			return nil, azTooLarge(limit)
		case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
			return nil, azRequestTimeout()
		}
		panic(http.ErrAbortHandler) // the client went away: nobody to answer
	}
	// Reading to EOF also lifts the server's ReadTimeout deadline (net/http
	// clears it when it starts watching for the client hanging up), so a
	// response may outlast ReadTimeout; TestAzureLongStreamOutlivesReadTimeout
	// holds the fake to that.
	return buf, nil
}

// --- request decoding ---

// azChat is what the fake needs of a chat-completions request.
type azChat struct {
	model        string
	input        int32 // prompt tokens (words over all message contents)
	maxTokens    int32 // 0 when the request sets no limit
	stream       bool
	includeUsage bool
	filter       bool // the prompt holds AzureContentFilterWord
	serverError  bool // the prompt holds AzureServerErrorWord
}

type azWireRequest struct {
	Model               string          `json:"model"`
	Messages            []azWireMessage `json:"messages"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type azWireMessage struct {
	Role    *string       `json:"role"`
	Content azWireContent `json:"content"`
}

// azWireContent is a message's content: a string, an array of parts or
// null. It is measured while decoding, from the raw JSON, so prompt text is
// never copied.
type azWireContent struct {
	tokens              int64
	filter, serverError bool
	// bad describes the JSON found where content was expected, if invalid.
	bad string
}

type azWirePart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

// UnmarshalJSON measures content without keeping it. Type problems are
// recorded rather than returned so the caller can name the message.
func (c *azWireContent) UnmarshalJSON(b []byte) error {
	*c = azWireContent{}
	switch b[0] {
	case 'n':
		return nil
	case '"':
		if bytes.IndexByte(b, '\\') < 0 {
			// No escapes: the bytes between the quotes are the text. The
			// string aliases the request buffer only for this call.
			inner := b[1 : len(b)-1]
			c.add(unsafe.String(unsafe.SliceData(inner), len(inner)))
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		c.add(s)
	case '[':
		var parts []azWirePart
		if err := json.Unmarshal(b, &parts); err != nil {
			c.bad = "an array with an invalid content part"
			return nil
		}
		for _, p := range parts {
			if p.Type == "" {
				c.bad = "a content part without a type"
				return nil
			}
			if p.Type == "text" {
				if p.Text == nil {
					c.bad = "a text content part without text"
					return nil
				}
				c.add(*p.Text)
			}
			// Image and audio parts carry no text tokens in this model.
		}
	case '{':
		c.bad = "an object"
	case 't', 'f':
		c.bad = "a boolean"
	default:
		c.bad = "a number"
	}
	return nil
}

func (c *azWireContent) add(s string) {
	c.tokens += int64(CountTokens(s))
	if strings.Contains(s, AzureContentFilterWord) {
		c.filter = true
	}
	if strings.Contains(s, AzureServerErrorWord) {
		c.serverError = true
	}
}

// azCheckContentType accepts JSON media types only.
func azCheckContentType(ct string) *azError {
	if ct == "application/json" || strings.HasPrefix(ct, "application/json;") {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	if len(ct) > 100 {
		ct = ct[:100]
	}
	if ct == "" {
		return azInvalidRequest("The request has no Content-Type; the body must be JSON (Content-Type: application/json).", "")
	}
	return azInvalidRequest("Unsupported Content-Type '"+ct+"'; the body must be JSON (Content-Type: application/json).", "")
}

var azRoles = [...]string{"system", "developer", "user", "assistant", "tool", "function"}

// azDecode decodes and validates a chat-completions body. v1 says the
// deployment comes from the body's model field. Every error is a 4xx.
func azDecode(body []byte, v1 bool) (azChat, *azError) {
	var req azWireRequest
	if err := json.Unmarshal(body, &req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return azChat{}, azInvalidRequest("Invalid type for '"+te.Field+"': expected "+azGoTypeName(te)+", but got "+azJSONKindName(te.Value)+" instead.", te.Field)
		}
		return azChat{}, azInvalidRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "")
	}
	if req.Messages == nil {
		return azChat{}, azInvalidRequest("Missing required parameter: 'messages'.", "messages")
	}
	if len(req.Messages) == 0 {
		return azChat{}, azInvalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages")
	}
	if v1 && req.Model == "" {
		return azChat{}, azInvalidRequest("Missing required parameter: 'model'.", "model")
	}
	chat := azChat{model: req.Model, stream: req.Stream}
	var input int64
	for i := range req.Messages {
		m := &req.Messages[i]
		if m.Role == nil {
			p := "messages[" + strconv.Itoa(i) + "].role"
			return azChat{}, azInvalidRequest("Missing required parameter: '"+p+"'.", p)
		}
		known := false
		for _, r := range azRoles {
			known = known || *m.Role == r
		}
		if !known {
			p := "messages[" + strconv.Itoa(i) + "].role"
			return azChat{}, azInvalidRequest("Invalid value: '"+azClip(*m.Role)+"'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", p)
		}
		if m.Content.bad != "" {
			p := "messages[" + strconv.Itoa(i) + "].content"
			return azChat{}, azInvalidRequest("Invalid type for '"+p+"': expected one of a string or array of objects, but got "+m.Content.bad+" instead.", p)
		}
		input += m.Content.tokens
		chat.filter = chat.filter || m.Content.filter
		chat.serverError = chat.serverError || m.Content.serverError
	}
	// max_completion_tokens is the newer name (and the only one reasoning
	// models take); when both are sent it wins.
	maxTok, param := req.MaxTokens, "max_tokens"
	if req.MaxCompletionTokens != nil {
		maxTok, param = req.MaxCompletionTokens, "max_completion_tokens"
	}
	if maxTok != nil && *maxTok < 1 {
		return azChat{}, azInvalidRequest("Invalid '"+param+"': integer below minimum value. Expected a value >= 1, but got "+strconv.FormatInt(*maxTok, 10)+" instead.", param)
	}
	if req.StreamOptions != nil {
		if !req.Stream {
			return azChat{}, azInvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
		}
		chat.includeUsage = req.StreamOptions.IncludeUsage
	}
	switch {
	case input > AzureContextWindow:
		return azChat{}, azContextLengthExceeded("However, your messages resulted in " + strconv.FormatInt(input, 10) + " tokens. Please reduce the length of the messages.")
	case maxTok != nil && input+*maxTok > AzureContextWindow:
		return azChat{}, azContextLengthExceeded("However, you requested " + strconv.FormatInt(input+*maxTok, 10) + " tokens (" +
			strconv.FormatInt(input, 10) + " in the messages, " + strconv.FormatInt(*maxTok, 10) + " in the completion). Please reduce the length of the messages or completion.")
	}
	chat.input = int32(input)
	if maxTok != nil {
		chat.maxTokens = int32(*maxTok)
	}
	return chat, nil
}

func azClip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func azGoTypeName(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "a valid value"
	}
	switch s := te.Type.String(); {
	case strings.Contains(s, "int"):
		return "an integer"
	case s == "string" || s == "*string":
		return "a string"
	case s == "bool":
		return "a boolean"
	case strings.HasPrefix(s, "[]"):
		return "an array"
	default:
		return "an object"
	}
}

func azJSONKindName(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "bool":
		return "a boolean"
	case v == "array":
		return "an array"
	case v == "object":
		return "an object"
	case strings.HasPrefix(v, "number"):
		return "a number"
	}
	return "a value of another type"
}

// --- errors ---

// Error body shapes Azure uses.
const (
	// azStyleService: {"error":{"code":…,"message":…}}, the gateway's errors
	// (401, 404, 408, 413, 429, 503).
	azStyleService = iota
	// azStyleOpenAI: {"error":{"message":…,"type":…,"param":…,"code":…}},
	// the model service's validation and server errors (400, 500).
	azStyleOpenAI
	// azStyleContentFilter: the OpenAI shape plus status and innererror.
	azStyleContentFilter
)

// azError is an error response. Empty code and param are written as null.
type azError struct {
	status  int
	style   int
	code    string
	message string
	typ     string
	param   string
	// retryAfter is the advertised delay of a 429.
	retryAfter time.Duration
}

func azResourceNotFound() *azError {
	return &azError{status: http.StatusNotFound, code: "404", message: "Resource not found"}
}

func azUnauthorized() *azError {
	return &azError{status: http.StatusUnauthorized, code: "401",
		message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}
}

func azDeploymentNotFound() *azError {
	return &azError{status: http.StatusNotFound, code: "DeploymentNotFound",
		message: "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}
}

func azTooLarge(limit int64) *azError {
	return &azError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge",
		message: "The request body is larger than the limit of " + strconv.FormatInt(limit, 10) + " bytes."}
}

func azRequestTimeout() *azError {
	return &azError{status: http.StatusRequestTimeout, code: "RequestTimeout",
		message: "The client did not send the request body in time."}
}

func azInvalidRequest(msg, param string) *azError {
	return &azError{status: http.StatusBadRequest, style: azStyleOpenAI, code: "invalid_request_error",
		typ: "invalid_request_error", message: msg, param: param}
}

func azContextLengthExceeded(detail string) *azError {
	return &azError{status: http.StatusBadRequest, style: azStyleOpenAI, code: "context_length_exceeded",
		typ: "invalid_request_error", param: "messages",
		message: "This model's maximum context length is " + strconv.Itoa(AzureContextWindow) + " tokens. " + detail}
}

func azContentFiltered() *azError {
	return &azError{status: http.StatusBadRequest, style: azStyleContentFilter, code: "content_filter", param: "prompt",
		message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"}
}

func azServerError() *azError {
	return &azError{status: http.StatusInternalServerError, style: azStyleOpenAI, typ: "server_error",
		message: "The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if the error persists."}
}

func azServiceUnavailable() *azError {
	return &azError{status: http.StatusServiceUnavailable, code: "ServiceUnavailable",
		message: "The service is temporarily unable to process your request. Please try again later."}
}

// azThrottled is the 429 of a quota (tokens or requests) or of a full
// deployment, carrying the delay the client should wait.
func azThrottled(version string, ref *Refusal, retry time.Duration) *azError {
	secs := strconv.FormatInt(azRetryAfterSeconds(retry), 10)
	var msg string
	switch ref.Reason {
	case "quota_tokens":
		msg = "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version " + version +
			" have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after " + secs +
			" seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
	case "quota_requests":
		msg = "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version " + version +
			" have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after " + secs +
			" seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
	default:
		msg = "The deployment is at capacity: every slot is busy and its request queue is full. Please retry after " + secs + " seconds."
	}
	return &azError{status: http.StatusTooManyRequests, code: "429", message: msg, retryAfter: retry}
}

// azRetryAfterSeconds is the retry-after header value: whole seconds,
// rounded up, at least 1.
func azRetryAfterSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// azRetryAfterMillis is the retry-after-ms header value: milliseconds,
// rounded up, at least 1.
func azRetryAfterMillis(d time.Duration) int64 {
	return max(1, int64((d+time.Millisecond-1)/time.Millisecond))
}

// appendBody renders the error's JSON body.
func (e *azError) appendBody(dst []byte) []byte {
	dst = append(dst, `{"error":{`...)
	switch e.style {
	case azStyleService:
		dst = append(dst, `"code":`...)
		dst = appendQuotedJSON(dst, e.code)
		dst = append(dst, `,"message":`...)
		dst = appendQuotedJSON(dst, e.message)
	default:
		dst = append(dst, `"message":`...)
		dst = appendQuotedJSON(dst, e.message)
		dst = append(dst, `,"type":`...)
		dst = appendJSONStringOrNull(dst, e.typ)
		dst = append(dst, `,"param":`...)
		dst = appendJSONStringOrNull(dst, e.param)
		dst = append(dst, `,"code":`...)
		dst = appendJSONStringOrNull(dst, e.code)
		if e.style == azStyleContentFilter {
			dst = append(dst, `,"status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}`...)
		}
	}
	return append(dst, '}', '}')
}

func appendJSONStringOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendQuotedJSON(dst, s)
}

// fail writes an error response. dep, when known, adds the deployment's
// routing and rate-limit headers.
func (h *azureHandler) fail(w http.ResponseWriter, reqID string, dep *azureDeployment, e *azError) {
	bp := azGetBytes()
	body := e.appendBody((*bp)[:0])
	hd := w.Header()
	azSetCommonHeaders(hd, reqID, dep)
	hd["Content-Type"] = azJSONContentType
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	if e.code != "" {
		hd["X-Ms-Error-Code"] = []string{e.code}
	}
	if e.status == http.StatusTooManyRequests {
		hd["Retry-After"] = []string{strconv.FormatInt(azRetryAfterSeconds(e.retryAfter), 10)}
		hd["Retry-After-Ms"] = []string{strconv.FormatInt(azRetryAfterMillis(e.retryAfter), 10)}
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
	*bp = body
	azPutBytes(bp)
}

// refuse answers a call the deployment did not admit.
func (h *azureHandler) refuse(w http.ResponseWriter, reqID, version string, dep *azureDeployment, input, maxTok int32, ref *Refusal) {
	switch {
	case ref.Status == results.StatusThrottled:
		h.fail(w, reqID, dep, azThrottled(version, ref, ref.RetryAfter))
	case ref.Status == results.StatusRejected:
		// Azure answers an overloaded deployment with 429 as well. The
		// hint is the mean time until one of its slots frees.
		d := dep.d
		mean := d.outTokens.Mean()
		if maxTok > 0 {
			mean = min(mean, float64(maxTok))
		}
		wait := time.Duration(d.lat.MeanService(input, int32(mean)) / float64(max(d.conc, 1)) * 1e9)
		h.fail(w, reqID, dep, azThrottled(version, ref, wait))
	case ref.Reason == "outage":
		h.fail(w, reqID, dep, azServiceUnavailable())
	case ref.Reason == "reset":
		azResetConnection(w)
	case ref.Reason == "silent", ref.Reason == "cancelled":
		// Silent: Admit held the call until the window closed (or the
		// client gave up); the deployment never answers, so hang up.
		// Cancelled: the client is gone.
		panic(http.ErrAbortHandler)
	default:
		h.fail(w, reqID, dep, azServerError())
	}
}

// azResetConnection resets the client's TCP connection (RST, not FIN), as a
// crashed frontend does. Without a hijackable TCP connection it falls back
// to aborting the handler, which closes the connection.
func azResetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// --- responses ---

var (
	azJSONContentType = []string{"application/json"}
	azSSEContentType  = []string{"text/event-stream; charset=utf-8"}
	azNoCache         = []string{"no-cache"}
)

// azSetCommonHeaders sets the request id pair and, for a known deployment,
// its region, name and remaining quota.
func azSetCommonHeaders(hd http.Header, reqID string, dep *azureDeployment) {
	ids := []string{reqID, reqID}
	hd["Apim-Request-Id"] = ids[0:1:1]
	hd["X-Request-Id"] = ids[1:2:2]
	if dep == nil {
		return
	}
	hd["X-Ms-Region"] = dep.region
	hd["X-Ms-Deployment-Name"] = dep.name
	if dep.d.quota.Limited() {
		tok, req := dep.d.RateLimitRemaining()
		if req >= 0 {
			hd["X-Ratelimit-Remaining-Requests"] = []string{strconv.FormatInt(int64(req), 10)}
		}
		if tok >= 0 {
			hd["X-Ratelimit-Remaining-Tokens"] = []string{strconv.FormatInt(int64(tok), 10)}
		}
	}
}

var azBytesPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func azGetBytes() *[]byte { return azBytesPool.Get().(*[]byte) }

func azPutBytes(b *[]byte) {
	if cap(*b) <= azPooledBufMax {
		*b = (*b)[:0]
		azBytesPool.Put(b)
	}
}

// azFinishReason is "length" when the output hit the request's limit.
func azFinishReason(chat *azChat, out int32) string {
	limit := chat.maxTokens
	if limit <= 0 {
		limit = DefaultMaxTokens
	}
	if out >= limit {
		return "length"
	}
	return "stop"
}

// complete answers a non-streaming request after the plan's full service
// time, TTFT + Output × TPOT.
func (h *azureHandler) complete(w http.ResponseWriter, r *http.Request, reqID string, dep *azureDeployment, chat *azChat, plan *Plan, start time.Time) {
	out := plan.Output
	var end time.Time
	switch plan.Fault {
	case scenarios.FaultMalformed:
		end = start.Add(plan.TTFT)
	case scenarios.FaultStreamCut:
		end = start.Add(plan.TTFT + time.Duration(out/2)*plan.TPOT)
	default:
		end = start.Add(plan.TTFT + time.Duration(out)*plan.TPOT)
	}
	if cut := dep.nextOutage(start); !cut.IsZero() && cut.Before(end) {
		if sleepCtx(r.Context(), time.Until(cut)) {
			plan.Done(0, false)
			panic(http.ErrAbortHandler) // an outage opened: calls in flight are cut
		}
		plan.Done(0, false)
		return
	}
	if !sleepCtx(r.Context(), time.Until(end)) {
		plan.Done(0, false)
		return
	}
	bp := azGetBytes()
	body := appendAzCompletion((*bp)[:0], azNewCompletionID(), time.Now().Unix(), dep, chat, out)
	hd := w.Header()
	azSetCommonHeaders(hd, reqID, dep)
	setQueueHeader(hd, plan)
	var lag lagTracker
	lag.at(end)
	hd[LagHeader] = lag.value()
	hd["Content-Type"] = azJSONContentType
	switch plan.Fault {
	case scenarios.FaultMalformed:
		body = body[:len(body)/2]
	case scenarios.FaultStreamCut:
		// Promise the whole body, send half, hang up: the client sees an
		// unexpected EOF.
		hd["Content-Length"] = []string{strconv.Itoa(len(body))}
		_, _ = w.Write(body[:len(body)/2])
		http.NewResponseController(w).Flush()
		plan.Done(out/2, false)
		*bp = body
		azPutBytes(bp)
		panic(http.ErrAbortHandler)
	}
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	_, err := w.Write(body)
	*bp = body
	azPutBytes(bp)
	plan.Done(out, err == nil && plan.Fault == "")
}

// appendAzCompletion renders a non-streaming chat.completion body (the
// response schema of the Azure OpenAI REST API reference).
func appendAzCompletion(dst []byte, id string, created int64, dep *azureDeployment, chat *azChat, out int32) []byte {
	dst = append(dst, `{"choices":[{"content_filter_results":`+azCompletionFilterSafe+`,"finish_reason":"`...)
	dst = append(dst, azFinishReason(chat, out)...)
	dst = append(dst, `","index":0,"logprobs":null,"message":{"annotations":[],"content":"`...)
	dst = AppendWords(dst, azWordSeed, 0, out)
	dst = append(dst, `","refusal":null,"role":"assistant"}}],"created":`...)
	dst = strconv.AppendInt(dst, created, 10)
	dst = append(dst, `,"id":`...)
	dst = appendQuotedJSON(dst, id)
	dst = append(dst, `,"model":`...)
	dst = appendQuotedJSON(dst, dep.model)
	dst = append(dst, `,"object":"chat.completion","prompt_filter_results":`+azPromptFilterResults+`,"system_fingerprint":`...)
	dst = appendQuotedJSON(dst, dep.fingerprint)
	dst = append(dst, `,"usage":`...)
	dst = appendAzUsage(dst, chat.input, out)
	return append(dst, '}')
}

// azStreamState is what one stream reuses: the chunk encoder and the
// output buffer.
type azStreamState struct {
	enc azChunkEncoder
	buf []byte
}

var azStreamPool = sync.Pool{New: func() any { return &azStreamState{buf: make([]byte, 0, 4096)} }}

// stream answers a streaming request with Azure's chunk sequence
// (docs/references.md [11]). The first content chunk goes out at TTFT and
// token i at TTFT + i×TPOT; the finish chunk follows one TPOT after the
// last token (the decode step that produced end-of-sequence), so a stream
// ends when a non-streaming answer would. Events that fall due together
// are written and flushed together.
func (h *azureHandler) stream(w http.ResponseWriter, r *http.Request, reqID string, dep *azureDeployment, chat *azChat, plan *Plan, start time.Time) {
	ctx := r.Context()
	fl, _ := w.(http.Flusher)
	st := azStreamPool.Get().(*azStreamState)
	defer func() {
		if cap(st.buf) <= azPooledBufMax {
			azStreamPool.Put(st)
		}
	}()
	enc := &st.enc
	enc.reset(azNewCompletionID(), time.Now().Unix(), dep.model, dep.fingerprint)

	hd := w.Header()
	azSetCommonHeaders(hd, reqID, dep)
	setQueueHeader(hd, plan)
	hd["Content-Type"] = azSSEContentType
	hd["Cache-Control"] = azNoCache
	hd["Trailer"] = azLagTrailer
	w.WriteHeader(http.StatusOK)
	// The prompt's filter results come before any token: first byte < first token.
	buf := enc.appendPromptFilter(st.buf[:0])

	out := plan.Output
	limit := out // tokens to send
	if plan.Fault == scenarios.FaultStreamCut {
		limit = out / 2
	}
	outage := dep.nextOutage(start)
	due := func(i int32) time.Time { return start.Add(plan.TTFT + time.Duration(i)*plan.TPOT) }
	var timer *time.Timer
	flush := func() bool {
		if len(buf) == 0 {
			return true
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		if err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	// wait flushes what is pending and sleeps until t; false if the client left.
	wait := func(t time.Time) bool {
		d := time.Until(t)
		if d <= 0 {
			return ctx.Err() == nil
		}
		if !flush() {
			return false
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-timer.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		st.buf = buf[:0]
	}()

	var sent int32
	var lag lagTracker
	for i := int32(0); ; {
		t := due(i)
		if !outage.IsZero() && !t.Before(outage) {
			// An outage opened mid-stream: the connection drops.
			ok := wait(outage) && flush()
			plan.Done(sent, false)
			if !ok {
				return
			}
			panic(http.ErrAbortHandler)
		}
		if !wait(t) {
			plan.Done(sent, false)
			return
		}
		lag.at(t)
		if i == limit {
			break
		}
		if i == 0 {
			buf = enc.appendRole(buf)
			if plan.Fault == scenarios.FaultMalformed {
				buf = enc.appendMalformed(buf, azWordSeed, 0, 1)
				flush()
				plan.Done(0, false)
				return
			}
		}
		n := int32(1)
		for now := time.Now(); i+n < limit && n < azMaxTokensPerChunk && !due(i+n).After(now); n++ {
		}
		buf = enc.appendContentWords(buf, azWordSeed, i, n)
		i += n
		sent = i
	}
	if limit < out {
		// stream_cut: the (limit+1)-th token never comes; hang up.
		ok := flush()
		plan.Done(sent, false)
		if !ok {
			return
		}
		panic(http.ErrAbortHandler)
	}
	buf = enc.appendFinish(buf, azFinishReason(chat, out))
	if chat.includeUsage {
		buf = enc.appendUsage(buf, chat.input, out)
	}
	buf = enc.appendDone(buf)
	ok := flush()
	lag.at(due(out))
	hd[LagHeader] = lag.value() // sent as the trailer declared above
	plan.Done(out, ok)
}

// azLagTrailer declares the LagHeader trailer of a stream.
var azLagTrailer = []string{LagHeader}

// --- ids ---

// azNewRequestID returns a random UUID for apim-request-id and
// x-request-id. The ids only need to be unique, not unpredictable, so
// math/rand's per-thread generator does (crypto/rand is a syscall).
func azNewRequestID() string {
	var b [36]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	j := 0
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = hi >> (60 - 4*i) & 0xf
		} else {
			nib = lo >> (60 - 4*(i-16)) & 0xf
		}
		b[j] = azHexDigits[nib]
		j++
	}
	return string(b[:])
}

const azIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// azNewCompletionID returns an id shaped like Azure's: "chatcmpl-" and 29
// alphanumerics.
func azNewCompletionID() string {
	var b [9 + 29]byte
	copy(b[:], "chatcmpl-")
	x := rand.Uint64()
	for i := 9; i < len(b); i++ {
		if i%10 == 0 {
			x = rand.Uint64()
		}
		b[i] = azIDAlphabet[x%62]
		x /= 62
	}
	return string(b[:])
}
