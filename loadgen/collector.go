package loadgen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcbench/mcbench/backends/routing"
	"github.com/mcbench/mcbench/backends/timing"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// collector turns finished requests into records, streaming histograms and
// the summary. It is fed concurrently by the client's workers.
type collector struct {
	mu      sync.Mutex
	records *results.OutcomeWriter
	recErr  error
	warmup  time.Duration
	start   time.Time

	// All requests (warm-up excluded from the statistics, not from records).
	requests, completed, rejected, failed, timedOut, attempts, errors int64
	outputTokens                                                      int64
	firstIntended, lastIntended, lastDone                             time.Duration
	lastDue                                                           time.Duration // over all requests, warm-up included
	seen                                                              bool

	// unanswered counts measured requests that ended without an answer
	// from the service (results.Load.Unanswered).
	unanswered int64

	// Queue waits, from the fakes' reports: requests whose wait is known,
	// and those of them that waited at all; unknownWait counts the others.
	knownWait, waited, unknownWait int64
	sumWait                        float64

	// The fakes' lag (results.Outcome.Lag) of measured attempts that
	// reported it, and the count of served attempts that did not.
	fakeLag        *hdrhistogram.Histogram
	sumFakeLag     float64
	fakeLagUnknown int64

	// Latency histograms in microseconds: cumulative, and per interval for the log.
	ttft, e2e, wait, attemptTTFT, tpot, lag *hdrhistogram.Histogram
	intTTFT, intE2E                         *hdrhistogram.Histogram
	gaps                                    timing.GapHist
	sumTTFT, sumE2E, sumLag                 float64
	completedPerAttempt                     [4]int64

	// Per deployment, in scenario order (as the simulator lists them).
	deps     []depTally
	depIndex map[string]int
	// Token cost of the measured requests; priced is false without prices.
	costUSD float64
	priced  bool

	// Fault windows on the run's clock, and what they did to the requests
	// exposed to them (an attempt in flight during the window, by its
	// actual send and end; results.FaultWindow.InFlight). Nil when the
	// target applies no scenario faults, as live endpoints.
	faults   []scenarios.Fault
	windows  []results.FaultWindow
	tallies  []results.FaultTally
	exposure results.Exposure // scratch for bookFaults

	log      *hdrhistogram.HistogramLogWriter
	logStart time.Time

	// Agentic sessions, per class in the order first seen.
	sessRecords *results.SessionWriter
	sessions    []*sessionStats
	sloOf       func(class string) time.Duration
}

// depTally counts one deployment's attempts of measured requests: those
// whose request was due after the warm-up (add books them with the
// request, however late the attempt went out), so the tallies add up to
// the result's attempts (see results.DeploymentResult).
type depTally struct {
	name                                                    string
	concurrency                                             int
	priceIn, priceOut                                       float64 // USD per token
	priced                                                  bool
	attempts, completed, throttled, rejected, failed, timed int64
	// busy is the attempts' time at the deployment less their queue wait
	// (ns); busyUnknown counts attempts whose wait was not reported.
	busy        float64
	busyUnknown int64
}

// sessionStats accumulates one session class's measured sessions.
type sessionStats struct {
	class                                      string
	sessions, completed, failed, sloMet, steps int64
	attempts                                   int64
	sumLat                                     float64
	lat                                        *hdrhistogram.Histogram
}

// collectorConfig is what the collector needs to know about the run.
type collectorConfig struct {
	scenario *scenarios.Scenario
	prices   routing.Prices
	// faults says whether the target applies the scenario's faults.
	faults bool
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 24*3600*1e6, 3) }

