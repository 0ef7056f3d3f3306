package reports

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExitTimeWorkedExample(t *testing.T) {
	a := DefaultExitAssumptions()
	// Worked example (docs/references.md [15]): 1 PB at 10 Gbps and 80% takes ≈ 11.6 days.
	d := a.DataTime(1e6)
	assert.InDelta(t, 1e6, d.Seconds(), 1e-3)
	assert.InDelta(t, 11.57, d.Hours()/24, 0.01)
	assert.Equal(t, "fits the 30-day transition", ExitTimeBand(d).Label)
	a.Notice = 60 * 24 * time.Hour
	assert.Equal(t, a.Notice+d, a.ExitTime(1e6))
	a.Parallel = 100 * 24 * time.Hour
	assert.Equal(t, a.Notice+a.Parallel, a.ExitTime(1e6), "re-engineering longer than the copy bounds the exit")
	assert.Equal(t, "needs the exceptional extension (30 days–7 months)", ExitTimeBand(a.ExitTime(1e6)).Label)
	assert.Equal(t, "outside the Data Act envelope (>7 months)", ExitTimeBand(300*24*time.Hour).Label)
}

func TestExitCostsUnderThreeRegimes(t *testing.T) {
	e := pricing(t).ExitCosts("bedrock", "us-east-1", nil, 50_000)
	assert.InDelta(t, 4291, e.List, 1e-6)
	assert.Equal(t, 0.0, e.Waiver)
	assert.Contains(t, e.WaiverConditions, "60 days")
	assert.InDelta(t, 4291, e.EUUntil2027, 1e-6, "at most direct cost: the list price is the ceiling")
	assert.Equal(t, 0.0, e.EUFrom2027, "switching charges banned from 12 Jan 2027")
	g := pricing(t).ExitCosts("generic", "x", nil, 10)
	assert.True(t, math.IsNaN(g.Waiver), "no exit programme")
}

func TestParseStateInventory(t *testing.T) {
	hs, err := ParseStateInventory(strings.NewReader("strategy,provider,region,class,gigabytes,note\n*,aws,us-east-1,proprietary-format,5000,agent memory\nazure-failover,azure,,regenerable,200,\n"))
	require.NoError(t, err)
	require.Len(t, hs, 2)
	assert.Equal(t, 5000.0, hs[0].GB)
	assert.Equal(t, "*", hs[0].Strategy)
	_, err = ParseStateInventory(strings.NewReader("strategy,provider,region,class,gigabytes\n*,aws,,weird,1\n"))
	assert.ErrorContains(t, err, "line 2: class \"weird\"")
	_, err = ParseStateInventory(strings.NewReader("strategy,provider,region,class,gigabytes\n*,aws,,regenerable,-1\n"))
	assert.ErrorContains(t, err, "not a non-negative number")
	_, err = ParseStateInventory(strings.NewReader("provider,gigabytes\n"))
	assert.ErrorContains(t, err, "header has no column")
}
