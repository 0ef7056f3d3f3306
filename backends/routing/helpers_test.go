package routing

import (
	"time"

	"github.com/mcbench/mcbench/results"
)

const (
	ms  = int64(time.Millisecond)
	sec = int64(time.Second)
)

// cand is a candidate with a provider kind and region, for policies that
// care about them.
func cand(name, kind, region string) Candidate {
	return Candidate{Name: name, Provider: kind, ProviderKind: kind, Region: region, Concurrency: 10}
}

// first is the Request of a first attempt.
func first(u float64) *Request { return &Request{Attempt: 1, Prev: -1, U: u} }

// retry is the Request of attempt number attempt after an attempt on prev
// that ended as last.
func retry(attempt, prev int, last Observation) *Request {
	return &Request{Attempt: attempt, Prev: prev, U: 0.5, Last: last}
}

// okObs is a success on dep sent at sent with the given TTFT.
func okObs(dep int, sent, ttft int64) Observation {
	return Observation{Dep: dep, Status: results.StatusOK, Sent: sent, FirstToken: sent + ttft, Done: sent + ttft + 100*ms,
		RemainingTokens: -1, RemainingRequests: -1}
}

// failObs is a failure of dep with the given status and class at t.
func failObs(dep int, st results.Status, class string, t int64) Observation {
	return Observation{Dep: dep, Status: st, ErrorClass: class, Sent: t, Done: t, RemainingTokens: -1, RemainingRequests: -1}
}

// outage is a 503 outage answer from dep at t.
func outage(dep int, t int64) Observation { return failObs(dep, results.StatusFailed, "outage", t) }

// throttled is a 429 from dep at t advertising retry-after ra.
func throttled(dep int, t, ra int64) Observation {
	o := failObs(dep, results.StatusThrottled, "quota_requests", t)
	o.RetryAfter = ra
	return o
}

// step is one attempt as an engine following the contract runs it.
type step struct {
	dep   int   // candidate picked (-1: no route)
	at    int64 // when it was sent
	delay int64 // wait before the next attempt
	retry bool  // whether another attempt follows
}

// drive runs one request through p as the engines must (contract.go): Pick,
// Started, Observe, then Retry (or the default rule: retry at once) with
// Memo carried, up to maxAttempts. answer gives each attempt's outcome.
func drive(p Policy, now int64, r Request, maxAttempts int, answer func(attempt, dep int, at int64) Observation) []step {
	var steps []step
	r.Attempt, r.Prev = 1, -1
	for {
		dep := p.Pick(now, &r)
		if dep < 0 {
			return append(steps, step{dep: -1, at: now})
		}
		if s, ok := p.(Starter); ok {
			s.Started(now, dep)
		}
		o := answer(r.Attempt, dep, now)
		o.Dep = dep
		p.Observe(o.Done, &o)
		now = max(now, o.Done)
		st := step{dep: dep, at: now}
		if o.Status == results.StatusOK || r.Attempt >= maxAttempts {
			return append(steps, st)
		}
		delay, ok := int64(0), true
		if rt, is := p.(Retrier); is {
			delay, ok = rt.Retry(now, &r, &o)
		}
		st.delay, st.retry = delay, ok
		steps = append(steps, st)
		if !ok {
			return steps
		}
		now += delay
		r = Request{ID: r.ID, Attempt: r.Attempt + 1, Prev: dep, U: r.U, InputTokens: r.InputTokens, MaxTokens: r.MaxTokens,
			Deadline: r.Deadline, Tags: r.Tags, Memo: r.Memo, Last: o}
	}
}

// deps lists the candidates of steps.
func deps(steps []step) []int {
	out := make([]int, len(steps))
	for i, s := range steps {
		out[i] = s.dep
	}
	return out
}
