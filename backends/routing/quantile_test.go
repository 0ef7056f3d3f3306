package routing

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSamplesMatchSelect: the incrementally kept quantile equals a
// quickselect over the window after every sample, for windows smaller and
// larger than the stream, several quantiles, many ties, and after the
// reset CostAware does to forget a window.
func TestSamplesMatchSelect(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, size := range []int{1, 2, 3, 20, 64, 128} {
		for _, q := range []float64{0.01, 0.5, 0.95, 0.99, 1} {
			for _, spread := range []int64{3, 1000, 1 << 40} {
				s := newSamples(size, q)
				var window []int64 // the last size samples, oldest first
				for i := range 3*size + 50 {
					if i == 2*size+7 {
						s = samples{ring: s.ring, scratch: s.scratch, q: s.q}
						window = window[:0]
					}
					x := r.Int64N(spread) - spread/4
					s.add(x)
					window = append(window, x)
					if len(window) > size {
						window = window[1:]
					}
					require.Equal(t, len(window), s.len())
					sorted := slices.Clone(window)
					slices.Sort(sorted)
					require.Equal(t, sorted, s.scratch[:s.len()], "size=%d q=%g i=%d: window kept sorted", size, q, i)
					want := selectNth(slices.Clone(window), nearestRank(len(window), q))
					require.Equal(t, want, s.value, "size=%d q=%g spread=%d i=%d", size, q, spread, i)
				}
			}
		}
	}
}

// TestNearestRank pins the rank rule, including q·n that is an integer.
func TestNearestRank(t *testing.T) {
	require.Equal(t, 18, nearestRank(20, 0.95), "p95 of 20 is the 19th")
	require.Equal(t, 94, nearestRank(100, 0.95))
	require.Equal(t, 0, nearestRank(1, 0.95))
	require.Equal(t, 127, nearestRank(128, 1))
	require.Equal(t, 0, nearestRank(128, 0.001))
}

// BenchmarkSamplesAdd is one TTFT sample into a full default-size window.
func BenchmarkSamplesAdd(b *testing.B) {
	s := newSamples(128, 0.95)
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]int64, 4096)
	for i := range xs {
		xs[i] = int64(r.ExpFloat64() * 4e8)
	}
	b.ReportAllocs()
	for i := range b.N {
		s.add(xs[i&4095])
	}
}
