// Package routing holds the routing policies: given the deployments a
// strategy places for a layer, a policy picks the one that serves each
// attempt and learns from outcomes. One implementation per policy serves the
// simulator (virtual time) and the load generator (wall time): policies see
// time only as the now argument, in nanoseconds on the caller's clock, and
// keep no goroutines or timers of their own.
//
// The policy set is modelled on public LLM gateways (the LiteLLM Router,
// BerriAI/litellm; Portkey Gateway, Portkey-AI/gateway; Envoy AI Gateway,
// envoyproxy/ai-gateway; Kong AI Proxy Advanced), plus policies of this
// repository's own design. Each policy's documentation names the source of
// its numbers; defaults chosen here are in docs/references.md [3]–[10]:
//
//	failover           Failover           placement order, retries to the next
//	weighted           Weighted           static split (LiteLLM simple-shuffle, Portkey loadbalance)
//	primary-secondary  PrimarySecondary   Envoy priority + passive outlier ejection
//	fallback           Fallback           ordered fallback with cooldowns
//	fallback (litellm) LiteLLM            LiteLLM Router defaults, quirks included
//	circuit-breaker    CircuitBreaker     breaker with half-open probes
//	latency            LatencyAware       time-decayed TTFT mean, buffer, ε-exploration
//	least-outstanding  LeastOutstanding   fewest attempts in flight
//	p2c                PowerOfTwo         least loaded of two random choices
//	quota-aware        QuotaAware         provider-true TPM/RPM accounting + headers
//	ptu-first          PTUFirst           provisioned first, spill at saturation or 429
//	cost-aware         CostAware          cheapest expected cost under SLO and residency
//	error-class        ErrorClassRouter   per-error-class action table
//	hedged             Hedged             hedge to the other cloud after a TTFT quantile
//	deadline           Deadline           deadline-aware retry, TTFT timeout
//
// Besides Policy, a policy may implement the optional interfaces Starter,
// Retrier, AttemptTimer and Hedger (see contract.go for what the engines
// must do for each). FailureDomain groups deployments so that an ejection,
// an open breaker or a cooldown of one takes out its region or provider.
package routing

