package results

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Textbook Student-t critical values t(ν, 0.975), as printed in tables
// (Law, Simulation Modeling and Analysis, Table T.1; NIST/SEMATECH
// e-Handbook §1.3.6.7.2).
var tTable = map[int]float64{1: 12.706, 4: 2.776, 9: 2.262, 29: 2.045}

func TestMeanCIMatchesTextbookValues(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	iv := CI95(xs)
	// s = √(55/6); half-width t(9, 0.975)·s/√10.
	half := tTable[9] * math.Sqrt(55.0/6) / math.Sqrt(10)
	assert.InDelta(t, 5.5, iv.Mean, 1e-12)
	assert.InDelta(t, half, iv.HalfWidth(), 2e-3, "table values carry three decimals")
	assert.True(t, iv.Contains(5.5) && !iv.Contains(10))
	assert.Equal(t, 10, iv.N)
	assert.Equal(t, 0.95, iv.Level)
	assert.InDelta(t, iv.HalfWidth()/5.5, iv.RelHalfWidth(5.5), 1e-12)
	assert.Contains(t, iv.String(), "n=10")

	// {1..5}: s = 1.5811, half-width t(4)·s/√5 = 1.963.
	assert.InDelta(t, 1.963, CI95([]float64{1, 2, 3, 4, 5}).HalfWidth(), 1e-3)
	// Two values: t(1) = 12.706.
	assert.InDelta(t, tTable[1]*math.Sqrt(0.5)/math.Sqrt(2), CI95([]float64{1, 2}).HalfWidth(), 1e-3)
}

func TestMeanCIUndefinedBelowTwoValues(t *testing.T) {
	one := CI95([]float64{7})
	assert.Equal(t, 7.0, one.Mean)
	assert.False(t, one.Defined(), "one replication has no interval")
	assert.False(t, one.Contains(7), "an undefined interval contains nothing")
	assert.True(t, math.IsNaN(CI95(nil).Mean))
	assert.Equal(t, 2, CI95([]float64{1, math.NaN(), 3, math.Inf(1)}).N, "non-finite replications are left out")
	assert.Equal(t, "null", string(must(one.CI().MarshalJSON())))
}

// The interval's half-width is the (1+level)/2 quantile of gonum's
// Student-t distribution times the standard error, at any level and n.
func TestMeanCIAgreesWithGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{2, 3, 5, 10, 30, 200} {
		for _, level := range []float64{0.8, 0.9, 0.95, 0.99} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = rng.NormFloat64()*3 + 10
			}
			iv := MeanCI(xs, level)
			mean, sd := stat.MeanStdDev(xs, nil)
			se := sd / math.Sqrt(float64(n))
			dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
			// The standardised upper bound sits at the right quantile.
			assert.InDelta(t, (1+level)/2, dist.CDF((iv.Hi-mean)/se), 1e-9, "n=%d level=%g", n, level)
			assert.InDelta(t, iv.Mean-iv.Lo, iv.Hi-iv.Mean, 1e-9)
		}
	}
}

// Over many normal samples with a known mean, about 95% of the 95%
// intervals contain it (fixed seed; the bound is the binomial's 99.9%
// range around 0.95 for 4000 trials).
func TestMeanCICoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const trials, n = 4000, 8
	hit := 0
	xs := make([]float64, n)
	for range trials {
		for i := range xs {
			xs[i] = rng.NormFloat64()*2 + 1
		}
		if CI95(xs).Contains(1) {
			hit++
		}
	}
	p := float64(hit) / trials
	sd := math.Sqrt(0.95 * 0.05 / trials)
	assert.InDelta(t, 0.95, p, 3.3*sd, "coverage %.4f", p)
}

func TestPairedCI(t *testing.T) {
	// Differences b−a = {2, 4, 1, 3, 5}: mean 3, s = 1.5811, half-width
	// t(4)·s/√5 = 1.963.
	a := []float64{10, 11, 12, 13, 14}
	b := []float64{12, 15, 13, 16, 19}
	iv := PairedCI(a, b, 0.95)
	assert.InDelta(t, 3, iv.Mean, 1e-12)
	assert.InDelta(t, 1.963, iv.HalfWidth(), 1e-3)
	assert.Equal(t, 5, iv.N)
	// A pair with an undefined side is left out, not the whole side.
	iv = PairedCI([]float64{1, math.NaN(), 3}, []float64{2, 5, 5}, 0.95)
	assert.Equal(t, 2, iv.N)
	assert.InDelta(t, 1.5, iv.Mean, 1e-12)
	// Pairing removes what both runs of a replication share (here most of
	// the spread): unpaired, the same values give a far wider interval.
	ca := []float64{10, 50, 30, 80, 20}
	cb := []float64{13.1, 52.8, 33.2, 82.9, 23.0}
	assert.Less(t, PairedCI(ca, cb, 0.95).HalfWidth(), WelchCI(ca, cb, 0.95).HalfWidth()/10)
}

func TestWelchCI(t *testing.T) {
	a := []float64{1, 2, 3}
	b := []float64{4, 5, 6, 7}
	iv := WelchCI(a, b, 0.95)
	// s²a/na = 1/3, s²b/nb = 5/12; se = √0.75; Welch–Satterthwaite
	// ν = 0.75² / ((1/3)²/2 + (5/12)²/3) = 4.9592.
	va, vb := 1.0/3, 5.0/12
	nu := (va + vb) * (va + vb) / (va*va/2 + vb*vb/3)
	require.InDelta(t, 4.9592, nu, 1e-4)
	tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}.Quantile(0.975)
	assert.InDelta(t, 3.5, iv.Mean, 1e-12)
	assert.InDelta(t, tq*math.Sqrt(0.75), iv.HalfWidth(), 1e-9)
	// ν ≈ 5: the half-width lies between t(5)·se = 2.571·se and t(4)·se.
	assert.Greater(t, iv.HalfWidth(), 2.570*math.Sqrt(0.75))
	assert.Less(t, iv.HalfWidth(), tTable[4]*math.Sqrt(0.75))
	assert.False(t, WelchCI([]float64{1}, []float64{2, 3}, 0.95).Defined())
	// Equal constants: no spread, a zero-width interval at the difference.
	c := WelchCI([]float64{2, 2}, []float64{5, 5}, 0.95)
	assert.Equal(t, [2]float64{3, 3}, [2]float64{c.Lo, c.Hi})
}

func TestFamilyLevel(t *testing.T) {
	assert.InDelta(t, 0.95, FamilyLevel(0.95, 1), 1e-15)
	assert.InDelta(t, 0.99875, FamilyLevel(0.95, 40), 1e-15)
	assert.InDelta(t, 0.95, FamilyLevel(0.95, 0), 1e-15)
	// A wider level widens the interval around the same mean.
	xs := []float64{1, 2, 3, 4, 5}
	assert.Greater(t, MeanCI(xs, FamilyLevel(0.95, 40)).HalfWidth(), CI95(xs).HalfWidth())
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
