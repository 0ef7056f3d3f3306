package fake

import (
	"container/heap"
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcbench/mcbench/backends/behavior"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Deployment is one scenario deployment served against the wall clock: the
// same latency, quota and fault models the simulator steps in virtual time,
// with a real semaphore for concurrency slots and a bounded wait queue.
type Deployment struct {
	// Name is the Azure deployment name, or the Bedrock deployment's alias.
	Name string
	// Provider and ProviderKind are the scenario provider's name and kind.
	Provider, ProviderKind string
	// Region and Model are as in the scenario.
	Region, Model string

	lat        behavior.Latency
	outTokens  scenarios.Dist
	conc       int
	queueLimit int // -1: unbounded
	// slots are the concurrency slots and the wait queue.
	slots slotQueue
	// inService holds the planned spans of the calls holding a slot, so a
	// call's load factor counts the calls in service at its planned start,
	// as the simulator counts them, not those a late goroutine still holds.
	spanMu    sync.Mutex
	inService []*Plan

	mu     sync.Mutex
	quota  behavior.Quota
	quotaF float64 // throttle factor currently applied to the quota

	faults []window
	// epoch is the time zero of fault windows and quotas: the server's
	// start, or the start of the load test driving it (SetEpoch).
	epoch atomic.Pointer[time.Time]
	// key draws calls the fake cannot identify, in admission order (seq);
	// svcKey draws identified calls exactly as the simulator draws request
	// ID's attempt on replication 0 (common random numbers across engines).
	key, svcKey uint64
	seq         atomic.Uint64
	quotaSpec   *scenarios.Quota
	net         network

	// Counters for the live display and tests.
	Stats Stats
}

// Stats counts a deployment's calls. Fields are updated atomically.
type Stats struct {
	Requests, OK, Throttled, Rejected, Failed, InFlight, OutputTokens atomic.Int64
}

type window struct {
	kind       string
	start, end time.Duration
	factor     float64
}

// Call is what a handler knows about a request before admitting it.
type Call struct {
	// ID and Attempt identify the call as the load generator numbers it
	// (RequestHeader): the stream position of its request and the attempt,
	// 1-based, hedges included. Keyed says they were given; a call without
	// them (an SDK used directly) is drawn in admission order.
	ID      uint64
	Attempt int32
	Keyed   bool
	// Due is when the attempt was due to be sent, on the run's clock
	// (DueHeader); HasDue says it was given. The fake then plans the call
	// from that instant, as the simulator does, not from when the request
	// happened to reach it: a late sender is absorbed, not measured.
	Due    time.Duration
	HasDue bool
	// Origin is the region the call comes from (OriginHeader): the
	// scenario's link latency from it applies both ways.
	Origin string
	// InputTokens is the prompt length as the fake counts it (words).
	InputTokens int32
	// MaxTokens is the request's output limit.
	MaxTokens int32
	// WantOutput is the output length the client asked the fake to produce
	// (the x-mcbench-output-tokens header); negative means draw it from the
	// scenario's output-token distribution.
	WantOutput int32
}

// Plan is an admitted call: how long to wait before the first token, the
// gap between tokens, how many tokens to send and whether the response is to
// be broken. The handler must call Done exactly once.
type Plan struct {
	// Start is when the call's service begins on the deployment's plan: its
	// arrival if a slot was free, else the planned end of the call whose
	// slot it took. Every instant of the response (first token, each token,
	// the end) is planned from it, in absolute time: a handler that wakes
	// late catches up, it never slides the rest of the response.
	Start time.Time
	// Queued is how long the call waited for a concurrency slot (Start less
	// its arrival); the fakes report it in the QueueHeader of a response.
	Queued time.Duration
	TTFT   time.Duration
	// Back is the link latency from the deployment back to the caller: the
	// response's events reach the caller that much after they happen on
	// the deployment, and the handlers emit them that much later.
	Back   time.Duration
	TPOT   time.Duration
	Output int32
	// Fault is "", scenarios.FaultStreamCut (stop after Output/2 tokens and
	// drop the connection) or scenarios.FaultMalformed (corrupt the first frame).
	Fault string
	// Reserved is the quota reservation, settled by Done.
	reserved float64
	input    int32
	d        *Deployment
	done     atomic.Bool
	// release frees the slot at the planned end, even while the handler is
	// still writing (a response's trip back, or a late goroutine).
	release *time.Timer
	freed   atomic.Bool
}

// Refusal is why a call was not admitted.
type Refusal struct {
	// Status is StatusThrottled (quota), StatusRejected (queue full) or
	// StatusFailed (a fault).
	Status results.Status
	// Reason is "quota_tokens", "quota_requests", "queue_full", "outage",
	// "reset" or "silent".
	Reason string
	// RetryAfter is the advertised delay for throttled calls (0 if none).
	RetryAfter time.Duration
}

// DefaultMaxTokens is used when a request sets no output limit.
const DefaultMaxTokens = 4096

func newDeployment(s *scenarios.Scenario, i int, start time.Time) *Deployment {
	dep := &s.Deployments[i]
	kind := ""
	for _, p := range s.Providers {
		if p.Name == dep.Provider {
			kind = p.Kind
		}
	}
	ql := -1
	if dep.Capacity.Queue != nil {
		ql = *dep.Capacity.Queue
	}
	d := &Deployment{
		Name: dep.Name, Provider: dep.Provider, ProviderKind: kind, Region: dep.Region, Model: dep.Model,
		lat: behavior.NewLatency(&dep.Latency), conc: dep.Capacity.Concurrency, queueLimit: ql,
		quota: behavior.NewQuota(&dep.Capacity.Quota, kind), quotaF: 1, quotaSpec: &dep.Capacity.Quota,
		key: scenarios.StreamKey(s.Seed, 0, "fake", dep.Name), svcKey: scenarios.StreamKey(s.Seed, 0, "service", ""),
		net: newNetwork(s, dep.Region),
	}
	d.slots.free = make([]time.Time, dep.Capacity.Concurrency)
	d.epoch.Store(&start)
	d.outTokens = scenarios.ConstDist(250)
	for _, w := range s.Workloads {
		if w.Layer == "" || w.Layer == dep.Layer {
			d.outTokens = w.OutputTokens.Dist
			break
		}
	}
	for _, f := range s.Faults {
		if f.Target == dep.Name || f.Target == dep.Region || f.Target == dep.Provider {
			w := window{kind: f.Kind, start: f.Start.Std(), end: (f.Start + f.Duration).Std()}
			switch f.Kind {
			case scenarios.FaultBrownout:
				w.factor = f.LatencyFactor
			case scenarios.FaultThrottle:
				w.factor = f.QuotaFactor
			}
			d.faults = append(d.faults, w)
		}
	}
	return d
}

// origin is the time zero of fault windows and quotas.
func (d *Deployment) origin() time.Time { return *d.epoch.Load() }

// now returns the time since the origin, the clock fault windows and
// quotas are measured on.
func (d *Deployment) now() time.Duration { return time.Since(d.origin()) }

// setEpoch moves the origin to t and starts the quota afresh: a new run.
func (d *Deployment) setEpoch(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.epoch.Store(&t)
	d.quota, d.quotaF = behavior.NewQuota(d.quotaSpec, d.ProviderKind), 1
}

// active returns whether a fault of the kind is open, with the product of the
// factors of the open ones and the end of the latest-ending one.
func (d *Deployment) active(kind string, now time.Duration) (on bool, factor float64, end time.Duration) {
	factor = 1
	for _, w := range d.faults {
		if w.kind == kind && now >= w.start && now < w.end {
			on = true
			factor *= w.factor
			end = max(end, w.end)
		}
	}
	return on, factor, end
}

// Admit decides a call the way the simulator does, in the same order: open
// faults first, then the quota, then a concurrency slot (waiting in the
// queue if there is room). A call to a silent deployment blocks until ctx is
// done or the window ends. On success the caller must call Plan.Done.
func (d *Deployment) Admit(ctx context.Context, c Call) (*Plan, *Refusal) {
	d.Stats.Requests.Add(1)
	arrival, back, ok := d.arrive(ctx, &c)
	if !ok {
		return nil, d.refuse(results.StatusFailed, "cancelled", 0)
	}
	now := arrival.Sub(d.origin())
	if on, _, _ := d.active(scenarios.FaultOutage, now); on {
		return nil, d.refuse(results.StatusFailed, "outage", 0)
	}
	if on, _, _ := d.active(scenarios.FaultReset, now); on {
		return nil, d.refuse(results.StatusFailed, "reset", 0)
	}
	if on, _, end := d.active(scenarios.FaultSilent, now); on {
		t := time.NewTimer(end - now)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return nil, d.refuse(results.StatusFailed, "silent", 0)
	}
	maxTok := c.MaxTokens
	if maxTok <= 0 {
		maxTok = DefaultMaxTokens
	}
	reserved, ref := d.admitQuota(now, c.InputTokens, maxTok)
	if ref != nil {
		return nil, ref
	}
	start, why := d.acquire(ctx, arrival)
	if why != "" {
		d.settle(reserved, c.InputTokens, 0)
		if why == "queue_full" {
			return nil, d.refuse(results.StatusRejected, why, 0)
		}
		return nil, d.refuse(results.StatusFailed, why, 0)
	}
	d.Stats.InFlight.Add(1)

	n := d.seq.Add(1)
	out := c.WantOutput
	if out < 0 {
		out = int32(d.outTokens.Quantile(scenarios.Draw(d.key, n, 2)) + 0.5)
	}
	out = max(min(out, maxTok), 1)
	u1, u2 := scenarios.Draw(d.key, n, 0), scenarios.Draw(d.key, n, 1)
	if c.Keyed {
		k := uint64(c.Attempt) * 2
		u1, u2 = scenarios.Draw(d.svcKey, c.ID, k), scenarios.Draw(d.svcKey, c.ID, k+1)
	}
	// Faults that shape the service are read at its planned start, as the
	// simulator reads them when the service starts.
	at := start.Sub(d.origin())
	_, slow, _ := d.active(scenarios.FaultBrownout, at)
	p := &Plan{Start: start, Queued: start.Sub(arrival), Back: back, Output: out, reserved: reserved, input: c.InputTokens, d: d}
	d.spanMu.Lock()
	busy := 1 // this call, and those in service on the plan when it starts
	for _, q := range d.inService {
		if !q.Start.After(start) && q.End().After(start) {
			busy++
		}
	}
	ttft, total := d.lat.Service(u1, u2, c.InputTokens, out, busy, d.conc, slow)
	p.TTFT = time.Duration(ttft)
	if out > 0 {
		p.TPOT = time.Duration((total - ttft) / int64(out))
	}
	d.inService = append(d.inService, p)
	d.spanMu.Unlock()
	if on, _, _ := d.active(scenarios.FaultMalformed, at); on {
		p.Fault = scenarios.FaultMalformed
	} else if on, _, _ := d.active(scenarios.FaultStreamCut, at); on {
		p.Fault = scenarios.FaultStreamCut
	}
	p.release = time.AfterFunc(time.Until(p.End()), p.free)
	return p, nil
}

// arrive returns when the call reaches the deployment on the plan: when it
// was due to be sent (or now, if the caller did not say) plus the link
// latency from its origin, waiting until then if that is still to come;
// and the latency of the way back. false: the client left while the call
// was on its way.
func (d *Deployment) arrive(ctx context.Context, c *Call) (arrival time.Time, back time.Duration, ok bool) {
	now := time.Now()
	sent := now
	if c.HasDue {
		sent = d.origin().Add(c.Due)
	}
	var out time.Duration
	if c.Keyed && c.Origin != "" {
		k, at := uint64(c.Attempt)*2, sent.Sub(d.origin())
		out, back = d.net.delay(c.Origin, c.ID, k, at), d.net.delay(c.Origin, c.ID, k+1, at)
	}
	arrival = sent.Add(out)
	if wait := arrival.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return arrival, back, false
		}
	}
	return arrival, back, true
}

