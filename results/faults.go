package results

import (
	"fmt"

	"github.com/mcbench/mcbench/scenarios"
)

// FaultWindow is one of the scenario's fault windows on the run's clock
// (nanoseconds from the start of the run). It is half-open: the fault is
// in force from Start (included) to End (excluded).
type FaultWindow struct {
	Start, End int64
}

// FaultWindows returns the windows of s.Faults, in order.
func FaultWindows(s *scenarios.Scenario) []FaultWindow {
	ws := make([]FaultWindow, len(s.Faults))
	for i, f := range s.Faults {
		ws[i] = FaultWindow{Start: int64(f.Start), End: int64(f.Start + f.Duration)}
	}
	return ws
}

// InFlight reports whether an attempt sent at sent and ended at done was
// in flight during the window: the one rule by which both engines and the
// reports assign requests (a request belongs to a window when any of its
// attempts was in flight during it) and sessions (by their start and end)
// to fault windows.
//
// The window is [Start, End) and the attempt [sent, done], closed at both
// ends, so they meet when sent < End and done >= Start. An attempt the
// fault cut at the instant it opened (done == Start) belongs to the
// window: it is the fault's first victim. One sent at the instant the
// window closed (sent == End) does not: the fault was already over. An
// attempt with no recorded end (done < sent) counts as ending when sent.
func (w FaultWindow) InFlight(sent, done int64) bool {
	return sent < w.End && max(done, sent) >= w.Start
}

// Exposure is the set of fault windows (by index) that a request's
// attempts were in flight during, gathered attempt by attempt. The first
// 64 windows fit in a word; more take a slice that is allocated once and
// reused by Reset, so an engine that keeps one Exposure per request slot
// allocates nothing per request.
type Exposure struct {
	bits uint64
	more []uint64
}

// Reset empties x, keeping its storage.
func (x *Exposure) Reset() {
	x.bits = 0
	clear(x.more)
}

// Add marks the windows of ws that an attempt sent at sent and ended at
// done was in flight during (FaultWindow.InFlight).
func (x *Exposure) Add(ws []FaultWindow, sent, done int64) {
	for i := range ws {
		if ws[i].InFlight(sent, done) {
			x.set(i)
		}
	}
}

func (x *Exposure) set(i int) {
	if i < 64 {
		x.bits |= 1 << i
		return
	}
	j := (i - 64) / 64
	for len(x.more) <= j {
		x.more = append(x.more, 0)
	}
	x.more[j] |= 1 << ((i - 64) % 64)
}

// Has reports whether window i is in x.
func (x *Exposure) Has(i int) bool {
	if i < 64 {
		return x.bits&(1<<i) != 0
	}
	j := (i - 64) / 64
	return j < len(x.more) && x.more[j]&(1<<((i-64)%64)) != 0
}

// Merge adds o's windows to x (a hedged request's two attempts).
func (x *Exposure) Merge(o *Exposure) {
	x.bits |= o.bits
	for j, v := range o.more {
		for len(x.more) <= j {
			x.more = append(x.more, 0)
		}
		x.more[j] |= v
	}
}

// Copy makes x equal to o, reusing x's storage.
func (x *Exposure) Copy(o *Exposure) {
	x.Reset()
	x.Merge(o)
}

// Any reports whether x holds any window.
func (x *Exposure) Any() bool {
	if x.bits != 0 {
		return true
	}
	for _, v := range x.more {
		if v != 0 {
			return true
		}
	}
	return false
}

// FaultRequest is what a fault tally needs to know of a finished request.
type FaultRequest struct {
	// Done is when the request ended (its last attempt's end), E2E the
	// time from its arrival to then, in ns.
	Done, E2E int64
	// OK says it completed.
	OK bool
	// FailedOver says it completed on a deployment other than the one its
	// first attempt went to (a retry or hedge elsewhere won).
	FailedOver bool
	// CostUSD is its token cost, all attempts (hedges included).
	CostUSD float64
}

// FaultRequestOf describes a finished request from its request record and
// the deployment its first attempt went to ("" when unknown): what the
// load generator and the reports, which read records, book.
func FaultRequestOf(req *Outcome, firstDeployment string) FaultRequest {
	ok := req.Status == StatusOK
	return FaultRequest{Done: max(req.Done, req.Intended), E2E: req.Done - req.Intended, OK: ok,
		FailedOver: ok && firstDeployment != "" && firstDeployment != req.Deployment, CostUSD: req.CostUSD}
}

