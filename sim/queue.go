package sim

import (
	"math"
	"math/bits"
	"slices"
)

// event is a pending simulation event. It is a small value: the queue stores
// events inline, so scheduling one never allocates once the queue has grown.
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

// less orders events by time, then by insertion.
func less(a, b *event) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func compareEvents(a, b event) int {
	switch {
	case less(&a, &b):
		return -1
	case less(&b, &a):
		return 1
	}
	return 0
}

// eventQueue is the engine's event queue. It replaced a 4-ary heap and
// pops events in (at, seq) order, exactly as that heap did, whatever the
// order of pushes; that simulated time never goes backwards only makes it
// fast.
//
// Most of a simulation's pending events are far off (timeouts, hedge
// timers, the ends of long services) while the next few pops are near,
// and a heap sifts every pop through all of them: in the federated
// scenario it held some 300 events, four levels deep, and cost a quarter
// of the run. This queue sorts only what is due next. Time is cut into
// windows of 2^shift ns. The events of the current window, and any
// earlier, wait sorted in ev, and a pop takes the next one. Later events
// are appended, unsorted, to their window in a ring (a timing wheel), or
// to far if they lie beyond the ring's reach. When ev runs out, the queue
// steps to the next window holding events and sorts those few into ev. A
// push is thus an append, or an insertion into a short sorted run; a pop,
// the next element of a slice.
//
// The queue keeps itself in shape by re-spreading the waiting events,
// each time for less work than it saves:
//   - the ring has at least a window per event waiting in it or far: it
//     doubles when that fails, and halves when it has four times as many;
//   - every refitEvents events, the window is fitted to hold about
//     windowEvents, from the time those took to go by, unless it is
//     already within a factor of four of that;
//   - if insertions into ev walk far, the window is too wide for a burst
//     of pushes: it is fitted at once to the events in ev.
//
// far is scanned when the ring has come half way to its first event, so a
// far event is scanned about once per half turn of the ring, which holds
// more windows than events.
//
// Windows get equal shares of one backing array, so the ring is compact
// and filling it allocates nothing; a window that outgrows its share gets
// an array of its own, and keeps it. In steady state the queue does not
// allocate. The price is memory: room for windowEvents events per window,
// some hundreds of bytes per waiting event, where the heap took 32.
type eventQueue struct {
	ev     []event   // the events up to the current window's end, sorted; ev[head:] are queued
	head   int       // the next event to pop
	cur    int64     // the current window: window w holds times [w<<shift, (w+1)<<shift)
	shift  uint      // windows are 2^shift ns
	ring   [][]event // window w, for cur < w < cur+len(ring), at ring[w&(len(ring)-1)], unsorted
	far    []event   // events beyond the ring's reach, unsorted
	farMin int64     // the earliest window in far
	later  int       // events in ring and far

	through int     // events that went through ev since the last fit
	since   int64   // the time of the last fit
	walked  int     // steps insert took since the last fit
	spare   []event // scratch for re-spreading
}

const (
	windowEvents = 8   // events a window is fitted to hold, and its share of the ring's array
	minRing      = 64  // fewest windows in the ring
	refitEvents  = 256 // events between fits of the window
	firstShift   = 20  // the window, about 1 ms, until it is fitted
)

func (h *eventQueue) len() int { return len(h.ev) - h.head + h.later }

func (h *eventQueue) push(e event) {
	if h.ring == nil { // a zero eventQueue
		h.shift, h.cur, h.since = firstShift, math.MinInt64>>firstShift, e.at
		h.respread(firstShift, minRing)
	}
	w := e.at >> h.shift
	if w <= h.cur {
		h.insert(e)
		return
	}
	if h.later >= len(h.ring) {
		h.respread(h.shift, 2*len(h.ring))
	}
	h.later++
	h.file(e, w)
}

// file puts e, of window w, in the ring or far. w >= cur, so the unsigned
// difference is right where the signed one would overflow.
func (h *eventQueue) file(e event, w int64) {
	if uint64(w-h.cur) < uint64(len(h.ring)) {
		r := &h.ring[w&int64(len(h.ring)-1)]
		*r = append(*r, e)
		return
	}
	h.far = append(h.far, e)
	h.farMin = min(h.farMin, w)
}

// insert puts e into ev in order, searching from the end: a new event is
// usually the latest, and in a burst at one time it always is.
func (h *eventQueue) insert(e event) {
	ev := append(h.ev, e)
	j := len(ev) - 1
	for j > h.head && less(&e, &ev[j-1]) {
		ev[j] = ev[j-1]
		j--
	}
	ev[j] = e
	h.ev = ev
	h.through++
	h.walked += len(ev) - 1 - j
	if h.walked > 4*(len(ev)+h.later)+1024 {
		span := uint64(ev[len(ev)-1].at) - uint64(ev[h.head].at)
		h.respread(fitShift(span, len(ev)-h.head), len(h.ring))
	}
}

