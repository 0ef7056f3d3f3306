package record

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mcbench/mcbench/backends/azure"
	"github.com/mcbench/mcbench/backends/bedrock"
	"github.com/mcbench/mcbench/backends/timing"
)

// Sink receives the calls a Proxy records; *Writer is one.
type Sink interface {
	Write(*Call) error
}

// Options configure a Proxy.
type Options struct {
	// Upstream is the base URL calls are forwarded to (scheme and host, and
	// optionally a path prefix).
	Upstream *url.URL
	// Sink receives one Call per recognised call.
	Sink Sink
	// AWS, when set, are the credentials Bedrock requests are re-signed with
	// for the upstream host (see Proxy). Without them SigV4 requests pass
	// through with the client's signature and Host header, which only an
	// upstream that checks the signature against the Host it receives (a
	// fake) accepts.
	AWS *aws.Credentials
	// Region overrides the signing region, which is otherwise taken from the
	// client's credential scope.
	Region string
	// Transport reaches the upstream. Default: http.DefaultTransport's
	// settings with compression off and up to 1024 idle connections kept.
	Transport http.RoundTripper
	// MaxRequestBody bounds a request body (default 32 MiB); the proxy holds
	// a request body in memory to read its limits and to re-sign it.
	MaxRequestBody int64
	// Logf reports problems that are not the calls' own (a failing sink).
	// Default: discard.
	Logf func(format string, args ...any)
}

// Proxy is the recording reverse proxy. It recognises the Azure OpenAI
// chat-completions routes (/openai/deployments/{d}/chat/completions,
// /openai/v1/chat/completions) and the Bedrock Runtime inference routes
// (/model/{id}/converse, /converse-stream, /invoke,
// /invoke-with-response-stream), passes requests and responses through,
// flushing every write of a stream at once, and writes one Call per
// recognised call when its response body ends. Other paths are passed
// through unrecorded.
//
// Responses are timed as they pass through with the decoders of packages
// azure and bedrock, reading the bytes the proxy copies to the client (a
// tee); nothing is buffered beyond one SSE line or event-stream frame.
//
// When the upstream body fails mid-way (a reset, a cut stream), the client's
// connection is reset too rather than closed, so the client sees the failure
// as it would without the proxy.
//
// Two things differ from a byte-for-byte relay, on purpose:
//
//   - Accept-Encoding is dropped from requests, so the upstream answers
//     uncompressed: compression would batch a stream's events and the
//     decoders need to see them.
//   - With Options.AWS set, a SigV4-signed request is re-signed for the
//     upstream host: the client signed it for the proxy's host, and SigV4
//     covers the Host header, so passing the signature on fails against
//     real Bedrock. The signing region and service come from the client's
//     credential scope (or Options.Region). The client's Authorization,
//     X-Amz-Date, X-Amz-Security-Token and X-Amz-Content-Sha256 are
//     replaced; bearer-token requests pass through as they are. Azure keys
//     always pass through untouched.
type Proxy struct {
	opt      Options
	rp       *httputil.ReverseProxy
	base     http.RoundTripper
	signer   *v4.Signer
	inflight atomic.Int64
	sinkErrs atomic.Int64
}

// New returns a proxy.
func New(opt Options) (*Proxy, error) {
	if opt.Upstream == nil || opt.Upstream.Scheme == "" || opt.Upstream.Host == "" {
		return nil, errors.New("record: the upstream must be an absolute URL such as https://myresource.openai.azure.com")
	}
	if opt.Upstream.Scheme != "http" && opt.Upstream.Scheme != "https" {
		return nil, fmt.Errorf("record: upstream scheme %q is not http or https", opt.Upstream.Scheme)
	}
	if opt.Upstream.RawQuery != "" || opt.Upstream.User != nil {
		return nil, errors.New("record: the upstream URL must not carry a query or user info (keys go in headers)")
	}
	if opt.Sink == nil {
		return nil, errors.New("record: no sink for the calls")
	}
	if opt.MaxRequestBody <= 0 {
		opt.MaxRequestBody = 32 << 20
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	p := &Proxy{opt: opt, base: opt.Transport, signer: v4.NewSigner()}
	if p.base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableCompression = true
		// Keep a connection per concurrent call: the default keeps two per
		// host, so under load most calls would dial (and, to a real
		// endpoint, handshake TLS) afresh, and that time would be recorded
		// as the service's.
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 0, 1024
		p.base = tr
	}
	up := opt.Upstream
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.Header.Del("Accept-Encoding")
			if opt.AWS == nil && isSigV4(pr.In.Header) {
				// The client's signature covers its Host; keep it.
				pr.Out.Host = pr.In.Host
			}
		},
		Transport:     p,
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client left; nobody to answer
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, `{"error":{"code":"502","message":%q}}`+"\n", "mcbench record: upstream unreachable: "+err.Error())
		},
	}
	return p, nil
}