// BookInto books r into the tally of every window in x (ts is aligned
// with the windows x was built from).
func (x *Exposure) BookInto(ts []FaultTally, r *FaultRequest) {
	if !x.Any() {
		return
	}
	for i := range ts {
		if x.Has(i) {
			ts[i].Book(r)
		}
	}
}

// FaultTally accumulates what one fault window did to the requests
// exposed to it (an attempt in flight during it, FaultWindow.InFlight), in
// one replication. Both engines and the reports book requests into it, so
// a simulation's, a load test's and a report's fault figures mean the same
// thing. It does not allocate.
type FaultTally struct {
	// Requests exposed to the window; Completed and Failed of them, and
	// FailedOver: those that completed on a deployment other than their
	// first attempt's.
	Requests, Completed, Failed, FailedOver int64
	// SumE2E is the end-to-end latency of the completed ones, in ns.
	SumE2E float64
	// FirstFailover is when the first failed-over request completed, and
	// LastFailure when the last failed one ended (ns on the run's clock);
	// -1: none.
	FirstFailover, LastFailure int64
	// CostUSD is the token cost of the exposed requests.
	CostUSD float64
	// Sessions in progress during the window, and SessionsFailed of them.
	Sessions, SessionsFailed int64
}

// NewFaultTallies returns n empty tallies.
func NewFaultTallies(n int) []FaultTally {
	ts := make([]FaultTally, n)
	for i := range ts {
		ts[i].FirstFailover, ts[i].LastFailure = -1, -1
	}
	return ts
}

// Book counts a finished request the caller found exposed to the window
// (Exposure.Has, or FaultWindow.InFlight on each of its attempts).
func (t *FaultTally) Book(r *FaultRequest) {
	t.Requests++
	t.CostUSD += r.CostUSD
	if !r.OK {
		t.Failed++
		t.LastFailure = max(t.LastFailure, r.Done)
		return
	}
	t.Completed++
	t.SumE2E += float64(r.E2E)
	if r.FailedOver {
		t.FailedOver++
		if t.FirstFailover < 0 || r.Done < t.FirstFailover {
			t.FirstFailover = r.Done
		}
	}
}

// BookSession counts a finished session that ran from start to done
// against window w, if it was in progress during it.
func (t *FaultTally) BookSession(w FaultWindow, start, done int64, ok bool) {
	if !w.InFlight(start, done) {
		return
	}
	t.Sessions++
	if !ok {
		t.SessionsFailed++
	}
}

// SummariseFault turns one window's tallies, one per replication, into its
// summary entry. base holds the same window's tallies in fault-free runs
// of the same replications (nil entries, or a nil slice, where there is
// none: the extra latency and cost are then null); priced says whether
// costs were booked.
func SummariseFault(f *scenarios.Fault, w FaultWindow, reps, base []*FaultTally, priced bool) FaultResult {
	fr := FaultResult{Kind: f.Kind, Target: f.Target, To: f.To,
		StartSeconds: float64(w.Start) / 1e9, DurationSeconds: float64(w.End-w.Start) / 1e9,
	}
	var extra, ttf, ttr, cost, extraCost []float64
	var bReq, bFail int64
	nBase := 0
	for j, a := range reps {
		if a == nil {
			continue
		}
		var b *FaultTally
		if j < len(base) {
			b = base[j]
		}
		fr.Requests += a.Requests
		fr.Failed += a.Failed
		fr.FailedOver += a.FailedOver
		fr.Sessions += a.Sessions
		fr.SessionsFailed += a.SessionsFailed
		if b != nil {
			nBase++
			bReq += b.Requests
			bFail += b.Failed
		}
		if priced {
			cost = append(cost, a.CostUSD)
			if b != nil {
				extraCost = append(extraCost, a.CostUSD-b.CostUSD)
			}
		}
		if b != nil && a.Completed > 0 && b.Completed > 0 {
			extra = append(extra, (a.SumE2E/float64(a.Completed)-b.SumE2E/float64(b.Completed))/1e9)
		}
		if a.FirstFailover >= 0 {
			ttf = append(ttf, float64(max(a.FirstFailover-w.Start, 0))/1e9)
		}
		if a.LastFailure >= 0 {
			ttr = append(ttr, float64(max(a.LastFailure-w.Start, 0))/1e9)
		}
	}
	if nBase > 0 {
		// Summed like Requests, over the replications that have a base run.
		fr.BaselineRequests, fr.BaselineFailed = &bReq, &bFail
	}
	fr.ExtraE2ESeconds, fr.TimeToFailoverSeconds, fr.TimeToRecoverSeconds = meanNum(extra), meanNum(ttf), meanNum(ttr)
	fr.CostUSD, fr.ExtraCostUSD = meanNum(cost), meanNum(extraCost)
	return fr
}

