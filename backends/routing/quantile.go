package routing

import (
	"math"
	"slices"
)

// samples keeps the most recent TTFTs of a candidate in a fixed ring and a
// quantile of them, kept current as each sample arrives (Observe) so that
// Pick only reads value. The ring and the sorted copy are allocated once.
//
// The quantile is maintained incrementally: scratch holds the window's
// samples in ascending order, and a new sample replaces the one it evicts
// by one binary search and one memmove of the entries ranked between them
// (O(log W) compares plus a short copy). Copying the window and running a
// quickselect on every sample cost about a sixth of a simulation's time
// under the hedged policy; the value is the same, exactly.
//
// A zero samples holding only ring, scratch and q (as CostAware makes to
// forget its window) is a valid empty window: the sorted prefix is
// scratch[:len()], which is then empty.
type samples struct {
	ring    []int64 // the window in arrival order
	next    int     // where the next sample goes in ring
	full    bool    // ring has wrapped: len(ring) samples are held
	scratch []int64 // scratch[:len()] is the window sorted ascending
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
	n := s.len()
	if s.full {
		replaceSorted(s.scratch[:n], s.ring[s.next], x)
	} else {
		insertSorted(s.scratch[:n+1], x)
		n++
	}
	s.ring[s.next] = x
	s.next++
	if s.next == len(s.ring) {
		s.next, s.full = 0, true
	}
	s.value = s.scratch[nearestRank(n, s.q)]
}

// nearestRank returns the 0-based index of the q quantile of n sorted
// samples by the nearest-rank rule: the smallest sample with at least q of
// them at or below it. The 1e-9 keeps q·n that is an integer in exact
// arithmetic (0.95 × 20) from rounding up a rank.
func nearestRank(n int, q float64) int {
	k := int(math.Ceil(float64(n)*q-1e-9)) - 1
	return min(max(k, 0), n-1)
}

// insertSorted inserts x into a, whose first len(a)-1 entries are sorted
// ascending, keeping all of a sorted.
func insertSorted(a []int64, x int64) {
	n := len(a) - 1
	i, _ := slices.BinarySearch(a[:n], x)
	copy(a[i+1:], a[i:n])
	a[i] = x
}

// replaceSorted replaces one occurrence of old in the ascending slice a
// (old must be present) by x, keeping a sorted: the entries ranked between
// old and x shift by one place towards old's slot.
func replaceSorted(a []int64, old, x int64) {
	i, _ := slices.BinarySearch(a, old) // a[i] == old
	if x >= old {
		// a[i+1:j] are < x: move them down one and put x after them.
		j, _ := slices.BinarySearch(a[i+1:], x)
		j += i + 1
		copy(a[i:j-1], a[i+1:j])
		a[j-1] = x
		return
	}
	// a[j:i] are >= x: move them up one and put x before them.
	j, _ := slices.BinarySearch(a[:i], x)
	copy(a[j+1:i+1], a[j:i])
	a[j] = x
}

// selectNth returns the k-th smallest element of a (0-based), reordering
// a. It is quickselect with a median-of-three pivot: linear on average.
// samples no longer needs it (its window is kept sorted); it remains the
// independent reference the incremental window is tested against.
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
