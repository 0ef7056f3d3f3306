package results

import "github.com/mcbench/mcbench/scenarios"

// Summary is summary.json: what `mcbench sim --json` and `mcbench load
// --json` print. One schema serves both engines; a block an engine cannot
// fill is null (or, for the load block, absent from a simulation), never
// zeros. Field names are a contract that reports, `mcbench compare` and
// users' scripts rely on: renaming or removing one is a new major
// SchemaVersion, adding one a new minor.
type Summary struct {
	// SchemaVersion is "MAJOR.MINOR" of this layout (CurrentSchema when
	// written by this build). Summaries written before the field existed
	// read as "0.0" (see ReadSummary).
	SchemaVersion string `json:"schema_version"`
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
	// Load describes the offered load and holds the measurements only a
	// load test makes; absent from a simulation's summary.
	Load *Load `json:"load,omitempty"`
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
	// (null where it cannot be observed: a load test against endpoints that
	// do not report their queue wait).
	PWait     Num `json:"p_wait"`
	PWaitCI95 CI  `json:"p_wait_ci95"`
	// WaitSeconds is the time completed requests spent queued at
	// deployments. A load test measures it where the fakes report each
	// call's queue wait, and writes null against live endpoints, which do
	// not say.
	WaitSeconds *Latency `json:"wait_seconds" jsonschema:"nullable"`
	// TTFTSeconds is the time from arrival to the first token of completed requests.
	TTFTSeconds Latency `json:"ttft_seconds"`
	// E2ESeconds is the time from arrival to the last token of completed requests.
	E2ESeconds Latency `json:"e2e_seconds"`
	// Little checks Little's law over the whole run: L measured as the time
	// average of requests in the system, against λW from arrivals and
	// sojourns. Null in a load test: its clock samples no exact time
	// average of requests in the system, and L computed from the records'
	// sojourns would equal λW by construction, checking nothing.
	Little *LittleCheck `json:"little" jsonschema:"nullable"`
	// TokenCostUSD is the pay-as-you-go token cost of the measured
	// requests, mean per replication, and TokenCostPer1kRequests the same
	// per thousand requests (null without prices; provisioned capacity's
	// hourly price is not included, see reports).
	TokenCostUSD           Num `json:"token_cost_usd"`
	TokenCostUSDCI95       CI  `json:"token_cost_usd_ci95"`
	TokenCostPer1kRequests Num `json:"token_cost_per_1k_requests"`
	// TokenCostPerSuccessfulRequest is the token cost over completed
	// requests (mean of the replications' ratios, with its 95% interval):
	// the cost headline, since failed requests cost nothing and dividing
	// by every request would make a strategy cheaper the more it fails.
	// Null without prices or without a completed request.
	TokenCostPerSuccessfulRequest     Num `json:"token_cost_per_successful_request_usd"`
	TokenCostPerSuccessfulRequestCI95 CI  `json:"token_cost_per_successful_request_usd_ci95"`
	// Sessions summarises each session workload (agentic sessions; their
	// model calls are also counted as requests above).
	Sessions []SessionResult `json:"sessions,omitempty"`
	// Faults says what each fault window did to the strategy.
	Faults []FaultResult `json:"faults,omitempty"`
	// Violations lists the constraints a what-if strategy breaks.
	Violations []scenarios.Violation `json:"violations,omitempty"`
	// Thresholds are the --threshold expressions checked against this
	// result, in the order given (absent when none were given; schema 1.3).
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Deployments breaks Attempts down by deployment: the same measured
	// requests, so the deployments' attempts add up to Attempts.
	Deployments []DeploymentResult `json:"deployments"`
	// PerReplication keeps each replication's statistics for tests and
	// intervals; it is not written to summary.json.
	PerReplication []ReplicationStats `json:"-"`
}

