package sim

import (
	"fmt"
	"time"

	"github.com/mcbench/mcbench/scenarios"
)

// UnstableError reports a replication stopped because it held more requests
// in flight than Options.MaxInFlight: the arrival rate exceeds what the
// strategy's deployments serve and their queues are unbounded, so the run
// would grow until memory runs out and its latencies have no steady state.
// Run returns it (joined, one per unstable strategy) together with the
// summary of what finished before the stop.
type UnstableError struct {
	Strategy    string
	Replication int
	// At is the simulated time of the stop.
	At time.Duration
	// InFlight is what the replication held then, and Limit the bound.
	InFlight, Limit int64
	// Deployment is the deployment with the longest queue then (empty if
	// none had a queue), and Queued its waiting requests.
	Deployment string
	Queued     int
}

func (u *UnstableError) Error() string {
	where := ""
	if u.Deployment != "" {
		where = fmt.Sprintf(", %d of them waiting at deployment %q", u.Queued, u.Deployment)
	}
	return fmt.Sprintf("unstable: arrival rate exceeds capacity: strategy %q (replication %d) held %d requests in flight after %s of simulated time%s, the limit of %d; "+
		"the figures cover the requests finished before the stop. Give the deployments a queue limit (capacity.queue), more capacity or less traffic, or %s",
		u.Strategy, u.Replication, u.InFlight, u.At.Round(time.Millisecond), where, u.Limit, scenarios.Raise("in_flight", float64(2*u.Limit)))
}

// defaultMaxInFlight is Options.MaxInFlight's default: the in_flight limit
// of scenarios.CurrentLimits, so that MCBENCH_LIMITS reaches every caller
// (a bad MCBENCH_LIMITS is reported when the scenario is loaded; the
// defaults stand here).
func defaultMaxInFlight() int64 {
	l, _ := scenarios.CurrentLimits()
	return int64(l.InFlight)
}

// overloaded records why the replication stops (see UnstableError).
func (e *engine) overloaded() {
	u := &UnstableError{
		Strategy: e.m.strategy.Name, Replication: e.rep, At: time.Duration(e.now),
		InFlight: e.inflight + e.liveSess, Limit: e.maxInFlight,
	}
	for i := range e.deps {
		if q := e.deps[i].queued; q > u.Queued {
			u.Deployment, u.Queued = e.m.deps[i].name, q
		}
	}
	e.unstable = u
}
