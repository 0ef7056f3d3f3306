package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/prom"

	"github.com/mcbench/mcbench/backends/routing"
	"github.com/mcbench/mcbench/internal/loopback"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Options configure a load test.
type Options struct {
	// Strategy is the strategy whose placement and routing the test drives.
	Strategy string
	// Pacer is constant, poisson, ramp, sine, steps or replay.
	Pacer string
	// Rate is the (mean, or final) rate in requests per second; ignored by replay.
	Rate float64
	// Duration bounds the attack; zero means until the schedule ends.
	Duration time.Duration
	// Out is the directory for results.vegeta, outcomes.csv, latency.hlog
	// and summary.json; empty writes nothing.
	Out string
	// Progress, if set, receives a status line every second.
	Progress io.Writer
	// PrometheusAddr, if set, serves metrics there while the test runs:
	// on loopback only (a bare ":port" is 127.0.0.1:port) unless
	// PrometheusListenAny is set; see loopback.Resolve.
	PrometheusAddr string
	// PrometheusListenAny allows a non-loopback PrometheusAddr.
	PrometheusListenAny bool
	// Prices, if set, gives deployments their pay-as-you-go token prices
	// for the cost-aware routing policy, as sim.Options.Prices does.
	Prices routing.Prices
	// SendOutputTokens asks fakes for the stream's output lengths.
	SendOutputTokens bool
	// NoStream uses the non-streaming operations.
	NoStream bool
	// Workers is vegeta's initial worker count (it grows as needed: open loop).
	Workers uint64
	// Warmup is deleted from the statistics (not from the records): the
	// requests due in the first Warmup of the run. A load test's warm-up is
	// its own (connection set-up, caches), so the scenario's simulated
	// warm-up does not apply.
	Warmup time.Duration
	// Grace bounds how long in-flight requests may run after a stop.
	Grace time.Duration
	// HTTPClient carries the attempts (default: a tuned keep-alive client).
	HTTPClient *http.Client
	// Checkpoint, if set, is called every CheckpointEvery (default
	// DefaultCheckpointEvery) from Run's goroutine with the summary of what
	// was measured so far, marked Interrupted: what a caller writes so that
	// a run killed outright (SIGKILL, a crash) still leaves a readable
	// summary beside the records (flushed every second). It is never
	// called after Run returns.
	Checkpoint func(*results.Summary)
	// CheckpointEvery is the interval between checkpoints.
	CheckpointEvery time.Duration
	// Target names where routes lead, for the summary: "fake" (the
	// default), "endpoints" or "live". Fakes apply the scenario's faults,
	// so the summary has a fault block; live endpoints do not.
	Target string
}

// DefaultCheckpointEvery is how often Run checkpoints by default.
const DefaultCheckpointEvery = 5 * time.Second

