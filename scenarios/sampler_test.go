package scenarios

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSamplerMatchesQuantile: a Sampler's lognormal quantile agrees with the
// exact one to the documented relative error over a dense grid of u, the
// table's edges included, and equals it exactly in the tails and for the
// other distributions.
func TestSamplerMatchesQuantile(t *testing.T) {
	for _, tc := range []struct {
		sigma, tol float64
	}{{0.2, 2e-7}, {0.7, 1e-6}, {1, 1e-6}, {1.5, 2e-6}, {2, 3e-6}} {
		d := Dist{Kind: LogNormal, A: math.Log(0.35), B: tc.sigma}
		s := NewSampler(d)
		require.NotNil(t, s.tab)
		worst := 0.0
		for i := 0; i <= 2_000_000; i++ {
			u := float64(i) / 2_000_000
			if u >= 1 {
				break
			}
			got, want := s.Quantile(u), d.Quantile(u)
			if u < SamplerLo || u >= SamplerHi {
				require.Equal(t, want, got, "tails are exact (u=%g)", u)
				continue
			}
			worst = max(worst, math.Abs(got/want-1))
		}
		t.Logf("σ=%g: worst relative error %.2g", tc.sigma, worst)
		assert.Less(t, worst, tc.tol, "σ=%g", tc.sigma)
	}
	for _, d := range []Dist{ConstDist(3), {Kind: Exponential, A: 2}, {Kind: Uniform, A: 1, B: 4}} {
		s := NewSampler(d)
		assert.Nil(t, s.tab, "only proper lognormals are tabulated")
		for _, u := range []float64{0, 0.3, 0.5, 0.9999} {
			assert.Equal(t, d.Quantile(u), s.Quantile(u))
		}
	}
	// Tables are shared between samplers of the same distribution.
	a, b := NewSampler(Dist{Kind: LogNormal, A: 1, B: 0.5}), NewSampler(Dist{Kind: LogNormal, A: 1, B: 0.5})
	assert.Same(t, a.tab, b.tab)
}

func BenchmarkSamplerLognormal(b *testing.B) {
	s := NewSampler(Dist{Kind: LogNormal, A: math.Log(0.35), B: 0.7})
	r := NewRand(1, 0, "bench", "")
	x := 0.0
	for range b.N {
		x += s.Quantile(r.Float64())
	}
	_ = x
}
