package sim

import (
	"github.com/mcbench/mcbench/results"
)

func (e *engine) newFaultAccs() {
	e.faultAcc = results.NewFaultTallies(len(e.m.faults))
}

// faultFinish books a finished request against the fault windows.
func (e *engine) faultFinish(rs *reqState, sojourn int64) {
	ok := rs.status == results.StatusOK
	for i := range e.m.faults {
		e.faultAcc[i].Book(&e.m.faults[i].win, rs.r.At, ok, sojourn)
	}
}

// sessionFaultFinish books a finished session against the windows it
// arrived in.
func (e *engine) sessionFaultFinish(ss *sessState) {
	for i := range e.m.faults {
		e.faultAcc[i].BookSession(&e.m.faults[i].win, ss.at, ss.status == results.StatusOK)
	}
}

// bookCost charges an attempt's tokens at its deployment's pay-as-you-go
// price, in the spirit of results.Billed: tokens are billed once the model
// produced them (a completed response, a stream cut after its first token:
// half its output, a malformed one: its input); attempts that never reached
// the model cost nothing. It differs from results.Billed, which bills what
// a record says was delivered, for a cut stream and for a timed-out or
// cancelled attempt past its first token, which this leaves unbilled.
// Provisioned deployments have no marginal token price.
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
	for i := range e.m.faults {
		e.faultAcc[i].BookCost(&e.m.faults[i].win, rs.r.At, c)
	}
}
