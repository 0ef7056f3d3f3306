package results_test

import (
	"testing"

	"github.com/mcbench/mcbench/results"
)

// An interrupted run's summary, with a strategy never started (null
// figures), conforms to the published schema.
func TestUnmeasuredSummaryMatchesTheSchema(t *testing.T) {
	sch := compiledSummarySchema(t)
	r := results.Result{Strategy: "never-started", Deployments: []results.DeploymentResult{{Name: "d"}}}
	r.MarkUnmeasured()
	r.Sessions = []results.SessionResult{{Class: "agent", LatencySeconds: results.UnmeasuredLatency(), SLOAttainment: results.Unknown,
		FailoversPerSession: results.Unknown, CrossRegionBytesPerSession: results.Unknown, CrossCloudBytesPerSession: results.Unknown,
		StateBytesPerSession: results.Unknown, MeanSteps: nan(), RetriesPerSession: nan()}}
	r.Little = &results.LittleCheck{L: nan(), LambdaW: nan()}
	validate(t, sch, &results.Summary{Scenario: "s", Source: "sim", Interrupted: true, Results: []results.Result{r}})
	load := &results.Load{Pacer: "constant", Rate: nan(), OutputTokensPerSecond: nan(), AttemptTTFTSeconds: results.UnmeasuredLatency(),
		TPOTSeconds: results.UnmeasuredLatency(), ITLPerChunkSeconds: results.UnmeasuredLatency(), SendLagSeconds: results.UnmeasuredLatency()}
	validate(t, sch, &results.Summary{Scenario: "s", Source: "load", Interrupted: true, Results: []results.Result{r}, Load: load})
}

func nan() float64 { return float64(results.Unknown) }
