package fake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// mcbench's own request headers. Only the fakes read them, and the load
// generator sends them to fakes only, never to a live endpoint.
const (
	// RequestHeader carries "ID.ATTEMPT": the stream position of the
	// call's request and its attempt (1-based, hedges included). A fake
	// then draws the call's service exactly as the simulator draws that
	// request's attempt (common random numbers across engines).
	RequestHeader = "X-Mcbench-Request"
	// EpochHeader carries the load test's time zero in Unix nanoseconds.
	// A fake measures fault windows and quotas from it, so a window at 5m
	// opens 5 minutes into the run, not 5 minutes after the fake started;
	// a new value (a new run) starts the quotas afresh.
	EpochHeader = "X-Mcbench-Epoch"
	// DueHeader carries when the attempt was due to be sent, in
	// nanoseconds from the epoch: the fake plans the call from then.
	DueHeader = "X-Mcbench-Due-Ns"
	// OriginHeader names the region the call comes from: the scenario's
	// link latency between it and the deployment's region applies.
	OriginHeader = "X-Mcbench-Origin"
)

// readCall fills c's identity from RequestHeader and moves the server's
// epoch to EpochHeader's. It returns a message for a malformed header.
func (s *Server) readCall(r *http.Request, c *Call) string {
	if v := r.Header[RequestHeader]; len(v) > 0 {
		id, att, ok := strings.Cut(strings.TrimSpace(v[0]), ".")
		n, err1 := strconv.ParseUint(id, 10, 64)
		a, err2 := strconv.ParseInt(att, 10, 32)
		if !ok || err1 != nil || err2 != nil || a < 1 {
			return "The x-mcbench-request header must be ID.ATTEMPT with a whole ID and an attempt >= 1."
		}
		c.ID, c.Attempt, c.Keyed = n, int32(a), true
	}
	if v := r.Header[DueHeader]; len(v) > 0 {
		ns, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
		if err != nil || ns < 0 {
			return "The x-mcbench-due-ns header must be a whole number of nanoseconds >= 0."
		}
		c.Due, c.HasDue = time.Duration(ns), true
	}
	if v := r.Header[OriginHeader]; len(v) > 0 {
		c.Origin = strings.TrimSpace(v[0])
	}
	if v := r.Header[EpochHeader]; len(v) > 0 {
		ns, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
		if err != nil || ns <= 0 {
			return "The x-mcbench-epoch header must be a positive Unix time in nanoseconds."
		}
		s.setEpoch(ns)
	}
	return ""
}

// setEpoch moves every deployment's time zero to the Unix time ns, once
// per new value.
func (s *Server) setEpoch(ns int64) {
	if s.epoch.Load() == ns {
		return
	}
	s.epochMu.Lock()
	defer s.epochMu.Unlock()
	if s.epoch.Load() == ns {
		return
	}
	t := time.Unix(0, ns)
	for _, d := range s.deps {
		d.setEpoch(t)
	}
	s.epoch.Store(ns)
}
