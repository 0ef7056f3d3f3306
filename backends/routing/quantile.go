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
	// Nearest rank: the smallest sample with at least q of them at or below.
	k := int(math.Ceil(float64(n)*s.q-1e-9)) - 1
	s.value = selectNth(buf, min(max(k, 0), n-1))
}

// selectNth returns the k-th smallest element of a (0-based), reordering
// a. It is quickselect with a median-of-three pivot: linear on average,
// where sorting the window on every sample cost a third of a simulation's
// time under the hedged policy. Small ranges are sorted.
func selectNth(a []int64, k int) int64 {
	lo, hi := 0, len(a)-1
	for hi-lo > 16 {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	slices.Sort(a[lo : hi+1])
	return a[k]
}
