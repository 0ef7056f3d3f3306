package sim

import (
	"github.com/mcbench/mcbench/backends"
)

// recoveryHorizon bounds how long after a fault window a failed arrival is
// still blamed on it when measuring time to recover.
const recoveryHorizon = int64(10 * 60 * 1e9)

// faultAcc accumulates what one fault window did to the requests that
// arrived during it (and, for recovery, shortly after).
type faultAcc struct {
	requests, failed, completed int64
	sumE2E                      float64
	firstIn                     int64 // arrival of the first request in the window; -1: none
	firstOK                     int64 // arrival of the first request after the start that completed; -1: none
	lastFail                    int64 // arrival of the last failed request before end + horizon; -1: none
}

// FaultResult says what one fault window did to a strategy, over all
// replications: counts are summed, times and extra latency averaged over
// the replications in which they are defined.
type FaultResult struct {
	Kind            string  `json:"kind"`
	Target          string  `json:"target"`
	StartSeconds    float64 `json:"start_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Requests arrived during the window; Failed of them did not complete.
	Requests int64 `json:"requests"`
	Failed   int64 `json:"failed"`
	// ExtraE2ESeconds is the mean end-to-end latency of completed requests
	// that arrived in the window minus that of completed requests that
	// arrived outside every window (post warm-up).
	ExtraE2ESeconds Num `json:"extra_e2e_seconds"`
	// TimeToFailoverSeconds is from the arrival of the window's first
	// request to the arrival of the first request that still completed (0:
	// failover was immediate, the first request already completed).
	TimeToFailoverSeconds Num `json:"time_to_failover_seconds"`
	// TimeToRecoverSeconds is from the window's start to the arrival of the
	// last request that failed (up to 10 minutes after the window, or the
	// next window's start), i.e. how long users saw failures; 0 when none
	// failed.
	TimeToRecoverSeconds Num `json:"time_to_recover_seconds"`
}

func (e *engine) newFaultAccs() {
	e.faultAcc = make([]faultAcc, len(e.m.faults))
	for i := range e.faultAcc {
		e.faultAcc[i].firstIn, e.faultAcc[i].firstOK, e.faultAcc[i].lastFail = -1, -1, -1
	}
}

// faultFinish books a finished request against the fault windows.
func (e *engine) faultFinish(rs *reqState, sojourn int64) {
	at := rs.r.At
	ok := rs.status == backends.StatusOK
	inAny := false
	for i := range e.m.faults {
		f := &e.m.faults[i]
		if at < f.start || at >= f.recoverUntil {
			continue
		}
		a := &e.faultAcc[i]
		if at < f.end {
			inAny = true
			a.requests++
			if a.firstIn < 0 || at < a.firstIn {
				a.firstIn = at
			}
			if ok {
				a.completed++
				a.sumE2E += float64(sojourn)
			} else {
				a.failed++
			}
		}
		if ok && (a.firstOK < 0 || at < a.firstOK) {
			a.firstOK = at
		}
		if !ok && at > a.lastFail {
			a.lastFail = at
		}
	}
	if !inAny && ok && rs.measured {
		e.baseN++
		e.baseE2E += float64(sojourn)
	}
}