import (
	"fmt"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Candidate describes a deployment a policy may route to.
type Candidate struct {
	// Name, Provider, ProviderKind and Region are the scenario's.
	Name, Provider, ProviderKind, Region string
	// Provisioned is true for PTU / provisioned-throughput deployments.
	Provisioned bool
	// Concurrency is the deployment's slot count.
	Concurrency int
	// RegionTags are the region's compliance tags.
	RegionTags []string

	// TokensPerMinute and RequestsPerMinute are the pay-as-you-go quota
	// (0: unlimited), as the scenario's capacity.quota gives them.
	TokensPerMinute, RequestsPerMinute float64
	// TokenWindow and RequestWindow are the windows (ns) the provider
	// enforces the limits over: its bucket holds rate × window (Azure: 60 s
	// for tokens, 10 s for requests, so RPM/6 per 10 s).
	TokenWindow, RequestWindow int64
	// OutputBurn is how many quota tokens one output token costs (Bedrock
	// Claude 3.7/4-class: 5); 0 counts as 1.
	OutputBurn float64

	// PriceInputPerMTok and PriceOutputPerMTok are USD per million input and
	// output tokens (0: unknown, which cost-aware routing treats as free).
	// CandidateOf leaves them zero: the engines fill them from the pricing
	// tables.
	PriceInputPerMTok, PriceOutputPerMTok float64
}

// CandidateOf describes a scenario deployment for routing policies.
func CandidateOf(s *scenarios.Scenario, d *scenarios.Deployment) Candidate {
	q := &d.Capacity.Quota
	c := Candidate{Name: d.Name, Provider: d.Provider, Region: d.Region,
		Provisioned: d.Capacity.ProvisionedUnits > 0, Concurrency: d.Capacity.Concurrency,
		TokensPerMinute: q.Tokens.PerSecond() * 60, RequestsPerMinute: q.Requests.PerSecond() * 60,
		TokenWindow: int64(q.TokenWindow), RequestWindow: int64(q.RequestWindow), OutputBurn: q.OutputBurn}
	// Windows left out of a scenario that skipped ApplyDefaults get the
	// provider defaults the behaviour model also falls back to.
	if c.TokenWindow <= 0 {
		c.TokenWindow = int64(scenarios.DefaultTokenWindow)
	}
	if c.RequestWindow <= 0 {
		c.RequestWindow = int64(scenarios.DefaultRequestWindow)
	}
	for _, p := range s.Providers {
		if p.Name != d.Provider {
			continue
		}
		c.ProviderKind = p.Kind
		for _, r := range p.Regions {
			if r.Name == d.Region {
				c.RegionTags = r.Tags
			}
		}
	}
	return c
}

// Prices gives a deployment's pay-as-you-go token prices in USD per million
// input and output tokens; ok is false for an unpriced one. Both engines
// take one (reports.Pricing.TokenPrices builds it from the pricing tables).
type Prices func(d *scenarios.Deployment) (input, output float64, ok bool)

// Apply gives candidate c, which describes d, d's token prices. A nil
// Prices, or an unpriced d, leaves c unpriced.
func (p Prices) Apply(c *Candidate, d *scenarios.Deployment) {
	if p == nil {
		return
	}
	if in, out, ok := p(d); ok {
		c.PriceInputPerMTok, c.PriceOutputPerMTok = in, out
	}
}

// Request is what a policy knows about the attempt it routes.
type Request struct {
	// ID is the request's position in the stream.
	ID uint64
	// Attempt is 1 for the first attempt.
	Attempt int
	// Prev is the candidate the previous attempt used (-1 on the first).
	Prev int
	// U is a uniform draw belonging to this request and attempt, so that
	// two runs of the same stream make the same random choices.
	U float64
	// InputTokens and MaxTokens size the call.
	InputTokens, MaxTokens int32
	// Deadline is the absolute time by which the request must finish (0: none).
	Deadline int64
	// Last is how the previous attempt ended (zero on the first attempt).
	Last Observation
	// Hedge is true when the engine asks for a hedge attempt (see Hedger):
	// Prev is then the attempt being hedged, which is still in flight.
	Hedge bool
	// Tags are the compliance tags of the request's workload ("eu-data-zone");
	// policies that honour residency send it only to candidates whose
	// RegionTags include every one. Engines share the workload's slice.
	Tags []string
	// Memo is the policy's scratch for this request: zero on the first
	// attempt; the engines carry back whatever the policy stored in it
	// during the previous attempt's Pick (or Retry, which sees the same
	// Request). It lets a policy remember per-request progress (the LiteLLM
	// fallback group, a retry-same decision) without a map.
	Memo uint64
}

// Observation is how an attempt ended, fed back to the policy.
type Observation struct {
	// Dep is the candidate index the attempt used.
	Dep int
	// Status and ErrorClass are as in the outcome record.
	Status     results.Status
	ErrorClass string
	// Sent, FirstToken and Done are times on the caller's clock (FirstToken 0: none).
	Sent, FirstToken, Done int64
	// RemainingTokens and RemainingRequests are the rate-limit headers' values (-1: unknown).
	RemainingTokens, RemainingRequests float64
	// RetryAfter is what a throttled response advertised (0: nothing).
	RetryAfter int64
	// InputTokens and MaxTokens repeat the attempt's Request, and
	// OutputTokens is what it generated (0: unknown): quota-aware routing
	// settles its shadow accounting with them.
	InputTokens, MaxTokens, OutputTokens int32
}

// Policy picks deployments for attempts. Implementations must not allocate
// in Pick or Observe: the simulator calls them for every attempt. They are
// not safe for concurrent use; the load generator serialises calls.
type Policy interface {
	// Pick returns the index, among the candidates the policy was built with,
	// of the deployment for the attempt, or -1 when none may be tried (the
	// request then fails without an attempt).
	Pick(now int64, r *Request) int
	// Observe reports how an attempt ended.
	Observe(now int64, o *Observation)
}

// Starter is implemented by policies that track attempts in flight: the
// engines call Started when an attempt is sent to candidate dep.
type Starter interface {
	Started(now int64, dep int)
}

// New builds the policy a strategy's routing section describes, over the
// candidates (in placement order). Parameters the section leaves out take
// the defaults documented on each policy's config (DefaultXConfig); see
// params.go for how the scenario's fields map onto them.
func New(r *scenarios.Routing, cands []Candidate) (Policy, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	dom := FailureDomain(r.FailureDomain)
	switch r.Policy {
	case "", scenarios.PolicyFailover:
		return &Failover{n: len(cands)}, nil
	case scenarios.PolicyWeighted:
		w := make([]float64, len(cands))
		for i, c := range cands {
			w[i] = 1
			if v, ok := r.Weights[c.Name]; ok {
				w[i] = v
			}
		}
		return wrap(NewWeighted(w))
	case scenarios.PolicyPrimarySecondary:
		cfg, err := outlierConfig(r.Outlier, dom)
		if err != nil {
			return nil, err
		}
		return wrap(NewPrimarySecondary(cfg, cands))
	case scenarios.PolicyFallback:
		if r.Fallback != nil && r.Fallback.Preset == scenarios.PresetLiteLLM {
			return wrap(NewLiteLLM(liteLLMConfig(r.Fallback, dom), cands))
		}
		cfg, err := fallbackConfig(r.Fallback, dom)
		if err != nil {
			return nil, err
		}
		return wrap(NewFallback(cfg, cands))
	case scenarios.PolicyCircuitBreaker:
		return wrap(NewCircuitBreaker(breakerConfig(r.Breaker, dom), cands))
	case scenarios.PolicyLatency:
		return wrap(NewLatencyAware(latencyConfig(r.Latency), cands))
	case scenarios.PolicyLeastOutstanding:
		return wrap(NewLeastOutstanding(cands))
	case scenarios.PolicyP2C:
		return wrap(NewPowerOfTwo(cands))
	case scenarios.PolicyQuotaAware:
		return wrap(NewQuotaAware(quotaConfig(r.Quota), cands))
	case scenarios.PolicyPTUFirst:
		return wrap(NewPTUFirst(ptuConfig(r.PTU), cands))
	case scenarios.PolicyCostAware:
		return wrap(NewCostAware(costConfig(r.Cost), cands))
	case scenarios.PolicyErrorClass:
		return wrap(NewErrorClassRouter(errorClassConfig(r.ErrorClass, r.Backoff, dom), cands))
	case scenarios.PolicyHedged:
		return wrap(NewHedged(hedgeConfig(r.Hedge), cands))
	case scenarios.PolicyDeadline:
		return wrap(NewDeadline(deadlineConfig(r.Deadline, r.Backoff), cands))
	}
	return nil, fmt.Errorf("routing: unknown policy %q", r.Policy)
}

// wrap returns a constructor's policy as a Policy, and a nil Policy (not a
// typed nil pointer inside a non-nil interface) on error.
func wrap[P Policy](p P, err error) (Policy, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Stateless is implemented by policies whose Pick reads only Attempt,
// Prev and U and whose Observe does nothing (Failover, Weighted). Engines
// may then skip building the rest of the Request and skip Observe: the
// simulator's hot path is a few hundred instructions per request shorter.
type Stateless interface {
	Stateless()
}

// Failover sends every first attempt to the first candidate and each retry
// to the next one in placement order, wrapping around.
type Failover struct{ n int }

// Pick implements Policy.
func (f *Failover) Pick(_ int64, r *Request) int {
	if r.Attempt <= 1 || r.Prev < 0 {
		return 0
	}
	return (r.Prev + 1) % f.n
}

// Observe implements Policy; plain failover keeps no state.
func (f *Failover) Observe(int64, *Observation) {}

// Stateless implements Stateless.
func (f *Failover) Stateless() {}

// Weighted splits first attempts across candidates in proportion to their
// weights and sends each retry to the next candidate in placement order.
type Weighted struct {
	cum []float64 // cumulative normalised weights
}

// NewWeighted returns a weighted split; weights must be >= 0 and not all zero.
func NewWeighted(weights []float64) (*Weighted, error) {
	total := 0.0
	for i, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("routing: weight %d is negative", i)
		}
		total += w
	}
	if total <= 0 {
		return nil, fmt.Errorf("routing: weights are all zero")
	}
	cum := make([]float64, len(weights))
	acc := 0.0
	for i, w := range weights {
		acc += w / total
		cum[i] = acc
	}
	cum[len(cum)-1] = 1
	return &Weighted{cum: cum}, nil
}

// Pick implements Policy.
func (w *Weighted) Pick(_ int64, r *Request) int {
	if r.Attempt > 1 && r.Prev >= 0 {
		return (r.Prev + 1) % len(w.cum)
	}
	for i, c := range w.cum {
		if r.U < c {
			return i
		}
	}
	return len(w.cum) - 1
}

// Observe implements Policy; a static split keeps no state.
func (w *Weighted) Observe(int64, *Observation) {}

// Stateless implements Stateless.
func (w *Weighted) Stateless() {}
