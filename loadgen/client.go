package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcbench/mcbench/backends/azure"
	"github.com/mcbench/mcbench/backends/bedrock"
	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/backends/routing"
	"github.com/mcbench/mcbench/backends/timing"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Route is one deployment the load generator can call, with what it takes
// to reach it. Credentials stay in memory: they are never written to a
// record, a summary or a log.
type Route struct {
	// Name is the scenario deployment's name.
	Name string
	// Provider and Region are the scenario's.
	Provider, Region string
	// Kind is scenarios.KindAzure or scenarios.KindBedrock: the protocol.
	Kind string
	// Endpoint is the base URL.
	Endpoint string
	// Deployment is the Azure deployment name; ModelID the Bedrock model id.
	Deployment, ModelID string
	// APIKey authenticates Azure calls unless Token is set.
	APIKey string
	// Token returns an Entra ID bearer token for Azure (live runs).
	Token func(ctx context.Context) (string, error)
	// Signer signs Bedrock calls.
	Signer *bedrock.Signer
}

// Client runs user-visible requests through a strategy: the routing policy
// picks a deployment per attempt, failed attempts are retried (honouring
// retry-after) or failed over as the strategy says, and every attempt and
// every request is timed and recorded.
type Client struct {
	http          *http.Client
	routes        []Route
	groups        []*routeGroup
	classGroup    []int
	classNames    []string
	classTags     [][]string
	classDeadline []int64
	// classOrigin is the region a class's model calls leave from: the
	// workload's origin, or for agentic sessions the orchestration
	// deployment's region, as in the simulator.
	classOrigin []string
	strategy    string
	maxAttempts int
	backoff     time.Duration
	timeout     time.Duration
	keyRoute    uint64
	start       time.Time
	epoch       string // start in Unix ns, for fake.EpochHeader
	sendOutput  bool
	stream      bool
	sink        func(*Outcome)
	// Agentic sessions: the workloads (nil where a class sends single
	// calls), their draws, and where finished sessions go.
	sessions    []*scenarios.Workload
	plan        scenarios.SessionPlan
	sessionSink func(*SessionOutcome)
}

// routeGroup is a layer's candidates and the policy choosing among them.
// Policies are written for one goroutine (the simulator's), so calls are
// serialised here.
type routeGroup struct {
	mu      sync.Mutex
	policy  routing.Policy
	starter routing.Starter
	retrier routing.Retrier
	timer   routing.AttemptTimer
	hedger  routing.Hedger
	cands   []int
}

// Outcome is what the client reports for one user-visible request: its
// record, its attempts' records and the timing of its last attempt.
type Outcome struct {
	Request  results.Outcome
	Attempts []results.Outcome
	// Timing is the last attempt's stream timing (the successful one when
	// the request completed).
	Timing timing.Stream
	// Intended is when the request was due, from the start of the run.
	Intended time.Duration
}

// ClientOptions configure a Client.
type ClientOptions struct {
	// HTTP is the client used for attempts (its Timeout should be zero: the
	// strategy's per-attempt timeout applies).
	HTTP *http.Client
	// Start is the run's time origin.
	Start time.Time
	// SendOutputTokens marks every call for the fakes with mcbench's own
	// headers: the output length the stream drew, which request and attempt
	// the call is, and the run's time zero. Only fakes read them; leave it
	// false for live endpoints, which must never see them.
	SendOutputTokens bool
	// NoStream uses the non-streaming operations.
	NoStream bool
	// Sink receives each finished request; called concurrently.
	Sink func(*Outcome)
	// SessionSink receives each finished agentic session; called concurrently.
	SessionSink func(*SessionOutcome)
	// Prices, if set, gives the routing candidates their token prices (see
	// Options.Prices).
	Prices routing.Prices
}

