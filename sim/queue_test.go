package sim

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/mcbench/mcbench/scenarios"
)

// TestQueueOrder: events come out in (at, seq) order whatever the push
// pattern: many ties in time (seq must break them), negative and extreme
// times, pops interleaved with pushes, and the heap drained to empty and
// refilled.
func TestQueueOrder(t *testing.T) {
	r := scenarios.NewRand(3, 0, "heap-test", "")
	times := []func() int64{
		func() int64 { return int64(r.Uint64() % 5) },                  // heavy ties
		func() int64 { return int64(r.Uint64()>>1) - math.MaxInt64/2 }, // wide, signed
		func() int64 { return []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}[r.Uint64()%5] },
		func() int64 { return int64(r.ExpFloat64() * 1e9) },
	}
	for ti, at := range times {
		var h eventQueue
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

// TestQueueDifferential drives the queue through a long random schedule, as
// the engine does: nothing is scheduled before the last event popped, and
// seq counts pushes. Every push is then after the last pop in (at, seq), so
// the events must come out in exactly their sorted order: the reference is
// a sort of everything pushed. The phases reach every path of the queue:
// ties and bursts at one time, microsecond gaps mixed with events hours
// ahead, the population swinging from ten to 100,000 and back (the ring
// grows and shrinks), gaps changing a thousandfold at a steady population
// (the window is re-fitted, both ways), and a sparse queue whose next event
// is hours away (far, and the skip over an empty ring); and it is run from
// zero, negative and huge times.
func TestQueueDifferential(t *testing.T) {
	const (
		µs   = int64(1e3)
		ms   = int64(1e6)
		sec  = int64(1e9)
		hour = 3600 * sec
	)
	type phase struct {
		name   string
		steps  int
		target int     // the population aimed at
		mix    []int64 // mean gaps to draw from; 0 is a tie with now
		burst  int     // one push in this many is a burst at one time
	}
	phases := []phase{
		{"warm", 5_000, 10, []int64{0, 1, µs, ms, sec, hour}, 50},
		{"up", 130_000, 100_000, []int64{µs, 10 * µs, ms, hour}, 0},
		{"dense", 40_000, 100_000, []int64{1, 10, µs}, 0},
		{"sparse", 40_000, 100_000, []int64{sec, 10 * sec}, 0},
		{"down", 130_000, 10, []int64{µs, ms}, 0},
		{"far", 5_000, 10, []int64{sec, hour, 5 * hour}, 0},
		{"bursts", 40_000, 2_000, []int64{0, µs, ms}, 20},
	}
	for _, start := range []int64{0, -3 * hour, math.MaxInt64 / 2} {
		r := scenarios.NewRand(7, 0, "queue-test", "")
		var q eventQueue
		var pushed, popped []event
		last := event{at: math.MinInt64}
		pop := func(where string) {
			e := q.pop()
			if cmpEvent(last, e) >= 0 {
				t.Fatalf("start %d %s: popped %+v after %+v", start, where, e, last)
			}
			popped = append(popped, e)
			last = e
		}
		rings, shifts, farUsed := map[int]bool{}, map[uint]bool{}, false
		for _, ph := range phases {
			for step := range ph.steps {
				n := len(pushed) - len(popped)
				if q.len() != n {
					t.Fatalf("start %d %s step %d: len %d, want %d", start, ph.name, step, q.len(), n)
				}
				pushP := uint64(50)
				if n < ph.target {
					pushP = 90
				} else if n > ph.target {
					pushP = 10
				}
				if n > 0 && r.Uint64()%100 >= pushP {
					pop(ph.name)
					rings[len(q.ring)], shifts[q.shift] = true, true
					farUsed = farUsed || len(q.far) > 0
					continue
				}
				now := max(last.at, start)
				mean := ph.mix[r.Uint64()%uint64(len(ph.mix))]
				at := now + int64(r.ExpFloat64()*float64(mean))
				if mean >= hour {
					at = now + mean + int64(r.Uint64()%uint64(4*hour))
				}
				burst := uint64(1)
				if ph.burst > 0 && r.Uint64()%uint64(ph.burst) == 0 {
					burst += r.Uint64() % 500
				}
				for range burst {
					e := event{at: at, seq: uint64(len(pushed) + 1), kind: evKind(len(pushed) % 11)}
					e.ref, e.gen = int32(e.seq), uint32(e.seq*7)
					q.push(e)
					pushed = append(pushed, e)
				}
			}
		}
		for q.len() > 0 {
			pop("drain")
		}
		slices.SortFunc(pushed, cmpEvent)
		if len(popped) != len(pushed) {
			t.Fatalf("start %d: %d popped, %d pushed", start, len(popped), len(pushed))
		}
		for i := range pushed {
			if popped[i] != pushed[i] {
				t.Fatalf("start %d: pop %d is %+v, want %+v", start, i, popped[i], pushed[i])
			}
		}
		// The schedule must have reshaped the queue.
		if !rings[minRing] || !rings[1<<17] || len(shifts) < 4 || !farUsed {
			t.Errorf("start %d: rings %v, shifts %v, far used %v: the queue was not reshaped", start, rings, shifts, farUsed)
		}
	}
}

// TestQueueNoAllocs: once it has seen its population, the queue pushes and
// pops without allocating.
func TestQueueNoAllocs(t *testing.T) {
	var h eventQueue
	r := scenarios.NewRand(5, 0, "queue-allocs", "")
	incs := make([]int64, 4096)
	for i := range incs {
		incs[i] = int64(r.ExpFloat64() * 3e8)
		if i%4 == 0 {
			incs[i] = 1_500_000_000
		}
	}
	seq, i := uint64(0), 0
	hold := func() {
		e := h.pop()
		e.at += incs[i&4095]
		seq++
		e.seq = seq
		h.push(e)
		i++
	}
	for range 500 {
		seq++
		h.push(event{at: incs[seq&4095], seq: seq})
	}
	for range 200_000 {
		hold()
	}
	if n := testing.AllocsPerRun(100_000, hold); n != 0 {
		t.Errorf("%v allocations per event", n)
	}
}

// benchHold is the hold model at a steady population of n events, with the
// increments the federated scenario makes: mostly short (network, service)
// and some long constant ones (hedge delays and timeouts, which arrive in
// time order).
func benchHold(b *testing.B, n int) {
	var h eventQueue
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

func BenchmarkQueueHold200(b *testing.B)  { benchHold(b, 200) }
func BenchmarkQueueHold4000(b *testing.B) { benchHold(b, 4000) }
