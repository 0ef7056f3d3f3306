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
	firstIn                     int64   // arrival of the first request in the window; -1: none
	firstOK                     int64   // arrival of the first request after the start that completed; -1: none
	lastFail                    int64   // arrival of the last failed request before end + horizon; -1: none
	cost                        float64 // token cost of the requests that arrived in the window
	sessions, sessionsFailed    int64   // sessions that arrived in the window, and failed
}

// FaultResult says what one fault window did to a strategy, over all
// replications: counts are summed, times and extra latency averaged over
// the replications in which they are defined.
type FaultResult struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// To is a link fault's other end.
	To              string  `json:"to,omitempty"`
	StartSeconds    float64 `json:"start_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Requests arrived during the window; Failed of them did not complete.
	Requests int64 `json:"requests"`
	Failed   int64 `json:"failed"`
	// ExtraE2ESeconds is the mean end-to-end latency of completed requests
	// that arrived in the window minus that of the same requests in a run
	// of the same replication without faults (common random numbers make
	// them the same requests with the same draws), mean over replications.
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
	// CostUSD is the token cost of the requests that arrived in the
	// window, and ExtraCostUSD that minus what the same requests cost in
	// the fault-free run: what the fault (the failover from provisioned to
	// pay-as-you-go capacity, say) added. Both are means per replication,
	// null without prices.
	CostUSD      Num `json:"cost_usd"`
	ExtraCostUSD Num `json:"extra_cost_usd"`
	// Sessions arrived in the window (agentic sessions, whose model calls
	// are counted in Requests too), and SessionsFailed of them failed.
	Sessions       int64 `json:"sessions,omitempty"`
	SessionsFailed int64 `json:"sessions_failed,omitempty"`
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
	for i := range e.m.faults {
		f := &e.m.faults[i]
		if at < f.start || at >= f.recoverUntil {
			continue
		}
		a := &e.faultAcc[i]
		if at < f.end {
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
}

// sessionFaultFinish books a finished session against the windows it
// arrived in.
func (e *engine) sessionFaultFinish(ss *sessState) {
	for i := range e.m.faults {
		f := &e.m.faults[i]
		if ss.at >= f.start && ss.at < f.end {
			e.faultAcc[i].sessions++
			if ss.status != backends.StatusOK {
				e.faultAcc[i].sessionsFailed++
			}
		}
	}
}

// bookCost charges an attempt's tokens at its deployment's pay-as-you-go
// price, by the rule reports.Billed states: tokens are billed once the
// model produced them (a completed response, or a stream that broke after
// its first token); attempts that never reached the model cost nothing.
// Provisioned deployments have no marginal token price.
func (e *engine) bookCost(rs *reqState) {
	dm := &e.m.deps[rs.dep]
	if dm.priceIn == 0 && dm.priceOut == 0 {
		return
	}
	in := float64(rs.r.InputTokens) * dm.priceIn
	var c float64
	switch {
	case rs.status == backends.StatusOK:
		c = in + float64(rs.r.OutputTokens)*dm.priceOut
	case rs.errClass == errStreamCut:
		c = in + float64(rs.r.OutputTokens/2)*dm.priceOut
	case rs.errClass == errMalformed:
		c = in
	default:
		return
	}
	if rs.measured {
		e.st.CostUSD += c
	}
	for i := range e.m.faults {
		f := &e.m.faults[i]
		if rs.r.At >= f.start && rs.r.At < f.end {
			e.faultAcc[i].cost += c
		}
	}
}