// NewClient builds a client for one strategy of the scenario over routes
// (by deployment name).
func NewClient(s *scenarios.Scenario, st *scenarios.Strategy, routes map[string]Route, opt ClientOptions) (*Client, error) {
	c := &Client{
		http: opt.HTTP, strategy: st.Name, sendOutput: opt.SendOutputTokens, stream: !opt.NoStream, sink: opt.Sink,
		maxAttempts: max(st.Routing.MaxAttempts, 1), backoff: st.Routing.Backoff.Std(), timeout: st.Routing.Timeout.Std(),
		keyRoute: scenarios.StreamKey(s.Seed, 0, "routing", st.Name),
		plan:     scenarios.NewSessionPlan(s, 0), sessionSink: opt.SessionSink,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	index := map[string]int{}
	groupOf := map[string]int{}
	for wi, w := range s.Workloads {
		layer := w.Layer
		if layer == "" {
			layer = scenarios.LayerModel
		}
		g, ok := groupOf[layer]
		if !ok {
			names := st.Placement[layer]
			if len(names) == 0 {
				return nil, fmt.Errorf("strategy %q places no deployment for layer %q", st.Name, layer)
			}
			grp := &routeGroup{}
			var cands []routing.Candidate
			for _, n := range names {
				i, seen := index[n]
				if !seen {
					r, ok := routes[n]
					if !ok {
						return nil, fmt.Errorf("strategy %q: no endpoint for deployment %q", st.Name, n)
					}
					i = len(c.routes)
					index[n] = i
					c.routes = append(c.routes, r)
				}
				grp.cands = append(grp.cands, i)
				for di := range s.Deployments {
					if d := &s.Deployments[di]; d.Name == n {
						c := routing.CandidateOf(s, d)
						opt.Prices.Apply(&c, d)
						cands = append(cands, c)
					}
				}
			}
			p, err := routing.New(&st.Routing, cands)
			if err != nil {
				return nil, err
			}
			grp.policy = p
			grp.starter, _ = p.(routing.Starter)
			grp.retrier, _ = p.(routing.Retrier)
			grp.timer, _ = p.(routing.AttemptTimer)
			grp.hedger, _ = p.(routing.Hedger)
			g = len(c.groups)
			groupOf[layer] = g
			c.groups = append(c.groups, grp)
		}
		c.classGroup = append(c.classGroup, g)
		c.classNames = append(c.classNames, w.Name)
		c.classTags = append(c.classTags, w.Tags)
		c.classDeadline = append(c.classDeadline, routing.DeadlineBudget(&st.Routing, w.SLO.E2E, 0))
		origin := w.Origin
		if w.Session != nil {
			origin = orchestrationRegion(s, st)
		}
		c.classOrigin = append(c.classOrigin, origin)
		var sw *scenarios.Workload
		if w.Session != nil {
			sw = &s.Workloads[wi]
		}
		c.sessions = append(c.sessions, sw)
	}
	c.setStart(opt.Start)
	return c, nil
}

// orchestrationRegion is the region of the strategy's first orchestration
// deployment ("" if it has none).
func orchestrationRegion(s *scenarios.Scenario, st *scenarios.Strategy) string {
	names := st.Placement[scenarios.LayerOrchestration]
	if len(names) == 0 {
		return ""
	}
	for i := range s.Deployments {
		if s.Deployments[i].Name == names[0] {
			return s.Deployments[i].Region
		}
	}
	return ""
}

// setStart sets the run's time origin.
func (c *Client) setStart(t time.Time) {
	c.start, c.epoch = t, strconv.FormatInt(t.UnixNano(), 10)
}

// IsSession reports whether requests of class run as agentic sessions.
func (c *Client) IsSession(class int32) bool {
	return class >= 0 && int(class) < len(c.sessions) && c.sessions[class] != nil
}

// SessionOutcome is what the client reports for one agentic session.
type SessionOutcome struct {
	Record results.SessionRecord
	// Intended is when the session was due, from the start of the run.
	Intended time.Duration
}

// DoSession runs session r (stream position id), due at intended: the
// load generator stands in for the orchestrator, thinking for the drawn
// time before each step and making each step's model call through the
// strategy (Do), with the steps, think times and tokens the simulator draws
// for the same session. A call that fails after its retries ends the
// session. State reads and writes are not made: a load test has no state
// store to call.
func (c *Client) DoSession(ctx context.Context, id uint64, r scenarios.Request, intended time.Duration) *SessionOutcome {
	w := c.sessions[r.Class]
	out := &SessionOutcome{Intended: intended}
	rec := &out.Record
	*rec = results.SessionRecord{SessionID: id, Class: w.Name, Strategy: c.strategy, Orchestrator: "mcbench-load", Start: int64(intended)}
	steps := c.plan.Steps(r.Class, id)
	for k := int32(0); k < steps; k++ {
		if !sleepCtx(ctx, time.Duration(c.plan.Think(r.Class, id, k))) {
			rec.Status, rec.ErrorClass = results.StatusFailed, routing.ClassCancelled
			break
		}
		now := time.Since(c.start)
		call := c.plan.Call(r.Class, id, k, int64(now))
		o := c.Do(ctx, call.ID, call, now)
		rec.Steps++
		rec.Attempts += o.Request.Attempt
		if o.Request.Status != results.StatusOK {
			rec.Status, rec.ErrorClass = o.Request.Status, o.Request.ErrorClass
			break
		}
	}
	rec.Done = int64(time.Since(c.start))
	if c.sessionSink != nil {
		c.sessionSink(out)
	}
	return out
}

// Do runs request r (stream position id), due at intended, to its end.
// sent is when the first attempt was actually sent.
func (c *Client) Do(ctx context.Context, id uint64, r scenarios.Request, intended time.Duration) *Outcome {
	g := c.groups[c.classGroup[r.Class]]
	out := &Outcome{Intended: intended}
	prev := -1
	var firstSent time.Duration
	var last routing.Observation
	var memo uint64
	for attempt := 1; ; attempt++ {
		now := time.Since(c.start)
		rq := routing.Request{ID: id, Attempt: attempt, Prev: prev, U: scenarios.Draw(c.keyRoute, id, uint64(attempt)),
			InputTokens: r.InputTokens, MaxTokens: r.MaxTokens, Last: last, Memo: memo, Tags: c.classTags[r.Class]}
		if b := c.classDeadline[r.Class]; b > 0 {
			rq.Deadline = int64(intended) + b
		}
		var ttftTimeout int64
		g.mu.Lock()
		pick := g.policy.Pick(int64(now), &rq)
		if pick >= 0 && pick < len(g.cands) {
			if g.starter != nil {
				g.starter.Started(int64(now), pick)
			}
			if g.timer != nil {
				ttftTimeout = g.timer.FirstTokenTimeout(int64(now), &rq)
			}
		}
		g.mu.Unlock()
		if pick < 0 || pick >= len(g.cands) {
			out.Request = results.Outcome{Kind: results.KindRequest, RequestID: id, Attempt: int32(attempt - 1),
				Class: c.classNames[r.Class], Strategy: c.strategy, Status: results.StatusFailed, ErrorClass: "no_route",
				InputTokens: r.InputTokens, Intended: int64(intended), Sent: int64(firstSent), Done: int64(time.Since(c.start))}
			break
		}
		due := now // a retry is due when the client decides to send it
		if attempt == 1 {
			due = intended
		}
		res := c.runAttempt(ctx, g, &rq, pick, id, r, time.Duration(ttftTimeout), due)
		for i := range res {
			a := &res[i]
			if a.attempt == 1 {
				firstSent = time.Duration(a.rec.Sent)
			}
			a.rec.Intended = int64(now)
			if a.attempt == 1 {
				a.rec.Intended = int64(intended)
			}
			out.Attempts = append(out.Attempts, a.rec)
			o := routing.Observation{Dep: a.pick, Status: a.rec.Status, ErrorClass: a.rec.ErrorClass, Sent: a.rec.Sent,
				FirstToken: a.rec.FirstToken, Done: a.rec.Done, RetryAfter: int64(a.retryAfter),
				RemainingTokens: a.rl.tokens, RemainingRequests: a.rl.requests,
				InputTokens: r.InputTokens, MaxTokens: r.MaxTokens, OutputTokens: a.rec.OutputTokens}
			g.mu.Lock()
			g.policy.Observe(a.rec.Done, &o)
			g.mu.Unlock()
			if !a.loser {
				last = o
			}
		}
		// The attempt that decides the request: the hedge winner, or the
		// one that failed last.
		win := &res[0]
		for i := range res {
			if res[i].decides {
				win = &res[i]
			}
		}
		rec, retryAfter := win.rec, win.retryAfter
		out.Timing = win.timing
		pick = win.pick
		attempt += len(res) - 1
		if rec.Status == results.StatusOK || attempt >= c.maxAttempts || ctx.Err() != nil || rec.Status == results.StatusClientError {
			out.Request = requestRecord(rec, out.Attempts, attempt, intended, firstSent)
			break
		}
		delay := c.backoff << (attempt - 1)
		if rec.Status == results.StatusThrottled && retryAfter > delay {
			delay = retryAfter
		}
		retry := true
		if g.retrier != nil {
			g.mu.Lock()
			d, ok := g.retrier.Retry(rec.Done, &rq, &last)
			g.mu.Unlock()
			delay, retry = time.Duration(d), ok
		}
		memo = rq.Memo
		if !retry || !sleepCtx(ctx, delay) {
			out.Request = requestRecord(rec, out.Attempts, attempt, intended, firstSent)
			break
		}
		prev = pick
	}
	for i := range out.Attempts {
		out.Attempts[i].Attempt = int32(i + 1)
	}
	if c.sink != nil {
		c.sink(out)
	}
	return out
}

// attempt sends one call and reads its response to the end.
// rateLimits are the x-ratelimit-remaining-* headers of a response (-1: absent).
type rateLimits struct{ tokens, requests float64 }

// attempt sends one call and reads its response to the end. A positive
// ttftTimeout (from an AttemptTimer policy) aborts it if no content has
// arrived by then.
func (c *Client) attempt(ctx context.Context, route *Route, id uint64, attempt int, r scenarios.Request, t *timing.Stream, ttftTimeout, due time.Duration, onToken func()) (results.Outcome, time.Duration, rateLimits) {
	rec := results.Outcome{
		Kind: results.KindAttempt, RequestID: id, Attempt: int32(attempt), Class: c.classNames[r.Class],
		Strategy: c.strategy, Provider: route.Provider, Region: route.Region, Deployment: route.Name,
		InputTokens: r.InputTokens, Lag: -1,
	}
	*t = timing.Stream{}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var gotToken, ttftExpired atomic.Bool
	if ttftTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		timer := time.AfterFunc(ttftTimeout, func() {
			if !gotToken.Load() {
				ttftExpired.Store(true)
				cancel()
			}
		})
		defer timer.Stop()
	}
	want := int32(-1)
	if c.sendOutput {
		want = r.OutputTokens
	}
	req, err := c.build(ctx, route, r, want, id, attempt, due)
	if err != nil {
		rec.Status, rec.ErrorClass = results.StatusClientError, "build"
		now := time.Since(c.start)
		rec.Sent, rec.Done = int64(now), int64(now)
		return rec, 0, rateLimits{-1, -1}
	}
	begin := time.Now()
	rec.Sent = int64(begin.Sub(c.start))
	resp, err := c.http.Do(req)
	if err != nil {
		rec.Done = int64(time.Since(c.start))
		rec.Status, rec.ErrorClass = transportStatus(ctx, err)
		return rec, 0, rateLimits{-1, -1}
	}
	t.Headers = time.Since(begin)
	rec.FirstByte = rec.Sent + int64(t.Headers)
	// The queue wait is what the deployment reports for a call it served
	// (the fakes do, live endpoints do not: -1, unknown). A refused call
	// (an error status) never held a slot: it waited for none.
	if resp.StatusCode < 300 {
		rec.Queued = -1
		if q, err := strconv.ParseInt(resp.Header.Get(fake.QueueHeader), 10, 64); err == nil && q >= 0 {
			rec.Queued = q
		}
	}
	dec := newDecoder(route.Kind, resp, t, func(ev timing.Event) {
		if ev.Kind&timing.EventContent != 0 && !gotToken.Swap(true) && onToken != nil {
			onToken()
		}
	})
	body := timing.NewTimedBody(resp.Body, begin, t, dec)
	buf := bufPool.Get().(*[]byte)
	_, rerr := io.CopyBuffer(io.Discard, body, *buf)
	bufPool.Put(buf)
	body.Close()
	rec.Done = rec.Sent + int64(t.Done)
	rec.Lag = reportedLag(resp)
	retryAfter := retryAfterOf(resp.Header)
	rec.InputTokens = r.InputTokens
	if t.Usage {
		rec.InputTokens = int32(t.InputTokens)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		rec.Status, rec.ErrorClass = results.StatusThrottled, "throttled"
	case resp.StatusCode == http.StatusRequestTimeout:
		rec.Status, rec.ErrorClass = results.StatusTimedOut, "http_408"
	case resp.StatusCode >= 500:
		rec.Status, rec.ErrorClass = results.StatusFailed, "http_"+strconv.Itoa(resp.StatusCode)
	case resp.StatusCode >= 400:
		rec.Status, rec.ErrorClass = results.StatusClientError, clientErrorClass(resp.StatusCode, t.Err)
	case rerr != nil:
		rec.Status, rec.ErrorClass = transportStatus(ctx, rerr)
	case t.Err != nil:
		rec.Status, rec.ErrorClass = results.StatusFailed, timing.ErrorClass(t.Err)
		if errors.Is(t.Err, timing.ErrBodyClosed) && ctx.Err() != nil {
			rec.Status, rec.ErrorClass = results.StatusTimedOut, "timeout"
		}
	default:
		rec.Status = results.StatusOK
		rec.OutputTokens = int32(t.Output())
		if t.Chunks > 0 {
			rec.FirstToken = rec.Sent + int64(t.FirstToken)
		} else {
			rec.FirstToken = rec.Done // a non-streamed answer's first token is its end
		}
	}
	if ttftExpired.Load() && rec.Status != results.StatusOK {
		rec.Status, rec.ErrorClass = results.StatusTimedOut, routing.ClassTTFTTimeout
	}
	return rec, retryAfter, rateLimits{headerFloat(resp.Header, "x-ratelimit-remaining-tokens"), headerFloat(resp.Header, "x-ratelimit-remaining-requests")}
}

