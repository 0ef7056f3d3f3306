package reports

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAvailabilityMath(t *testing.T) {
	assert.InDelta(t, 3, Nines(0.999), 1e-9)
	assert.True(t, math.IsInf(Nines(1), 1))
	assert.InDelta(t, 2, BudgetUsed(0.998, 0.999), 1e-9, "twice the budget: objective missed")
	assert.InDelta(t, 0.5, BudgetUsed(0.9995, 0.999), 1e-9)
	assert.InDelta(t, 0.99*0.999, SeriesAvailability(0.99, 0.999), 1e-12)
	// A primary at 99% with a secondary that catches all of its failures at 99%: 99.99%.
	assert.InDelta(t, 0.9999, FailoverAvailability(0.99, 1, 0.99), 1e-12)
	assert.Equal(t, "not easily substitutable", FailoverCoverageBand(0.4).Label)
	assert.Equal(t, "substitutable", FailoverCoverageBand(0.995).Label)
}
