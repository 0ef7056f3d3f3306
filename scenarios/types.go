// Package scenarios is mcbench's scenario language: the types a scenario file
// decodes into, strict YAML loading with positions, validation, defaults, the
// JSON Schema, the embedded scenario library and the seeded request stream that
// the simulator and the load generator both consume.
package scenarios

// Scenario is one world to simulate or load-test: where the deployments are,
// what traffic arrives, how strategies place and route it, and what goes wrong.
type Scenario struct {
	// Name identifies the scenario in reports.
	Name string `yaml:"name" json:"name"`
	// Description says what the scenario represents and which figures are assumptions.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Seed is the master seed; every random stream is derived from it.
	Seed uint64 `yaml:"seed" json:"seed"`
	// Replications is the number of independent replications per strategy.
	Replications int `yaml:"replications" json:"replications"`
	// Run says how long each replication lasts and how much of it is warm-up.
	Run Run `yaml:"run" json:"run"`
	// Providers are the clouds and their regions.
	Providers []Provider `yaml:"providers" json:"providers"`
	// Links give one-way network latency between regions. Pairs not listed,
	// and a region with itself, have zero latency.
	Links []Link `yaml:"links,omitempty" json:"links,omitempty"`
	// Deployments are the models and runtimes that serve requests.
	Deployments []Deployment `yaml:"deployments" json:"deployments"`
	// Workloads are the classes of traffic.
	Workloads []Workload `yaml:"workloads" json:"workloads"`
	// Strategies are the placements and routing policies to compare.
	Strategies []Strategy `yaml:"strategies" json:"strategies"`
	// Faults are windows in which deployments fail, slow down or are throttled.
	Faults []Fault `yaml:"faults,omitempty" json:"faults,omitempty"`
	// Constraints are the exclusivity and residency rules placements must keep.
	Constraints *Constraints `yaml:"constraints,omitempty" json:"constraints,omitempty"`

	// Source is the file (or library name) the scenario was read from.
	Source string `yaml:"-" json:"-"`
	// Dir is the directory relative paths in the scenario resolve against.
	Dir string `yaml:"-" json:"-"`
}

// Run bounds a replication: by request count, by time horizon, or both (the
// first reached ends arrivals; requests in flight then drain).
type Run struct {
	// Requests is the number of arrivals per replication (warm-up included).
	Requests Count `yaml:"requests,omitempty" json:"requests,omitempty"`
	// Horizon is the simulated time after which no more requests arrive.
	Horizon Duration `yaml:"horizon,omitempty" json:"horizon,omitempty"`
	// Warmup is deleted from the statistics: a fraction of the requests
	// ("10%") or a duration from the start ("5m").
	Warmup Warmup `yaml:"warmup,omitempty" json:"warmup,omitempty"`
}

// Provider is a cloud.
type Provider struct {
	// Name is how deployments refer to the provider ("azure", "aws").
	Name string `yaml:"name" json:"name"`
	// Kind selects the provider's wire protocol and quota rules: azure, bedrock or generic.
	Kind string `yaml:"kind" json:"kind"`
	// Regions are the provider's regions used by the scenario.
	Regions []Region `yaml:"regions" json:"regions"`
}

// Provider kinds.
const (
	KindAzure   = "azure"
	KindBedrock = "bedrock"
	KindGeneric = "generic"
)