// Run attacks the strategy's deployments (reached through routes) with the
// scenario's workload until the schedule or duration ends or ctx is done.
// On cancellation it stops sending, lets in-flight requests finish (up to
// the grace period), flushes every file and returns the summary of what was
// measured, with Interrupted set.
func Run(ctx context.Context, s *scenarios.Scenario, routes map[string]Route, opt Options) (*results.Summary, error) {
	var st *scenarios.Strategy
	for i := range s.Strategies {
		if s.Strategies[i].Name == opt.Strategy {
			st = &s.Strategies[i]
		}
	}
	if st == nil {
		return nil, fmt.Errorf("scenario %q has no strategy %q", s.Name, opt.Strategy)
	}
	feed, err := NewRequestFeed(s, opt.Pacer != "replay")
	if err != nil {
		return nil, err
	}
	defer feed.Close()
	sched, err := ParsePacer(opt.Pacer, opt.Rate, s.Seed, feed, opt.Duration)
	if err != nil {
		return nil, err
	}
	pacer := NewPacer(sched, opt.Duration)

	hasSessions := slices.ContainsFunc(s.Workloads, func(w scenarios.Workload) bool { return w.Session != nil })
	files, err := openOutputs(opt.Out, hasSessions)
	if err != nil {
		return nil, err
	}
	defer files.close()

	start := time.Now() // reset just before the attack starts
	warm := opt.Warmup
	target := opt.Target
	if target == "" {
		target = "fake"
	}
	col, err := newCollector(collectorConfig{scenario: s, prices: opt.Prices, faults: target != "live"}, files.records, files.hlog, warm, start)
	if err != nil {
		return nil, err
	}
	col.sloOf = func(class string) time.Duration {
		for _, w := range s.Workloads {
			if w.Name == class && w.Session != nil {
				return w.Session.SLO.Std()
			}
		}
		return 0
	}
	if files.sess != nil {
		if col.sessRecords, err = results.NewSessionWriter(files.sess, true); err != nil {
			return nil, err
		}
	}
	httpc := opt.HTTPClient
	if httpc == nil {
		httpc = &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 10000,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}}
	}
	client, err := NewClient(s, st, routes, ClientOptions{
		HTTP: httpc, Start: start, SendOutputTokens: opt.SendOutputTokens, NoStream: opt.NoStream, Sink: col.add,
		SessionSink: col.addSession, Prices: opt.Prices,
	})
	if err != nil {
		return nil, err
	}

	// Requests in flight run on their own context: a stop ends the attack
	// at once but gives them the grace period to finish.
	grace := opt.Grace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	reqCtx, cancelReqs := context.WithCancel(context.Background())
	defer cancelReqs()
	var inFlight atomic.Int64
	tr := &hitTransport{client: client, feed: feed, pacer: pacer, ctx: reqCtx, inFlight: &inFlight}

	var metrics *prom.Metrics
	if opt.PrometheusAddr != "" {
		stopProm, m, _, err := servePrometheus(opt.PrometheusAddr, opt.PrometheusListenAny, start)
		if err != nil {
			return nil, err
		}
		defer stopProm()
		metrics = m
	}

	workers := opt.Workers
	if workers == 0 {
		workers = 64
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(&http.Client{Transport: tr}),
		vegeta.Workers(workers),
		vegeta.MaxBody(0),
	)
	vtarget := vegeta.Target{Method: http.MethodPost, URL: "http://mcbench.invalid/" + st.Name}
	// One time origin for the pacer (vegeta's), the client and the collector.
	start = time.Now()
	client.setStart(start)
	col.start = start
	hits := atk.Attack(vegeta.NewStaticTargeter(vtarget), pacer, opt.Duration, "mcbench-"+st.Name)

	var stopped atomic.Bool
	go func() {
		select {
		case <-ctx.Done():
			stopped.Store(true)
			atk.Stop()
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-t.C:
				cancelReqs()
			case <-reqCtx.Done():
			}
		case <-reqCtx.Done():
		}
	}()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var encErr error
	var sent uint64
	// summary builds the summary of what was measured so far; a
	// checkpoint's (final false) counts the schedule as far as it was sent,
	// since the pacer is still running.
	summary := func(final bool) *results.Summary {
		res, load := col.result(st.Name)
		load.Sent = sent
		if final && !stopped.Load() {
			load.Scheduled = pacer.Scheduled()
		} else {
			load.Scheduled = sent // a stop ends the schedule where it was
		}
		load.Pacer, load.Rate, load.Target = opt.Pacer, opt.Rate, target
		load.DurationSeconds, load.WarmupSeconds = time.Since(start).Seconds(), opt.Warmup.Seconds()
		return &results.Summary{Scenario: s.Name, Seed: s.Seed, Source: "load", ScenarioSHA256: results.ScenarioHash(s),
			Interrupted: stopped.Load(), Results: []results.Result{res}, Load: &load}
	}
	checkpointEvery := opt.CheckpointEvery
	if checkpointEvery <= 0 {
		checkpointEvery = DefaultCheckpointEvery
	}
	lastCheckpoint := time.Now()
	enc := files.encoder()
	for done := false; !done; {
		select {
		case res, ok := <-hits:
			if !ok {
				done = true
				break
			}
			sent++
			fromIntended(res, start)
			if enc != nil && encErr == nil {
				encErr = enc.Encode(res)
			}
			if metrics != nil {
				metrics.Observe(res)
			}
		case <-tick.C:
			if opt.Progress != nil {
				fmt.Fprintf(opt.Progress, "\r%s", col.progressLine(time.Since(start), inFlight.Load()))
			}
			if err := files.flush(); err != nil && encErr == nil {
				encErr = err
			}
			if err := col.flushInterval(); err != nil && encErr == nil {
				encErr = err
			}
			if err := col.flush(files.hlogBuf); err != nil && encErr == nil {
				encErr = err
			}
			if opt.Checkpoint != nil && time.Since(lastCheckpoint) >= checkpointEvery {
				lastCheckpoint = time.Now()
				cp := summary(false)
				cp.Interrupted = true // until the run's own summary replaces it
				opt.Checkpoint(cp)
			}
		}
	}
	cancelReqs()
	if opt.Progress != nil {
		fmt.Fprintf(opt.Progress, "\r%s\n", col.progressLine(time.Since(start), 0))
	}
	if err := col.flushInterval(); err != nil && encErr == nil {
		encErr = err
	}
	if err := col.flush(files.hlogBuf); err != nil && encErr == nil {
		encErr = err
	}
	if err := feed.Err(); err != nil {
		return nil, err
	}
	sum := summary(true)
	if err := errors.Join(encErr, col.recErr, files.close()); err != nil {
		return sum, fmt.Errorf("writing results: %w", err)
	}
	return sum, nil
}

