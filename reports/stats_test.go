package reports

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMeanCI95(t *testing.T) {
	iv := MeanCI95([]float64{1, 2, 3, 4, 5})
	// sd = 1.5811, t(0.975, 4) = 2.7764: half-width 1.9632.
	assert.InDelta(t, 3, iv.Mean, 1e-12)
	assert.InDelta(t, 1.9632, iv.HalfWidth(), 1e-4)
	one := MeanCI95([]float64{7})
	assert.Equal(t, 7.0, one.Mean)
	assert.False(t, one.Defined(), "one replication has no interval")
	assert.Equal(t, 2, MeanCI95([]float64{1, math.NaN(), 3}).N, "NaN replications are skipped")
}

func TestWelchCI95(t *testing.T) {
	iv := WelchCI95([]float64{1, 2, 3}, []float64{4, 5, 6, 7})
	assert.InDelta(t, 3.5, iv.Mean, 1e-12)
	assert.True(t, iv.Lo > 0 && iv.Hi > iv.Lo)
	assert.False(t, WelchCI95([]float64{1}, []float64{2, 3}).Defined())
}

func TestSpreadAndPareto(t *testing.T) {
	s := SpreadOf([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21})
	assert.InDelta(t, 11, s.Mean, 1e-12)
	assert.InDelta(t, 2, s.P5, 1e-9)
	assert.InDelta(t, 20, s.P95, 1e-9)
	// (cost, p99): b beats a on both; c is cheaper but slower; d is dominated by b.
	xs := []float64{3, 2, 1, 2.5}
	ys := []float64{5, 4, 9, 4.5}
	assert.Equal(t, []int{2, 1}, ParetoFront(xs, ys))
}
