package reports

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

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