func isSigV4(h http.Header) bool {
	return strings.HasPrefix(h.Get("Authorization"), "AWS4-HMAC-SHA256 ")
}

// InFlight returns the calls in flight through the proxy.
func (p *Proxy) InFlight() int64 { return p.inflight.Load() }

// callKey carries a call's state from ServeHTTP to RoundTrip.
type callKey struct{}

type callState struct {
	rt                route
	info              reqInfo
	body              []byte
	apiVer            string
	region, requestID string
	timing            timing.Stream
}

// ServeHTTP forwards one request, recording it if its route is recognised.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := classify(r.URL.EscapedPath())
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, p.opt.MaxRequestBody+1))
		r.Body.Close()
		switch {
		case err != nil:
			http.Error(w, "mcbench record: reading the request body: "+err.Error(), http.StatusBadRequest)
			return
		case int64(len(body)) > p.opt.MaxRequestBody:
			http.Error(w, fmt.Sprintf("mcbench record: request body larger than %d bytes", p.opt.MaxRequestBody), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
		cs := &callState{body: body}
		if ok {
			cs.rt, cs.info = rt, parseRequest(rt, body)
			if rt.v1 {
				cs.rt.deployment = cs.info.model
			}
			cs.apiVer = r.URL.Query().Get("api-version")
		}
		r = r.WithContext(context.WithValue(r.Context(), callKey{}, cs))
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler && resetConn(w) {
				return
			}
			panic(v)
		}
	}()
	p.rp.ServeHTTP(w, r)
}

// resetConn resets the client's connection. The ReverseProxy aborts a
// response whose upstream body failed mid-way, and the server then closes
// the connection gracefully, which some clients cannot tell from the end of
// a stream (the Go SDKs' event-stream reader takes an unexpected EOF for a
// clean end). A reset is what the upstream did, so the client sees it too.
func resetConn(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return false
	}
	_ = brw.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

// RoundTrip is the proxy's transport: it re-signs Bedrock requests, sends
// the request upstream and wraps the response body in a timed body.
func (p *Proxy) RoundTrip(req *http.Request) (*http.Response, error) {
	cs, _ := req.Context().Value(callKey{}).(*callState)
	if cs != nil && isSigV4(req.Header) {
		cs.region, _, _ = credentialScope(req.Header.Get("Authorization"))
		if p.opt.Region != "" {
			cs.region = p.opt.Region
		}
	}
	if p.opt.AWS != nil && isSigV4(req.Header) {
		var body []byte
		if cs != nil {
			body = cs.body
		}
		if err := p.resign(req, body); err != nil {
			return nil, err
		}
	}
	if cs == nil || cs.rt.provider == "" {
		return p.base.RoundTrip(req)
	}
	start := time.Now()
	concurrent := int(p.inflight.Add(1))
	resp, err := p.base.RoundTrip(req)
	if err != nil {
		c := p.call(cs, start, concurrent, 0)
		c.Error, c.TotalMS = "upstream", timing.Millis(time.Since(start))
		if req.Context().Err() != nil {
			c.Error = "cancelled"
		}
		p.write(c)
		p.inflight.Add(-1)
		return nil, err
	}
	t := &cs.timing
	t.Headers = time.Since(start)
	var dec timing.BodyDecoder
	if cs.rt.provider == ProviderAzure {
		dec = azure.NewBodyDecoder(resp, t)
		cs.region, cs.requestID = resp.Header.Get("x-ms-region"), resp.Header.Get("apim-request-id")
	} else {
		dec = bedrock.NewBodyDecoder(resp, t)
		cs.requestID = resp.Header.Get("x-amzn-RequestId")
	}
	tb := timing.NewTimedBody(resp.Body, start, t, dec)
	status := resp.StatusCode
	tb.OnEnd = func(t *timing.Stream) {
		p.write(p.call(cs, start, concurrent, status))
		p.inflight.Add(-1)
	}
	resp.Body = tb
	return resp, nil
}

