package scenarios

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Routing policies beyond failover and weighted (see backends/routing for
// what each does and where its defaults come from, and docs/references.md
// [3]–[10] for the defaults chosen here). Each reads its own parameter
// section of Routing; a section left out takes every default.
const (
	// PolicyPrimarySecondary: Envoy-style priorities with outlier ejection (section outlier).
	PolicyPrimarySecondary = "primary-secondary"
	// PolicyFallback: ordered fallback with cooldowns; preset litellm reproduces LiteLLM (section fallback).
	PolicyFallback = "fallback"
	// PolicyCircuitBreaker: circuit breaker with half-open probes (section breaker).
	PolicyCircuitBreaker = "circuit-breaker"
	// PolicyLatency: lowest time-decayed TTFT with a buffer and exploration (section latency).
	PolicyLatency = "latency"
	// PolicyLeastOutstanding: fewest attempts in flight (no parameters).
	PolicyLeastOutstanding = "least-outstanding"
	// PolicyP2C: power of two choices on attempts in flight (no parameters).
	PolicyP2C = "p2c"
	// PolicyQuotaAware: provider-true quota accounting and rate-limit headers (section quota).
	PolicyQuotaAware = "quota-aware"
	// PolicyPTUFirst: provisioned capacity first, spill at saturation or 429 (section ptu).
	PolicyPTUFirst = "ptu-first"
	// PolicyCostAware: cheapest expected cost under an SLO and residency (section cost).
	PolicyCostAware = "cost-aware"
	// PolicyErrorClass: per-error-class action table (section error_class).
	PolicyErrorClass = "error-class"
	// PolicyHedged: hedge to the other cloud after a TTFT quantile (section hedge).
	PolicyHedged = "hedged"
	// PolicyDeadline: deadline-aware retry and failover with a TTFT timeout (section deadline).
	PolicyDeadline = "deadline"
)

// Policies lists every routing policy, in the order messages list them.
var Policies = []string{
	PolicyFailover, PolicyWeighted, PolicyPrimarySecondary, PolicyFallback, PolicyCircuitBreaker, PolicyLatency,
	PolicyLeastOutstanding, PolicyP2C, PolicyQuotaAware, PolicyPTUFirst, PolicyCostAware, PolicyErrorClass,
	PolicyHedged, PolicyDeadline,
}

// Failure domains (Routing.FailureDomain).
const (
	DomainDeployment = "deployment"
	DomainRegion     = "region"
	DomainProvider   = "provider"
)

// DomainPolicies are the policies that take a failure_domain: those that
// take deployments out (ejection, breaker, cooldown).
var DomainPolicies = []string{PolicyPrimarySecondary, PolicyFallback, PolicyCircuitBreaker, PolicyErrorClass}

// Presets.
const (
	// PresetEnvoyDefault: Envoy's outlier-detection defaults.
	PresetEnvoyDefault = "envoy-default"
	// PresetAIGatewayDoc: the Envoy AI Gateway documentation's example.
	PresetAIGatewayDoc = "aigw-doc"
	// PresetLiteLLM: LiteLLM Router's defaults and quirks.
	PresetLiteLLM = "litellm"
)

// OutlierParams are the primary-secondary policy's outlier detection
// (Envoy); zero fields take the preset's values.
type OutlierParams struct {
	// Preset is envoy-default (default: 5 consecutive 5xx, 10s interval, 30s base ejection, 300s cap, 10%) or aigw-doc (1, 2s, 5s, 100%).
	Preset string `yaml:"preset,omitempty" json:"preset,omitempty"`
	// Consecutive5xx is how many server errors in a row (connection failures and timeouts included) eject a deployment.
	Consecutive5xx int `yaml:"consecutive_5xx,omitempty" json:"consecutive_5xx,omitempty"`
	// Interval is the detection interval: ejections end on its ticks, and the ejection multiplier decays by one per healthy interval.
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// BaseEjection is the ejection time; the n-th ejection in a row lasts n times as long.
	BaseEjection Duration `yaml:"base_ejection,omitempty" json:"base_ejection,omitempty"`
	// MaxEjectionTime caps an ejection.
	MaxEjectionTime Duration `yaml:"max_ejection_time,omitempty" json:"max_ejection_time,omitempty"`
	// MaxEjection is the largest share of the deployments out at once ("10%"); one ejection is always allowed.
	MaxEjection *Fraction `yaml:"max_ejection,omitempty" json:"max_ejection,omitempty"`
}

// FallbackParams are the fallback policy's cooldowns and, with preset
// litellm, LiteLLM's retry and model-group rules.
type FallbackParams struct {
	// Preset is empty (ordered fallback with cooldowns, no exemptions) or litellm (LiteLLM Router: retries per model group, backoff, single-deployment cooldown exemption).
	Preset string `yaml:"preset,omitempty" json:"preset,omitempty"`
	// Cooldown is how long a cooled deployment is skipped. Default 5s (LiteLLM cooldown_time).
	Cooldown Duration `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
	// AllowedFails, if set, cools a deployment when its failures (each forgotten a cooldown after the last) exceed it; otherwise the failure rate decides.
	AllowedFails int `yaml:"allowed_fails,omitempty" json:"allowed_fails,omitempty"`
	// FailureRate cools a deployment when more than this share of its requests this minute failed. Default 50%.
	FailureRate *Fraction `yaml:"failure_rate,omitempty" json:"failure_rate,omitempty"`
	// MinRequests is how many requests this minute the failure rate needs. Default 5.
	MinRequests int `yaml:"min_requests,omitempty" json:"min_requests,omitempty"`
	// Groups (litellm) is each (every deployment its own model group, chained by fallbacks; default) or one (a single group tried in placement order).
	Groups string `yaml:"groups,omitempty" json:"groups,omitempty"`
	// NumRetries (litellm) is num_retries: retries within a model group before its fallback. Default 2.
	NumRetries *int `yaml:"num_retries,omitempty" json:"num_retries,omitempty"`
	// MaxFallbacks (litellm) is how many fallback groups may be tried. Default 5.
	MaxFallbacks *int `yaml:"max_fallbacks,omitempty" json:"max_fallbacks,omitempty"`
	// SingleDeploymentThreshold (litellm) is how many requests a minute, all failing, cool a deployment alone in its group. Default 1000.
	SingleDeploymentThreshold int `yaml:"single_deployment_threshold,omitempty" json:"single_deployment_threshold,omitempty"`
}

// BreakerParams are the circuit-breaker policy's; defaults are
// N=5, p=50%, min=10, T=30s, k=1, s=2 (docs/references.md [3]).
type BreakerParams struct {
	// Failures is how many failures in a row trip the breaker. Default 5.
	Failures int `yaml:"failures,omitempty" json:"failures,omitempty"`
	// FailureRate trips it when at least this share of the attempts in the window failed. Default 50%.
	FailureRate *Fraction `yaml:"failure_rate,omitempty" json:"failure_rate,omitempty"`
	// MinRequests is how many attempts in the window the failure rate needs. Default 10.
	MinRequests int `yaml:"min_requests,omitempty" json:"min_requests,omitempty"`
	// Window is the rolling window of the failure rate. Default 60s.
	Window Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// Open is how long a tripped breaker stays open; it doubles each time a half-open probe fails. Default 30s.
	Open Duration `yaml:"open,omitempty" json:"open,omitempty"`
	// MaxOpen caps the open time. Default 8 × open.
	MaxOpen Duration `yaml:"max_open,omitempty" json:"max_open,omitempty"`
	// Probes is how many attempts a half-open breaker lets through at once. Default 1.
	Probes int `yaml:"probes,omitempty" json:"probes,omitempty"`
	// Successes is how many successful probes close the breaker. Default 2.
	Successes int `yaml:"successes,omitempty" json:"successes,omitempty"`
	// FailFast fails a request at once when every breaker is open; by default it goes to the deployment whose breaker closes soonest.
	FailFast bool `yaml:"fail_fast,omitempty" json:"fail_fast,omitempty"`
}

// LatencyParams are the latency policy's.
type LatencyParams struct {
	// HalfLife is how fast old TTFT samples fade. Default 30s.
	HalfLife Duration `yaml:"half_life,omitempty" json:"half_life,omitempty"`
	// Buffer spreads attempts over every deployment within (1 + buffer) × the best estimate. Default 20%.
	Buffer *Fraction `yaml:"buffer,omitempty" json:"buffer,omitempty"`
	// Epsilon is the share of attempts sent to a random other deployment to keep estimates fresh. Default 5%.
	Epsilon *Fraction `yaml:"epsilon,omitempty" json:"epsilon,omitempty"`
	// Penalty is the sample recorded for a failed, throttled or timed-out attempt. Default 30s.
	Penalty Duration `yaml:"penalty,omitempty" json:"penalty,omitempty"`
}

// QuotaParams are the quota-aware policy's.
type QuotaParams struct {
	// Headroom is the share of a quota that must remain after a request for its deployment to be preferred. Default 10%.
	Headroom *Fraction `yaml:"headroom,omitempty" json:"headroom,omitempty"`
}

// PTUParams are the ptu-first policy's.
type PTUParams struct {
	// Utilization is the share of a provisioned deployment's concurrency filled before spilling. Default 95%.
	Utilization *Fraction `yaml:"utilization,omitempty" json:"utilization,omitempty"`
	// Hold is how long a deployment that answered 429 without a retry-after is passed over. Default 1s.
	Hold Duration `yaml:"hold,omitempty" json:"hold,omitempty"`
}

// CostParams are the cost-aware policy's.
type CostParams struct {
	// ExpectedOutput is the output length the cost estimate assumes. Default: the request's max_tokens.
	ExpectedOutput Count `yaml:"expected_output,omitempty" json:"expected_output,omitempty"`
	// SLO is the most a deployment's observed p95 time to first token may be for it to be chosen; none by default.
	SLO Duration `yaml:"slo,omitempty" json:"slo,omitempty"`
	// Residency lists region tags every chosen deployment must carry ("eu-data-zone"), on top of the workload's tags.
	Residency []string `yaml:"residency,omitempty" json:"residency,omitempty"`
	// ProvisionedFree makes provisioned deployments cost nothing while they have a free slot. Default true.
	ProvisionedFree *bool `yaml:"provisioned_free,omitempty" json:"provisioned_free,omitempty"`
}

// ErrorClassParams are the error-class policy's.
type ErrorClassParams struct {
	// Actions maps an error kind (throttle, server, connection, timeout, client, context_length, content_filter, auth, not_found) to retry-same, retry-other, retry-other-provider, fail or cooldown. Defaults: retry-other for throttle, server, connection, timeout and context_length; fail for client and content_filter; cooldown for auth and not_found.
	Actions map[string]string `yaml:"actions,omitempty" json:"actions,omitempty"`
	// Cooldown is how long the cooldown action takes a deployment out (at least a 429's retry-after). Default 5s.
	Cooldown Duration `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
	// AuthCooldown is the cooldown after auth and not-found errors. Default 5m.
	AuthCooldown Duration `yaml:"auth_cooldown,omitempty" json:"auth_cooldown,omitempty"`
}

// HedgeParams are the hedged policy's.
type HedgeParams struct {
	// Delay is a fixed hedge delay; by default it is the quantile of the deployment's recent times to first token.
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	// Quantile is the TTFT quantile used as the delay. Default 95%.
	Quantile *Fraction `yaml:"quantile,omitempty" json:"quantile,omitempty"`
	// InitialDelay is the delay until 20 times to first token are known. Default 2s.
	InitialDelay Duration `yaml:"initial_delay,omitempty" json:"initial_delay,omitempty"`
}

// DeadlineParams are the deadline policy's.
type DeadlineParams struct {
	// Budget is each request's deadline after its arrival; by default the workload's SLO e2e, else none.
	Budget Duration `yaml:"budget,omitempty" json:"budget,omitempty"`
	// TTFTTimeout is the longest wait for an attempt's first token before failing over. Default 10s.
	TTFTTimeout Duration `yaml:"ttft_timeout,omitempty" json:"ttft_timeout,omitempty"`
	// MaxRetryAfter is the longest retry-after worth waiting for on the same deployment. Default 60s.
	MaxRetryAfter Duration `yaml:"max_retry_after,omitempty" json:"max_retry_after,omitempty"`
}

// ErrorKinds are the keys of an error-class action table, sorted.
var ErrorKinds = []string{"auth", "client", "connection", "content_filter", "context_length", "not_found", "server", "throttle", "timeout"}

// RoutingActions are the actions of an error-class action table.
var RoutingActions = []string{"retry-same", "retry-other", "retry-other-provider", "fail", "cooldown"}

// routingParams checks a routing section's failure domain and parameter
// sections: each section belongs to one policy, and its values must lie in
// range. Zero values mean "default" and pass.
func (v *validator) routingParams(path string, r *Routing) {
	known := slices.Contains(Policies, r.Policy)
	if r.FailureDomain != "" {
		fp := path + ".failure_domain"
		if v.oneOf(fp, r.FailureDomain, DomainDeployment, DomainRegion, DomainProvider) && known && !slices.Contains(DomainPolicies, r.Policy) {
			v.addf(fp, "failure_domain is used only by the %s policies; remove it or change the policy", strings.Join(DomainPolicies, ", "))
		}
	}
	section := func(name string, set bool, policy string) bool {
		if set && known && r.Policy != policy {
			v.addf(path+"."+name, "%s parameters are used only by the %s policy; set policy: %s or remove them", name, policy, policy)
			return false
		}
		return set
	}
	nonNegDur := func(p string, d Duration) { v.nonNegative(p, float64(d), d.String()) }
	nonNegInt := func(p string, n int) { v.nonNegative(p, float64(n), strconv.Itoa(n)) }
	notZero := func(p string, f *Fraction) {
		if f != nil && *f == 0 {
			v.addf(p, "must be > 0, got 0")
		}
	}
	notOne := func(p string, f *Fraction) {
		if f != nil && *f >= 1 {
			v.addf(p, "must be below 100%%, got %g%%", float64(*f)*100)
		}
	}
	if o := r.Outlier; section("outlier", o != nil, PolicyPrimarySecondary) {
		p := path + ".outlier"
		if o.Preset != "" {
			v.oneOf(p+".preset", o.Preset, PresetEnvoyDefault, PresetAIGatewayDoc)
		}
		nonNegInt(p+".consecutive_5xx", o.Consecutive5xx)
		nonNegDur(p+".interval", o.Interval)
		nonNegDur(p+".base_ejection", o.BaseEjection)
		nonNegDur(p+".max_ejection_time", o.MaxEjectionTime)
		if o.MaxEjectionTime > 0 && o.MaxEjectionTime < o.BaseEjection {
			v.addf(p+".max_ejection_time", "must be >= base_ejection (%s), got %s", o.BaseEjection, o.MaxEjectionTime)
		}
	}
	if f := r.Fallback; section("fallback", f != nil, PolicyFallback) {
		p := path + ".fallback"
		if f.Preset != "" {
			v.oneOf(p+".preset", f.Preset, PresetLiteLLM)
		}
		nonNegDur(p+".cooldown", f.Cooldown)
		nonNegInt(p+".allowed_fails", f.AllowedFails)
		nonNegInt(p+".min_requests", f.MinRequests)
		nonNegInt(p+".single_deployment_threshold", f.SingleDeploymentThreshold)
		if f.Groups != "" {
			v.oneOf(p+".groups", f.Groups, "each", "one")
		}
		if f.NumRetries != nil && (*f.NumRetries < 0 || *f.NumRetries >= MaxAttempts) {
			v.addf(p+".num_retries", "must be between 0 and %d, got %d", MaxAttempts-1, *f.NumRetries)
		}
		if f.MaxFallbacks != nil && *f.MaxFallbacks < 0 {
			v.addf(p+".max_fallbacks", "must be >= 0, got %d", *f.MaxFallbacks)
		}
		if f.Preset != PresetLiteLLM {
			for _, x := range []struct {
				name string
				set  bool
			}{{"groups", f.Groups != ""}, {"num_retries", f.NumRetries != nil}, {"max_fallbacks", f.MaxFallbacks != nil},
				{"single_deployment_threshold", f.SingleDeploymentThreshold != 0}} {
				if x.set {
					v.addf(p+"."+x.name, "is used only with preset: litellm")
				}
			}
		}
	}
	if b := r.Breaker; section("breaker", b != nil, PolicyCircuitBreaker) {
		p := path + ".breaker"
		nonNegInt(p+".failures", b.Failures)
		notZero(p+".failure_rate", b.FailureRate)
		nonNegInt(p+".min_requests", b.MinRequests)
		nonNegDur(p+".window", b.Window)
		nonNegDur(p+".open", b.Open)
		nonNegDur(p+".max_open", b.MaxOpen)
		open := b.Open
		if open <= 0 {
			open = Duration(30 * time.Second) // the default open time
		}
		if b.MaxOpen > 0 && b.MaxOpen < open {
			v.addf(p+".max_open", "must be >= open (%s), got %s", open, b.MaxOpen)
		}
		nonNegInt(p+".probes", b.Probes)
		nonNegInt(p+".successes", b.Successes)
	}
	if l := r.Latency; section("latency", l != nil, PolicyLatency) {
		p := path + ".latency"
		nonNegDur(p+".half_life", l.HalfLife)
		nonNegDur(p+".penalty", l.Penalty)
		notOne(p+".epsilon", l.Epsilon)
	}
	if q := r.Quota; section("quota", q != nil, PolicyQuotaAware) {
		notOne(path+".quota.headroom", q.Headroom)
	}
	if t := r.PTU; section("ptu", t != nil, PolicyPTUFirst) {
		notZero(path+".ptu.utilization", t.Utilization)
		nonNegDur(path+".ptu.hold", t.Hold)
	}
	if c := r.Cost; section("cost", c != nil, PolicyCostAware) {
		p := path + ".cost"
		if eo := float64(c.ExpectedOutput); eo != math.Trunc(eo) || eo > math.MaxInt32 {
			v.addf(p+".expected_output", "must be a whole number of at most %d, got %s", math.MaxInt32, fmtFloat(eo))
		}
		nonNegDur(p+".slo", c.SLO)
		for i, t := range c.Residency {
			if t == "" {
				v.addf(indexPath(p+".residency", i), "must not be empty: name a region tag")
			}
		}
	}
	if e := r.ErrorClass; section("error_class", e != nil, PolicyErrorClass) {
		p := path + ".error_class"
		for _, k := range sortedMapKeys(e.Actions) {
			kp := keyPath(p+".actions", k)
			if !slices.Contains(ErrorKinds, k) {
				v.addf(kp, "unknown error kind %q; kinds: %s", k, strings.Join(ErrorKinds, ", "))
				continue
			}
			v.oneOf(kp, e.Actions[k], RoutingActions...)
		}
		nonNegDur(p+".cooldown", e.Cooldown)
		nonNegDur(p+".auth_cooldown", e.AuthCooldown)
	}
	if h := r.Hedge; section("hedge", h != nil, PolicyHedged) {
		p := path + ".hedge"
		nonNegDur(p+".delay", h.Delay)
		notZero(p+".quantile", h.Quantile)
		nonNegDur(p+".initial_delay", h.InitialDelay)
	}
	if d := r.Deadline; section("deadline", d != nil, PolicyDeadline) {
		p := path + ".deadline"
		nonNegDur(p+".budget", d.Budget)
		nonNegDur(p+".ttft_timeout", d.TTFTTimeout)
		nonNegDur(p+".max_retry_after", d.MaxRetryAfter)
	}
}

// anys converts a string list to the []any a schema enum takes.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
