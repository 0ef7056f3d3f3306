package reports

import (
	"math"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/mcbench/mcbench/results"
	"gonum.org/v1/gonum/stat"
)

// Histograms hold microseconds from 1 µs to one day: the load generator's
// range, so any latency either writer records fits.
const maxLatencyUS = 24 * 3600 * 1e6

// newHist returns a latency histogram. Three significant figures for the
// strategy-wide distributions the CDF plots and percentiles come from; two
// for per-replication and per-time-bucket ones, which are many and only
// feed confidence intervals and trend lines, where 1% resolution is far
// below the replication-to-replication spread.
func newHist(sigfigs int) *hdrhistogram.Histogram { return hdrhistogram.New(1, maxLatencyUS, sigfigs) }

func recordNS(h *hdrhistogram.Histogram, ns int64) {
	v := ns / 1000
	v = min(max(v, 1), int64(maxLatencyUS))
	_ = h.RecordValue(v)
}

// quantile returns the q-quantile (0..1) of h in seconds, NaN when empty.
func quantile(h *hdrhistogram.Histogram, q float64) float64 {
	if h == nil || h.TotalCount() == 0 {
		return math.NaN()
	}
	return float64(h.ValueAtQuantile(q*100)) / 1e6
}

// CDFPoint is one point of an empirical CDF: the fraction of values ≤ X seconds.
type CDFPoint struct{ X, P float64 }

// cdf turns a histogram into at most maxPoints CDF points (seconds), taken
// at the histogram's own bucket edges so nothing is interpolated.
func cdf(h *hdrhistogram.Histogram, maxPoints int) []CDFPoint {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	n := float64(h.TotalCount())
	var pts []CDFPoint
	var cum int64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		cum += b.Count
		pts = append(pts, CDFPoint{X: float64(b.To) / 1e6, P: float64(cum) / n})
	}
	if len(pts) <= maxPoints {
		return pts
	}
	// Thin evenly by index but keep the tail: the last points carry p99+.
	out := make([]CDFPoint, 0, maxPoints+1)
	step := float64(len(pts)) / float64(maxPoints)
	for i := 0.0; int(i) < len(pts); i += step {
		out = append(out, pts[int(i)])
	}
	if out[len(out)-1] != pts[len(pts)-1] {
		out = append(out, pts[len(pts)-1])
	}
	return out
}

// Spread is a statistic's mean and 5th–95th percentile across replications
// (the reporting rule for concentration metrics, docs/references.md [14]).
type Spread struct {
	Mean, P5, P95 float64
	N             int
}

// SpreadOf computes the mean and the 5th and 95th percentiles of the
// finite values of xs (linear interpolation between order statistics at
// position (n−1)·q: Hyndman–Fan type 7, the default of R and of
// spreadsheets' PERCENTILE.INC).
func SpreadOf(xs []float64) Spread {
	v := results.Finite(xs)
	s := Spread{Mean: math.NaN(), P5: math.NaN(), P95: math.NaN(), N: len(v)}
	if len(v) == 0 {
		return s
	}
	slices.Sort(v)
	s.Mean = stat.Mean(v, nil)
	s.P5, s.P95 = quantile7(v, 0.05), quantile7(v, 0.95)
	return s
}

// quantile7 is the type-7 quantile of sorted values.
func quantile7(sorted []float64, q float64) float64 {
	h := float64(len(sorted)-1) * q
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
