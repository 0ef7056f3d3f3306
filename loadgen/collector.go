package loadgen

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcbench/mcbench/backends"
	"github.com/mcbench/mcbench/sim"
)

// collector turns finished requests into records, streaming histograms and
// the summary. It is fed concurrently by the client's workers.
type collector struct {
	mu      sync.Mutex
	records *backends.CSVWriter
	recErr  error
	warmup  time.Duration
	start   time.Time

	// All requests (warm-up excluded from the statistics, not from records).
	requests, completed, rejected, failed, timedOut, attempts, errors int64
	outputTokens                                                      int64
	firstIntended, lastIntended, lastDone                             time.Duration
	seen                                                              bool

	// Latency histograms in microseconds: cumulative, and per interval for the log.
	ttft, e2e, wait, attemptTTFT, tpot, lag *hdrhistogram.Histogram
	intTTFT, intE2E                         *hdrhistogram.Histogram
	gaps                                    backends.GapHist
	sumTTFT, sumE2E, sumLag                 float64
	completedPerAttempt                     [4]int64

	log      *hdrhistogram.HistogramLogWriter
	logStart time.Time

	// Agentic sessions, per class in the order first seen.
	sessRecords *csv.Writer
	sessions    []*sessionStats
	sloOf       func(class string) time.Duration
}

// sessionStats accumulates one session class's measured sessions.
type sessionStats struct {
	class                                      string
	sessions, completed, failed, sloMet, steps int64
	attempts                                   int64
	sumLat                                     float64
	lat                                        *hdrhistogram.Histogram
}

