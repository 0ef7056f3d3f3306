package scenarios

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Request is one user-visible request of the stream: what arrives, when, and
// how many tokens it carries. It is a small value so streams and simulators
// can keep millions of them in flight without pointers.
type Request struct {
	// ID is the request's position in the merged stream, from 0.
	ID uint64
	// At is the arrival (intended send) time in nanoseconds from the start.
	At int64
	// Class is the index of the request's workload in Scenario.Workloads.
	Class int32
	// InputTokens is the prompt length.
	InputTokens int32
	// OutputTokens is the completion length the model will produce.
	OutputTokens int32
	// MaxTokens is the max_tokens the client sends.
	MaxTokens int32
}

// Stream yields a scenario's requests in arrival order for one replication.
// Given the same scenario, seed and replication it yields the same requests,
// whatever strategy consumes them: the simulator and the load generator both
// read it.
type Stream struct {
	sources []source
	next    uint64
	limit   uint64 // 0: no request limit
	horizon int64  // 0: no horizon
	err     error
	closers []io.Closer
}

// NewStream returns the request stream of replication rep. Close it when done
// if the scenario replays trace files.
func NewStream(s *Scenario, rep int) (*Stream, error) {
	st := &Stream{limit: uint64(s.Run.Requests), horizon: int64(s.Run.Horizon)}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		src := source{
			class:   int32(i),
			w:       w,
			input:   NewSampler(w.InputTokens.Dist),
			output:  NewSampler(w.OutputTokens.Dist),
			arrival: NewRand(s.Seed, rep, "arrival", w.Name),
			tokens:  NewRand(s.Seed, rep, "tokens", w.Name),
		}
		if w.Arrival.Process == ProcTrace {
			path := w.Arrival.File
			if !filepath.IsAbs(path) {
				path = filepath.Join(s.Dir, path)
			}
			f, err := os.Open(path)
			if err != nil {
				st.Close()
				return nil, fmt.Errorf("workloads[%d].arrival.file: %w", i, err)
			}
			st.closers = append(st.closers, f)
			src.trace = newTraceReader(f, path, s)
		} else if w.Arrival.Process == ProcMMPP {
			// Start in the stationary state distribution.
			p1 := w.Arrival.Sojourn[0].Seconds() / (w.Arrival.Sojourn[0].Seconds() + w.Arrival.Sojourn[1].Seconds())
			if src.arrival.Float64() >= p1 {
				src.state = 1
			}
		}
		src.advance()
		if src.err != nil {
			st.Close()
			return nil, src.err
		}
		st.sources = append(st.sources, src)
	}
	return st, nil
}

