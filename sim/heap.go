package sim

import "math/bits"

// event is a pending simulation event. It is a small value: the heap stores
// events inline, so scheduling one never allocates once the heap has grown.
type event struct {
	at   int64  // virtual time, ns
	seq  uint64 // insertion order: breaks ties so runs are deterministic
	ref  int32  // request slot, deployment or fault index, by kind
	gen  uint32 // the request's generation when scheduled; stale events are skipped
	kind evKind
}

type evKind uint8

const (
	evArrival      evKind = iota // the next request of the stream arrives
	evAtDeployment               // an attempt reaches its deployment
	evServiceDone                // a deployment finishes serving an attempt
	evClientRecv                 // the attempt's response (or error) reaches the client
	evTimeout                    // the client's per-attempt timeout fires
	evRetry                      // a backed-off retry is due
	evFaultStart                 // a fault window opens
	evFaultEnd                   // a fault window closes
	evTTFTTimeout                // an AttemptTimer's first-token deadline
	evHedge                      // a Hedger's delay runs out
	evFirstToken                 // a hedged attempt's first token reaches the client
)

// eventHeap is a 4-ary min-heap ordered by (at, seq). A 4-ary heap halves the
// depth of a binary one, and its four children are compared as a small
// tournament without branches: which child is smallest is a coin toss the
// branch predictor loses about half the time, and those mispredictions, not
// the comparisons, were most of the cost of a pop.
type eventHeap struct {
	ev []event
}

func (h *eventHeap) len() int { return len(h.ev) }

// less orders events by time, then by insertion.
func less(a, b *event) bool { return before(a, b) != 0 }

// before is 1 if a comes before b, else 0. It compares (at, seq) as one
// 128-bit unsigned number, the time's sign bit flipped so that signed
// order is kept, by a subtraction with borrow: the borrow out is a < b.
// That compiles to SUB and SBB, with no branch to mispredict, and as a
// number it can index and mask without one either.
func before(a, b *event) uint64 {
	const sign = 1 << 63
	_, borrow := bits.Sub64(a.seq, b.seq, 0)
	_, borrow = bits.Sub64(uint64(a.at)^sign, uint64(b.at)^sign, borrow)
	return borrow
}

func (h *eventHeap) push(e event) {
	h.ev = append(h.ev, e)
	i := len(h.ev) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !less(&e, &h.ev[p]) {
			break
		}
		h.ev[i] = h.ev[p]
		i = p
	}
	h.ev[i] = e
}

func (h *eventHeap) pop() event {
	top := h.ev[0]
	n := len(h.ev) - 1
	last := h.ev[n]
	h.ev = h.ev[:n]
	if n == 0 {
		return top
	}
	ev := h.ev
	i := 0
	for {
		c := 4*i + 1
		if c+4 > n {
			break
		}
		// A full family: the smaller of each pair, then of the two
		// winners, by arithmetic on the comparisons' 0/1 results (the
		// compiler turns a select written with if into a branch here).
		kids := ev[c : c+4 : c+4]
		x := before(&kids[1], &kids[0])      // 0 or 1
		y := 2 + before(&kids[3], &kids[2])  // 2 or 3
		w := -before(&kids[y&3], &kids[x&3]) // all ones if y wins
		a := int(x ^ (x^y)&w)
		m := c + a
		if !less(&ev[m], &last) {
			ev[i] = last
			return top
		}
		ev[i] = ev[m]
		i = m
	}
	// At most one partial family, at the bottom.
	if c := 4*i + 1; c < n {
		m := c
		for j := c + 1; j < n; j++ {
			if less(&ev[j], &ev[m]) {
				m = j
			}
		}
		if less(&ev[m], &last) {
			ev[i] = ev[m]
			i = m
		}
	}
	ev[i] = last
	return top
}
