package routing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/scenarios"
)

func TestFailoverOrder(t *testing.T) {
	p, err := New(&scenarios.Routing{Policy: scenarios.PolicyFailover}, cands("a", "b", "c"))
	require.NoError(t, err)
	prev := -1
	var got []int
	for attempt := 1; attempt <= 5; attempt++ {
		prev = p.Pick(0, &Request{Attempt: attempt, Prev: prev, U: 0.99})
		got = append(got, prev)
	}
	assert.Equal(t, []int{0, 1, 2, 0, 1}, got, "first attempt to the first, retries in placement order, wrapping")
}

func TestWeightedSplit(t *testing.T) {
	p, err := New(&scenarios.Routing{Policy: scenarios.PolicyWeighted, Weights: map[string]float64{"a": 3, "b": 1, "c": 0}}, cands("a", "b", "c"))
	require.NoError(t, err)
	counts := make([]int, 3)
	const n = 100_000
	r := scenarios.NewRand(1, 0, "test", "weighted")
	for range n {
		counts[p.Pick(0, &Request{Attempt: 1, Prev: -1, U: r.Float64()})]++
	}
	// Binomial standard deviation at p = 0.75: sqrt(n·p·(1−p)) ≈ 137; allow 5σ.
	assert.InDelta(t, 0.75*n, counts[0], 5*137)
	assert.InDelta(t, 0.25*n, counts[1], 5*137)
	assert.Zero(t, counts[2], "a zero weight never receives first attempts")
	assert.Equal(t, 2, p.Pick(0, &Request{Attempt: 2, Prev: 1}), "a retry goes to the next candidate")
}

func TestWeightedRejectsBadWeights(t *testing.T) {
	_, err := NewWeighted([]float64{0, 0})
	assert.Error(t, err)
	_, err = NewWeighted([]float64{1, -1})
	assert.Error(t, err)
	_, err = New(&scenarios.Routing{Policy: "roulette"}, cands("a"))
	assert.ErrorContains(t, err, "unknown policy")
	_, err = New(&scenarios.Routing{}, nil)
	assert.Error(t, err)
}

func cands(names ...string) []Candidate {
	out := make([]Candidate, len(names))
	for i, n := range names {
		out[i] = Candidate{Name: n}
	}
	return out
}
