package sim

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/mcbench/mcbench/scenarios"
)

// TestHeapOrder: events come out in (at, seq) order whatever the push
// pattern: many ties in time (seq must break them), negative and extreme
// times, pops interleaved with pushes, and the heap drained to empty and
// refilled.
func TestHeapOrder(t *testing.T) {
	r := scenarios.NewRand(3, 0, "heap-test", "")
	times := []func() int64{
		func() int64 { return int64(r.Uint64() % 5) },                  // heavy ties
		func() int64 { return int64(r.Uint64()>>1) - math.MaxInt64/2 }, // wide, signed
		func() int64 { return []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}[r.Uint64()%5] },
		func() int64 { return int64(r.ExpFloat64() * 1e9) },
	}
	for ti, at := range times {
		var h eventHeap
		var want []event // pending events, for reference
		seq := uint64(0)
		now := event{at: math.MinInt64}
		for step := range 20000 {
			if h.len() != len(want) {
				t.Fatalf("times %d step %d: len %d, want %d", ti, step, h.len(), len(want))
			}
			// Grow, then shrink, then grow again: push more often in
			// the first and last thirds.
			phase := step * 3 / 20000
			pushP := uint64(70)
			if phase == 1 {
				pushP = 30
			}
			if len(want) == 0 || r.Uint64()%100 < pushP {
				seq++
				e := event{at: at(), seq: seq, ref: int32(seq), gen: uint32(seq * 7), kind: evKind(seq % 11)}
				if e.at < now.at { // events are never scheduled in the past
					e.at = now.at
				}
				h.push(e)
				want = append(want, e)
				continue
			}
			got := h.pop()
			i := slices.IndexFunc(want, func(e event) bool { return e.seq == got.seq })
			if i < 0 || want[i] != got {
				t.Fatalf("times %d step %d: popped %+v, not pending", ti, step, got)
			}
			m := slices.MinFunc(want, cmpEvent)
			if m != got {
				t.Fatalf("times %d step %d: popped %+v, want %+v", ti, step, got, m)
			}
			now = got
			want = slices.Delete(want, i, i+1)
		}
		for len(want) > 0 {
			got := h.pop()
			m := slices.MinFunc(want, cmpEvent)
			if m != got {
				t.Fatalf("times %d drain: popped %+v, want %+v", ti, got, m)
			}
			want = slices.DeleteFunc(want, func(e event) bool { return e.seq == got.seq })
		}
		if h.len() != 0 {
			t.Fatalf("times %d: %d left after drain", ti, h.len())
		}
	}
}

func cmpEvent(a, b event) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// TestLess pins the order on extreme values, which the branch-free
// comparison must get right.
func TestLess(t *testing.T) {
	vals := []int64{math.MinInt64, math.MinInt64 + 1, -1, 0, 1, math.MaxInt64 - 1, math.MaxInt64}
	seqs := []uint64{0, 1, 1 << 63, math.MaxUint64}
	for _, a := range vals {
		for _, b := range vals {
			for _, s := range seqs {
				for _, u := range seqs {
					x, y := event{at: a, seq: s}, event{at: b, seq: u}
					if got, want := less(&x, &y), cmpEvent(x, y) < 0; got != want {
						t.Fatalf("less(%d/%d, %d/%d) = %v", a, s, b, u, got)
					}
				}
			}
		}
	}
}

// benchHold is the hold model at a steady population of n events, with the
// increments the federated scenario makes: mostly short (network, service)
// and some long constant ones (hedge delays and timeouts, which arrive in
// time order).
func benchHold(b *testing.B, n int) {
	var h eventHeap
	r := scenarios.NewRand(1, 0, "bench", "")
	incs := make([]int64, 4096)
	for i := range incs {
		switch r.Uint64() % 4 {
		case 0:
			incs[i] = 1_500_000_000
		default:
			incs[i] = int64(r.ExpFloat64() * 3e8)
		}
	}
	for i := range n {
		h.push(event{at: incs[i&4095], seq: uint64(i)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e := h.pop()
		e.at += incs[i&4095]
		e.seq = uint64(i + n)
		h.push(e)
	}
}

func BenchmarkHeapHold200(b *testing.B)  { benchHold(b, 200) }
func BenchmarkHeapHold4000(b *testing.B) { benchHold(b, 4000) }