// ThresholdResult is one --threshold checked against one strategy's
// result (package results/threshold parses and evaluates them).
type ThresholdResult struct {
	// Expression is the threshold as given, such as "e2e.p99<2s".
	Expression string `json:"expression"`
	// Value is the figure's value in the result, in the unit summary.json
	// uses for it (seconds, a fraction, USD, requests per second), or null
	// when the run did not measure it; an unmeasured figure fails its
	// threshold, since nothing shows it holds.
	Value Num `json:"value"`
	// Pass says whether the value satisfies the expression.
	Pass bool `json:"pass"`
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
//
// Counted are the attempts of measured requests only: an attempt belongs to
// the measured window when its request arrived after the warm-up (the
// request's arrival, or intended send in a load test, decides for all of its
// attempts, retries and hedges sent after the warm-up ended included, as it
// does for Result's counts; a session's model call is a request of its own,
// arriving when the session makes it). So summed over deployments, Attempts
// equals Result.Attempts and the number of attempt records of measured
// requests in outcomes.csv, and each deployment's Completed, Throttled,
// Rejected, Failed and TimedOut equal its attempt records of those
// statuses (a cancelled hedge is Failed, as its record says). Each attempt
// is counted once, by how it ended, so the five add up to Attempts.
//
// On an orchestration deployment (simulation only) the counts are measured
// sessions' tries to be hosted: Completed when the session was hosted, the
// other statuses when it was turned away. They have no outcome records
// (sessions.csv counts a session's tries).
type DeploymentResult struct {
	Name      string `json:"name"`
	Attempts  int64  `json:"attempts"`
	Completed int64  `json:"completed"`
	Throttled int64  `json:"throttled"`
	Rejected  int64  `json:"rejected"`
	Failed    int64  `json:"failed"`
	TimedOut  int64  `json:"timed_out"`
	// Utilization is busy slot-time over slot-time, mean over
	// replications; 0 for a deployment without slots (pay-as-you-go). A
	// load test measures it where the fakes report each call's queue wait
	// (busy time is then the call's time at the deployment less its wait)
	// and writes null against live endpoints, whose slots it cannot see.
	Utilization Num `json:"utilization"`
}

// ReplicationStats is one replication's statistics (measured requests only, except
// the Little's-law fields, which cover the whole run).
type ReplicationStats struct {
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
	//
	// A load test, which stands in for the orchestrator, never moves a
	// session to another orchestrator and counts no bytes: it writes those
	// fields as null.
	MeanSteps           float64 `json:"mean_steps"`
	RetriesPerSession   float64 `json:"retries_per_session"`
	FailoversPerSession Num     `json:"failovers_per_session"`
	// Bytes per session that crossed a region boundary within a provider,
	// and that crossed between providers (model-call payloads and session
	// state), and the session state moved wherever it went.
	CrossRegionBytesPerSession Num `json:"cross_region_bytes_per_session"`
	CrossCloudBytesPerSession  Num `json:"cross_cloud_bytes_per_session"`
	StateBytesPerSession       Num `json:"state_bytes_per_session"`
	// CrossCloudBytes is the total over all replications.
	CrossCloudBytes *int64 `json:"cross_cloud_bytes" jsonschema:"nullable"`
}

// FaultResult says what one fault window did to a strategy, over all
// replications: counts are summed, times and extra latency averaged over
// the replications in which they are defined.
//
// A request belongs to the window when any of its attempts was in flight
// during it (FaultWindow.InFlight: sent before the window's end and ended
// at or after its start), so the requests caught in flight when a fault
// strikes are its victims too, whenever they arrived; a session belongs to
// it when it was in progress during it. Warm-up requests are included: a
// fault is the fault wherever it falls.
//
// A load test fills the counts and times from its records for the windows
// its run reached, and writes the extra latency and cost and the baseline
// counts as null: it has no fault-free twin run of the same requests to
// subtract.
type FaultResult struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// To is a link fault's other end.
	To              string  `json:"to,omitempty"`
	StartSeconds    float64 `json:"start_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Requests were exposed to the window; Failed of them did not
	// complete, and FailedOver completed on a deployment other than the
	// one their first attempt went to.
	Requests   int64 `json:"requests"`
	Failed     int64 `json:"failed"`
	FailedOver int64 `json:"failed_over"`
	// BaselineRequests and BaselineFailed are the same counts in the
	// fault-free run of the same replications: the requests in flight
	// during the window's span there, and how many of them failed anyway
	// (null without a fault-free run: a load test).
	BaselineRequests *int64 `json:"baseline_requests" jsonschema:"nullable"`
	BaselineFailed   *int64 `json:"baseline_failed" jsonschema:"nullable"`
	// ExtraE2ESeconds is the mean end-to-end latency of the exposed
	// requests that completed minus that of the requests in flight during
	// the window's span in the fault-free run of the same replication
	// (common random numbers: the same arrivals with the same draws; the
	// fault adds to the set only the requests it held up), mean over
	// replications. Failed requests are not in either mean, so it can be
	// negative when the fault fails the slow ones (NegativeExtra says why).
	ExtraE2ESeconds Num `json:"extra_e2e_seconds"`
	// TimeToFailoverSeconds (TTF) is from the window's start to the
	// completion of the first exposed request that failed over (completed
	// on a deployment other than its first attempt's), mean over the
	// replications in which one did. Null, never 0, when none did: no
	// request was exposed, none failed (no failover was needed), or some
	// failed and none failed over (FailoverWhy tells which).
	TimeToFailoverSeconds Num `json:"time_to_failover_seconds"`
	// TimeToRecoverSeconds (TTR) is from the window's start to the end of
	// the last exposed request that failed: how long users saw failures
	// the fault caused, including requests the fault caught in flight and
	// those still failing after it ended. Mean over the replications in
	// which a request failed; null, never 0, when none did (RecoverWhy).
	TimeToRecoverSeconds Num `json:"time_to_recover_seconds"`
	// CostUSD is the token cost of the exposed requests, and ExtraCostUSD
	// that minus the cost of the requests in flight during the window's
	// span in the fault-free run: what the fault (the failover from
	// provisioned to pay-as-you-go capacity, say) added. Both are means
	// per replication, null without prices. A failed call is not billed,
	// so the extra cost is negative when the fault fails more than it
	// moves (NegativeExtra says so).
	CostUSD      Num `json:"cost_usd"`
	ExtraCostUSD Num `json:"extra_cost_usd"`
	// Sessions were in progress during the window (agentic sessions, whose
	// model calls are counted in Requests too), and SessionsFailed of them
	// failed.
	Sessions       int64 `json:"sessions,omitempty"`
	SessionsFailed int64 `json:"sessions_failed,omitempty"`
}

// Load is the load test's block of summary.json: the offered load, and
// what only a load test measures: per-attempt TTFT (from the attempt's own
// send), TPOT per request, inter-token latency per chunk, and the lag
// between intended and actual send times (how far the generator fell
// behind). Its latencies have no intervals: a load test is one replication.
type Load struct {
	// Pacer, Rate and ScheduleSeconds describe the offered load:
	// ScheduleSeconds is when the last request sent was due, from the start
	// of the run (the span of the schedule that ran). DurationSeconds is the
	// wall time from the first send to the last response, the drain after
	// the schedule included.
	Pacer           string  `json:"pacer"`
	Rate            float64 `json:"rate"`
	ScheduleSeconds float64 `json:"schedule_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	// WarmupSeconds is the start of the run left out of the statistics.
	WarmupSeconds float64 `json:"warmup_seconds"`
	// Target is where the calls went: "fake" (in-process fakes),
	// "endpoints" (fakes elsewhere) or "live".
	Target             string  `json:"target,omitempty"`
	AttemptTTFTSeconds Latency `json:"attempt_ttft_seconds"`
	TPOTSeconds        Latency `json:"tpot_seconds"`
	ITLPerChunkSeconds Latency `json:"itl_per_chunk_seconds"`
	SendLagSeconds     Latency `json:"send_lag_seconds"`
	OutputTokens       int64   `json:"output_tokens"`
	// Scheduled is the number of requests the pacer scheduled within the
	// duration; Sent the number actually sent. Sent < Scheduled means the
	// generator (or the machine) could not keep up: the offered load was
	// lower than asked, and the report says so.
	Scheduled             uint64  `json:"scheduled"`
	Sent                  uint64  `json:"sent"`
	OutputTokensPerSecond float64 `json:"output_tokens_per_second"`
	// FakeLagSeconds is how much later than planned the fakes delivered the
	// ends of the responses they served (results.Outcome.Lag): the
	// instrument's error, which a twin check bounds. Null when the target
	// does not report it (live endpoints).
	FakeLagSeconds *Latency `json:"fake_lag_seconds" jsonschema:"nullable"`
	// Unanswered counts the measured requests that never got an answer
	// from the service: they ended on a failure to connect or on refused
	// credentials (401, 403). When every measured request is unanswered
	// the load test measured nothing about the target, and mcbench load
	// exits with its own code (schema 1.3; older files read 0).
	Unanswered int64 `json:"unanswered"`
}

// RunInfo is run.json: what a report needs to know about a run directory
// besides its summary and records: the resolved scenario and how to rerun
// it.
type RunInfo struct {
	// SchemaVersion is the layout of the run directory, as in Summary.
	SchemaVersion string `json:"schema_version"`
	// Command is the command line that produced the run (secrets never
	// appear on it: credentials come from the environment).
	Command string `json:"command"`
	// Version is the mcbench version that produced the run.
	Version string `json:"version"`
	// Scenario is the resolved scenario, defaults applied.
	Scenario *scenarios.Scenario `json:"scenario"`
	// Source is where the scenario came from (a file, or "library:NAME").
	Source string `json:"scenario_source"`
}
