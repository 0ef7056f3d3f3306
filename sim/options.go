package sim

import (
	"time"

	"github.com/mcbench/mcbench/backends/routing"
	"github.com/mcbench/mcbench/results"
)

// Options control a simulation run. The scenario itself (seed, replications,
// request count, horizon) is set on the Scenario before calling Run.
type Options struct {
	// Strategies restricts the run to these strategy names; empty means all.
	Strategies []string
	// Workers is the number of replications simulated at once; 0 means
	// GOMAXPROCS. Run starts no more workers than there are replications to
	// simulate; the CLI bounds the flag (scenarios.Limits.Workers).
	Workers int
	// MaxInFlight is the most requests and sessions one replication may
	// hold at once; 0 means the in_flight limit of scenarios.CurrentLimits. A
	// replication that reaches it is stopped as unstable (see
	// UnstableError): with unbounded queues and more arrivals than
	// capacity, it would otherwise grow until memory runs out.
	MaxInFlight int
	// Progress, if set, is called from worker goroutines with the number of
	// arrivals of the request stream (requests, or whole agentic sessions)
	// finished since the last call. It must be safe for concurrent use.
	Progress func(requests int64)
	// Records, if set, is asked for a sink for each (strategy, replication) and
	// receives one record per attempt and one per request, in completion order.
	Records func(strategy string, replication int) (RecordSink, error)
	// Prices, if set, gives deployments their pay-as-you-go token prices.
	// The simulator then reports token cost per strategy and the extra cost
	// of each fault window, and the cost-aware policy sees the prices.
	Prices routing.Prices
	// Checkpoint, if set, is called every CheckpointEvery (default
	// DefaultCheckpointEvery) from a goroutine of Run's with the summary of
	// the replications finished so far, marked Interrupted: what a caller
	// writes so that a run killed outright (SIGKILL, a crash) still leaves
	// a readable summary. It is never called after Run returns.
	Checkpoint func(*results.Summary)
	// CheckpointEvery is the interval between checkpoints.
	CheckpointEvery time.Duration
}

// DefaultCheckpointEvery is how often Run checkpoints by default.
const DefaultCheckpointEvery = 5 * time.Second

// RecordSink receives outcome records. The simulator reuses the record it
// passes: copy what must outlive the call.
type RecordSink interface {
	Write(o *results.Outcome) error
	Close() error
}
