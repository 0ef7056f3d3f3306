package reports

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// maxBuckets bounds a time series: past it, adjacent buckets merge and the
// width doubles, so a run of unknown length still takes bounded memory.
const maxBuckets = 320

// series is a strategy's timeline, pooled over replications (every
// replication runs on the same clock from 0): requests by the time they
// ended (completed or failed), attempts by the time they ended. A fault
// can only end requests from its start on, so what it did (requests it
// cut, failovers, slow completions) lands in its shaded band, not in the
// buckets where the victims happened to arrive.
type series struct {
	width   int64
	buckets []bucket
}

type bucket struct {
	requests, notOK, breach int64
	ttft                    *hdrhistogram.Histogram // lazily allocated
	depOK, depFail          []int64                 // attempts per deployment
}

func newSeries(width int64) *series { return &series{width: width} }

func (s *series) at(t int64) *bucket {
	if t < 0 {
		t = 0
	}
	i := int(t / s.width)
	for i >= maxBuckets {
		s.halve()
		i = int(t / s.width)
	}
	for len(s.buckets) <= i {
		s.buckets = append(s.buckets, bucket{})
	}
	return &s.buckets[i]
}

// halve merges bucket pairs and doubles the width.
func (s *series) halve() {
	n := (len(s.buckets) + 1) / 2
	out := make([]bucket, n)
	for i := range s.buckets {
		out[i/2].merge(&s.buckets[i])
	}
	s.buckets = out
	s.width *= 2
}

func (b *bucket) merge(o *bucket) {
	b.requests += o.requests
	b.notOK += o.notOK
	b.breach += o.breach
	if o.ttft != nil {
		if b.ttft == nil {
			b.ttft = newHist(2)
		}
		b.ttft.Merge(o.ttft)
	}
	b.depOK = addInto(b.depOK, o.depOK)
	b.depFail = addInto(b.depFail, o.depFail)
}

func addInto(dst, src []int64) []int64 {
	for len(dst) < len(src) {
		dst = append(dst, 0)
	}
	for i, v := range src {
		dst[i] += v
	}
	return dst
}

func (s *series) request(end int64, ok, good bool, ttft int64) {
	b := s.at(end)
	b.requests++
	if !ok {
		b.notOK++
	}
	if !good {
		b.breach++
	}
	if ok {
		if b.ttft == nil {
			b.ttft = newHist(2)
		}
		recordNS(b.ttft, ttft)
	}
}

func (s *series) attempt(end int64, dep int, ok bool) {
	b := s.at(end)
	for len(b.depOK) <= dep {
		b.depOK = append(b.depOK, 0)
		b.depFail = append(b.depFail, 0)
	}
	if ok {
		b.depOK[dep]++
	} else {
		b.depFail[dep]++
	}
}

// SeriesPoint is one time bucket of a strategy's timeline.
type SeriesPoint struct {
	// Start is the bucket's start in seconds from the start of the run.
	Start float64
	// Requests ended in the bucket; ErrorRate and BreachRate are the
	// shares that failed and that missed their SLO (failures included).
	Requests              int64
	ErrorRate, BreachRate float64
	// TTFTP50 and TTFTP99 are over the bucket's completed requests (NaN if none).
	TTFTP50, TTFTP99 float64
	// ServedBy counts completed attempts per deployment (ended in the
	// bucket).
	ServedBy []int64
	// FailedAt counts failed attempts per deployment (ended in the bucket).
	FailedAt []int64
}

// points returns the buckets that start before until (ns; 0: all). A
// timeline by end time runs on past the last arrival while the run
// drains, and those buckets hold only the stragglers (the slowest
// requests and the last failures): drawn, they would read as a collapse
// at the end of every run. They stay in every total; the timeline stops
// at the bucket of the last arrival.
func (s *series) points(until int64) []SeriesPoint {
	n := len(s.buckets)
	if until > 0 {
		n = min(n, int(until/s.width)+1)
	}
	out := make([]SeriesPoint, n)
	for i := range out {
		b := &s.buckets[i]
		p := SeriesPoint{Start: float64(int64(i)*s.width) / 1e9, Requests: b.requests,
			ErrorRate: math.NaN(), BreachRate: math.NaN(), TTFTP50: math.NaN(), TTFTP99: math.NaN(),
			ServedBy: b.depOK, FailedAt: b.depFail}
		if b.requests > 0 {
			p.ErrorRate = float64(b.notOK) / float64(b.requests)
			p.BreachRate = float64(b.breach) / float64(b.requests)
		}
		if b.ttft != nil {
			p.TTFTP50, p.TTFTP99 = quantile(b.ttft, 0.5), quantile(b.ttft, 0.99)
		}
		out[i] = p
	}
	return out
}