// addSession records one finished session.
func (c *collector) addSession(o *SessionOutcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &o.Record
	if c.sessRecords != nil && c.recErr == nil {
		c.recErr = sim.WriteSessionCSV(c.sessRecords, r)
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
	if r.Status != backends.StatusOK {
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

// sessionResults summarises the sessions in the simulator's schema (no
// state or cross-cloud bytes: a load test does not count them).
func (c *collector) sessionResults() []sim.SessionResult {
	var out []sim.SessionResult
	for _, st := range c.sessions {
		x := sim.SessionResult{Class: st.class, Sessions: st.sessions, Completed: st.completed, Failed: st.failed,
			LatencySeconds: latencyOf(st.lat, st.sumLat), SLOAttainment: sim.Num(math.NaN())}
		if n := float64(st.sessions); n > 0 {
			x.MeanSteps = float64(st.steps) / n
			x.RetriesPerSession = float64(st.attempts-st.steps) / n
			if c.sloOf(st.class) > 0 {
				x.SLOAttainment = sim.Num(float64(st.sloMet) / n)
			}
		}
		out = append(out, x)
	}
	return out
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 24*3600*1e6, 3) }

func newCollector(records io.Writer, hlog io.Writer, warmup time.Duration, start time.Time) (*collector, error) {
	c := &collector{warmup: warmup, start: start,
		ttft: newHist(), e2e: newHist(), wait: newHist(), attemptTTFT: newHist(), tpot: newHist(), lag: newHist(),
		intTTFT: newHist(), intE2E: newHist()}
	if records != nil {
		w, err := backends.NewCSVWriter(records, true)
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

func us(d time.Duration) int64 { return max(int64(d/time.Microsecond), 0) }

// add records one finished request.
func (c *collector) add(o *Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
	if o.Intended < c.warmup {
		return
	}
	if !c.seen || o.Intended < c.firstIntended {
		c.firstIntended = o.Intended
	}
	c.lastIntended = max(c.lastIntended, o.Intended)
	c.lastDone = max(c.lastDone, time.Duration(o.Request.Done))
	c.seen = true
	c.requests++
	c.attempts += int64(o.Request.Attempt)
	r := &o.Request
	c.sumLag += float64(r.Sent - r.Intended)
	_ = c.lag.RecordValue(us(time.Duration(r.Sent - r.Intended)))
	switch r.Status {
	case backends.StatusOK:
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
		last := &o.Attempts[len(o.Attempts)-1]
		_ = c.attemptTTFT.RecordValue(us(time.Duration(last.FirstToken - last.Sent)))
		if pt := o.Timing.PerToken(); pt > 0 {
			_ = c.tpot.RecordValue(us(pt))
		}
		c.gaps.Merge(&o.Timing.Gaps)
		c.completedPerAttempt[min(int(r.Attempt), len(c.completedPerAttempt))-1]++
	case backends.StatusThrottled, backends.StatusRejected:
		c.rejected++
		c.errors++
	case backends.StatusTimedOut:
		c.timedOut++
		c.errors++
	default:
		c.failed++
		c.errors++
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
		c.sessRecords.Flush()
		err = errors.Join(err, c.sessRecords.Error())
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

func latencyOf(h *hdrhistogram.Histogram, sum float64) sim.Latency {
	l := sim.Latency{MeanCI95: sim.CI{math.NaN(), math.NaN()}, P99CI95: sim.CI{math.NaN(), math.NaN()}}
	if n := h.TotalCount(); n > 0 {
		l.Mean = sum / float64(n) / 1e9
		l.P50 = float64(h.ValueAtQuantile(50)) / 1e6
		l.P90 = float64(h.ValueAtQuantile(90)) / 1e6
		l.P99 = float64(h.ValueAtQuantile(99)) / 1e6
		l.Max = float64(h.Max()) / 1e6
	}
	return l
}

// result builds the strategy's summary entry, in the simulator's schema.
func (c *collector) result(strategy string) (sim.Result, LoadExtras) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nan := sim.CI{math.NaN(), math.NaN()}
	r := sim.Result{
		Strategy: strategy, Replications: 1,
		Requests: c.requests, Completed: c.completed, Rejected: c.rejected, Failed: c.failed, TimedOut: c.timedOut,
		Attempts: c.attempts, ThroughputRPSCI95: nan, PWait: sim.Num(math.NaN()), PWaitCI95: nan,
		WaitSeconds: latencyOf(c.wait, 0),
		TTFTSeconds: latencyOf(c.ttft, c.sumTTFT),
		E2ESeconds:  latencyOf(c.e2e, c.sumE2E),
		Sessions:    c.sessionResults(),
	}
	// Throughput over the wall time the measured requests took, from the
	// first one's intended send to the last one's end: if the generator
	// fell behind, this is what was achieved, not what was scheduled.
	window := c.lastDone - c.firstIntended
	if window > 0 {
		r.ThroughputRPS = float64(c.completed) / window.Seconds()
	}
	x := LoadExtras{
		AttemptTTFTSeconds: latencyOf(c.attemptTTFT, 0),
		TPOTSeconds:        latencyOf(c.tpot, 0),
		SendLagSeconds:     latencyOf(c.lag, c.sumLag),
		ITLPerChunkSeconds: sim.Latency{
			Mean: c.gaps.Mean().Seconds(), P50: c.gaps.Quantile(0.5).Seconds(), P90: c.gaps.Quantile(0.9).Seconds(),
			P99: c.gaps.Quantile(0.99).Seconds(), Max: c.gaps.Max.Seconds(), MeanCI95: nan, P99CI95: nan,
		},
		OutputTokens: c.outputTokens,
	}
	if window > 0 {
		x.OutputTokensPerSecond = float64(c.outputTokens) / window.Seconds()
	}
	if n := c.attemptTTFT.TotalCount(); n > 0 {
		x.AttemptTTFTSeconds.Mean = c.attemptTTFT.Mean() / 1e6
	}
	if n := c.tpot.TotalCount(); n > 0 {
		x.TPOTSeconds.Mean = c.tpot.Mean() / 1e6
	}
	return r, x
}

// LoadExtras are the load test's measurements beyond the shared summary
// schema: per-attempt TTFT (from the attempt's own send), TPOT per request,
// inter-token latency per chunk, and the lag between intended and actual
// send times (how far the generator fell behind).
type LoadExtras struct {
	AttemptTTFTSeconds sim.Latency `json:"attempt_ttft_seconds"`
	TPOTSeconds        sim.Latency `json:"tpot_seconds"`
	ITLPerChunkSeconds sim.Latency `json:"itl_per_chunk_seconds"`
	SendLagSeconds     sim.Latency `json:"send_lag_seconds"`
	OutputTokens       int64       `json:"output_tokens"`
	// Scheduled is the number of requests the pacer scheduled within the
	// duration; Sent the number actually sent. Sent < Scheduled means the
	// generator (or the machine) could not keep up: the offered load was
	// lower than asked, and the report says so.
	Scheduled             uint64  `json:"scheduled"`
	Sent                  uint64  `json:"sent"`
	OutputTokensPerSecond float64 `json:"output_tokens_per_second"`
}
