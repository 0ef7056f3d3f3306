package sim

import (
	"context"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcbench/mcbench/backends/behavior"
	"github.com/mcbench/mcbench/backends/routing"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Request states.
const (
	stFree    uint8 = iota
	stNet           // travelling to the deployment
	stQueued        // waiting for a slot
	stService       // being served
	stBack          // response travelling back to the client
	stBackoff       // waiting to retry
	stHeld          // accepted by a silent deployment that will never answer
)

// Error classes recorded with failed attempts.
const (
	errNone uint8 = iota
	errOutage
	errQueueFull
	errQuotaTokens
	errQuotaRequests
	errTimeout
	errReset
	errSilent
	errStreamCut
	errMalformed
	errNoRoute
	errTTFTTimeout
	errCancelled
)

var errClassNames = [...]string{"", "outage", "queue_full", "quota_tokens", "quota_requests", "timeout", "reset", "silent", "stream_cut", "malformed", "no_route", routing.ClassTTFTTimeout, routing.ClassCancelled, "state_lost"}

// reqState is one request in flight. Slots are reused through a free list, so
// memory is bounded by the most requests in flight, not by the run length.
type reqState struct {
	r          scenarios.Request
	sent       int64 // current attempt's send time
	enq        int64 // when the current attempt joined the queue
	wait       int64 // total time queued, all attempts
	qAtt       int64 // time queued in the current attempt
	firstTok   int64 // current attempt's first token at the deployment
	netBack    int64 // current attempt's return latency
	retryAfter int64
	reserved   float64
	gen        uint32 // bumped on every state change that must void pending events
	attempt    int32
	pick       int32 // candidate index of the current attempt
	dep        int32 // deployment of the current attempt
	prev, next int32 // links in the deployment's in-service list
	state      uint8
	status     results.Status
	errClass   uint8
	measured   bool
	waited     bool
	// rq is the current attempt's routing request: the policy's Memo
	// travels in it from one attempt to the next.
	rq routing.Request
	// last is how the previous attempt ended, for the next Pick's Request.Last.
	last routing.Observation
	// partner links the two slots of a hedged request (-1: none). Both
	// carry the request; the one that ends it calls finish, the other is
	// retired without touching the request's statistics.
	partner int32
	attNo   int32 // this slot's attempt number for records (attempt counts all of the request's)
	hedged  bool  // a hedge was already sent for the current attempt
	// hedgeAt is when the current attempt should be hedged if no first
	// token has reached the client by then (0: never); hedgeArmed says
	// whether that event is scheduled (see armHedge).
	hedgeAt    int64
	hedgeArmed bool
	// deadline is when the current attempt times out (0: no timeout);
	// armed says whether its timeout event is scheduled.
	deadline int64
	armed    bool
	// origin is the region the request is sent from (-1: outside every
	// cloud): its class's origin, or for a session's model call the
	// session's orchestration region.
	origin int32
	// sess is the session slot whose model call this is (-1: none).
	sess int32
	// xbytes is what the current attempt's payload moved across clouds
	// (session calls only; see sessCallBytes).
	xbytes int64
	// attCost is the current attempt's token cost (bookCost) and reqCost
	// the request's so far, its hedge partners' included: the records'
	// cost_usd.
	attCost, reqCost float64
	// firstDep is the deployment of the request's first attempt (a
	// completion elsewhere is a failover), and exposed the fault windows
	// its attempts so far were in flight during (hedge partners'
	// included); see exposeAttempt.
	firstDep int32
	exposed  results.Exposure
}

// reset makes a recycled slot a fresh request. It assigns every field but
// the two large routing ones: rq is rebuilt by every startAttempt (only its
// Memo carries over, and a new request starts with none), and last is
// written by observe before any attempt after the first reads it. Skipping
// them keeps a few hundred bytes of clearing off every arrival.
func (rs *reqState) reset(r scenarios.Request, gen uint32) {
	rs.r = r
	rs.sent, rs.enq, rs.wait, rs.qAtt, rs.firstTok, rs.netBack, rs.retryAfter = 0, 0, 0, 0, 0, 0, 0
	rs.reserved = 0
	rs.gen, rs.attempt, rs.pick, rs.dep, rs.prev, rs.next = gen, 0, -1, 0, -1, -1
	rs.state, rs.status, rs.errClass = stFree, results.StatusOK, errNone
	rs.measured, rs.waited = false, false
	rs.rq.Memo = 0
	rs.partner, rs.attNo, rs.hedged = -1, 0, false
	rs.hedgeAt, rs.hedgeArmed = 0, false
	rs.deadline, rs.armed = 0, false
	rs.origin, rs.sess, rs.xbytes = -1, -1, 0
	rs.attCost, rs.reqCost = 0, 0
	rs.firstDep = -1
	rs.exposed.Reset()
}

// queueEntry is a waiting attempt; gen detects entries voided by a timeout.
type queueEntry struct {
	slot int32
	gen  uint32
}

// ring is a growable FIFO of queue entries.
type ring struct {
	buf        []queueEntry
	head, size int
}

func (q *ring) push(e queueEntry) {
	if q.size == len(q.buf) {
		n := max(16, 2*len(q.buf))
		nb := make([]queueEntry, n)
		for i := 0; i < q.size; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = e
	q.size++
}

func (q *ring) pop() queueEntry {
	e := q.buf[q.head]
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return e
}

type depState struct {
	busy      int
	queued    int // live entries in queue (voided ones excluded)
	queue     ring
	inService int32 // head of the in-service list, -1 if empty
	quota     behavior.Quota
	down      int     // open outage windows
	reset     int     // open reset windows
	silent    int     // open silent windows
	cut       int     // open stream-cut windows
	malformed int     // open malformed-frame windows
	held      ring    // attempts swallowed by a silent window
	slow      float64 // product of open brownout factors
	quotaF    float64 // product of open throttle factors
	busyArea  float64 // slot-nanoseconds busy
	lastT     int64

	// Attempts of measured requests (see results.DeploymentResult),
	// booked when they end.
	attempts, completed, throttled, rejected, failed, timedOut int64
}

// book counts an ended attempt of a measured request (or, at an
// orchestration deployment, a measured session's try to be hosted) by how
// it ended. Booking at the end, once per attempt, keeps attempts equal to
// the sum of the outcomes and to the attempt records of measured requests.
func (d *depState) book(status results.Status) {
	d.attempts++
	switch status {
	case results.StatusOK:
		d.completed++
	case results.StatusThrottled:
		d.throttled++
	case results.StatusRejected:
		d.rejected++
	case results.StatusTimedOut:
		d.timedOut++
	default:
		d.failed++
	}
}

func (d *depState) touch(now int64) {
	d.busyArea += float64(d.busy) * float64(now-d.lastT)
	d.lastT = now
}

// engine runs one replication of one strategy.
type engine struct {
	m         *model
	rep       int
	now       int64
	seq       uint64
	h         eventQueue
	stream    *scenarios.Stream
	pending   scenarios.Request
	more      bool
	reqs      []reqState
	free      []int32
	deps      []depState
	policies  []routing.Policy
	starters  []routing.Starter      // per group; nil where the policy does not track starts
	retriers  []routing.Retrier      // per group; nil: the engine's backoff rule
	timers    []routing.AttemptTimer // per group; nil: no first-token timeout
	hedgers   []routing.Hedger       // per group; nil: no hedging
	stateless []bool                 // per group: the policy is routing.Stateless
	keySvc    uint64
	keyNet    uint64
	keyRoute  uint64
	inflight  int64

	// Little's law over the whole run.
	area       float64
	lastChange int64
	arrivals   int64
	sumSojourn float64

	// Measured (post-warm-up) statistics.
	st         results.ReplicationStats
	firstMeas  int64
	lastArr    int64
	sumWait    float64
	sumTTFT    float64
	sumE2E     float64
	hWait      *hdrhistogram.Histogram
	hTTFT      *hdrhistogram.Histogram
	hE2E       *hdrhistogram.Histogram
	progress   func(int64)
	sinceProg  int64
	sink       RecordSink
	rec        results.Outcome
	sinkErr    error
	cancelled  bool
	eventCount int64
	// maxInFlight bounds requests plus sessions in flight (Options.MaxInFlight);
	// unstable is set when an arrival finds more, and ends the run.
	maxInFlight int64
	unstable    *UnstableError

	// Fault-window statistics.
	faultAcc []results.FaultTally

	// Sessions (session.go).
	sess     []sessState
	sessFree []int32
	liveSess int64
	plan     scenarios.SessionPlan
	sessAcc  []sessAcc // per class (nil when no class has sessions)
	sessRec  results.SessionRecord
	// linkF[a][b] multiplies the a→b link latency while link faults are
	// open; nil when the scenario has none.
	linkF [][]float64
}

// Histogram range: 1 µs resolution up to 10 days at 3 significant digits
// (zero is recordable too).
const (
	histMin = 1
	histMax = 10 * 24 * 3600 * 1e6
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, 3) }

func newEngine(m *model, rep int, stream *scenarios.Stream) (*engine, error) {
	pol, err := m.newPolicies()
	if err != nil {
		return nil, err
	}
	s := m.s
	e := &engine{
		m: m, rep: rep, stream: stream, policies: pol,
		keySvc:   scenarios.StreamKey(s.Seed, rep, "service", ""),
		keyNet:   scenarios.StreamKey(s.Seed, rep, "network", ""),
		keyRoute: scenarios.StreamKey(s.Seed, rep, "routing", m.strategy.Name),
		hWait:    newHist(), hTTFT: newHist(), hE2E: newHist(),
		firstMeas: -1, maxInFlight: defaultMaxInFlight(),
	}
	e.starters = make([]routing.Starter, len(pol))
	e.retriers = make([]routing.Retrier, len(pol))
	e.timers = make([]routing.AttemptTimer, len(pol))
	e.hedgers = make([]routing.Hedger, len(pol))
	e.stateless = make([]bool, len(pol))
	for i, p := range pol {
		e.starters[i], _ = p.(routing.Starter)
		e.retriers[i], _ = p.(routing.Retrier)
		e.timers[i], _ = p.(routing.AttemptTimer)
		e.hedgers[i], _ = p.(routing.Hedger)
		_, e.stateless[i] = p.(routing.Stateless)
	}
	e.deps = make([]depState, len(m.deps))
	for i := range e.deps {
		e.deps[i] = depState{inService: -1, slow: 1, quotaF: 1, quota: behavior.NewQuota(m.deps[i].quota, m.deps[i].providerKind)}
	}
	e.newFaultAccs()
	e.newLinkFactors()
	e.newSessions()
	for i, f := range m.faults {
		e.schedule(f.start, evFaultStart, int32(i), 0)
		e.schedule(f.end, evFaultEnd, int32(i), 0)
	}
	return e, nil
}

func (e *engine) schedule(at int64, k evKind, ref int32, gen uint32) {
	e.seq++
	e.h.push(event{at: at, seq: e.seq, ref: ref, gen: gen, kind: k})
}

// run simulates until the stream is exhausted and every request has ended,
// or ctx is cancelled; the statistics then cover what finished.
func (e *engine) run(ctx context.Context) {
	e.more = e.stream.Next(&e.pending)
	if e.more {
		e.schedule(e.pending.At, evArrival, 0, 0)
	}
loop:
	for e.h.len() > 0 {
		if !e.more && e.inflight == 0 && e.liveSess == 0 {
			break
		}
		ev := e.h.pop()
		e.now = ev.at
		e.eventCount++
		if e.eventCount&0xffff == 0 && ctx.Err() != nil {
			e.cancelled = true
			break
		}
		switch ev.kind {
		case evArrival:
			e.arrive()
			if e.inflight+e.liveSess > e.maxInFlight {
				// Checked per arrival, not per event: only arrivals add
				// to what is in flight for long (a session's model calls
				// are bounded by its sessions).
				e.overloaded()
				break loop
			}
		case evFaultStart:
			e.faultStart(&e.m.faults[ev.ref])
		case evFaultEnd:
			e.faultEnd(&e.m.faults[ev.ref])
		case evSessAtOrch, evSessRetry, evSessStep, evSessEnd:
			e.sessEvent(ev)
		default:
			rs := &e.reqs[ev.ref]
			if rs.gen != ev.gen {
				continue // voided by a timeout, an outage or a newer attempt
			}
			switch ev.kind {
			case evAtDeployment:
				e.atDeployment(ev.ref)
			case evServiceDone:
				e.serviceDone(ev.ref)
			case evClientRecv:
				e.clientRecv(ev.ref)
			case evTimeout:
				e.timeout(ev.ref, errTimeout)
			case evTTFTTimeout:
				e.ttftTimeout(ev.ref)
			case evHedge:
				e.hedge(ev.ref)
			case evFirstToken:
				e.firstToken(ev.ref)
			case evRetry:
				e.startAttempt(ev.ref)
			}
		}
	}
	if e.progress != nil && e.sinceProg > 0 {
		e.progress(e.sinceProg)
		e.sinceProg = 0
	}
}

func (e *engine) alloc() int32 {
	if n := len(e.free); n > 0 {
		s := e.free[n-1]
		e.free = e.free[:n-1]
		return s
	}
	e.reqs = append(e.reqs, reqState{})
	return int32(len(e.reqs) - 1)
}

func (e *engine) arrive() {
	r := e.pending
	measured := e.m.measured(&r)
	e.lastArr = r.At
	if measured && e.firstMeas < 0 {
		e.firstMeas = r.At
	}
	if cls := &e.m.classes[r.Class]; cls.session != nil {
		e.arriveSession(r, measured)
	} else {
		e.launch(r, int32(cls.originIdx), -1, measured)
	}
	if e.more = e.stream.Next(&e.pending); e.more {
		e.schedule(max(e.pending.At, e.now), evArrival, 0, 0)
	}
}

// launch starts a user-visible request: an arrival of the stream, or a
// session's model call (sess >= 0) sent from region origin.
func (e *engine) launch(r scenarios.Request, origin, sess int32, measured bool) {
	slot := e.alloc()
	rs := &e.reqs[slot]
	rs.reset(r, rs.gen+1)
	rs.origin, rs.sess, rs.measured = origin, sess, measured
	e.changeN(+1)
	e.arrivals++
	e.startAttempt(slot)
}

func (e *engine) changeN(d int64) {
	e.area += float64(e.inflight) * float64(e.now-e.lastChange)
	e.lastChange = e.now
	e.inflight += d
}

func (e *engine) netDelay(from, to int, id uint64, counter uint64) int64 {
	if from < 0 {
		return 0
	}
	d := e.m.links[from][to]
	if d == nil {
		return 0
	}
	x := d.Quantile(scenarios.Draw(e.keyNet, id, counter)) * 1e9
	if e.linkF != nil {
		x *= e.linkF[from][to]
	}
	return int64(x)
}

func (e *engine) startAttempt(slot int32) {
	rs := &e.reqs[slot]
	rs.attempt++
	rs.gen++
	cls := &e.m.classes[rs.r.Class]
	g := &e.m.groups[cls.group]
	rq := &rs.rq
	if e.stateless[cls.group] {
		// Failover and weighted read only these three.
		rq.Attempt, rq.Prev, rq.U = int(rs.attempt), int(rs.pick), scenarios.Draw(e.keyRoute, rs.r.ID, uint64(rs.attempt))
	} else {
		memo := rq.Memo
		*rq = routing.Request{ID: rs.r.ID, Attempt: int(rs.attempt), Prev: int(rs.pick),
			U: scenarios.Draw(e.keyRoute, rs.r.ID, uint64(rs.attempt)), InputTokens: rs.r.InputTokens, MaxTokens: rs.r.MaxTokens,
			Memo: memo, Tags: cls.tags}
		if cls.deadline > 0 {
			rq.Deadline = rs.r.At + cls.deadline
		}
		if rs.attempt > 1 {
			rq.Last = rs.last
		}
	}
	pick := e.policies[cls.group].Pick(e.now, rq)
	if pick < 0 || pick >= len(g.candidates) {
		// The policy has nowhere to send it (every candidate ejected, say).
		rs.attempt--
		if rs.pick < 0 {
			rs.dep = g.candidates[0]
		}
		rs.status, rs.errClass = results.StatusFailed, errNoRoute
		e.finish(slot)
		return
	}
	e.send(slot, pick)
}

// send starts the current attempt of a slot on candidate pick.
func (e *engine) send(slot int32, pick int) {
	rs := &e.reqs[slot]
	cls := &e.m.classes[rs.r.Class]
	g := &e.m.groups[cls.group]
	if st := e.starters[cls.group]; st != nil {
		st.Started(e.now, pick)
	}
	rs.pick = int32(pick)
	rs.dep = g.candidates[pick]
	if rs.firstDep < 0 {
		rs.firstDep = rs.dep
	}
	rs.attNo = rs.attempt
	rs.hedged = false
	rs.sent = e.now
	rs.status, rs.errClass, rs.retryAfter, rs.reserved, rs.qAtt = results.StatusOK, errNone, 0, 0, 0
	dm := &e.m.deps[rs.dep]
	c := uint64(rs.attempt) * 2
	out := e.netDelay(int(rs.origin), dm.regionIdx, rs.r.ID, c)
	rs.netBack = e.netDelay(int(rs.origin), dm.regionIdx, rs.r.ID, c+1)
	if rs.sess >= 0 {
		e.sessCallBytes(slot, false)
	}
	// The per-attempt timeout is armed lazily (see armTimeout): most
	// attempts finish long before it, and an event per attempt that is
	// almost always stale crowds the event queue for nothing.
	rs.deadline, rs.armed = 0, false
	if e.m.timeout > 0 {
		rs.deadline = e.now + e.m.timeout
		if out >= e.m.timeout {
			e.armTimeout(slot)
		}
	}
	if at := e.timers[cls.group]; at != nil {
		if t := at.FirstTokenTimeout(e.now, &rs.rq); t > 0 {
			e.schedule(e.now+t, evTTFTTimeout, slot, rs.gen)
		}
	}
	rs.hedgeAt, rs.hedgeArmed = 0, false
	if h := e.hedgers[cls.group]; h != nil && !rs.rq.Hedge && rs.partner < 0 && rs.attempt < e.m.maxAttempts {
		if delay, ok := h.HedgeDelay(e.now, &rs.rq, pick); ok {
			// Like the timeout, the hedge timer is armed lazily: most
			// attempts deliver their first token before the delay, and a
			// timer that finds it already there is an event for nothing.
			rs.hedgeAt = e.now + max(delay, 0)
			if out >= delay {
				e.armHedge(slot)
			}
		}
	}
	if out > 0 {
		rs.state = stNet
		e.schedule(e.now+out, evAtDeployment, slot, rs.gen)
		return
	}
	e.atDeployment(slot)
}

// armHedge schedules the attempt's hedge timer, once. An attempt needs it
// only while its first token could still be missing at hedgeAt: when it
// reaches its deployment after it, waits in a queue or at a silent
// deployment, streams a first token that arrives after it (or a broken
// stream), or fails and its error is still travelling back then.
func (e *engine) armHedge(slot int32) {
	rs := &e.reqs[slot]
	if rs.hedgeAt > 0 && !rs.hedgeArmed {
		rs.hedgeArmed = true
		e.schedule(max(rs.hedgeAt, e.now), evHedge, slot, rs.gen)
	}
}

// firstTokenSeen reports whether the slot's current attempt has delivered
// its first token to the client by now.
func (e *engine) firstTokenSeen(rs *reqState) bool {
	switch rs.state {
	case stService, stBack:
		return rs.status == results.StatusOK && rs.errClass == errNone && rs.firstTok+rs.netBack <= e.now
	}
	return false
}

// hedge sends a hedge attempt for a slot whose attempt still has no first
// token when the Hedger's delay runs out.
func (e *engine) hedge(slot int32) {
	rs := &e.reqs[slot]
	if rs.hedged || rs.partner >= 0 || rs.attempt >= e.m.maxAttempts || e.firstTokenSeen(rs) {
		return
	}
	switch rs.state {
	case stNet, stQueued, stService, stHeld, stBack:
	default:
		return
	}
	cls := &e.m.classes[rs.r.Class]
	rq := routing.Request{ID: rs.r.ID, Attempt: int(rs.attempt) + 1, Prev: int(rs.pick),
		U: scenarios.Draw(e.keyRoute, rs.r.ID, uint64(rs.attempt)+1), InputTokens: rs.r.InputTokens, MaxTokens: rs.r.MaxTokens,
		Memo: rs.rq.Memo, Tags: cls.tags, Deadline: rs.rq.Deadline, Hedge: true}
	pick := e.policies[cls.group].Pick(e.now, &rq)
	if pick < 0 || pick >= len(e.m.groups[cls.group].candidates) || pick == int(rs.pick) {
		return
	}
	rs.hedged = true
	rs.attempt++ // the hedge counts towards max_attempts
	h := e.alloc()
	rs = &e.reqs[slot] // alloc may have moved the slice
	hs := &e.reqs[h]
	exp := hs.exposed // the slot's storage, reused
	*hs = reqState{r: rs.r, gen: hs.gen + 1, pick: rs.pick, prev: -1, next: -1, partner: slot,
		attempt: rs.attempt, measured: rs.measured, wait: rs.wait, waited: rs.waited, rq: rq,
		origin: rs.origin, sess: rs.sess, firstDep: rs.firstDep, exposed: exp}
	hs.exposed.Copy(&rs.exposed)
	rs.partner = h
	if (rs.state == stService || rs.state == stBack) && rs.status == results.StatusOK && rs.errClass == errNone {
		// The original's first token is already on its way: it takes part
		// in the race too (startService scheduled no event for it, having
		// no partner then), or a hedge whose first token came later would
		// win and cancel it.
		e.schedule(rs.firstTok+rs.netBack, evFirstToken, slot, rs.gen)
	}
	e.send(h, pick)
}

// firstToken decides a hedged race: the first attempt to deliver its first
// token wins and the other is cancelled.
func (e *engine) firstToken(slot int32) {
	rs := &e.reqs[slot]
	if rs.partner < 0 {
		return
	}
	loser := rs.partner
	rs.partner = -1
	e.reqs[loser].partner = -1
	e.retire(loser, results.StatusFailed, errCancelled)
	rs.reqCost += e.reqs[loser].reqCost
	rs.exposed.Merge(&e.reqs[loser].exposed)
}

// retire ends a slot's attempt without ending the request (a cancelled hedge
// loser, or the first of a hedged pair to fail): its resources are freed, the
// policy and the records see the attempt, and the slot returns to the pool.
func (e *engine) retire(slot int32, status results.Status, cls uint8) {
	rs := &e.reqs[slot]
	e.exposeAttempt(rs)
	if cls == errCancelled {
		e.release(slot)
		rs.status, rs.errClass = status, cls
		if rs.measured {
			e.deps[rs.dep].book(status)
		}
		e.observe(rs)
	}
	if e.sink != nil {
		e.writeAttempt(rs)
	}
	rs.state = stFree
	rs.gen++
	e.free = append(e.free, slot)
}

// release frees what an attempt in flight holds at its deployment: its
// place in the queue or its slot (settling the quota as for a cancelled
// call). Pending events for the attempt become stale.
func (e *engine) release(slot int32) {
	rs := &e.reqs[slot]
	d := &e.deps[rs.dep]
	switch rs.state {
	case stQueued:
		d.queued--
		rs.wait += e.now - rs.enq
		rs.qAtt += e.now - rs.enq
		d.quota.Settle(e.now, rs.reserved, rs.r.InputTokens, 0)
	case stService:
		d.quota.Settle(e.now, rs.reserved, rs.r.InputTokens, 0)
		e.leaveService(slot)
	}
	rs.gen++ // void the pending service, network, queue or held entry
}

func (e *engine) atDeployment(slot int32) {
	rs := &e.reqs[slot]
	d := &e.deps[rs.dep]
	dm := &e.m.deps[rs.dep]
	switch {
	case d.down > 0:
		e.respond(slot, results.StatusFailed, errOutage)
		return
	case d.reset > 0:
		e.respond(slot, results.StatusFailed, errReset)
		return
	case d.silent > 0:
		rs.state = stHeld
		d.held.push(queueEntry{slot: slot, gen: rs.gen})
		e.armTimeout(slot)
		e.armHedge(slot)
		return
	}
	if d.quota.Limited() {
		reserved, why, ra := d.quota.Admit(e.now, rs.r.InputTokens, rs.r.MaxTokens)
		if why != behavior.Admitted {
			rs.retryAfter = ra
			cls := errQuotaTokens
			if why == behavior.OverRequests {
				cls = errQuotaRequests
			}
			e.respond(slot, results.StatusThrottled, cls)
			return
		}
		rs.reserved = reserved
	}
	switch {
	case d.busy < dm.concurrency:
		e.startService(slot)
	case dm.queueLimit < 0 || d.queued < dm.queueLimit:
		rs.state = stQueued
		rs.enq = e.now
		rs.waited = true
		d.queued++
		d.queue.push(queueEntry{slot: slot, gen: rs.gen})
		e.armTimeout(slot)
		e.armHedge(slot)
	default:
		d.quota.Settle(e.now, rs.reserved, rs.r.InputTokens, 0)
		e.respond(slot, results.StatusRejected, errQueueFull)
	}
}

func (e *engine) startService(slot int32) {
	rs := &e.reqs[slot]
	d := &e.deps[rs.dep]
	dm := &e.m.deps[rs.dep]
	d.touch(e.now)
	d.busy++
	rs.state = stService
	c := uint64(rs.attempt) * 2
	ttft, total := dm.latency.Service(
		scenarios.Draw(e.keySvc, rs.r.ID, c), scenarios.Draw(e.keySvc, rs.r.ID, c+1),
		rs.r.InputTokens, rs.r.OutputTokens, d.busy, dm.concurrency, d.slow)
	rs.firstTok = e.now + ttft
	rs.errClass = errNone
	switch {
	case d.malformed > 0:
		total, rs.errClass = ttft, errMalformed
	case d.cut > 0:
		total, rs.errClass = ttft+(total-ttft)/2, errStreamCut
	}
	if rs.partner >= 0 && rs.errClass == errNone {
		e.schedule(rs.firstTok+rs.netBack, evFirstToken, slot, rs.gen)
	}
	if rs.hedgeAt > 0 && (rs.errClass != errNone || rs.firstTok+rs.netBack > rs.hedgeAt) {
		e.armHedge(slot)
	}
	if rs.deadline > 0 && e.now+total+rs.netBack > rs.deadline {
		e.armTimeout(slot) // the response would reach the client too late
	}
	// Link into the in-service list so an outage can fail it.
	rs.prev, rs.next = -1, d.inService
	if d.inService >= 0 {
		e.reqs[d.inService].prev = slot
	}
	d.inService = slot
	e.schedule(e.now+total, evServiceDone, slot, rs.gen)
}

// leaveService frees the slot an attempt held and starts the next waiting one.
func (e *engine) leaveService(slot int32) {
	rs := &e.reqs[slot]
	d := &e.deps[rs.dep]
	if rs.prev >= 0 {
		e.reqs[rs.prev].next = rs.next
	} else {
		d.inService = rs.next
	}
	if rs.next >= 0 {
		e.reqs[rs.next].prev = rs.prev
	}
	rs.prev, rs.next = -1, -1
	d.touch(e.now)
	d.busy--
	e.startNext(rs.dep)
}

func (e *engine) startNext(dep int32) {
	d := &e.deps[dep]
	for d.queued > 0 && d.busy < e.m.deps[dep].concurrency {
		q := d.queue.pop()
		w := &e.reqs[q.slot]
		if w.gen != q.gen || w.state != stQueued {
			continue // voided by a timeout
		}
		d.queued--
		w.wait += e.now - w.enq
		w.qAtt += e.now - w.enq
		e.startService(q.slot)
	}
}

func (e *engine) serviceDone(slot int32) {
	rs := &e.reqs[slot]
	d := &e.deps[rs.dep]
	d.quota.Settle(e.now, rs.reserved, rs.r.InputTokens, rs.r.OutputTokens)
	e.leaveService(slot)
	if rs.errClass != errNone { // the stream was cut or malformed
		e.respond(slot, results.StatusFailed, rs.errClass)
		return
	}
	e.respond(slot, results.StatusOK, errNone)
}

// respond sends the deployment's answer back to the client.
func (e *engine) respond(slot int32, status results.Status, cls uint8) {
	rs := &e.reqs[slot]
	rs.status, rs.errClass = status, cls
	if rs.hedgeAt > 0 && status != results.StatusOK && e.now <= rs.hedgeAt && e.now+rs.netBack > rs.hedgeAt {
		e.armHedge(slot) // the failure is still on its way when the hedge is due
	}
	if rs.netBack > 0 {
		rs.state = stBack
		e.schedule(e.now+rs.netBack, evClientRecv, slot, rs.gen)
		return
	}
	e.clientRecv(slot)
}

func (e *engine) clientRecv(slot int32) {
	rs := &e.reqs[slot]
	d := &e.deps[rs.dep]
	e.observe(rs)
	if rs.measured {
		d.book(rs.status)
	}
	if rs.status == results.StatusOK && rs.sess >= 0 {
		e.sessCallBytes(slot, true)
	}
	e.attemptEnded(slot)
}

// armTimeout schedules the attempt's timeout at its deadline, once. An
// attempt needs it only while it could still be in flight at the deadline:
// when it waits (queue, silent deployment), when its service would end too
// late, or when the network alone takes longer.
func (e *engine) armTimeout(slot int32) {
	rs := &e.reqs[slot]
	if rs.deadline > 0 && !rs.armed {
		rs.armed = true
		e.schedule(rs.deadline, evTimeout, slot, rs.gen)
	}
}

// ttftTimeout aborts an attempt that has not delivered its first token by
// the deadline an AttemptTimer set.
func (e *engine) ttftTimeout(slot int32) {
	if e.firstTokenSeen(&e.reqs[slot]) {
		return // the first token is already at the client
	}
	e.timeout(slot, errTTFTTimeout)
}

func (e *engine) timeout(slot int32, cls uint8) {
	rs := &e.reqs[slot]
	d := &e.deps[rs.dep]
	e.release(slot)
	rs.status, rs.errClass = results.StatusTimedOut, cls
	if rs.measured {
		d.book(rs.status)
	}
	e.observe(rs)
	e.attemptEnded(slot)
}

// observe feeds an attempt's end to its routing policy, with the
// deployment's remaining quota as rate-limit headers would report it.
func (e *engine) observe(rs *reqState) {
	if e.m.priced {
		e.bookCost(rs)
	}
	if e.stateless[e.m.classes[rs.r.Class].group] {
		return // the policy keeps no state and reads no Last
	}
	o := &rs.last
	*o = routing.Observation{Dep: int(rs.pick), Status: rs.status, ErrorClass: errClassNames[rs.errClass],
		Sent: rs.sent, Done: e.now, RetryAfter: rs.retryAfter, RemainingTokens: -1, RemainingRequests: -1,
		InputTokens: rs.r.InputTokens, MaxTokens: rs.r.MaxTokens}
	if rs.status == results.StatusOK {
		o.FirstToken = rs.firstTok + rs.netBack
		o.OutputTokens = rs.r.OutputTokens
	}
	if d := &e.deps[rs.dep]; d.quota.Limited() {
		o.RemainingTokens, o.RemainingRequests = d.quota.Remaining(e.now)
	}
	e.policies[e.m.classes[rs.r.Class].group].Observe(e.now, o)
}

// attemptEnded records the attempt and either retries or ends the request.
func (e *engine) attemptEnded(slot int32) {
	rs := &e.reqs[slot]
	e.exposeAttempt(rs)
	if rs.partner >= 0 {
		p := rs.partner
		if rs.status == results.StatusOK {
			// Finished without a first-token race being decided (both
			// first tokens at the same instant): the other loses now.
			rs.partner, e.reqs[p].partner = -1, -1
			e.retire(p, results.StatusFailed, errCancelled)
			rs.reqCost += e.reqs[p].reqCost
			rs.exposed.Merge(&e.reqs[p].exposed)
		} else {
			// One of a hedged pair failed first: the other carries on alone.
			e.reqs[p].partner = -1
			e.reqs[p].wait = max(e.reqs[p].wait, rs.wait)
			e.reqs[p].waited = e.reqs[p].waited || rs.waited
			e.retire(slot, rs.status, rs.errClass)
			e.reqs[p].reqCost += rs.reqCost
			e.reqs[p].exposed.Merge(&rs.exposed)
			return
		}
	}
	if e.sink != nil {
		e.writeAttempt(rs)
	}
	if rs.status == results.StatusOK {
		e.finish(slot)
		return
	}
	if rs.attempt >= e.m.maxAttempts {
		e.finish(slot)
		return
	}
	var delay int64
	if rt := e.retriers[e.m.classes[rs.r.Class].group]; rt != nil {
		d, ok := rt.Retry(e.now, &rs.rq, &rs.last)
		if !ok {
			e.finish(slot)
			return
		}
		delay = d
	} else {
		delay = e.m.backoff << (rs.attempt - 1)
		if rs.status == results.StatusThrottled && rs.retryAfter > delay {
			delay = rs.retryAfter
		}
	}
	if delay > 0 {
		rs.state = stBackoff
		rs.gen++
		e.schedule(e.now+delay, evRetry, slot, rs.gen)
		return
	}
	e.startAttempt(slot)
}

func (e *engine) finish(slot int32) {
	rs := &e.reqs[slot]
	sojourn := e.now - rs.r.At
	e.sumSojourn += float64(sojourn)
	e.changeN(-1)
	if len(e.faultAcc) > 0 {
		e.faultFinish(rs, sojourn)
	}
	if rs.measured {
		st := &e.st
		st.Requests++
		st.Attempts += int64(rs.attempt)
		if rs.waited {
			st.Waited++
		}
		switch rs.status {
		case results.StatusOK:
			st.Completed++
			ttft := rs.firstTok + rs.netBack - rs.r.At
			e.sumWait += float64(rs.wait)
			e.sumTTFT += float64(ttft)
			e.sumE2E += float64(sojourn)
			recordNs(e.hWait, rs.wait)
			recordNs(e.hTTFT, ttft)
			recordNs(e.hE2E, sojourn)
		case results.StatusThrottled, results.StatusRejected:
			st.Rejected++
		case results.StatusTimedOut:
			st.TimedOut++
		default:
			st.Failed++
		}
	}
	if e.sink != nil {
		e.writeRequest(rs)
	}
	rs.state = stFree
	rs.gen++
	e.free = append(e.free, slot)
	if rs.sess >= 0 {
		// A session's calls are not arrivals of the stream: the session
		// counts towards progress when it ends.
		e.sessCallDone(rs.sess, rs.status, rs.errClass, rs.attempt)
		return
	}
	e.tickProgress()
}

// tickProgress counts one arrival of the stream (a request or a session)
// as done, reporting every 16k of them.
func (e *engine) tickProgress() {
	if e.progress != nil {
		if e.sinceProg++; e.sinceProg >= 1<<14 {
			e.progress(e.sinceProg)
			e.sinceProg = 0
		}
	}
}

// recordNs records a duration in the microsecond histogram, clamped to its range.
func recordNs(h *hdrhistogram.Histogram, ns int64) {
	us := (ns + 500) / 1000
	us = max(us, 0) // zero waits are common and must read as zero
	us = min(us, int64(histMax))
	_ = h.RecordValue(us)
}

// newLinkFactors gives the engine link latency factors, all 1, when the
// scenario has link faults to scale them.
func (e *engine) newLinkFactors() {
	for _, f := range e.m.faults {
		if f.kind == scenarios.FaultLink {
			e.linkF = make([][]float64, len(e.m.links))
			for a := range e.linkF {
				e.linkF[a] = make([]float64, len(e.m.links))
				for b := range e.linkF[a] {
					e.linkF[a][b] = 1
				}
			}
			return
		}
	}
}

// scaleLinks multiplies the latency of a link fault's region pairs by f.
func (e *engine) scaleLinks(fm *faultModel, f float64) {
	for _, p := range fm.links {
		e.linkF[p[0]][p[1]] *= f
		e.linkF[p[1]][p[0]] *= f
	}
}

func (e *engine) faultStart(f *faultModel) {
	if e.m.inert {
		return
	}
	if f.kind == scenarios.FaultLink {
		e.scaleLinks(f, f.factor)
		return
	}
	for _, di := range f.deps {
		d := &e.deps[di]
		switch f.kind {
		case scenarios.FaultOutage:
			d.down++
			e.failAll(di)
		case scenarios.FaultBrownout:
			d.slow *= f.factor
		case scenarios.FaultThrottle:
			d.quotaF *= f.factor
			d.quota.Scale(e.now, d.quotaF)
		case scenarios.FaultReset:
			d.reset++
		case scenarios.FaultSilent:
			d.silent++
		case scenarios.FaultStreamCut:
			d.cut++
		case scenarios.FaultMalformed:
			d.malformed++
		}
	}
}

func (e *engine) faultEnd(f *faultModel) {
	if e.m.inert {
		return
	}
	if f.kind == scenarios.FaultLink {
		e.scaleLinks(f, 1/f.factor)
		return
	}
	for _, di := range f.deps {
		d := &e.deps[di]
		switch f.kind {
		case scenarios.FaultOutage:
			d.down--
		case scenarios.FaultBrownout:
			d.slow /= f.factor
		case scenarios.FaultThrottle:
			if f.factor != 0 {
				d.quotaF /= f.factor
			} else {
				d.quotaF = 1 // a zero factor cannot be divided out; assume no overlap
			}
			d.quota.Scale(e.now, d.quotaF)
		case scenarios.FaultReset:
			d.reset--
		case scenarios.FaultSilent:
			if d.silent--; d.silent == 0 {
				e.releaseHeld(di)
			}
		case scenarios.FaultStreamCut:
			d.cut--
		case scenarios.FaultMalformed:
			d.malformed--
		}
	}
}

// releaseHeld fails the attempts a silent window swallowed, when it closes:
// a client without a timeout learns of the failure only then, when the
// connection finally drops.
func (e *engine) releaseHeld(di int32) {
	d := &e.deps[di]
	for d.held.size > 0 {
		q := d.held.pop()
		rs := &e.reqs[q.slot]
		if rs.gen != q.gen || rs.state != stHeld {
			continue // the client timed out first
		}
		e.respond(q.slot, results.StatusFailed, errSilent)
	}
}

// failAll fails every attempt queued at or served by a deployment that just
// went down: clients see their connections reset.
func (e *engine) failAll(di int32) {
	if e.m.deps[di].orchestration {
		e.failQueuedSessions(di)
		return
	}
	d := &e.deps[di]
	for d.inService >= 0 {
		slot := d.inService
		rs := &e.reqs[slot]
		d.inService = rs.next
		if rs.next >= 0 {
			e.reqs[rs.next].prev = -1
		}
		rs.prev, rs.next = -1, -1
		d.touch(e.now)
		d.busy--
		rs.gen++
		e.respond(slot, results.StatusFailed, errOutage)
	}
	for d.queue.size > 0 {
		q := d.queue.pop()
		rs := &e.reqs[q.slot]
		if rs.gen != q.gen || rs.state != stQueued {
			continue
		}
		d.queued--
		rs.wait += e.now - rs.enq
		rs.qAtt += e.now - rs.enq
		rs.gen++
		e.respond(q.slot, results.StatusFailed, errOutage)
	}
}
