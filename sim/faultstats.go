package sim

import (
	"github.com/mcbench/mcbench/results"
)

func (e *engine) newFaultAccs() {
	e.faultAcc = results.NewFaultTallies(len(e.m.wins))
}

// exposeAttempt marks the fault windows the slot's current attempt, now
// ending, was in flight during (results.FaultWindow.InFlight): a request
// belongs to every window one of its attempts overlapped. Called once per
// attempt end (attemptEnded, retire); marking twice is harmless.
func (e *engine) exposeAttempt(rs *reqState) {
	if len(e.m.wins) > 0 {
		rs.exposed.Add(e.m.wins, rs.sent, e.now)
	}
}

// faultFinish books a finished request against the fault windows its
// attempts were exposed to.
func (e *engine) faultFinish(rs *reqState, sojourn int64) {
	if !rs.exposed.Any() {
		return
	}
	ok := rs.status == results.StatusOK
	fr := results.FaultRequest{Done: e.now, E2E: sojourn, OK: ok,
		FailedOver: ok && rs.firstDep >= 0 && rs.dep != rs.firstDep, CostUSD: rs.reqCost}
	rs.exposed.BookInto(e.faultAcc, &fr)
}

// sessionFaultFinish books a finished session against the windows it was
// in progress during.
func (e *engine) sessionFaultFinish(ss *sessState) {
	for i := range e.faultAcc {
		e.faultAcc[i].BookSession(e.m.wins[i], ss.at, e.now, ss.status == results.StatusOK)
	}
}

// bookCost charges an attempt's tokens at its deployment's pay-as-you-go
// price, in the spirit of results.Billed: tokens are billed once the model
// produced them (a completed response, a stream cut after its first token:
// half its output, a malformed one: its input); attempts that never reached
// the model cost nothing. It differs from results.Billed, which bills what
// a record says was delivered, for a cut stream and for a timed-out or
// cancelled attempt past its first token, which this leaves unbilled.
// Provisioned deployments have no marginal token price. The fault windows
// are charged the request's whole cost when it finishes (faultFinish).
func (e *engine) bookCost(rs *reqState) {
	rs.attCost = 0
	dm := &e.m.deps[rs.dep]
	if dm.priceIn == 0 && dm.priceOut == 0 {
		return
	}
	in := float64(rs.r.InputTokens) * dm.priceIn
	var c float64
	switch {
	case rs.status == results.StatusOK:
		c = in + float64(rs.r.OutputTokens)*dm.priceOut
	case rs.errClass == errStreamCut:
		c = in + float64(rs.r.OutputTokens/2)*dm.priceOut
	case rs.errClass == errMalformed:
		c = in
	default:
		return
	}
	rs.attCost = c
	rs.reqCost += c
	if rs.measured {
		e.st.CostUSD += c
	}
}