func newCollector(cfg collectorConfig, records io.Writer, hlog io.Writer, warmup time.Duration, start time.Time) (*collector, error) {
	c := &collector{warmup: warmup, start: start,
		ttft: newHist(), e2e: newHist(), wait: newHist(), attemptTTFT: newHist(), tpot: newHist(), lag: newHist(),
		intTTFT: newHist(), intE2E: newHist(), fakeLag: newHist(), depIndex: map[string]int{}}
	s := cfg.scenario
	for i := range s.Deployments {
		d := &s.Deployments[i]
		t := depTally{name: d.Name, concurrency: d.Capacity.Concurrency}
		if cfg.prices != nil {
			if in, out, ok := cfg.prices(d); ok {
				t.priceIn, t.priceOut, t.priced = in/1e6, out/1e6, true
				c.priced = true
			}
		}
		c.depIndex[d.Name] = len(c.deps)
		c.deps = append(c.deps, t)
	}
	if cfg.faults && len(s.Faults) > 0 {
		c.faults = s.Faults
		c.windows = results.FaultWindows(s)
		c.tallies = results.NewFaultTallies(len(s.Faults))
	}
	if records != nil {
		w, err := results.NewOutcomeWriter(records, true)
		if err != nil {
			return nil, err
		}
		c.records = w
	}
	if hlog != nil {
		c.log = hdrhistogram.NewHistogramLogWriter(hlog)
		c.logStart = start
		_ = c.log.OutputLogFormatVersion()
		_ = c.log.OutputComment("mcbench load: latencies in microseconds, tagged ttft and e2e, measured from intended send times")
		_ = c.log.OutputStartTime(start.UnixMilli())
		_ = c.log.OutputLegend()
	}
	return c, nil
}

// addSession records one finished session.
func (c *collector) addSession(o *SessionOutcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &o.Record
	if c.sessRecords != nil && c.recErr == nil {
		c.recErr = c.sessRecords.Write(r)
	}
	for i := range c.tallies {
		c.tallies[i].BookSession(c.windows[i], int64(o.Intended), r.Done, r.Status == results.StatusOK)
	}
	if o.Intended < c.warmup {
		return
	}
	var st *sessionStats
	for _, x := range c.sessions {
		if x.class == r.Class {
			st = x
		}
	}
	if st == nil {
		st = &sessionStats{class: r.Class, lat: newHist()}
		c.sessions = append(c.sessions, st)
	}
	st.sessions++
	st.steps += int64(r.Steps)
	st.attempts += int64(r.Attempts)
	if r.Status != results.StatusOK {
		st.failed++
		return
	}
	lat := time.Duration(r.Done - r.Start)
	st.completed++
	st.sumLat += float64(lat)
	_ = st.lat.RecordValue(us(lat))
	if slo := c.sloOf(r.Class); slo > 0 && lat <= slo {
		st.sloMet++
	}
}

// sessionResults summarises the sessions in the shared schema. The load
// generator stands in for the orchestrator: it never moves a session to
// another one and counts no bytes, so those fields are null.
func (c *collector) sessionResults() []results.SessionResult {
	var out []results.SessionResult
	for _, st := range c.sessions {
		x := results.SessionResult{Class: st.class, Sessions: st.sessions, Completed: st.completed, Failed: st.failed,
			LatencySeconds: latencyOf(st.lat, st.sumLat), SLOAttainment: results.Unknown,
			FailoversPerSession: results.Unknown, CrossRegionBytesPerSession: results.Unknown,
			CrossCloudBytesPerSession: results.Unknown, StateBytesPerSession: results.Unknown}
		if n := float64(st.sessions); n > 0 {
			x.MeanSteps = float64(st.steps) / n
			x.RetriesPerSession = float64(st.attempts-st.steps) / n
			if c.sloOf(st.class) > 0 {
				x.SLOAttainment = results.Num(float64(st.sloMet) / n)
			}
		}
		out = append(out, x)
	}
	return out
}

func us(d time.Duration) int64 { return max(int64(d/time.Microsecond), 0) }