func (d *Deployment) refuse(st results.Status, reason string, retry time.Duration) *Refusal {
	switch st {
	case results.StatusThrottled:
		d.Stats.Throttled.Add(1)
	case results.StatusRejected:
		d.Stats.Rejected.Add(1)
	default:
		d.Stats.Failed.Add(1)
	}
	return &Refusal{Status: st, Reason: reason, RetryAfter: retry}
}

func (d *Deployment) admitQuota(now time.Duration, input, maxTok int32) (float64, *Refusal) {
	if !d.quota.Limited() {
		return 0, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, f, _ := d.active(scenarios.FaultThrottle, now)
	if f != d.quotaF {
		d.quota.Scale(int64(now), f)
		d.quotaF = f
	}
	reserved, why, ra := d.quota.Admit(int64(now), input, maxTok)
	if why == behavior.Admitted {
		return reserved, nil
	}
	retry := time.Duration(ra)
	if ra < 0 {
		retry = time.Minute // more than the bucket holds: ask to wait a full window
	}
	return 0, d.refuse(results.StatusThrottled, why.String(), retry)
}

func (d *Deployment) settle(reserved float64, input, output int32) {
	if reserved == 0 {
		return
	}
	d.mu.Lock()
	d.quota.Settle(int64(d.now()), reserved, input, output)
	d.mu.Unlock()
}

// QueueHeader is the response header in which a fake reports how long the
// call waited for a concurrency slot, in nanoseconds (an mcbench extension,
// like the x-mcbench-output-tokens request header): the load generator
// records it as the attempt's queue wait, which a real endpoint does not
// reveal.
const QueueHeader = "X-Mcbench-Queue-Ns"

// setQueueHeader reports the call's queue wait on a successful response.
func setQueueHeader(h http.Header, p *Plan) {
	h[QueueHeader] = []string{strconv.FormatInt(int64(p.Queued), 10)}
}

// slotQueue holds a deployment's free slots, each with the instant it is
// free on the plan (see Plan.Start), and the calls waiting for one in the
// order of their planned arrival, as the simulator's FCFS queue orders
// them (not in the order their goroutines happened to get there).
type slotQueue struct {
	mu      sync.Mutex
	free    freeSlots     // a min-heap of planned free times
	waiters []*slotWaiter // by planned arrival
}

// freeSlots is a min-heap (container/heap) of the free slots' planned free
// times: a deployment may have thousands of slots.
type freeSlots []time.Time

func (f freeSlots) Len() int           { return len(f) }
func (f freeSlots) Less(i, j int) bool { return f[i].Before(f[j]) }
func (f freeSlots) Swap(i, j int)      { f[i], f[j] = f[j], f[i] }
func (f *freeSlots) Push(x any)        { *f = append(*f, x.(time.Time)) }
func (f *freeSlots) Pop() any {
	old := *f
	x := old[len(old)-1]
	*f = old[:len(old)-1]
	return x
}

type slotWaiter struct {
	arrival time.Time
	got     chan time.Time // buffered: the slot's planned free time
}

// release frees a slot at planned time at: to the first waiter, or back
// to the free list.
func (q *slotQueue) release(at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiters) > 0 {
		w := q.waiters[0]
		q.waiters = q.waiters[1:]
		w.got <- at
		return
	}
	heap.Push(&q.free, at)
}

