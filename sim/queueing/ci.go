package queueing

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a confidence interval for a mean, built from independent
// per-replication values.
type Interval struct {
	// Mean is the sample mean of the values.
	Mean float64
	// HalfWidth is t(n−1, (1+level)/2)·s/√n; +Inf when n < 2.
	HalfWidth float64
	// Lo and Hi are Mean ∓ HalfWidth.
	Lo, Hi float64
	// N is the number of values; Level the coverage (0.95).
	N     int
	Level float64
}

// Contains reports whether x lies in [Lo, Hi].
func (iv Interval) Contains(x float64) bool { return iv.Lo <= x && x <= iv.Hi }

// RelHalfWidth returns the half-width relative to |x|, the precision of the
// interval as an estimate of x.
func (iv Interval) RelHalfWidth(x float64) float64 { return iv.HalfWidth / math.Abs(x) }

// String formats the interval as "mean ± half [lo, hi] (n=…, 95%)".
func (iv Interval) String() string {
	return fmt.Sprintf("%.6g ± %.3g [%.6g, %.6g] (n=%d, %g%%)", iv.Mean, iv.HalfWidth, iv.Lo, iv.Hi, iv.N, iv.Level*100)
}

// MeanCI returns the Student-t confidence interval of the given level (0.95
// for 95%) for the mean of xs: x̄ ± t(n−1, (1+level)/2)·s/√n with s the sample
// standard deviation. Replications are independent, so unlike the requests
// within one run their values are i.i.d. and the t interval is valid. With
// fewer than two values the width is infinite.
func MeanCI(xs []float64, level float64) Interval {
	iv := Interval{N: len(xs), Level: level}
	if len(xs) == 0 {
		iv.Mean, iv.HalfWidth = math.NaN(), math.Inf(1)
	} else if len(xs) == 1 {
		iv.Mean, iv.HalfWidth = xs[0], math.Inf(1)
	} else {
		mean, sd := stat.MeanStdDev(xs, nil)
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(xs) - 1)}.Quantile((1 + level) / 2)
		iv.Mean, iv.HalfWidth = mean, t*sd/math.Sqrt(float64(len(xs)))
	}
	iv.Lo, iv.Hi = iv.Mean-iv.HalfWidth, iv.Mean+iv.HalfWidth
	return iv
}

// CI95 returns the 95% Student-t confidence interval for the mean of xs.
func CI95(xs []float64) Interval { return MeanCI(xs, 0.95) }

// FamilyLevel returns the per-interval confidence level that keeps the
// probability of any miss among k intervals at most 1 − level (Bonferroni).
// A test suite that asserts "exact value inside the interval" for k
// statistics at a fixed seed needs it: k = 30 intervals at 95% each leave
// only about a 21% chance (0.95³⁰, fewer for correlated statistics) that
// none misses by chance.
func FamilyLevel(level float64, k int) float64 {
	if k < 1 {
		k = 1
	}
	return 1 - (1-level)/float64(k)
}
