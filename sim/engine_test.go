package sim

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMMcSanity is a quick guard on the engine with a scenario built in code;
// the full closed-form suite lives in oracle_test.go.
func TestMMcSanity(t *testing.T) {
	s := mmc(10, 9, 200_000)
	s.Replications = 8
	s.Run.Warmup.Fraction = 0.1
	sum, err := Run(context.Background(), s, Options{})
	require.NoError(t, err)
	r := sum.Results[0]
	require.Equal(t, 8, r.Replications)
	require.True(t, r.WaitSeconds.MeanCI95.Contains(0.668732), "Wq CI %v", r.WaitSeconds.MeanCI95)
	require.True(t, r.PWaitCI95.Contains(0.668732), "P(wait) CI %v", r.PWaitCI95)
	require.InDelta(t, r.Little.L, r.Little.LambdaW, 1e-6*r.Little.L)
	require.Equal(t, r.Requests, r.Completed)
}
