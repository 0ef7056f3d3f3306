package sim

import (
	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcbench/mcbench/backends/behavior"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Session event kinds, numbered after the request kinds of queue.go. Their
// ref is a session slot.
const (
	evSessAtOrch evKind = evFirstToken + 1 + iota // a session reaches an orchestration deployment
	evSessRetry                                   // a session's backed-off start is due
	evSessStep                                    // a session's next model call is due
	evSessEnd                                     // a session's answer reaches its origin
)

// Session states.
const (
	ssFree    uint8 = iota
	ssNet           // travelling to an orchestration deployment
	ssQueued        // waiting for a slot there
	ssBackoff       // waiting to try to start again
	ssActive        // hosted: between steps, or waiting on a model call
	ssBack          // the answer travelling back to the origin
)

// Session error classes, after the request ones.
const (
	errStateLost = errCancelled + 1 + iota // the state store (or the orchestrator holding the state) is down
)

// sessState is one agentic session in flight. Like request slots, session
// slots are recycled through a free list.
type sessState struct {
	id        uint64 // the arrival's stream ID; draws are keyed by it
	at        int64  // arrival at the origin
	class     int32
	steps     int32 // model calls the session makes
	step      int32 // model calls finished (or, while one is out, started) so far
	cand      int32 // current orchestration candidate (index into model.orch)
	tries     int32 // tries to start, at any orchestration deployment
	failovers int32 // moves to another orchestrator mid-session
	calls     int32 // model-call attempts, retries and hedges included
	gen       uint32
	state     uint8
	measured  bool
	status    results.Status
	errClass  uint8
	// Bytes that crossed a region boundary within a provider, and that
	// crossed between providers: model-call payloads and state reads and
	// writes; stateBytes is all state moved, wherever it went.
	xRegion, xCloud, stateBytes int64
}

// sessAcc accumulates one session class's measured sessions in one replication.
type sessAcc struct {
	sessions, completed, failed, sloMet int64
	steps, calls, failovers             int64
	xRegion, xCloud, stateBytes         int64
	sumLat                              float64
	hLat                                *hdrhistogram.Histogram
}

func (e *engine) newSessions() {
	e.plan = scenarios.NewSessionPlan(e.m.s, e.rep)
	for i := range e.m.classes {
		if e.m.classes[i].session != nil {
			if e.sessAcc == nil {
				e.sessAcc = make([]sessAcc, len(e.m.classes))
			}
			e.sessAcc[i].hLat = newHist()
		}
	}
}

// sessNetDraws is how many network draws a session step may use: state
// read out and back, write out and back, the hop home.
const sessNetDraws = 8

// sessNetID and sessHopID give a session's network hops IDs of their own
// for keyed draws, apart from stream IDs (below 2^40 in any run that fits in
// memory), from each other and from scenarios.SessionCallID.
func sessNetID(id uint64) uint64 { return 1<<61 | id }
func sessHopID(id uint64) uint64 { return 1<<60 | id }

func (e *engine) allocSess() int32 {
	if n := len(e.sessFree); n > 0 {
		s := e.sessFree[n-1]
		e.sessFree = e.sessFree[:n-1]
		return s
	}
	e.sess = append(e.sess, sessState{})
	return int32(len(e.sess) - 1)
}

// arriveSession starts a session: it sets off for the first orchestration
// deployment.
func (e *engine) arriveSession(r scenarios.Request, measured bool) {
	slot := e.allocSess()
	ss := &e.sess[slot]
	steps := e.plan.Steps(r.Class, r.ID)
	*ss = sessState{id: r.ID, at: r.At, class: r.Class, steps: steps, gen: ss.gen + 1, measured: measured}
	e.liveSess++
	e.sessSend(slot, 0)
}

// orchDep returns the deployment index of the session's current orchestrator.
func (e *engine) orchDep(ss *sessState) int32 { return e.m.orch[ss.cand] }

// sessSend sends the session towards orchestration candidate cand.
func (e *engine) sessSend(slot, cand int32) {
	ss := &e.sess[slot]
	ss.cand = cand
	ss.tries++
	ss.gen++
	origin := e.m.classes[ss.class].originIdx
	d := e.netDelay(origin, e.m.deps[e.orchDep(ss)].regionIdx, sessHopID(ss.id), uint64(ss.tries))
	ss.state = ssNet
	e.schedule(e.now+d, evSessAtOrch, slot, ss.gen)
}

func (e *engine) sessEvent(ev event) {
	ss := &e.sess[ev.ref]
	if ss.gen != ev.gen {
		return
	}
	switch ev.kind {
	case evSessAtOrch:
		e.sessAtOrch(ev.ref)
	case evSessRetry:
		e.sessSend(ev.ref, (ss.cand+1)%int32(len(e.m.orch)))
	case evSessStep:
		e.sessStep(ev.ref)
	case evSessEnd:
		e.sessFinish(ev.ref)
	}
}

// sessAtOrch admits a session at an orchestration deployment: it is hosted
// if a slot is free, waits if the queue has room, and otherwise (or when
// the deployment is down or throttles it) tries again, on the next
// candidate, as the failover policy would.
func (e *engine) sessAtOrch(slot int32) {
	ss := &e.sess[slot]
	di := e.orchDep(ss)
	d := &e.deps[di]
	dm := &e.m.deps[di]
	if d.down > 0 || d.reset > 0 || d.silent > 0 {
		e.sessBook(ss, d, results.StatusFailed)
		e.sessRetry(slot, results.StatusFailed, errOutage, 0)
		return
	}
	if d.quota.Limited() {
		_, why, ra := d.quota.Admit(e.now, 0, 0)
		if why != behavior.Admitted {
			e.sessBook(ss, d, results.StatusThrottled)
			e.sessRetry(slot, results.StatusThrottled, errQuotaRequests, ra)
			return
		}
	}
	switch {
	case d.busy < dm.concurrency:
		e.sessHost(slot)
	case dm.queueLimit < 0 || d.queued < dm.queueLimit:
		ss.state = ssQueued
		d.queued++
		d.queue.push(queueEntry{slot: slot, gen: ss.gen})
	default:
		e.sessBook(ss, d, results.StatusRejected)
		e.sessRetry(slot, results.StatusRejected, errQueueFull, 0)
	}
}

// sessBook counts a measured session's try to be hosted at orchestration
// deployment d once it is decided: hosted (ok), or refused (throttled,
// rejected, failed). A session still waiting in the queue is not counted
// yet.
func (e *engine) sessBook(ss *sessState, d *depState, status results.Status) {
	if ss.measured {
		d.book(status)
	}
}

// sessRetry backs off (at least retryAfter) and tries the next candidate,
// or fails the session once the strategy's max_attempts are spent.
func (e *engine) sessRetry(slot int32, status results.Status, cls uint8, retryAfter int64) {
	ss := &e.sess[slot]
	if ss.tries >= e.m.maxAttempts {
		ss.status, ss.errClass = status, cls
		e.sessFinish(slot)
		return
	}
	delay := max(e.m.backoff<<(ss.tries-1), retryAfter)
	ss.state = ssBackoff
	ss.gen++
	e.schedule(e.now+delay, evSessRetry, slot, ss.gen)
}

// sessHost gives the session a slot at its orchestrator and schedules its
// first step.
func (e *engine) sessHost(slot int32) {
	ss := &e.sess[slot]
	d := &e.deps[e.orchDep(ss)]
	e.sessBook(ss, d, results.StatusOK)
	d.touch(e.now)
	d.busy++
	ss.state = ssActive
	e.sessNext(slot)
}

// sessUnhost frees the session's orchestrator slot and admits the next
// waiting session there.
func (e *engine) sessUnhost(slot int32) {
	ss := &e.sess[slot]
	di := e.orchDep(ss)
	d := &e.deps[di]
	d.touch(e.now)
	d.busy--
	for d.queued > 0 && d.busy < e.m.deps[di].concurrency {
		q := d.queue.pop()
		w := &e.sess[q.slot]
		if w.gen != q.gen || w.state != ssQueued {
			continue
		}
		d.queued--
		if d.down > 0 {
			e.sessBook(w, d, results.StatusFailed)
			e.sessRetry(q.slot, results.StatusFailed, errOutage, 0)
			continue
		}
		e.sessHost(q.slot)
	}
}

// failQueuedSessions sends the sessions waiting at an orchestration
// deployment that just went down elsewhere. Hosted sessions notice the
// outage at their next step.
func (e *engine) failQueuedSessions(di int32) {
	d := &e.deps[di]
	for d.queue.size > 0 {
		q := d.queue.pop()
		ss := &e.sess[q.slot]
		if ss.gen != q.gen || ss.state != ssQueued {
			continue
		}
		d.queued--
		e.sessBook(ss, d, results.StatusFailed)
		e.sessRetry(q.slot, results.StatusFailed, errOutage, 0)
	}
}

// stateRegion is where the session's state lives: the state deployment's
// region, or the orchestrator's.
func (e *engine) stateRegion(ss *sessState) int {
	if e.m.state >= 0 {
		return e.m.deps[e.m.state].regionIdx
	}
	return e.m.deps[e.orchDep(ss)].regionIdx
}

// stateOp returns how long one state read or write of n bytes takes from
// the orchestrator (a round trip to the store plus the store's own
// latency) and counts the bytes.
func (e *engine) stateOp(ss *sessState, n int64, counter uint64) int64 {
	orch := e.m.deps[e.orchDep(ss)].regionIdx
	store := e.stateRegion(ss)
	id := sessNetID(ss.id)
	d := e.netDelay(orch, store, id, counter) + e.netDelay(store, orch, id, counter+1)
	if e.m.state >= 0 {
		sd := &e.m.deps[e.m.state]
		d += int64(sd.latency.TTFT.Quantile(scenarios.Draw(e.keySvc, id, counter)) * 1e9 * e.deps[e.m.state].slow)
	}
	ss.stateBytes += n
	e.countBytes(ss, orch, store, n)
	return d
}

// countBytes books n bytes moved between regions a and b, and returns
// how many of them crossed between providers (n or 0).
func (e *engine) countBytes(ss *sessState, a, b int, n int64) (crossCloud int64) {
	switch {
	case a < 0 || b < 0 || a == b:
	case e.m.regionProvider[a] == e.m.regionProvider[b]:
		ss.xRegion += n
	default:
		ss.xCloud += n
		return n
	}
	return 0
}

// sessNext schedules what follows a finished step (or admission): the
// state write of the step just done, then either the next step's state
// read, think time and orchestrator overhead, or the trip home.
func (e *engine) sessNext(slot int32) {
	ss := &e.sess[slot]
	sm := e.m.classes[ss.class].session
	base := uint64(ss.step) * sessNetDraws
	var d int64
	if ss.step > 0 && sm.write > 0 {
		d += e.stateOp(ss, sm.write, base+2)
	}
	ss.gen++
	if ss.step >= ss.steps {
		origin := e.m.classes[ss.class].originIdx
		d += e.netDelay(e.m.deps[e.orchDep(ss)].regionIdx, origin, sessNetID(ss.id), base+4)
		ss.state = ssBack
		e.schedule(e.now+d, evSessEnd, slot, ss.gen)
		return
	}
	next := base + sessNetDraws
	if sm.read > 0 {
		d += e.stateOp(ss, sm.read, next)
	}
	d += e.plan.Think(ss.class, ss.id, ss.step)
	di := e.orchDep(ss)
	if ov := &e.m.deps[di].latency.TTFT; !ov.IsZero() {
		d += int64(ov.Quantile(e.plan.U(ss.id, ss.step, scenarios.DrawOverhead)) * 1e9 * e.deps[di].slow)
	}
	e.schedule(e.now+d, evSessStep, slot, ss.gen)
}

// sessStep makes the session's next model call, from the orchestrator's
// region, through the strategy's routing like any request. An orchestrator
// that went down meanwhile is left for the next candidate first (the
// session's state goes with it unless a separate state store is placed).
func (e *engine) sessStep(slot int32) {
	ss := &e.sess[slot]
	if e.m.state >= 0 && e.deps[e.m.state].down > 0 {
		ss.status, ss.errClass = results.StatusFailed, errStateLost
		e.sessUnhost(slot)
		e.sessFinish(slot)
		return
	}
	if di := e.orchDep(ss); e.deps[di].down > 0 {
		e.sessUnhost(slot)
		if e.m.state < 0 || len(e.m.orch) == 1 {
			ss.status, ss.errClass = results.StatusFailed, errStateLost
			e.sessFinish(slot)
			return
		}
		ss.failovers++
		// A fresh start at the next orchestrator, which resumes from the
		// stored state: the step is not lost, the tries start again.
		ss.tries = 0
		e.sessSend(slot, (ss.cand+1)%int32(len(e.m.orch)))
		return
	}
	r := e.plan.Call(ss.class, ss.id, ss.step, e.now)
	ss.step++
	e.launch(r, int32(e.m.deps[e.orchDep(ss)].regionIdx), slot, e.m.measured(&r))
}

// sessCallBytes counts a session call's payload: the prompt when an
// attempt is sent, the streamed answer when it completes.
func (e *engine) sessCallBytes(slot int32, answer bool) {
	rs := &e.reqs[slot]
	ss := &e.sess[rs.sess]
	n := int64(rs.r.InputTokens) * results.PromptBytesPerToken
	if answer {
		n = int64(rs.r.OutputTokens) * results.StreamBytesPerToken
	} else {
		rs.xbytes = 0
	}
	rs.xbytes += e.countBytes(ss, int(rs.origin), e.m.deps[rs.dep].regionIdx, n)
}

// sessCallDone continues a session after its model call ended.
func (e *engine) sessCallDone(slot int32, status results.Status, cls uint8, attempts int32) {
	ss := &e.sess[slot]
	ss.calls += attempts
	if status != results.StatusOK {
		ss.status, ss.errClass = status, cls
		e.sessUnhost(slot)
		e.sessFinish(slot)
		return
	}
	e.sessNext(slot)
}

// sessFinish ends a session: its answer is home (or it failed) now.
func (e *engine) sessFinish(slot int32) {
	ss := &e.sess[slot]
	if ss.state == ssBack {
		e.sessUnhost(slot)
	}
	if ss.measured {
		a := &e.sessAcc[ss.class]
		a.sessions++
		a.steps += int64(ss.step)
		a.calls += int64(ss.calls)
		a.failovers += int64(ss.failovers)
		a.xRegion += ss.xRegion
		a.xCloud += ss.xCloud
		a.stateBytes += ss.stateBytes
		if ss.status == results.StatusOK {
			lat := e.now - ss.at
			a.completed++
			a.sumLat += float64(lat)
			recordNs(a.hLat, lat)
			if slo := e.m.classes[ss.class].session.slo; slo > 0 && lat <= slo {
				a.sloMet++
			}
		} else {
			a.failed++
		}
	}
	if len(e.faultAcc) > 0 {
		e.sessionFaultFinish(ss)
	}
	if e.sink != nil {
		if sk, ok := e.sink.(SessionSink); ok {
			e.writeSession(sk, ss)
		}
	}
	ss.state = ssFree
	ss.gen++
	e.liveSess--
	e.sessFree = append(e.sessFree, slot)
	e.tickProgress()
}