// reportedLag is what a fake said it could not absorb of its plan
// (fake.LagHeader: a trailer of a stream, a header of a complete response),
// or -1 when the response did not say.
func reportedLag(resp *http.Response) int64 {
	v := resp.Trailer.Get(fake.LagHeader)
	if v == "" {
		v = resp.Header.Get(fake.LagHeader)
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return n
	}
	return -1
}

func headerFloat(h http.Header, k string) float64 {
	if v, err := strconv.ParseFloat(h.Get(k), 64); err == nil {
		return v
	}
	return -1
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// mark tells a fake which request and attempt a call is and the run's time
// zero (fake.RequestHeader, fake.EpochHeader), so it draws the call's
// service as the simulator does and opens fault windows on the run's clock.
// Only fakes get these headers: a live endpoint never sees them.
func (c *Client) mark(req *http.Request, r *scenarios.Request, id uint64, attempt int, due time.Duration) {
	if !c.sendOutput {
		return
	}
	h := req.Header
	h[fake.RequestHeader] = []string{strconv.FormatUint(id, 10) + "." + strconv.Itoa(attempt)}
	h[fake.EpochHeader] = []string{c.epoch}
	if due >= 0 {
		h[fake.DueHeader] = []string{strconv.FormatInt(int64(due), 10)}
	}
	if o := c.classOrigin[r.Class]; o != "" {
		h[fake.OriginHeader] = []string{o}
	}
}

func (c *Client) build(ctx context.Context, route *Route, r scenarios.Request, want int32, id uint64, attempt int, due time.Duration) (*http.Request, error) {
	switch route.Kind {
	case scenarios.KindBedrock:
		req, hash, err := bedrock.NewConverseRequest(bedrock.ConverseRequest{
			Endpoint: route.Endpoint, Region: route.Region, ModelID: route.ModelID,
			InputTokens: r.InputTokens, MaxTokens: r.MaxTokens, WantOutput: want, Stream: c.stream,
		})
		if err != nil {
			return nil, err
		}
		req = req.WithContext(ctx)
		c.mark(req, &r, id, attempt, due) // before signing: SigV4 signs every header it is given
		if route.Signer != nil {
			if err := route.Signer.Sign(ctx, req, hash, route.Region, time.Now()); err != nil {
				return nil, err
			}
		}
		return req, nil
	default:
		cr := azure.ChatRequest{
			Endpoint: route.Endpoint, Deployment: route.Deployment, InputTokens: r.InputTokens, MaxTokens: r.MaxTokens,
			WantOutput: want, Stream: c.stream, APIKey: route.APIKey,
		}
		if route.Token != nil {
			tok, err := route.Token(ctx)
			if err != nil {
				return nil, err
			}
			cr.BearerToken = tok
		}
		req, err := azure.NewChatRequest(cr)
		if err != nil {
			return nil, err
		}
		c.mark(req, &r, id, attempt, due)
		return req.WithContext(ctx), nil
	}
}

// clientErrorClass names a 4xx the way routing policies read it: context
// length, content filter, auth and not-found get their own classes.
func clientErrorClass(status int, err error) string {
	var se *timing.ServiceError
	code := ""
	if errors.As(err, &se) {
		code = strings.ToLower(se.Code)
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return routing.ClassAuth
	case status == http.StatusNotFound:
		return routing.ClassNotFound
	case strings.Contains(code, "context_length"):
		return routing.ClassContextLength
	case strings.Contains(code, "content_filter"), strings.Contains(code, "guardrail"):
		return routing.ClassContentFilter
	}
	return "http_" + strconv.Itoa(status)
}

// transportStatus classifies an error from the HTTP client.
func transportStatus(ctx context.Context, err error) (results.Status, string) {
	if errors.Is(err, context.DeadlineExceeded) || (ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return results.StatusTimedOut, "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return results.StatusFailed, "cancelled"
	}
	return results.StatusFailed, "connection"
}

// retryAfterOf reads the delay a throttled response asks for: Azure's
// retry-after-ms or retry-after (seconds), or AWS's x-amz-retry-after (ms).
func retryAfterOf(h http.Header) time.Duration {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * 1e6)
		}
	}
	if v := h.Get("x-amz-retry-after"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * 1e6)
		}
	}
	if v := h.Get("retry-after"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * 1e9)
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// requestRecord turns the attempt that ended a request into its request
// record: attempts made, intended and first actual send times. Its queue
// wait is the sum of its attempts' waits, as the simulator
// counts it, or -1 when a deployment did not report one.
func requestRecord(last results.Outcome, tried []results.Outcome, attempts int, intended, firstSent time.Duration) results.Outcome {
	last.Kind = results.KindRequest
	last.Attempt = int32(attempts)
	last.Intended = int64(intended)
	last.Sent = int64(firstSent)
	last.Queued = 0
	for i := range tried {
		if tried[i].Queued < 0 {
			last.Queued = -1
			break
		}
		last.Queued += tried[i].Queued
	}
	return last
}

