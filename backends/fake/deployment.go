package fake

import (
	"context"
	"net/http"
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
	slots      chan struct{}
	waiting    atomic.Int64
	busy       atomic.Int64

	mu     sync.Mutex
	quota  behavior.Quota
	quotaF float64 // throttle factor currently applied to the quota

	faults []window
	start  time.Time
	key    uint64
	seq    atomic.Uint64

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
	// Queued is how long the call waited for a concurrency slot; the fakes
	// report it in the QueueHeader of a response.
	Queued time.Duration
	TTFT   time.Duration
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
		slots: make(chan struct{}, dep.Capacity.Concurrency),
		quota: behavior.NewQuota(&dep.Capacity.Quota, kind), quotaF: 1,
		start: start, key: scenarios.StreamKey(s.Seed, 0, "fake", dep.Name),
	}
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

// now returns the time since the server started, the clock fault windows and
// quotas are measured on.
func (d *Deployment) now() time.Duration { return time.Since(d.start) }

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
	now := d.now()
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
	queued, ok := d.acquire(ctx)
	if !ok {
		d.settle(reserved, c.InputTokens, 0)
		if ctx.Err() != nil {
			return nil, d.refuse(results.StatusFailed, "cancelled", 0)
		}
		return nil, d.refuse(results.StatusRejected, "queue_full", 0)
	}
	busy := d.busy.Add(1)
	d.Stats.InFlight.Add(1)

	n := d.seq.Add(1)
	out := c.WantOutput
	if out < 0 {
		out = int32(d.outTokens.Quantile(scenarios.Draw(d.key, n, 2)) + 0.5)
	}
	out = max(min(out, maxTok), 1)
	_, slow, _ := d.active(scenarios.FaultBrownout, d.now())
	ttft, total := d.lat.Service(scenarios.Draw(d.key, n, 0), scenarios.Draw(d.key, n, 1), c.InputTokens, out, int(busy), d.conc, slow)
	p := &Plan{Queued: queued, TTFT: time.Duration(ttft), Output: out, reserved: reserved, input: c.InputTokens, d: d}
	if out > 0 {
		p.TPOT = time.Duration((total - ttft) / int64(out))
	}
	now = d.now()
	if on, _, _ := d.active(scenarios.FaultMalformed, now); on {
		p.Fault = scenarios.FaultMalformed
	} else if on, _, _ := d.active(scenarios.FaultStreamCut, now); on {
		p.Fault = scenarios.FaultStreamCut
	}
	return p, nil
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

// acquire takes a concurrency slot, waiting in the queue if it has room,
// and returns how long it waited (zero when a slot was free).
func (d *Deployment) acquire(ctx context.Context) (time.Duration, bool) {
	select {
	case d.slots <- struct{}{}:
		return 0, true
	default:
	}
	if d.queueLimit >= 0 && d.waiting.Load() >= int64(d.queueLimit) {
		return 0, false
	}
	d.waiting.Add(1)
	defer d.waiting.Add(-1)
	start := time.Now()
	select {
	case d.slots <- struct{}{}:
		return time.Since(start), true
	case <-ctx.Done():
		return 0, false
	}
}

// Done releases the call's slot and settles its quota with the tokens
// actually sent. ok says whether the response completed.
func (p *Plan) Done(sent int32, ok bool) {
	if !p.done.CompareAndSwap(false, true) {
		return
	}
	d := p.d
	<-d.slots
	d.busy.Add(-1)
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