// meanNum is the mean of xs, Unknown when there are none.
func meanNum(xs []float64) Num {
	if len(xs) == 0 {
		return Unknown
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return Num(s / float64(len(xs)))
}

// FaultTimesSchema is the first summary schema whose fault windows hold
// requests by exposure and time to fail over and to recover as
// FaultResult defines them. Older summaries booked requests by arrival and
// measured both times differently: their values are not comparable, and
// FaultTimesDefined says so.
const FaultTimesSchema = "1.2"

// FaultTimesDefined reports whether a summary of schema version v (as in
// Summary.SchemaVersion) holds fault windows under today's definitions.
func FaultTimesDefined(v string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 1 || (major == 1 && minor >= 2)
}

// FailoverWhy says in words why TimeToFailoverSeconds is null ("" when it
// is not): no request was exposed, none needed to fail over (none
// failed), or some failed and none failed over. A null time is never
// written as 0.
func (fr *FaultResult) FailoverWhy() string {
	switch {
	case fr.TimeToFailoverSeconds.Known():
		return ""
	case fr.Requests == 0:
		return "no requests"
	case fr.Failed == 0:
		return "none needed"
	}
	return "not reached"
}

// RecoverWhy says in words why TimeToRecoverSeconds is null ("" when it is
// not).
func (fr *FaultResult) RecoverWhy() string {
	switch {
	case fr.TimeToRecoverSeconds.Known():
		return ""
	case fr.Requests == 0:
		return "no requests"
	}
	return "no failures"
}

// NegativeExtra explains a negative extra cost or extra latency from the
// window's own figures, for the CLI and the reports to print beside it: ""
// when neither is negative (or they are unknown). It names what the
// figures show: requests that failed (they are not billed past their
// first token and leave the latency average, and an outage fails them
// fast) and, where the fault-free run is known, how many more failed than
// there.
func (fr *FaultResult) NegativeExtra() string {
	negCost := fr.ExtraCostUSD.Known() && fr.ExtraCostUSD < 0
	negE2E := fr.ExtraE2ESeconds.Known() && fr.ExtraE2ESeconds < 0
	if !negCost && !negE2E {
		return ""
	}
	what := "extra cost and E2E are negative"
	switch {
	case negCost && !negE2E:
		what = "extra cost is negative"
	case negE2E && !negCost:
		what = "extra E2E is negative"
	}
	var parts []string
	failedMore := fr.Failed > 0
	if fr.BaselineFailed != nil {
		failedMore = fr.Failed > *fr.BaselineFailed
	}
	if fr.Failed > 0 && failedMore {
		share := 100 * float64(fr.Failed) / float64(fr.Requests)
		base := ""
		if fr.BaselineFailed != nil {
			base = fmt.Sprintf(" (%d without the fault)", *fr.BaselineFailed)
		}
		if negCost {
			parts = append(parts, fmt.Sprintf("%d of %d exposed requests failed (%.1f%%)%s and a failed call is not billed", fr.Failed, fr.Requests, share, base))
		}
		if negE2E {
			if negCost {
				parts = append(parts, "the E2E mean covers completed requests only, and the failed ones, often the slowest, drop out of it")
			} else {
				parts = append(parts, fmt.Sprintf("%d of %d exposed requests failed (%.1f%%)%s and the E2E mean covers completed requests only, so the failed ones, often the slowest, drop out of it", fr.Failed, fr.Requests, share, base))
			}
		}
	} else {
		moved := "where the fault moved it"
		if fr.FailedOver > 0 {
			moved = fmt.Sprintf("where the fault moved it (%d of %d exposed requests completed on another deployment than their first attempt's)", fr.FailedOver, fr.Requests)
		}
		did := "cost less and ran faster"
		switch {
		case negCost && !negE2E:
			did = "cost less"
		case negE2E && !negCost:
			did = "ran faster"
		}
		parts = append(parts, fmt.Sprintf("no more requests failed than without the fault: the window's traffic %s %s, at a lower price or under less load", did, moved))
	}
	s := what + ": "
	for i, p := range parts {
		if i > 0 {
			s += "; "
		}
		s += p
	}
	return s
}