// attemptResult is one attempt's outcome as runAttempt reports it.
type attemptResult struct {
	attempt    int
	pick       int
	rec        results.Outcome
	retryAfter time.Duration
	rl         rateLimits
	timing     timing.Stream
	// loser marks a hedge loser, cancelled when the other attempt delivered
	// its first token; decides marks the attempt the request's outcome
	// follows (the winner, or of two failures the later one).
	loser, decides bool
}

// runAttempt sends attempt rq.Attempt to candidate pick and, when the policy
// is a Hedger, a hedge attempt if no first token has arrived by the delay
// it asks for. The first of the two to deliver a first token wins and the
// other is cancelled; if one fails before either has a token, the other
// carries on alone. Results come in attempt order.
func (c *Client) runAttempt(ctx context.Context, g *routeGroup, rq *routing.Request, pick int, id uint64, r scenarios.Request, ttft, due time.Duration) []attemptResult {
	type running struct {
		res    attemptResult
		cancel context.CancelFunc
		first  chan struct{}
		done   chan struct{}
	}
	start := func(attempt, pick int, ttft, due time.Duration) *running {
		actx, cancel := context.WithCancel(ctx)
		run := &running{res: attemptResult{attempt: attempt, pick: pick}, cancel: cancel, first: make(chan struct{}), done: make(chan struct{})}
		var once sync.Once
		go func() {
			defer close(run.done)
			defer cancel()
			a := &run.res
			a.rec, a.retryAfter, a.rl = c.attempt(actx, &c.routes[g.cands[pick]], id, attempt, r, &a.timing, ttft, due,
				func() { once.Do(func() { close(run.first) }) })
		}()
		return run
	}
	var delay int64
	hedge := false
	if g.hedger != nil && !rq.Hedge && rq.Attempt < c.maxAttempts {
		g.mu.Lock()
		delay, hedge = g.hedger.HedgeDelay(int64(time.Since(c.start)), rq, pick)
		g.mu.Unlock()
	}
	a := start(rq.Attempt, pick, ttft, due)
	if !hedge {
		<-a.done
		a.res.decides = true
		return []attemptResult{a.res}
	}
	timer := time.NewTimer(time.Duration(max(delay, 0)))
	defer timer.Stop()
	select {
	case <-a.first:
		<-a.done
		a.res.decides = true
		return []attemptResult{a.res}
	case <-a.done:
		a.res.decides = true
		return []attemptResult{a.res}
	case <-timer.C:
	}
	hq := routing.Request{ID: rq.ID, Attempt: rq.Attempt + 1, Prev: pick, U: scenarios.Draw(c.keyRoute, id, uint64(rq.Attempt+1)),
		InputTokens: rq.InputTokens, MaxTokens: rq.MaxTokens, Deadline: rq.Deadline, Tags: rq.Tags, Memo: rq.Memo, Hedge: true}
	g.mu.Lock()
	hp := g.policy.Pick(int64(time.Since(c.start)), &hq)
	if hp >= 0 && hp < len(g.cands) && hp != pick && g.starter != nil {
		g.starter.Started(int64(time.Since(c.start)), hp)
	}
	g.mu.Unlock()
	if hp < 0 || hp >= len(g.cands) || hp == pick {
		<-a.done
		a.res.decides = true
		return []attemptResult{a.res}
	}
	b := start(rq.Attempt+1, hp, ttft, -1) // a hedge is sent when its timer fires
	cancelled := func(x *running) {
		x.cancel()
		<-x.done
		x.res.loser = true
		x.res.rec.Status, x.res.rec.ErrorClass = results.StatusFailed, routing.ClassCancelled
	}
	// Each channel is dropped once its attempt has finished, so a closed
	// first-token channel of a finished attempt is not read again.
	var winner *running
	aFirst, bFirst, aDone, bDone := a.first, b.first, a.done, b.done
	for winner == nil {
		select {
		case <-aFirst:
			winner = a
			if bDone != nil {
				cancelled(b)
			}
		case <-bFirst:
			winner = b
			if aDone != nil {
				cancelled(a)
			}
		case <-aDone:
			aFirst, aDone = nil, nil
			switch {
			case a.res.rec.Status == results.StatusOK:
				winner = a
				if bDone != nil {
					cancelled(b)
				}
			case bDone == nil:
				winner = a // both failed: the later failure decides
			}
		case <-bDone:
			bFirst, bDone = nil, nil
			switch {
			case b.res.rec.Status == results.StatusOK:
				winner = b
				if aDone != nil {
					cancelled(a)
				}
			case aDone == nil:
				winner = b
			}
		}
	}
	<-winner.done
	winner.res.decides = true
	return []attemptResult{a.res, b.res}
}