// Region is a provider region. In YAML a bare name is allowed.
type Region struct {
	// Name is the region's name, unique across the scenario ("eastus2", "us-east-1").
	Name string `yaml:"name" json:"name"`
	// Tags are compliance properties of the region ("fedramp-high", "eu-data-zone").
	Tags []string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// Link is the network path between two regions.
type Link struct {
	// From and To are region names; the link is symmetric.
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
	// Latency is the one-way latency.
	Latency TimeDist `yaml:"latency" json:"latency"`
}

// Deployment is a model (or runtime) in a region with a capacity and latency model.
type Deployment struct {
	// Name identifies the deployment (an Azure deployment name or a Bedrock model id alias).
	Name string `yaml:"name" json:"name"`
	// Provider is the name of a declared provider.
	Provider string `yaml:"provider" json:"provider"`
	// Region is one of the provider's regions.
	Region string `yaml:"region" json:"region"`
	// Model is the model served ("gpt-4o", "anthropic.claude-sonnet-4").
	Model string `yaml:"model,omitempty" json:"model,omitempty"`
	// Endpoint is the base URL live load tests call: the Azure OpenAI
	// resource (https://NAME.openai.azure.com), or a Bedrock Runtime
	// endpoint override (default: the region's public endpoint).
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// Layer is the layer the deployment serves: model, orchestration,
	// application or state. Orchestration deployments host sessions and
	// state deployments hold session state (see Session); for a state
	// deployment capacity may be left out, since only latency.ttft (the
	// time per state operation) is used.
	Layer string `yaml:"layer,omitempty" json:"layer,omitempty"`
	// Capacity limits concurrency, queueing and quota.
	Capacity Capacity `yaml:"capacity" json:"capacity"`
	// Latency is the service-time model.
	Latency Latency `yaml:"latency" json:"latency"`
}

// Layers a deployment can serve.
const (
	LayerModel         = "model"
	LayerOrchestration = "orchestration"
	LayerApplication   = "application"
	LayerState         = "state"
)

// Capacity is what a deployment can hold at once and what its quota admits.
type Capacity struct {
	// Concurrency is the number of requests served at once (slots). Required.
	Concurrency int `yaml:"concurrency" json:"concurrency"`
	// Queue is the most requests that wait for a slot; 0 makes a loss system
	// (a full deployment rejects), omitted means unbounded (a simulated run
	// that then holds more than the in_flight limit of requests stops as
	// unstable; see Limits).
	Queue *int `yaml:"queue,omitempty" json:"queue,omitempty"`
	// Quota is the pay-as-you-go rate limit; zero fields are unlimited.
	Quota Quota `yaml:"quota,omitempty" json:"quota,omitempty"`
	// ProvisionedUnits is the number of PTUs (Azure) or model units (Bedrock)
	// bought for the deployment; zero means pay-as-you-go.
	ProvisionedUnits Count `yaml:"provisioned_units,omitempty" json:"provisioned_units,omitempty"`
}

// Quota is a deployment's rate limit, enforced as token buckets the way the
// provider counts: Azure reserves prompt + max_tokens per request; Bedrock
// reserves prompt + max_tokens × output_burn and settles on the actual output.
type Quota struct {
	// Tokens is the token rate limit ("2M/min").
	Tokens Rate `yaml:"tokens,omitempty" json:"tokens,omitempty"`
	// Requests is the request rate limit ("12000/min").
	Requests Rate `yaml:"requests,omitempty" json:"requests,omitempty"`
	// TokenWindow is the window the token limit is enforced over: the bucket
	// holds Tokens × TokenWindow. Default 60s.
	TokenWindow Duration `yaml:"token_window,omitempty" json:"token_window,omitempty"`
	// RequestWindow is the window the request limit is enforced over. Default
	// 10s, Azure's sub-minute window.
	RequestWindow Duration `yaml:"request_window,omitempty" json:"request_window,omitempty"`
	// OutputBurn is how many quota tokens one output token costs (Bedrock
	// charges 5 for recent Claude models). Default 1.
	OutputBurn float64 `yaml:"output_burn,omitempty" json:"output_burn,omitempty"`
}

// Latency is a deployment's service-time model: the time to first token,
// then output tokens × one time-per-output-token draw (the request's decode
// speed) until the response is complete.
type Latency struct {
	// TTFT is the time to first token at the deployment, queueing excluded.
	TTFT TimeDist `yaml:"ttft" json:"ttft"`
	// PerInputToken is added to TTFT for each input token (prefill cost).
	PerInputToken Duration `yaml:"per_input_token,omitempty" json:"per_input_token,omitempty"`
	// TPOT is the time per output token.
	TPOT TimeDist `yaml:"tpot,omitempty" json:"tpot,omitempty"`
	// LoadFactor scales TPOT linearly with busy slots: 1 at idle, LoadFactor
	// at full concurrency (decode steps slow down as batches grow). Default 1.
	LoadFactor float64 `yaml:"load_factor,omitempty" json:"load_factor,omitempty"`
	// Profile is a latency profile file, such as `mcbench profile fit` writes
	// from a recording, relative to the scenario file. It holds a latency
	// mapping (ttft, per_input_token, tpot and optionally load_factor) and
	// replaces those fields: ttft, per_input_token and tpot may not be given
	// beside it, and load_factor may be given here only if the profile leaves
	// it out. The loader reads the profile into the fields above and keeps
	// this path to say where they came from.
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty"`
}

// Workload is a class of traffic.
type Workload struct {
	// Name identifies the class.
	Name string `yaml:"name" json:"name"`
	// Origin is the region the clients call from (network latency is measured from it).
	Origin string `yaml:"origin,omitempty" json:"origin,omitempty"`
	// Layer is the layer the requests enter. Default model.
	Layer string `yaml:"layer,omitempty" json:"layer,omitempty"`
	// Arrival is the arrival process.
	Arrival Arrival `yaml:"arrival" json:"arrival"`
	// InputTokens is the prompt length distribution.
	InputTokens CountDist `yaml:"input_tokens,omitempty" json:"input_tokens,omitempty"`
	// OutputTokens is the completion length distribution (capped by MaxTokens).
	OutputTokens CountDist `yaml:"output_tokens,omitempty" json:"output_tokens,omitempty"`
	// MaxTokens is the max_tokens sent with each request. Default 4096.
	MaxTokens Count `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	// SLO is the latency objective used for goodput.
	SLO SLO `yaml:"slo,omitempty" json:"slo,omitempty"`
	// Tags are compliance tags of the traffic ("fedramp-high", "eu-data-zone").
	Tags []string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// Session, when set, makes every arrival an agentic session rather than
	// one model call: it enters the orchestration layer and makes Steps
	// model calls (to the workload's layer) with the token distributions
	// above, reading and writing session state around each.
	Session *Session `yaml:"session,omitempty" json:"session,omitempty"`
}

// Session describes an agentic session: a conversation or task an
// orchestrator (an agent runtime such as Bedrock AgentCore) drives through
// several model calls, keeping state between them.
//
// A session arrives from the workload's origin at the strategy's
// orchestration deployment (placement.orchestration, tried in order), which
// hosts it for its lifetime: capacity.concurrency is how many sessions it
// holds at once, capacity.queue how many may wait, capacity.quota.requests
// how many may start per window, and latency.ttft the runtime's own
// overhead per step. Each step reads the session state from the state
// store, thinks, makes one model call from the orchestration region, and
// writes the state back. The state store is the strategy's first
// placement.state deployment (its latency.ttft is the time per state
// operation) or, when none is placed, sits in the orchestrator's region.
// Every hop between regions takes the link's latency, and every byte that
// crosses a region or cloud boundary is counted for egress.
type Session struct {
	// Steps is the number of model calls per session (rounded; at least 1,
	// at most 10000). Required.
	Steps CountDist `yaml:"steps" json:"steps"`
	// Think is the orchestrator's own time before each model call
	// (planning, tool calls). Default 0.
	Think TimeDist `yaml:"think,omitempty" json:"think,omitempty"`
	// StateRead is the session state read before each step, in bytes ("64k").
	StateRead Count `yaml:"state_read,omitempty" json:"state_read,omitempty"`
	// StateWrite is the session state written after each step, in bytes.
	StateWrite Count `yaml:"state_write,omitempty" json:"state_write,omitempty"`
	// SLO is the most a whole session may take, from arrival to the answer
	// back at the origin; 0 means not checked.
	SLO Duration `yaml:"slo,omitempty" json:"slo,omitempty"`
}

// MaxSessionSteps bounds a session's step count, so a heavy-tailed step
// distribution cannot make one session run for ever.
const MaxSessionSteps = 10000

// Layers returns the layers the workload's traffic touches: the layer its
// requests enter, and for a session also orchestration and state.
func (w *Workload) Layers() []string {
	l := w.Layer
	if l == "" {
		l = LayerModel
	}
	if w.Session == nil {
		return []string{l}
	}
	return []string{l, LayerOrchestration, LayerState}
}

// SLO is a latency objective; zero fields are not checked.
type SLO struct {
	// TTFT is the most time to first token a request may take.
	TTFT Duration `yaml:"ttft,omitempty" json:"ttft,omitempty"`
	// E2E is the most end-to-end latency a request may take.
	E2E Duration `yaml:"e2e,omitempty" json:"e2e,omitempty"`
}

// Arrival is an arrival process. Which fields apply depends on Process:
//
//	poisson:  rate
//	constant: rate
//	mmpp:     rates [r1, r2], sojourn [mean time in state 1, in state 2]
//	diurnal:  rate (trough), peak, period (default 24h), peak_at (default 14h)
//	ramp:     rate (start), peak (end), over
//	trace:    file (CSV: timestamp, class, input_tokens, output_tokens)
type Arrival struct {
	// Process is poisson, constant, mmpp, diurnal, ramp or trace.
	Process string `yaml:"process" json:"process"`
	// Rate is the rate (poisson, constant), trough (diurnal) or start (ramp).
	Rate Rate `yaml:"rate,omitempty" json:"rate,omitempty"`
	// Peak is the diurnal peak or the ramp's final rate.
	Peak Rate `yaml:"peak,omitempty" json:"peak,omitempty"`
	// Period is the diurnal cycle length. Default 24h.
	Period Duration `yaml:"period,omitempty" json:"period,omitempty"`
	// PeakAt is the offset of the diurnal peak within the period. Default 14h.
	PeakAt Duration `yaml:"peak_at,omitempty" json:"peak_at,omitempty"`
	// Over is the length of a ramp.
	Over Duration `yaml:"over,omitempty" json:"over,omitempty"`
	// Rates are the two MMPP state rates.
	Rates []Rate `yaml:"rates,omitempty" json:"rates,omitempty"`
	// Sojourn are the mean times spent in each MMPP state.
	Sojourn []Duration `yaml:"sojourn,omitempty" json:"sojourn,omitempty"`
	// File is the trace CSV, relative to the scenario file.
	File string `yaml:"file,omitempty" json:"file,omitempty"`
}

// Arrival processes.
const (
	ProcPoisson  = "poisson"
	ProcConstant = "constant"
	ProcMMPP     = "mmpp"
	ProcDiurnal  = "diurnal"
	ProcRamp     = "ramp"
	ProcTrace    = "trace"
)

// Strategy is a placement plus a routing policy.
type Strategy struct {
	// Name identifies the strategy.
	Name string `yaml:"name" json:"name"`
	// Description says what the strategy is for.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Placement maps a layer to the deployments that serve it, in preference order.
	Placement map[string][]string `yaml:"placement" json:"placement"`
	// Routing is the policy that picks among the placed deployments.
	Routing Routing `yaml:"routing,omitempty" json:"routing,omitempty"`
	// WhatIf lets the strategy break the scenario's constraints: it runs,
	// and its summary lists every violation.
	WhatIf bool `yaml:"what_if,omitempty" json:"what_if,omitempty"`
}

// Weights are relative weights by deployment name. In YAML a weight is a
// number or a percentage ("20%" is 0.2, read as fractions are); only the
// ratios matter.
type Weights map[string]float64

// Routing is a routing policy and its retry behaviour.
type Routing struct {
	// Policy is failover (try deployments in placement order), weighted
	// (split by weight, fail over to the others), primary-secondary,
	// fallback, circuit-breaker, latency, least-outstanding, p2c,
	// quota-aware, ptu-first, cost-aware, error-class, hedged or deadline.
	// A policy's parameters go in the section below named after it (outlier
	// for primary-secondary); every parameter has a default. Default failover.
	Policy string `yaml:"policy,omitempty" json:"policy,omitempty"`
	// Weights are the weighted policy's weights by deployment name: numbers
	// (3 and 2 split 60/40) or percentages (60% and 40%); default 1 each.
	Weights Weights `yaml:"weights,omitempty" json:"weights,omitempty"`
	// MaxAttempts is the most attempts per request, first included. Default 3.
	MaxAttempts int `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"`
	// Backoff is the delay before the first retry; it doubles each retry. A
	// throttled attempt waits at least the deployment's retry-after. Default 0
	// (retry at once on the next deployment). The error-class and deadline
	// policies decide retries themselves and use it as their backoff base
	// (500ms when 0); fallback with preset litellm uses LiteLLM's.
	Backoff Duration `yaml:"backoff,omitempty" json:"backoff,omitempty"`
	// Timeout is the per-attempt timeout; zero means none.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// FailureDomain is deployment (default), region or provider: with
	// region or provider, an ejection, open breaker or cooldown of one
	// deployment takes out every deployment of its region or provider
	// (primary-secondary, fallback, circuit-breaker, error-class).
	FailureDomain string `yaml:"failure_domain,omitempty" json:"failure_domain,omitempty"`
	// Outlier holds the primary-secondary policy's outlier detection.
	Outlier *OutlierParams `yaml:"outlier,omitempty" json:"outlier,omitempty"`
	// Fallback holds the fallback policy's cooldowns and preset.
	Fallback *FallbackParams `yaml:"fallback,omitempty" json:"fallback,omitempty"`
	// Breaker holds the circuit-breaker policy's thresholds and timings.
	Breaker *BreakerParams `yaml:"breaker,omitempty" json:"breaker,omitempty"`
	// Latency holds the latency policy's estimator and exploration.
	Latency *LatencyParams `yaml:"latency,omitempty" json:"latency,omitempty"`
	// Quota holds the quota-aware policy's headroom.
	Quota *QuotaParams `yaml:"quota,omitempty" json:"quota,omitempty"`
	// PTU holds the ptu-first policy's utilisation target.
	PTU *PTUParams `yaml:"ptu,omitempty" json:"ptu,omitempty"`
	// Cost holds the cost-aware policy's estimate, SLO and residency.
	Cost *CostParams `yaml:"cost,omitempty" json:"cost,omitempty"`
	// ErrorClass holds the error-class policy's action table.
	ErrorClass *ErrorClassParams `yaml:"error_class,omitempty" json:"error_class,omitempty"`
	// Hedge holds the hedged policy's delay.
	Hedge *HedgeParams `yaml:"hedge,omitempty" json:"hedge,omitempty"`
	// Deadline holds the deadline policy's budget and TTFT timeout.
	Deadline *DeadlineParams `yaml:"deadline,omitempty" json:"deadline,omitempty"`
}

// Routing policies available in the simulator.
const (
	PolicyFailover = "failover"
	PolicyWeighted = "weighted"
)

// Fault is a window in which the targeted deployments misbehave.
type Fault struct {
	// Kind is outage (every attempt fails with a 503, and attempts in flight
	// at the start are cut), brownout (latency × LatencyFactor), link (the
	// network path between Target and To is LatencyFactor slower), throttle
	// (quota × QuotaFactor), reset (new connections are reset), silent (the
	// deployment accepts requests and never answers), stream_cut (responses
	// stop half-way) or malformed (the first streamed frame is corrupt).
	Kind string `yaml:"kind" json:"kind"`
	// Target is a deployment, region or provider name.
	Target string `yaml:"target" json:"target"`
	// Start is the offset of the window from the start of the run.
	Start Duration `yaml:"start" json:"start"`
	// Duration is the window's length.
	Duration Duration `yaml:"duration" json:"duration"`
	// LatencyFactor multiplies service times during a brownout.
	LatencyFactor float64 `yaml:"latency_factor,omitempty" json:"latency_factor,omitempty"`
	// QuotaFactor multiplies quota rates during a throttle.
	QuotaFactor float64 `yaml:"quota_factor,omitempty" json:"quota_factor,omitempty"`
	// To is the other end of a link fault: a region or provider. The
	// fault degrades every link between a region of Target and a region of
	// To (provider to provider: every cross-cloud link).
	To string `yaml:"to,omitempty" json:"to,omitempty"`
}

// Fault kinds.
const (
	FaultOutage   = "outage"
	FaultBrownout = "brownout"
	FaultThrottle = "throttle"
	// FaultLink: the links between Target and To are LatencyFactor slower
	// (a degraded cross-cloud interconnect or a congested region pair).
	FaultLink = "link"
	// FaultReset: the connection is reset before any response.
	FaultReset = "reset"
	// FaultSilent: the request is accepted and never answered; the client's
	// timeout (or the end of the window) ends it.
	FaultSilent = "silent"
	// FaultStreamCut: the response stops after half its output tokens.
	FaultStreamCut = "stream_cut"
	// FaultMalformed: the response's first frame is corrupt.
	FaultMalformed = "malformed"
)

// FaultKinds lists every fault kind.
var FaultKinds = []string{FaultOutage, FaultBrownout, FaultLink, FaultThrottle, FaultReset, FaultSilent, FaultStreamCut, FaultMalformed}

// Warmup is the part of a run deleted from statistics: either a fraction of
// the requests or a duration.
type Warmup struct {
	// Fraction of requests (by arrival order) to delete.
	Fraction float64
	// Duration from the start within which arrivals are deleted.
	Duration Duration
}
