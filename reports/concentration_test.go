package reports

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHHIWorkedExamples(t *testing.T) {
	// DOJ/FTC example: shares 30/30/20/20 give 2,600.
	assert.InDelta(t, 2600, HHI([]float64{30, 30, 20, 20}), 1e-9)
	assert.InDelta(t, 10000, HHI([]float64{100}), 1e-9)
	assert.InDelta(t, 5000, HHI([]float64{50, 50}), 1e-9)
	assert.True(t, math.IsNaN(HHI(nil)))
	// Shares from amounts.
	assert.Equal(t, []float64{30, 30, 20, 20}, Shares([]float64{3, 3, 2, 2}))
	assert.Nil(t, Shares([]float64{0, 0}))
	// Merger delta: two 30% firms combine into 60%: 60²+20²+20² = 4,400 = 2,600 + 2·30·30.
	assert.InDelta(t, 1800, MergerDelta(30, 30), 1e-9)
	assert.InDelta(t, HHI([]float64{60, 20, 20})-HHI([]float64{30, 30, 20, 20}), MergerDelta(30, 30), 1e-9)
	// Numbers-equivalent and CR1.
	assert.InDelta(t, 10000.0/2600, EffectiveSuppliers(2600), 1e-12)
	cr1, who := CR1([]float64{20, 45, 35})
	assert.Equal(t, 45.0, cr1)
	assert.Equal(t, 1, who)
}

func TestNormalisedHHI(t *testing.T) {
	assert.InDelta(t, 0, NormalisedHHI(5000, 2), 1e-12, "50/50 over two capable providers is balanced")
	assert.InDelta(t, 1, NormalisedHHI(10000, 2), 1e-12)
	assert.InDelta(t, 0, NormalisedHHI(HHI([]float64{100.0 / 3, 100.0 / 3, 100.0 / 3}), 3), 1e-9)
	// 70/30 over two: (5800 − 5000)/(10000 − 5000) = 0.16.
	assert.InDelta(t, 0.16, NormalisedHHI(HHI([]float64{70, 30}), 2), 1e-12)
	assert.Equal(t, 1.0, NormalisedHHI(10000, 1), "one capable provider: exclusive")
	assert.Equal(t, "exclusive (one capable provider)", NormalisedBand(1, 1).Label)
	assert.Equal(t, "tilted", NormalisedBand(0.16, 2).Label)
	assert.True(t, NormalisedBand(0.16, 2).Convention)
}

func TestStackConcentrationResearchExample(t *testing.T) {
	// Models 100% on Azure, agents 100% on AWS, spend split 70/30: the
	// aggregate HHI is 5,800 and hides the per-layer 10,000.
	spend := [][]float64{
		{70, 0}, // azure: model, orchestration
		{0, 30}, // aws
	}
	st := StackConcentration(spend, 2)
	assert.InDelta(t, 5800, st.Aggregate, 1e-9)
	assert.InDelta(t, 10000, st.Max, 1e-9)
	assert.InDelta(t, 10000, st.Weighted, 1e-9)
}

func TestBands(t *testing.T) {
	assert.Equal(t, "unconcentrated", USHHIBand(999).Label)
	assert.Equal(t, "moderately concentrated", USHHIBand(1800).Label)
	assert.Equal(t, "highly concentrated", USHHIBand(1801).Label)
	assert.Equal(t, "1,000–2,000, Δ<250: unlikely concern", EUHHIBand(1500, 200).Label)
	assert.Equal(t, ">2,000, Δ≥150: screen exceeded", EUHHIBand(2600, 150).Label)
	assert.Equal(t, ">2,000", EUHHIBand(2600, math.NaN()).Label)
	assert.Equal(t, "≥50%: EU dominance indicator", CR1Band(50).Label)
	assert.Equal(t, ">30%: above the US share screen", CR1Band(31).Label)
	assert.Equal(t, "≤25%: EU comfort zone", CR1Band(25).Label)
	assert.Equal(t, ">100 into a highly concentrated layer", DeltaBand(150, 2600).Label)
	assert.False(t, USHHIBand(2000).Convention)
}