// fitShift is the shift of windows that hold about windowEvents of n
// events spread over span ns.
func fitShift(span uint64, n int) uint {
	w := span / uint64(max(n, 1)) * windowEvents
	return uint(min(max(bits.Len64(w)-1, 1), 62))
}

func (h *eventQueue) pop() event {
	if h.head == len(h.ev) {
		h.advance()
	}
	h.head++
	return h.ev[h.head-1]
}

// advance loads the next window that holds events into the empty ev.
func (h *eventQueue) advance() {
	if h.later == 0 {
		panic("sim: pop from an empty event queue")
	}
	n := int64(len(h.ring))
	h.ev, h.head = h.ev[:0], 0
	for len(h.ev) == 0 {
		if h.later == len(h.far) { // the ring is empty: go to far's first window
			h.cur = max(h.cur, h.farMin-1)
		}
		h.cur++
		if len(h.far) > 0 && h.farMin-h.cur < n/2 {
			h.unfar()
		}
		r := &h.ring[h.cur&(n-1)]
		h.ev = append(h.ev, *r...)
		*r = (*r)[:0]
	}
	ev := h.ev
	h.later -= len(ev)
	h.through += len(ev)
	if len(ev) > 12 {
		slices.SortFunc(ev, compareEvents)
	} else {
		for i := 1; i < len(ev); i++ {
			e := ev[i]
			j := i
			for j > 0 && less(&e, &ev[j-1]) {
				ev[j] = ev[j-1]
				j--
			}
			ev[j] = e
		}
	}
	if h.through >= refitEvents {
		h.refit(ev[0].at)
	}
}

// unfar moves the events of far that the ring now reaches into it, and
// writes the others back over far from its start, behind the reading.
func (h *eventQueue) unfar() {
	far := h.far
	h.far, h.farMin = h.far[:0], math.MaxInt64
	for _, e := range far {
		h.file(e, e.at>>h.shift)
	}
}

// refit re-spreads the queue if the window or the ring is more than four
// times too large or too small. now is the time of the next event.
func (h *eventQueue) refit(now int64) {
	var span uint64
	if now > h.since {
		span = uint64(now) - uint64(h.since)
	}
	shift := fitShift(span, h.through)
	if shift+1 >= h.shift && shift <= h.shift+1 {
		shift = h.shift
	}
	n := len(h.ring)
	if 4*h.later < n && n > minRing {
		n = max(1<<bits.Len(uint(h.later)), minRing)
	}
	if shift != h.shift || n != len(h.ring) {
		h.respread(shift, n)
	}
	h.through, h.since, h.walked = 0, now, 0
}

// respread spreads the queued events over n windows of 2^shift ns.
// The current window becomes the new one holding the first event in ev,
// or if ev is empty the one holding the old window's last instant, so
// that all of ev comes before the ring.
func (h *eventQueue) respread(shift uint, n int) {
	all := append(h.spare[:0], h.ev[h.head:]...)
	for i, r := range h.ring {
		all = append(all, r...)
		h.ring[i] = r[:0]
	}
	all = append(all, h.far...)
	if h.head < len(h.ev) {
		h.cur = h.ev[h.head].at >> shift
	} else {
		h.cur = (h.cur<<h.shift | (1<<h.shift - 1)) >> shift
	}
	h.shift = shift
	if n > cap(h.ring) {
		// New windows, each with its share of a new array; the old
		// keep theirs. Those past len are empty, and kept for regrowth.
		ring := make([][]event, n)
		old := copy(ring, h.ring[:cap(h.ring)])
		back := make([]event, (n-old)*windowEvents)
		for i := range n - old {
			ring[old+i] = back[i*windowEvents : i*windowEvents : (i+1)*windowEvents]
		}
		h.ring = ring
	}
	h.ring = h.ring[:n]
	h.ev, h.head = h.ev[:0], 0
	h.far, h.farMin, h.later = h.far[:0], math.MaxInt64, 0
	for _, e := range all {
		if w := e.at >> shift; w <= h.cur {
			h.ev = append(h.ev, e)
		} else {
			h.later++
			h.file(e, w)
		}
	}
	// ev is sorted but for any events the window took from the ring.
	slices.SortFunc(h.ev, compareEvents)
	h.spare = all[:0]
	h.walked = 0
}