// add records one finished request.
func (c *collector) add(o *Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Each attempt's token cost goes into its record, and their sum into
	// the request's (results.Billed decides what is billed).
	o.Request.CostUSD = 0
	for i := range o.Attempts {
		a := &o.Attempts[i]
		a.CostUSD = c.attemptCost(a)
		o.Request.CostUSD += a.CostUSD
	}
	if c.records != nil && c.recErr == nil {
		for i := range o.Attempts {
			if err := c.records.Write(&o.Attempts[i]); err != nil {
				c.recErr = err
			}
		}
		if err := c.records.Write(&o.Request); err != nil {
			c.recErr = err
		}
	}
	r := &o.Request
	c.lastDue = max(c.lastDue, o.Intended)
	measured := o.Intended >= c.warmup
	for i := range o.Attempts {
		a := &o.Attempts[i]
		if measured {
			c.costUSD += a.CostUSD
			c.addAttempt(a)
		}
	}
	c.bookFaults(o)
	if !measured {
		return
	}
	if !c.seen || o.Intended < c.firstIntended {
		c.firstIntended = o.Intended
	}
	c.lastIntended = max(c.lastIntended, o.Intended)
	c.lastDone = max(c.lastDone, time.Duration(r.Done))
	c.seen = true
	c.requests++
	c.attempts += int64(r.Attempt)
	c.sumLag += float64(r.Sent - r.Intended)
	_ = c.lag.RecordValue(us(time.Duration(r.Sent - r.Intended)))
	if r.Queued >= 0 {
		c.knownWait++
		if r.Queued > 0 {
			c.waited++
		}
	} else {
		c.unknownWait++
	}
	switch r.Status {
	case results.StatusOK:
		c.completed++
		c.outputTokens += int64(r.OutputTokens)
		ttft := time.Duration(r.FirstToken - r.Intended)
		e2e := time.Duration(r.Done - r.Intended)
		c.sumTTFT += float64(ttft)
		c.sumE2E += float64(e2e)
		_ = c.ttft.RecordValue(us(ttft))
		_ = c.e2e.RecordValue(us(e2e))
		_ = c.intTTFT.RecordValue(us(ttft))
		_ = c.intE2E.RecordValue(us(e2e))
		if r.Queued >= 0 {
			c.sumWait += float64(r.Queued)
			_ = c.wait.RecordValue(us(time.Duration(r.Queued)))
		}
		last := &o.Attempts[len(o.Attempts)-1]
		_ = c.attemptTTFT.RecordValue(us(time.Duration(last.FirstToken - last.Sent)))
		if pt := o.Timing.PerToken(); pt > 0 {
			_ = c.tpot.RecordValue(us(pt))
		}
		c.gaps.Merge(&o.Timing.Gaps)
		c.completedPerAttempt[min(int(r.Attempt), len(c.completedPerAttempt))-1]++
	case results.StatusThrottled, results.StatusRejected:
		c.rejected++
		c.errors++
	case results.StatusTimedOut:
		c.timedOut++
		c.errors++
	default:
		c.failed++
		c.errors++
		if r.ErrorClass == "connection" || r.ErrorClass == routing.ClassAuth {
			c.unanswered++
		}
	}
}

// attemptCost charges an attempt's tokens at its deployment's price by the
// billing rule both engines apply (results.Billed); 0 when unpriced.
func (c *collector) attemptCost(a *results.Outcome) float64 {
	i, ok := c.depIndex[a.Deployment]
	if !ok || !c.deps[i].priced {
		return 0
	}
	d := &c.deps[i]
	in, out, billed := results.Billed(a.Status, a.FirstToken, a.InputTokens, a.OutputTokens)
	if !billed {
		return 0
	}
	return float64(in)*d.priceIn + float64(out)*d.priceOut
}

// addAttempt counts a measured request's attempt at its deployment.
func (c *collector) addAttempt(a *results.Outcome) {
	i, ok := c.depIndex[a.Deployment]
	if !ok {
		return
	}
	d := &c.deps[i]
	d.attempts++
	switch {
	case a.Lag >= 0:
		c.sumFakeLag += float64(a.Lag)
		_ = c.fakeLag.RecordValue(us(time.Duration(a.Lag)))
	case a.Status == results.StatusOK:
		c.fakeLagUnknown++
	}
	switch a.Status {
	case results.StatusOK:
		d.completed++
	case results.StatusThrottled:
		d.throttled++
	case results.StatusRejected:
		d.rejected++
	case results.StatusTimedOut:
		d.timed++
	default:
		d.failed++
	}
	if a.Queued >= 0 {
		if a.FirstByte > 0 {
			d.busy += float64(max(a.Done-a.Sent-a.Queued, 0))
		}
	} else {
		d.busyUnknown++
	}
}

