package results

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a confidence interval for a mean (or a difference of means)
// built from independent per-replication values. Lo and Hi are NaN when
// the interval is undefined (fewer than two values): a single run's number
// is never given a made-up interval. The formulas are the textbook ones
// (Law, Simulation Modeling and Analysis, 5th ed., §9.4 and §10.2; Welch,
// Biometrika 34, 1947).
type Interval struct {
	// Mean is the point estimate: the sample mean, or the mean difference.
	Mean float64
	// Lo and Hi bound the interval; NaN when undefined.
	Lo, Hi float64
	// N is the number of values (or pairs) the interval is built from.
	N int
	// Level is the coverage the interval was built for (0.95 for 95%).
	Level float64
}

// HalfWidth returns half the interval's width (NaN when undefined).
func (iv Interval) HalfWidth() float64 { return (iv.Hi - iv.Lo) / 2 }

// Defined reports whether the interval has bounds.
func (iv Interval) Defined() bool { return !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) }

// Contains reports whether x lies in [Lo, Hi]; false when undefined.
func (iv Interval) Contains(x float64) bool { return iv.Lo <= x && x <= iv.Hi }

// RelHalfWidth returns the half-width relative to |x|, the precision of the
// interval as an estimate of x.
func (iv Interval) RelHalfWidth(x float64) float64 { return iv.HalfWidth() / math.Abs(x) }

// CI returns the bounds in the summary's JSON form (null when undefined).
func (iv Interval) CI() CI { return CI{iv.Lo, iv.Hi} }

// String formats the interval as "mean ± half [lo, hi] (n=…, 95%)".
func (iv Interval) String() string {
	return fmt.Sprintf("%.6g ± %.3g [%.6g, %.6g] (n=%d, %g%%)", iv.Mean, iv.HalfWidth(), iv.Lo, iv.Hi, iv.N, iv.Level*100)
}

// MeanCI returns the Student-t confidence interval of the given level for
// the mean of xs: x̄ ± t(n−1, (1+level)/2)·s/√n with s the sample standard
// deviation. Each x is one independent replication's statistic; unlike the
// requests within one run, replications are i.i.d., so the t interval is
// valid. NaN and infinite values (a replication in which the statistic is
// undefined) are left out and not counted in N.
func MeanCI(xs []float64, level float64) Interval {
	v := Finite(xs)
	iv := Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), N: len(v), Level: level}
	if len(v) == 0 {
		return iv
	}
	if len(v) == 1 {
		iv.Mean = v[0]
		return iv
	}
	mean, sd := stat.MeanStdDev(v, nil)
	h := tQuantile(float64(len(v)-1), level) * sd / math.Sqrt(float64(len(v)))
	iv.Mean, iv.Lo, iv.Hi = mean, mean-h, mean+h
	return iv
}

// CI95 returns the 95% Student-t confidence interval for the mean of xs.
func CI95(xs []float64) Interval { return MeanCI(xs, 0.95) }

// PairedCI returns the interval of mean(b − a) for paired values: a[i]
// and b[i] come from the same replication under common random numbers
// (the same request stream and draws), so the differences are i.i.d.
// across replications and their Student-t interval is valid (Law §10.2.1,
// the paired-t confidence interval). Pairs with a non-finite side are left
// out; values beyond the shorter slice are ignored.
func PairedCI(a, b []float64, level float64) Interval {
	n := min(len(a), len(b))
	d := make([]float64, 0, n)
	for i := range n {
		if x := b[i] - a[i]; !math.IsNaN(x) && !math.IsInf(x, 0) {
			d = append(d, x)
		}
	}
	return MeanCI(d, level)
}

// WelchCI returns the interval of mean(b) − mean(a) for independent
// samples with unequal variances: standard error √(s²a/na + s²b/nb) and
// the Welch–Satterthwaite degrees of freedom (Law §10.2.2). Use it when
// the two sets of replications saw different request streams.
func WelchCI(a, b []float64, level float64) Interval {
	a, b = Finite(a), Finite(b)
	iv := Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), N: min(len(a), len(b)), Level: level}
	if len(a) == 0 || len(b) == 0 {
		return iv
	}
	iv.Mean = stat.Mean(b, nil) - stat.Mean(a, nil)
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
	h := tQuantile(df, level) * se
	iv.Lo, iv.Hi = iv.Mean-h, iv.Mean+h
	return iv
}

// tQuantile is the two-sided Student-t critical value for the level.
func tQuantile(df, level float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile((1 + level) / 2)
}

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

// Finite returns the finite values of xs, in order: the replications in
// which a statistic is defined.
func Finite(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}
