package sim

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
// depth of a binary one and keeps the children of a node in one cache line.
type eventHeap struct {
	ev []event
}

func (h *eventHeap) len() int { return len(h.ev) }

func less(a, b *event) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
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
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if less(&h.ev[j], &h.ev[m]) {
				m = j
			}
		}
		if !less(&h.ev[m], &last) {
			break
		}
		h.ev[i] = h.ev[m]
		i = m
	}
	h.ev[i] = last
	return top
}