// flush pushes buffered records (and the log's buffer, if any) to their files.
func (c *collector) flush(hlog *bufio.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if c.records != nil {
		err = c.records.Flush()
	}
	if c.sessRecords != nil {
		err = errors.Join(err, c.sessRecords.Flush())
	}
	if hlog != nil {
		err = errors.Join(err, hlog.Flush())
	}
	return err
}

// flushInterval writes the interval histograms to the log and resets them.
func (c *collector) flushInterval() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.log == nil {
		return nil
	}
	now := time.Now()
	for _, h := range []struct {
		tag string
		h   *hdrhistogram.Histogram
	}{{"ttft", c.intTTFT}, {"e2e", c.intE2E}} {
		h.h.SetTag(h.tag)
		h.h.SetStartTimeMs(c.logStart.UnixMilli())
		h.h.SetEndTimeMs(now.UnixMilli())
		if err := c.log.OutputIntervalHistogram(h.h); err != nil {
			return err
		}
		h.h.Reset()
	}
	c.logStart = now
	return nil
}

// progressLine is the one-line live view: rate, in flight, errors, p50/p99.
func (c *collector) progressLine(elapsed time.Duration, inFlight int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(c.requests) / elapsed.Seconds()
	}
	ms := func(h *hdrhistogram.Histogram, q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1e3 }
	return fmt.Sprintf("%6.1fs  %7d done  %7.1f/s  %5d in flight  %5d errors  TTFT p50 %.0fms p99 %.0fms  E2E p50 %.0fms p99 %.0fms",
		elapsed.Seconds(), c.requests, rate, inFlight, c.errors, ms(c.ttft, 50), ms(c.ttft, 99), ms(c.e2e, 50), ms(c.e2e, 99))
}

// histMean tells latencyOf to take the histogram's own mean.
var histMean = math.NaN()

// latencyOf summarises a microsecond histogram; sum is the exact sum of
// the values in ns, or histMean where none is kept (the histogram's own
// mean is then used). A load test is one replication, so there are no
// intervals.
func latencyOf(h *hdrhistogram.Histogram, sum float64) results.Latency {
	l := results.Latency{MeanCI95: results.NoCI, P99CI95: results.NoCI}
	if n := h.TotalCount(); n > 0 {
		l.Mean = sum / float64(n) / 1e9
		if math.IsNaN(sum) {
			l.Mean = h.Mean() / 1e6
		}
		l.P50 = float64(h.ValueAtQuantile(50)) / 1e6
		l.P90 = float64(h.ValueAtQuantile(90)) / 1e6
		l.P99 = float64(h.ValueAtQuantile(99)) / 1e6
		l.Max = float64(h.Max()) / 1e6
	}
	return l
}

