package sim

import "github.com/mcbench/mcbench/scenarios"

// Summary is what `mcbench sim --json` prints and `summary.json` holds. Field
// names are a contract: other tools (mcbench load, reports, users' scripts)
// read them.
type Summary struct {
	// Scenario is the scenario's name.
	Scenario string `json:"scenario"`
	// ScenarioSHA256 is the hash of the resolved scenario (defaults applied).
	ScenarioSHA256 string `json:"scenario_sha256"`
	// Seed is the master seed.
	Seed uint64 `json:"seed"`
	// Version is the mcbench version that produced the summary.
	Version string `json:"version,omitempty"`
	// Source says what produced the numbers: "sim" or "load".
	Source string `json:"source"`
	// Interrupted is true when the run was stopped early; the results then
	// cover what was measured until the stop.
	Interrupted bool `json:"interrupted,omitempty"`
	// Results has one entry per strategy, in scenario order.
	Results []Result `json:"results"`
}

// Result is one strategy's statistics over all replications. Counts are summed
// over replications and cover measured (post-warm-up) requests only.
type Result struct {
	Strategy     string `json:"strategy"`
	Replications int    `json:"replications"`
	// Requests is the number of measured user-visible requests.
	Requests int64 `json:"requests"`
	// Completed requests got a full response, possibly after retries.
	Completed int64 `json:"completed"`
	// Rejected requests ended on throttling or lack of capacity.
	Rejected int64 `json:"rejected"`
	// Failed requests ended on a deployment failure.
	Failed int64 `json:"failed"`
	// TimedOut requests ended on the client's timeout.
	TimedOut int64 `json:"timed_out"`
	// Attempts is the number of attempts made for measured requests (retries included).
	Attempts int64 `json:"attempts"`
	// ThroughputRPS is completed requests per second of measured time, mean over replications.
	ThroughputRPS     float64 `json:"throughput_rps"`
	ThroughputRPSCI95 CI      `json:"throughput_rps_ci95"`
	// PWait is the fraction of measured requests that waited for a slot
	// (null where it cannot be observed, as in a load test).
	PWait     Num `json:"p_wait"`
	PWaitCI95 CI  `json:"p_wait_ci95"`
	// WaitSeconds is the time completed requests spent queued at deployments.
	WaitSeconds Latency `json:"wait_seconds"`
	// TTFTSeconds is the time from arrival to the first token of completed requests.
	TTFTSeconds Latency `json:"ttft_seconds"`
	// E2ESeconds is the time from arrival to the last token of completed requests.
	E2ESeconds Latency `json:"e2e_seconds"`
	// Little checks Little's law over the whole run: L measured as the time
	// average of requests in the system, against λW from arrivals and sojourns.
	Little LittleCheck `json:"little"`
	// TokenCostUSD is the pay-as-you-go token cost of the measured
	// requests, mean per replication, and TokenCostPer1kRequests the same
	// per thousand requests (null without prices; provisioned capacity's
	// hourly price is not included, see reports).
	TokenCostUSD           Num `json:"token_cost_usd"`
	TokenCostUSDCI95       CI  `json:"token_cost_usd_ci95"`
	TokenCostPer1kRequests Num `json:"token_cost_per_1k_requests"`
	// Sessions summarises each session workload (agentic sessions; their
	// model calls are also counted as requests above).
	Sessions []SessionResult `json:"sessions,omitempty"`
	// Faults says what each fault window did to the strategy.
	Faults []FaultResult `json:"faults,omitempty"`
	// Violations lists the constraints a what-if strategy breaks.
	Violations []scenarios.Violation `json:"violations,omitempty"`
	// Deployments breaks attempts down by deployment.
	Deployments []DeploymentResult `json:"deployments"`
	// PerReplication keeps each replication's statistics for tests and CIs.
	PerReplication []RepStats `json:"-"`
}

// Latency summarises a latency distribution in seconds. Percentiles come from
// the histogram merged over replications; mean_ci95 and p99_ci95 are 95%
// Student-t intervals over the per-replication values.
type Latency struct {
	Mean     float64 `json:"mean"`
	P50      float64 `json:"p50"`
	P90      float64 `json:"p90"`
	P99      float64 `json:"p99"`
	Max      float64 `json:"max"`
	MeanCI95 CI      `json:"mean_ci95"`
	P99CI95  CI      `json:"p99_ci95"`
}

// LittleCheck compares L with λW. Both are over all requests of the run,
// warm-up included, so they agree exactly up to rounding when the run drains.
type LittleCheck struct {
	L       float64 `json:"l"`
	LambdaW float64 `json:"lambda_w"`
}

// DeploymentResult counts one deployment's attempts over all replications.
type DeploymentResult struct {
	Name      string `json:"name"`
	Attempts  int64  `json:"attempts"`
	Completed int64  `json:"completed"`
	Throttled int64  `json:"throttled"`
	Rejected  int64  `json:"rejected"`
	Failed    int64  `json:"failed"`
	TimedOut  int64  `json:"timed_out"`
	// Utilization is busy slot-time over slot-time, mean over replications.
	Utilization float64 `json:"utilization"`
}

// RepStats is one replication's statistics (measured requests only, except
// the Little's-law fields, which cover the whole run).
type RepStats struct {
	Requests, Completed, Rejected, Failed, TimedOut, Attempts, Waited int64
	// MeasuredSeconds is the length of the measured window.
	MeasuredSeconds float64
	Throughput      float64
	PWait           float64
	// Means (seconds) over completed requests.
	MeanWait, MeanTTFT, MeanE2E float64
	// Percentiles (seconds) over completed requests.
	P50Wait, P99Wait, P50TTFT, P99TTFT, P50E2E, P99E2E float64
	// LittleL and LittleLambdaW are L and λW over the whole run.
	LittleL, LittleLambdaW float64
	// Arrivals is the number of requests in the run, warm-up included.
	Arrivals int64
	// CostUSD is the token cost of the measured requests (0 without prices).
	CostUSD float64
}

// SessionResult is one session workload's measured sessions over all
// replications.
type SessionResult struct {
	Class string `json:"class"`
	// Sessions arrived after warm-up; Completed got their answer, Failed
	// ended on a model call that failed after its retries, on an
	// orchestration layer that would not host them, or on lost state.
	Sessions  int64 `json:"sessions"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	// LatencySeconds is arrival to answer of completed sessions.
	LatencySeconds Latency `json:"latency_seconds"`
	// SLOAttainment is the share of sessions that completed within the
	// session SLO (null when none is set).
	SLOAttainment Num `json:"slo_attainment"`
	// MeanSteps is the mean number of model calls a session made;
	// RetriesPerSession the mean model-call attempts beyond one per call
	// (retries and hedges); FailoversPerSession the mean moves to another
	// orchestrator.
	MeanSteps           float64 `json:"mean_steps"`
	RetriesPerSession   float64 `json:"retries_per_session"`
	FailoversPerSession float64 `json:"failovers_per_session"`
	// Bytes per session that crossed a region boundary within a provider,
	// and that crossed between providers (model-call payloads and session
	// state), and the session state moved wherever it went.
	CrossRegionBytesPerSession float64 `json:"cross_region_bytes_per_session"`
	CrossCloudBytesPerSession  float64 `json:"cross_cloud_bytes_per_session"`
	StateBytesPerSession       float64 `json:"state_bytes_per_session"`
	// CrossCloudBytes is the total over all replications.
	CrossCloudBytes int64 `json:"cross_cloud_bytes"`
}
