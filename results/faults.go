package results

import (
	"time"

	"github.com/mcbench/mcbench/scenarios"
)

// RecoveryHorizon bounds how long after a fault window a failed arrival is
// still blamed on it when measuring time to recover.
const RecoveryHorizon = int64(10 * time.Minute)

// FaultWindow is one of the scenario's fault windows on the run's clock
// (nanoseconds from the start of the run).
type FaultWindow struct {
	// Start and End bound the window.
	Start, End int64
	// RecoverUntil bounds the arrivals whose failures count towards the
	// window's time to recover: RecoveryHorizon after it, or the start of
	// the next window, whichever is first.
	RecoverUntil int64
}

// FaultWindows returns the windows of s.Faults, in order.
func FaultWindows(s *scenarios.Scenario) []FaultWindow {
	ws := make([]FaultWindow, len(s.Faults))
	for i, f := range s.Faults {
		ws[i] = FaultWindow{Start: int64(f.Start), End: int64(f.Start + f.Duration)}
	}
	for i := range ws {
		w := &ws[i]
		w.RecoverUntil = w.End + RecoveryHorizon
		for _, g := range ws {
			if g.Start > w.Start && g.Start < w.RecoverUntil {
				w.RecoverUntil = max(g.Start, w.End)
			}
		}
	}
	return ws
}

// FaultTally accumulates what one fault window did to the requests that
// arrived during it (and, for recovery, shortly after), in one replication.
// Both engines book their requests into it, so a simulation's and a load
// test's fault blocks mean the same thing. It does not allocate.
type FaultTally struct {
	// Requests arrived in the window; Completed and Failed of them.
	Requests, Completed, Failed int64
	// SumE2E is the end-to-end latency of the completed ones, in ns.
	SumE2E float64
	// FirstIn is the arrival of the window's first request, FirstOK of the
	// first request from the window's start on that completed, LastFail
	// of the last request before RecoverUntil that failed; -1: none.
	FirstIn, FirstOK, LastFail int64
	// CostUSD is the token cost of the requests that arrived in the window.
	CostUSD float64
	// Sessions arrived in the window, and SessionsFailed of them failed.
	Sessions, SessionsFailed int64
}

// NewFaultTallies returns n empty tallies.
func NewFaultTallies(n int) []FaultTally {
	ts := make([]FaultTally, n)
	for i := range ts {
		ts[i].FirstIn, ts[i].FirstOK, ts[i].LastFail = -1, -1, -1
	}
	return ts
}

// Book counts a finished request that arrived at at (ok: it completed,
// after e2e ns) against window w.
func (t *FaultTally) Book(w *FaultWindow, at int64, ok bool, e2e int64) {
	if at < w.Start || at >= w.RecoverUntil {
		return
	}
	if at < w.End {
		t.Requests++
		if t.FirstIn < 0 || at < t.FirstIn {
			t.FirstIn = at
		}
		if ok {
			t.Completed++
			t.SumE2E += float64(e2e)
		} else {
			t.Failed++
		}
	}
	if ok && (t.FirstOK < 0 || at < t.FirstOK) {
		t.FirstOK = at
	}
	if !ok && at > t.LastFail {
		t.LastFail = at
	}
}

// BookSession counts a finished session that arrived at at.
func (t *FaultTally) BookSession(w *FaultWindow, at int64, ok bool) {
	if at >= w.Start && at < w.End {
		t.Sessions++
		if !ok {
			t.SessionsFailed++
		}
	}
}

// BookCost charges the cost of a request that arrived at at.
func (t *FaultTally) BookCost(w *FaultWindow, at int64, usd float64) {
	if at >= w.Start && at < w.End {
		t.CostUSD += usd
	}
}

// SummariseFault turns one window's tallies, one per replication, into its
// summary entry. base holds the same window's tallies in fault-free runs
// of the same replications (nil entries, or a nil slice, where there is
// none: the extra latency and cost are then null); priced says whether
// costs were booked.
func SummariseFault(f *scenarios.Fault, w FaultWindow, reps, base []*FaultTally, priced bool) FaultResult {
	fr := FaultResult{Kind: f.Kind, Target: f.Target, To: f.To,
		StartSeconds: float64(w.Start) / 1e9, DurationSeconds: float64(w.End-w.Start) / 1e9}
	var extra, ttf, ttr, cost, extraCost []float64
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
		fr.Sessions += a.Sessions
		fr.SessionsFailed += a.SessionsFailed
		if priced {
			cost = append(cost, a.CostUSD)
			if b != nil {
				extraCost = append(extraCost, a.CostUSD-b.CostUSD)
			}
		}
		if b != nil && a.Completed > 0 && b.Completed > 0 {
			extra = append(extra, (a.SumE2E/float64(a.Completed)-b.SumE2E/float64(b.Completed))/1e9)
		}
		if a.FirstOK >= 0 && a.FirstIn >= 0 {
			ttf = append(ttf, float64(max(a.FirstOK-a.FirstIn, 0))/1e9)
		}
		if a.LastFail >= 0 {
			ttr = append(ttr, float64(a.LastFail-w.Start)/1e9)
		} else if a.Requests > 0 {
			ttr = append(ttr, 0)
		}
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