// hitTransport is the RoundTripper vegeta's attacker calls for each hit: it
// runs the hit's request through the strategy client (all attempts, fully
// read and timed) and answers vegeta with a small synthetic response whose
// status and headers describe the user-visible outcome.
type hitTransport struct {
	client   *Client
	feed     *RequestFeed
	pacer    *Pacer
	ctx      context.Context
	inFlight *atomic.Int64
}

// Headers the synthetic response carries into vegeta's results file.
const (
	HeaderAttempts   = "X-Mcbench-Attempts"
	HeaderDeployment = "X-Mcbench-Deployment"
	HeaderTTFT       = "X-Mcbench-Ttft-Ns"
	HeaderIntended   = "X-Mcbench-Intended-Ns"
	HeaderStatus     = "X-Mcbench-Status"
	HeaderOutput     = "X-Mcbench-Output-Tokens"
	HeaderSteps      = "X-Mcbench-Steps"
)

func (h *hitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	seq, err := strconv.ParseUint(req.Header.Get("X-Vegeta-Seq"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("mcbench: hit without a sequence number")
	}
	r, ok := h.feed.Request(seq)
	if !ok {
		return nil, fmt.Errorf("mcbench: request stream ended before hit %d", seq)
	}
	if h.client.IsSession(r.Class) {
		return h.session(req, seq, r)
	}
	h.inFlight.Add(1)
	out := h.client.Do(h.ctx, seq, r, h.pacer.Intended(seq))
	h.inFlight.Add(-1)
	rec := &out.Request
	code := statusCode(rec.Status)
	hdr := http.Header{}
	hdr.Set(HeaderAttempts, strconv.Itoa(int(rec.Attempt)))
	hdr.Set(HeaderDeployment, rec.Deployment)
	hdr.Set(HeaderStatus, rec.Status.String())
	hdr.Set(HeaderIntended, strconv.FormatInt(rec.Intended, 10))
	if rec.FirstToken > 0 {
		hdr.Set(HeaderTTFT, strconv.FormatInt(rec.FirstToken-rec.Intended, 10))
		hdr.Set(HeaderOutput, strconv.Itoa(int(rec.OutputTokens)))
	}
	return syntheticResponse(req, code, hdr), nil
}

// session runs a hit that is an agentic session: vegeta sees the whole
// session as one hit, from its intended start to its last call's end.
func (h *hitTransport) session(req *http.Request, seq uint64, r scenarios.Request) (*http.Response, error) {
	h.inFlight.Add(1)
	out := h.client.DoSession(h.ctx, seq, r, h.pacer.Intended(seq))
	h.inFlight.Add(-1)
	rec := &out.Record
	hdr := http.Header{}
	hdr.Set(HeaderAttempts, strconv.Itoa(int(rec.Attempts)))
	hdr.Set(HeaderStatus, rec.Status.String())
	hdr.Set(HeaderIntended, strconv.FormatInt(int64(out.Intended), 10))
	hdr.Set(HeaderSteps, strconv.Itoa(int(rec.Steps)))
	return syntheticResponse(req, statusCode(rec.Status), hdr), nil
}

// statusCode is the HTTP status vegeta's results file shows for an outcome.
func statusCode(s results.Status) int {
	switch s {
	case results.StatusThrottled:
		return http.StatusTooManyRequests
	case results.StatusRejected, results.StatusFailed:
		return http.StatusServiceUnavailable
	case results.StatusTimedOut:
		return http.StatusGatewayTimeout
	case results.StatusClientError:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

func syntheticResponse(req *http.Request, code int, hdr http.Header) *http.Response {
	return &http.Response{
		StatusCode: code, Status: strconv.Itoa(code) + " " + http.StatusText(code),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: hdr,
		Body: http.NoBody, ContentLength: 0, Request: req,
	}
}

// fromIntended moves a vegeta result's timestamp to the hit's intended send
// time, so vegeta's own reports of the results file measure latency the way
// mcbench does: coordinated omission stays out of them too.
func fromIntended(res *vegeta.Result, start time.Time) {
	v := res.Headers.Get(HeaderIntended)
	if v == "" {
		return
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return
	}
	end := res.End()
	res.Timestamp = start.Add(time.Duration(ns))
	res.Latency = end.Sub(res.Timestamp)
}

// outputs are the run directory's files, written as the run goes so a crash
// leaves everything up to the last flush (once a second) readable. The
// collector owns outcomes.csv and latency.hlog; the attack loop owns
// results.vegeta.
type outputs struct {
	results, recs, log *os.File
	sess               *os.File // sessions.csv, when the scenario has sessions
	resultsBuf         *bufio.Writer
	hlogBuf            *bufio.Writer
	records, hlog      io.Writer
	closed             bool
}

func openOutputs(dir string, sessions bool) (*outputs, error) {
	o := &outputs{}
	if dir == "" {
		return o, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	open := func(name string) (*os.File, error) {
		return os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	}
	var err error
	if o.results, err = open("results.vegeta"); err != nil {
		return nil, err
	}
	if o.recs, err = open(results.OutcomesFile); err != nil {
		return nil, err
	}
	if o.log, err = open("latency.hlog"); err != nil {
		return nil, err
	}
	if sessions {
		if o.sess, err = open(results.SessionsFile); err != nil {
			return nil, err
		}
	}
	o.resultsBuf = bufio.NewWriterSize(o.results, 64<<10)
	o.hlogBuf = bufio.NewWriterSize(o.log, 16<<10)
	o.records, o.hlog = o.recs, o.hlogBuf
	return o, nil
}

func (o *outputs) encoder() vegeta.Encoder {
	if o.resultsBuf == nil {
		return nil
	}
	return vegeta.NewEncoder(o.resultsBuf)
}

// flush pushes buffered results to the file (the attack loop's own writer).
func (o *outputs) flush() error {
	if o.resultsBuf == nil || o.closed {
		return nil
	}
	return o.resultsBuf.Flush()
}

func (o *outputs) close() error {
	if o.closed || o.results == nil {
		o.closed = true
		return nil
	}
	err := errors.Join(o.resultsBuf.Flush(), o.hlogBuf.Flush())
	o.closed = true
	if o.sess != nil {
		err = errors.Join(err, o.sess.Close())
	}
	return errors.Join(err, o.results.Close(), o.recs.Close(), o.log.Close())
}

// servePrometheus serves vegeta's request metrics on addr (loopback only
// unless allowAny) and returns the address it listens on.
func servePrometheus(addr string, allowAny bool, start time.Time) (stop func(), m *prom.Metrics, bound net.Addr, err error) {
	reg := prometheus.NewRegistry()
	m = prom.NewMetrics()
	if err := m.Register(reg); err != nil {
		return nil, nil, nil, err
	}
	l, err := loopback.Listen(addr, allowAny)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--prometheus-addr: %w", err)
	}
	srv := &http.Server{Handler: prom.NewHandler(reg, start), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return func() { _ = srv.Close() }, m, l.Addr(), nil
}
