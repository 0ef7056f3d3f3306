package routing

import (
	"math"
	"slices"
)

// samples keeps the most recent TTFTs of a candidate in a fixed ring and a
// quantile of them, recomputed when a sample arrives (Observe) so that
// Pick only reads it. The ring and the sort scratch are allocated once.
type samples struct {
	ring    []int64
	next    int
	full    bool
	scratch []int64
	q       float64 // the quantile kept
	value   int64   // its current value (0 until the first sample)
}

func newSamples(size int, q float64) samples {
	return samples{ring: make([]int64, size), scratch: make([]int64, size), q: q}
}

// len returns how many samples are held.
func (s *samples) len() int {
	if s.full {
		return len(s.ring)
	}
	return s.next
}

// add records x and refreshes the quantile.
func (s *samples) add(x int64) {
	s.ring[s.next] = x
	s.next++
	if s.next == len(s.ring) {
		s.next, s.full = 0, true
	}
	n := s.len()
	buf := s.scratch[:n]
	copy(buf, s.ring[:n])
	slices.Sort(buf)
	// Nearest rank: the smallest sample with at least q of them at or below.
	k := int(math.Ceil(float64(n)*s.q-1e-9)) - 1
	s.value = buf[min(max(k, 0), n-1)]
}