// result builds the strategy's summary entry and the load block. Where a
// quantity cannot be observed it is null: the queue wait and utilisation
// when a deployment did not report its waits (live endpoints), intervals
// (one replication), Little's law (see results.Result).
func (c *collector) result(strategy string) (results.Result, results.Load) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := results.Result{
		Strategy: strategy, Replications: 1,
		Requests: c.requests, Completed: c.completed, Rejected: c.rejected, Failed: c.failed, TimedOut: c.timedOut,
		Attempts: c.attempts, ThroughputRPSCI95: results.NoCI, PWait: results.Unknown, PWaitCI95: results.NoCI,
		TTFTSeconds:  latencyOf(c.ttft, c.sumTTFT),
		E2ESeconds:   latencyOf(c.e2e, c.sumE2E),
		TokenCostUSD: results.Unknown, TokenCostUSDCI95: results.NoCI, TokenCostPer1kRequests: results.Unknown,
		TokenCostPerSuccessfulRequest: results.Unknown, TokenCostPerSuccessfulRequestCI95: results.NoCI,
		Sessions: c.sessionResults(),
	}
	if c.unknownWait == 0 && c.knownWait > 0 {
		r.PWait = results.Num(float64(c.waited) / float64(c.knownWait))
		w := latencyOf(c.wait, c.sumWait)
		r.WaitSeconds = &w
	}
	if c.priced {
		r.TokenCostUSD = results.Num(c.costUSD)
		if c.requests > 0 {
			r.TokenCostPer1kRequests = results.Num(c.costUSD / float64(c.requests) * 1000)
		}
		if c.completed > 0 {
			r.TokenCostPerSuccessfulRequest = results.Num(c.costUSD / float64(c.completed))
		}
	}
	// Throughput is defined as in the simulator: completed requests over
	// the measured arrival window, from the first measured request's
	// intended send to the last one's. (The requests' ends, the drain,
	// would stretch a short run's window and lower its throughput.)
	if arrivals := c.lastIntended - c.firstIntended; arrivals > 0 {
		r.ThroughputRPS = float64(c.completed) / arrivals.Seconds()
	}
	// Utilisation and tokens per second are over the time the measured
	// requests took, from the first intended send to the last end.
	window := c.lastDone - c.firstIntended
	for i := range c.deps {
		d := &c.deps[i]
		dr := results.DeploymentResult{Name: d.name, Attempts: d.attempts, Completed: d.completed, Throttled: d.throttled,
			Rejected: d.rejected, Failed: d.failed, TimedOut: d.timed, Utilization: results.Unknown}
		switch {
		case d.concurrency <= 0:
			dr.Utilization = 0 // no slots to be busy, as the simulator reports it
		case d.busyUnknown == 0 && window > 0:
			// Capped at 1: the client's clock adds the response's trip
			// back to each call's time at the deployment.
			dr.Utilization = results.Num(min(d.busy/(float64(window)*float64(d.concurrency)), 1))
		}
		r.Deployments = append(r.Deployments, dr)
	}
	r.Faults = c.faultResults()
	x := results.Load{
		AttemptTTFTSeconds: latencyOf(c.attemptTTFT, histMean),
		TPOTSeconds:        latencyOf(c.tpot, histMean),
		SendLagSeconds:     latencyOf(c.lag, c.sumLag),
		ITLPerChunkSeconds: results.Latency{
			Mean: c.gaps.Mean().Seconds(), P50: c.gaps.Quantile(0.5).Seconds(), P90: c.gaps.Quantile(0.9).Seconds(),
			P99: c.gaps.Quantile(0.99).Seconds(), Max: c.gaps.Max.Seconds(), MeanCI95: results.NoCI, P99CI95: results.NoCI,
		},
		OutputTokens: c.outputTokens,
		Unanswered:   c.unanswered,
	}
	if window > 0 {
		x.OutputTokensPerSecond = float64(c.outputTokens) / window.Seconds()
	}
	x.ScheduleSeconds = c.lastDue.Seconds()
	if c.fakeLag.TotalCount() > 0 && c.fakeLagUnknown == 0 {
		l := latencyOf(c.fakeLag, c.sumFakeLag)
		x.FakeLagSeconds = &l
	}
	return r, x
}

// bookFaults books a finished request into every fault window one of its
// attempts was in flight during.
func (c *collector) bookFaults(o *Outcome) {
	if len(c.tallies) == 0 {
		return
	}
	c.exposure.Reset()
	first := ""
	for j := range o.Attempts {
		a := &o.Attempts[j]
		c.exposure.Add(c.windows, a.Sent, a.Done)
		if j == 0 {
			first = a.Deployment
		}
	}
	fr := results.FaultRequestOf(&o.Request, first)
	c.exposure.BookInto(c.tallies, &fr)
}

// faultResults summarises the fault windows the run reached (a window
// that starts after the last send never happened in this run). The extra
// latency and cost stay null: there is no fault-free twin run.
func (c *collector) faultResults() []results.FaultResult {
	var out []results.FaultResult
	reach := int64(c.lastIntended)
	for i := range c.faults {
		if !c.seen || c.windows[i].Start > reach {
			continue
		}
		out = append(out, results.SummariseFault(&c.faults[i], c.windows[i], []*results.FaultTally{&c.tallies[i]}, nil, c.priced))
	}
	return out
}
