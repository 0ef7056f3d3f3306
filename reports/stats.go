package reports

import (
	"math"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
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

// Interval is a mean over replications with its 95% Student-t confidence
// interval. Lo and Hi are NaN when fewer than two replications exist: a
// single run's number is never presented with a made-up interval.
type Interval struct {
	Mean, Lo, Hi float64
	N            int
}

// HalfWidth is half the interval's width (NaN when undefined).
func (iv Interval) HalfWidth() float64 { return (iv.Hi - iv.Lo) / 2 }

// Defined reports whether the interval has bounds.
func (iv Interval) Defined() bool { return !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) }

// MeanCI95 treats each x as one independent replication's statistic. NaN
// values (a replication where the statistic is undefined) are skipped.
func MeanCI95(xs []float64) Interval {
	v := finite(xs)
	iv := Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), N: len(v)}
	if len(v) == 0 {
		return iv
	}
	iv.Mean = stat.Mean(v, nil)
	if len(v) < 2 {
		return iv
	}
	sd := stat.StdDev(v, nil)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(v) - 1)}.Quantile(0.975)
	h := t * sd / math.Sqrt(float64(len(v)))
	iv.Lo, iv.Hi = iv.Mean-h, iv.Mean+h
	return iv
}

// WelchCI95 is the 95% interval of mean(b) − mean(a) for independent
// samples with unequal variances (Welch–Satterthwaite degrees of freedom).
func WelchCI95(a, b []float64) Interval {
	a, b = finite(a), finite(b)
	iv := Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), N: min(len(a), len(b))}
	if len(a) == 0 || len(b) == 0 {
		return iv
	}
	ma, mb := stat.Mean(a, nil), stat.Mean(b, nil)
	iv.Mean = mb - ma
	if len(a) < 2 || len(b) < 2 {
		return iv
	}
	va, vb := stat.Variance(a, nil)/float64(len(a)), stat.Variance(b, nil)/float64(len(b))
	se := math.Sqrt(va + vb)
	if se == 0 {
		iv.Lo, iv.Hi = iv.Mean, iv.Mean
		return iv
	}
	df := (va + vb) * (va + vb) / (va*va/float64(len(a)-1) + vb*vb/float64(len(b)-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.975)
	iv.Lo, iv.Hi = iv.Mean-t*se, iv.Mean+t*se
	return iv
}

// Spread is a statistic's mean and 5th–95th percentile across replications
// (the research note's reporting rule for concentration metrics).
type Spread struct {
	Mean, P5, P95 float64
	N             int
}

// SpreadOf computes the mean and the 5th and 95th percentiles of the
// finite values of xs (linear interpolation between order statistics at
// position (n−1)·q: Hyndman–Fan type 7, the default of R and of
// spreadsheets' PERCENTILE.INC).
func SpreadOf(xs []float64) Spread {
	v := finite(xs)
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

func finite(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