// leave takes w out of the queue; false if it was handed a slot first.
func (q *slotQueue) leave(w *slotWaiter) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, x := range q.waiters {
		if x == w {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// acquire takes a concurrency slot, waiting in the queue if it has room,
// and returns when the call's service starts on the plan: its arrival, or
// the planned free time of the slot it took, whichever is later. why is ""
// on success, else "queue_full", "outage" (an outage opened while the call
// was queued: it fails, as in the simulator) or "cancelled".
func (d *Deployment) acquire(ctx context.Context, arrival time.Time) (start time.Time, why string) {
	q := &d.slots
	q.mu.Lock()
	if len(q.free) > 0 && len(q.waiters) == 0 {
		// The slot free earliest on the plan: a call that arrived on the
		// plan before any slot was free starts when the first one was.
		free := heap.Pop(&q.free).(time.Time)
		q.mu.Unlock()
		return later(arrival, free), ""
	}
	if d.queueLimit >= 0 && len(q.waiters) >= d.queueLimit {
		q.mu.Unlock()
		return time.Time{}, "queue_full"
	}
	w := &slotWaiter{arrival: arrival, got: make(chan time.Time, 1)}
	i := len(q.waiters)
	for i > 0 && q.waiters[i-1].arrival.After(arrival) {
		i--
	}
	q.waiters = slices.Insert(q.waiters, i, w)
	q.mu.Unlock()

	var outage <-chan time.Time
	if at, ok := d.nextOutage(arrival.Sub(d.origin())); ok {
		t := time.NewTimer(at - arrival.Sub(d.origin()))
		defer t.Stop()
		outage = t.C
	}
	why = "cancelled"
	select {
	case free := <-w.got:
		return later(arrival, free), ""
	case <-outage:
		why = "outage"
	case <-ctx.Done():
	}
	if !q.leave(w) {
		q.release(<-w.got) // handed a slot as it gave up: pass it on
	}
	return time.Time{}, why
}

// nextOutage returns the start of the first outage window opening after
// now (on the origin's clock).
func (d *Deployment) nextOutage(now time.Duration) (time.Duration, bool) {
	var at time.Duration
	found := false
	for _, w := range d.faults {
		if w.kind == scenarios.FaultOutage && w.start > now && (!found || w.start < at) {
			at, found = w.start, true
		}
	}
	return at, found
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// free gives the slot back once: at the planned end, or now if the call
// ended early (cut, failed, or its client left).
func (p *Plan) free() {
	if !p.freed.CompareAndSwap(false, true) {
		return
	}
	at := time.Now()
	if end := p.End(); end.Before(at) {
		at = end
	}
	d := p.d
	d.spanMu.Lock()
	for i, q := range d.inService {
		if q == p {
			last := len(d.inService) - 1
			d.inService[i], d.inService[last] = d.inService[last], nil
			d.inService = d.inService[:last]
			break
		}
	}
	d.spanMu.Unlock()
	d.slots.release(at)
}

// End is when the whole response is planned to end on the deployment (the
// trip back to the caller not included).
func (p *Plan) End() time.Time { return p.Start.Add(p.TTFT + time.Duration(p.Output)*p.TPOT) }

// LagHeader is the response header or trailer in which a fake reports, in
// nanoseconds, how much later than planned it delivered the response's
// events (the largest lateness of any of them): what it could not absorb,
// a stalled machine rather than a slower model. A streamed response sends
// it as a trailer, a complete one as a header.
const LagHeader = "X-Mcbench-Lag-Ns"

// lagTracker keeps the largest lateness of a response's events.
type lagTracker time.Duration

// at notes an event due at due that happened now.
func (l *lagTracker) at(due time.Time) {
	*l = lagTracker(max(time.Duration(*l), time.Since(due)))
}

// value is the lag in the LagHeader's format.
func (l lagTracker) value() []string { return []string{strconv.FormatInt(int64(l), 10)} }

// Done releases the call's slot and settles its quota with the tokens
// actually sent. ok says whether the response completed.
func (p *Plan) Done(sent int32, ok bool) {
	if !p.done.CompareAndSwap(false, true) {
		return
	}
	d := p.d
	p.release.Stop()
	p.free() // a no-op when the planned end has come
	d.Stats.InFlight.Add(-1)
	d.Stats.OutputTokens.Add(int64(sent))
	if ok {
		d.Stats.OK.Add(1)
	} else {
		d.Stats.Failed.Add(1)
	}
	d.settle(p.reserved, p.input, sent)
}

// RateLimitRemaining returns the tokens and requests left in the quota now,
// for x-ratelimit-remaining-* headers; -1 where no limit is set.
func (d *Deployment) RateLimitRemaining() (tokens, requests float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.quota.Remaining(int64(d.now()))
}