// call builds the record of a call that has ended.
func (p *Proxy) call(cs *callState, start time.Time, concurrent, status int) *Call {
	t := &cs.timing
	c := &Call{
		Start: start.UTC(), Provider: cs.rt.provider, Deployment: cs.rt.deployment, ModelID: cs.rt.modelID,
		Operation: cs.rt.operation, APIVersion: cs.apiVer, Region: cs.region, RequestID: cs.requestID, Stream: cs.info.stream, Status: status,
		MaxTokens: cs.info.maxTokens, IncludeUsage: cs.info.includeUsage, RequestBytes: int64(len(cs.body)),
		InputWords: cs.info.inputWords, Concurrent: concurrent,
	}
	if status == 0 {
		return c
	}
	c.Error = timing.ErrorClass(t.Err)
	var se *timing.ServiceError
	if errors.As(t.Err, &se) {
		c.ErrorCode = se.Code
	}
	c.Usage, c.InputTokens, c.OutputTokens = t.Usage, t.InputTokens, t.OutputTokens
	c.StreamTokens, c.Chunks, c.Stop, c.ResponseBytes = t.Tokens, t.Chunks, t.Stop, t.Bytes
	c.HeadersMS, c.TotalMS = timing.Millis(t.Headers), timing.Millis(t.Done)
	if t.Bytes > 0 {
		c.FirstByteMS = timing.Millis(t.FirstByte)
	}
	if t.Chunks > 0 {
		c.TTFTMS, c.LastTokenMS = timing.Millis(t.FirstToken), timing.Millis(t.LastToken)
	}
	if t.Events > 0 {
		c.Stream = true // what the response did, whatever the request said
		g := t.Gaps
		c.Gaps = &g
	}
	return c
}

func (p *Proxy) write(c *Call) {
	if err := p.opt.Sink.Write(c); err != nil {
		// Report the first failure and then every thousandth, not each.
		if n := p.sinkErrs.Add(1); n == 1 || n%1000 == 0 {
			p.opt.Logf("recording a call failed (%d so far): %v", n, err)
		}
	}
}

// resign replaces the client's SigV4 signature with one for the upstream
// host, made with the proxy's credentials.
func (p *Proxy) resign(req *http.Request, body []byte) error {
	region, service, ok := credentialScope(req.Header.Get("Authorization"))
	if !ok {
		return errors.New("record: cannot re-sign: the client's SigV4 credential scope does not parse")
	}
	if p.opt.Region != "" {
		region = p.opt.Region
	}
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
		req.Header.Del(h)
	}
	sum := sha256.Sum256(body)
	return p.signer.SignHTTP(req.Context(), *p.opt.AWS, req, hex.EncodeToString(sum[:]), service, region, time.Now().UTC())
}

// credentialScope returns the region and service of a SigV4 Authorization
// header: "AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/bedrock/aws4_request, …".
func credentialScope(auth string) (region, service string, ok bool) {
	_, rest, found := strings.Cut(auth, "Credential=")
	if !found {
		return "", "", false
	}
	rest, _, _ = strings.Cut(rest, ",")
	parts := strings.Split(strings.TrimSpace(rest), "/")
	if len(parts) != 5 || parts[2] == "" || parts[3] == "" || parts[4] != "aws4_request" {
		return "", "", false
	}
	return parts[2], parts[3], true
}

// Serve serves the proxy on l until ctx is done, then stops accepting and
// gives calls in flight up to grace to finish (their lines are written as
// they end) before closing the rest.
func (p *Proxy) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 30 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	// Close does not wait for handlers: give the calls it cut a moment to
	// write their lines, so the caller can close the sink after Serve.
	for deadline := time.Now().Add(2 * time.Second); p.inflight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