// Next stores the next request in r and reports whether there was one.
func (st *Stream) Next(r *Request) bool {
	if st.err != nil || (st.limit > 0 && st.next >= st.limit) {
		return false
	}
	best := -1
	for i := range st.sources {
		s := &st.sources[i]
		if !s.done && (best < 0 || s.at < st.sources[best].at) {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	s := &st.sources[best]
	if st.horizon > 0 && s.at > st.horizon {
		return false
	}
	*r = s.req
	r.ID = st.next
	st.next++
	s.advance()
	if s.err != nil {
		st.err = s.err
	}
	return true
}

// Err returns the error that ended the stream early, such as a bad trace row.
func (st *Stream) Err() error { return st.err }

// Close releases trace files.
func (st *Stream) Close() error {
	var errs []error
	for _, c := range st.closers {
		errs = append(errs, c.Close())
	}
	st.closers = nil
	return errors.Join(errs...)
}

// source generates one workload's arrivals.
type source struct {
	class int32
	w     *Workload
	// input and output draw the token counts.
	input, output Sampler
	arrival       Rand
	tokens        Rand
	t             float64 // seconds: time of the last arrival (or thinning candidate)
	state         int     // MMPP state
	n             int64   // arrivals generated (constant process)
	at            int64   // next arrival, ns
	req           Request // next request, ID unset
	done          bool
	trace         *traceReader
	err           error
}

func (s *source) advance() {
	if s.trace != nil {
		if !s.trace.next(&s.req) {
			s.done, s.err = true, s.trace.err
			return
		}
		if s.req.Class < 0 {
			s.req.Class = s.class
		}
		s.req.MaxTokens = int32(s.trace.s.Workloads[s.req.Class].MaxTokens)
		s.req.OutputTokens = min(s.req.OutputTokens, s.req.MaxTokens)
		s.at = s.req.At
		return
	}
	a := &s.w.Arrival
	switch a.Process {
	case ProcPoisson:
		s.t += s.arrival.ExpFloat64() / a.Rate.PerSecond()
	case ProcConstant:
		// n/rate rather than a running sum, so arrivals do not drift.
		s.n++
		s.t = float64(s.n) / a.Rate.PerSecond()
	case ProcMMPP:
		for {
			lam := a.Rates[s.state].PerSecond()
			sw := 1 / a.Sojourn[s.state].Seconds()
			s.t += s.arrival.ExpFloat64() / (lam + sw)
			if s.arrival.Float64()*(lam+sw) < lam {
				break
			}
			s.state ^= 1
		}
	case ProcDiurnal, ProcRamp:
		// Non-homogeneous Poisson by thinning (Lewis and Shedler).
		top := max(a.Rate.PerSecond(), a.Peak.PerSecond())
		for {
			s.t += s.arrival.ExpFloat64() / top
			if s.arrival.Float64()*top < a.RateAt(s.t) {
				break
			}
		}
	}
	s.at = int64(s.t * 1e9)
	s.req = Request{At: s.at, Class: s.class}
	s.drawTokens(&s.req)
}

func (s *source) drawTokens(r *Request) {
	w := s.w
	maxTok := int32(w.MaxTokens)
	r.MaxTokens = maxTok
	r.InputTokens = TokenCount(s.input.Quantile(s.tokens.Float64()))
	r.OutputTokens = min(TokenCount(s.output.Quantile(s.tokens.Float64())), maxTok)
}

// maxTokenCount caps token draws from unbounded distributions (a lognormal's
// far tail) well inside int32 and above any model's context window.
const maxTokenCount = 1 << 24

// TokenCount rounds a token-count draw to a whole number of tokens, clamped
// to [0, 2^24].
func TokenCount(x float64) int32 {
	// The built-in min and max inline; math.Min and math.Max do not.
	return int32(math.Round(min(max(x, 0), maxTokenCount)))
}

// RateAt returns the instantaneous arrival rate, per second, t seconds into the run.
func (a *Arrival) RateAt(t float64) float64 {
	switch a.Process {
	case ProcPoisson, ProcConstant:
		return a.Rate.PerSecond()
	case ProcDiurnal:
		lo, hi := a.Rate.PerSecond(), a.Peak.PerSecond()
		phase := 2 * math.Pi * (t - a.PeakAt.Seconds()) / a.Period.Seconds()
		return lo + (hi-lo)*(1+math.Cos(phase))/2
	case ProcRamp:
		f := min(t/a.Over.Seconds(), 1)
		return a.Rate.PerSecond() + (a.Peak.PerSecond()-a.Rate.PerSecond())*f
	case ProcMMPP:
		// The long-run mean: λ̄ = (λ1·s1 + λ2·s2)/(s1 + s2) with s the mean sojourns.
		s1, s2 := a.Sojourn[0].Seconds(), a.Sojourn[1].Seconds()
		return (a.Rates[0].PerSecond()*s1 + a.Rates[1].PerSecond()*s2) / (s1 + s2)
	}
	return 0
}

// traceReader replays a CSV trace: timestamp, class, input_tokens, output_tokens.
// The timestamp is seconds from the start of the run (a float) or an RFC 3339
// time, taken relative to the first row. An empty class means the workload
// that declares the trace; otherwise it must name a workload.
type traceReader struct {
	r      *csv.Reader
	path   string
	s      *Scenario
	line   int
	t0     time.Time
	hasT0  bool
	err    error
	header bool
}

func newTraceReader(f io.Reader, path string, s *Scenario) *traceReader {
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	r.Comment = '#'
	return &traceReader{r: r, path: path, s: s}
}

func (t *traceReader) fail(field, msg string) bool {
	t.err = fmt.Errorf("%s:%d: %s: %s", t.path, t.line, field, msg)
	return false
}

func (t *traceReader) next(req *Request) bool {
	for {
		rec, err := t.r.Read()
		if err == io.EOF {
			return false
		}
		line, _ := t.r.FieldPos(0)
		t.line = line
		if err != nil {
			t.err = fmt.Errorf("%s:%d: %v", t.path, line, err)
			return false
		}
		if len(rec) != 4 {
			return t.fail("row", fmt.Sprintf("want 4 columns (timestamp, class, input_tokens, output_tokens), got %d", len(rec)))
		}
		if !t.header && strings.EqualFold(strings.TrimSpace(rec[0]), "timestamp") {
			t.header = true
			continue
		}
		t.header = true
		at, ok := t.timestamp(strings.TrimSpace(rec[0]))
		if !ok {
			return false
		}
		if at < req.At && req.At != 0 {
			return t.fail("timestamp", "rows must be in time order")
		}
		class := strings.TrimSpace(rec[1])
		ci := int32(-1)
		for i := range t.s.Workloads {
			if t.s.Workloads[i].Name == class {
				ci = int32(i)
			}
		}
		if ci < 0 && class != "" {
			return t.fail("class", fmt.Sprintf("%q is not a workload of the scenario", class))
		}
		in, err1 := strconv.ParseUint(strings.TrimSpace(rec[2]), 10, 31)
		if err1 != nil {
			return t.fail("input_tokens", fmt.Sprintf("%q is not a token count", rec[2]))
		}
		out, err2 := strconv.ParseUint(strings.TrimSpace(rec[3]), 10, 31)
		if err2 != nil {
			return t.fail("output_tokens", fmt.Sprintf("%q is not a token count", rec[3]))
		}
		*req = Request{At: at, Class: ci, InputTokens: int32(in), OutputTokens: int32(out)}
		return true
	}
}

func (t *traceReader) timestamp(s string) (int64, bool) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && !math.IsInf(f, 0) {
		return int64(f * 1e9), true
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, t.fail("timestamp", fmt.Sprintf("%q is neither seconds from the start nor an RFC 3339 time", s))
	}
	if !t.hasT0 {
		t.t0, t.hasT0 = ts, true
	}
	d := ts.Sub(t.t0)
	if d < 0 {
		return 0, t.fail("timestamp", "rows must be in time order")
	}
	return int64(d), true
}
