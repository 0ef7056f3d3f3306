package routing

import (
	"fmt"

	"github.com/mcbench/mcbench/scenarios"
)

// The functions below turn a scenario's parameter sections into policy
// configs: they start from the documented defaults and overwrite what the
// section sets (a zero or nil field is "not set"; fields whose zero is
// meaningful are pointers in the scenario types). Ranges are checked by
// scenarios.Validate and again by each constructor.

func setDur(dst *int64, d scenarios.Duration) {
	if d > 0 {
		*dst = int64(d)
	}
}

func setInt(dst *int, v int) {
	if v > 0 {
		*dst = v
	}
}

func setFrac(dst *float64, f *scenarios.Fraction) {
	if f != nil {
		*dst = float64(*f)
	}
}

func outlierConfig(p *scenarios.OutlierParams, dom FailureDomain) (OutlierConfig, error) {
	cfg := DefaultOutlierConfig()
	if p != nil {
		switch p.Preset {
		case "", scenarios.PresetEnvoyDefault:
		case scenarios.PresetAIGatewayDoc:
			cfg = AIGatewayDocOutlierConfig()
		default:
			return cfg, fmt.Errorf("routing: unknown outlier preset %q", p.Preset)
		}
		setInt(&cfg.Consecutive5xx, p.Consecutive5xx)
		setDur(&cfg.Interval, p.Interval)
		setDur(&cfg.BaseEjection, p.BaseEjection)
		setDur(&cfg.MaxEjectionTime, p.MaxEjectionTime)
		setFrac(&cfg.MaxEjectionPercent, p.MaxEjection)
		cfg.MaxEjectionTime = max(cfg.MaxEjectionTime, cfg.BaseEjection)
	}
	cfg.Domain = dom
	return cfg, nil
}

func fallbackConfig(p *scenarios.FallbackParams, dom FailureDomain) (FallbackConfig, error) {
	cfg := DefaultFallbackConfig()
	if p != nil {
		if p.Preset != "" {
			return cfg, fmt.Errorf("routing: unknown fallback preset %q", p.Preset)
		}
		setDur(&cfg.Cooldown, p.Cooldown)
		setInt(&cfg.AllowedFails, p.AllowedFails)
		setFrac(&cfg.FailureRate, p.FailureRate)
		setInt(&cfg.MinRequests, p.MinRequests)
	}
	cfg.Domain = dom
	return cfg, nil
}

func liteLLMConfig(p *scenarios.FallbackParams, dom FailureDomain) LiteLLMConfig {
	cfg := DefaultLiteLLMConfig()
	setDur(&cfg.CooldownTime, p.Cooldown)
	setInt(&cfg.AllowedFails, p.AllowedFails)
	setFrac(&cfg.FailureThreshold, p.FailureRate)
	setInt(&cfg.MinRequests, p.MinRequests)
	setInt(&cfg.SingleDeploymentThreshold, p.SingleDeploymentThreshold)
	if p.Groups != "" {
		cfg.Groups = LiteLLMGroups(p.Groups)
	}
	if p.NumRetries != nil {
		cfg.NumRetries = *p.NumRetries
	}
	if p.MaxFallbacks != nil {
		cfg.MaxFallbacks = *p.MaxFallbacks
	}
	cfg.Domain = dom
	return cfg
}

func breakerConfig(p *scenarios.BreakerParams, dom FailureDomain) BreakerConfig {
	cfg := DefaultBreakerConfig()
	if p != nil {
		setInt(&cfg.Failures, p.Failures)
		setFrac(&cfg.FailureRate, p.FailureRate)
		setInt(&cfg.MinRequests, p.MinRequests)
		setDur(&cfg.Window, p.Window)
		setDur(&cfg.Open, p.Open)
		if p.MaxOpen > 0 {
			cfg.MaxOpen = int64(p.MaxOpen)
		} else {
			cfg.MaxOpen = 8 * cfg.Open
		}
		setInt(&cfg.Probes, p.Probes)
		setInt(&cfg.Successes, p.Successes)
		cfg.FailFast = p.FailFast
	}
	cfg.Domain = dom
	return cfg
}

func latencyConfig(p *scenarios.LatencyParams) LatencyConfig {
	cfg := DefaultLatencyConfig()
	if p != nil {
		setDur(&cfg.HalfLife, p.HalfLife)
		setFrac(&cfg.Buffer, p.Buffer)
		setFrac(&cfg.Epsilon, p.Epsilon)
		setDur(&cfg.Penalty, p.Penalty)
	}
	return cfg
}

func quotaConfig(p *scenarios.QuotaParams) QuotaConfig {
	cfg := DefaultQuotaConfig()
	if p != nil {
		setFrac(&cfg.Headroom, p.Headroom)
	}
	return cfg
}

func ptuConfig(p *scenarios.PTUParams) PTUConfig {
	cfg := DefaultPTUConfig()
	if p != nil {
		setFrac(&cfg.Utilization, p.Utilization)
		setDur(&cfg.Hold, p.Hold)
	}
	return cfg
}

func costConfig(p *scenarios.CostParams) CostConfig {
	cfg := DefaultCostConfig()
	if p != nil {
		cfg.ExpectedOutput = int32(min(float64(p.ExpectedOutput), 1<<31-1))
		setDur(&cfg.SLO, p.SLO)
		cfg.Residency = p.Residency
		if p.ProvisionedFree != nil {
			cfg.ProvisionedFree = *p.ProvisionedFree
		}
	}
	return cfg
}

func errorClassConfig(p *scenarios.ErrorClassParams, backoff scenarios.Duration, dom FailureDomain) ErrorClassConfig {
	cfg := DefaultErrorClassConfig()
	setDur(&cfg.Backoff, backoff)
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.Backoff)
	if p != nil {
		if len(p.Actions) > 0 {
			cfg.Actions = make(map[string]Action, len(p.Actions))
			for k, a := range p.Actions {
				cfg.Actions[k] = Action(a)
			}
		}
		setDur(&cfg.Cooldown, p.Cooldown)
		setDur(&cfg.AuthCooldown, p.AuthCooldown)
	}
	cfg.Domain = dom
	return cfg
}

func hedgeConfig(p *scenarios.HedgeParams) HedgeConfig {
	cfg := DefaultHedgeConfig()
	if p != nil {
		setDur(&cfg.Delay, p.Delay)
		setFrac(&cfg.Quantile, p.Quantile)
		setDur(&cfg.InitialDelay, p.InitialDelay)
	}
	return cfg
}

func deadlineConfig(p *scenarios.DeadlineParams, backoff scenarios.Duration) DeadlineConfig {
	cfg := DefaultDeadlineConfig()
	setDur(&cfg.Backoff, backoff)
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.Backoff)
	if p != nil {
		setDur(&cfg.TTFTTimeout, p.TTFTTimeout)
		setDur(&cfg.MaxRetryAfter, p.MaxRetryAfter)
	}
	return cfg
}

// DeadlineBudget returns the deadline a request arriving at arrival should
// carry under routing section r for a workload with SLO e2e slo (both 0:
// none): the engines' side of Request.Deadline.
func DeadlineBudget(r *scenarios.Routing, slo scenarios.Duration, arrival int64) int64 {
	budget := slo
	if r.Deadline != nil && r.Deadline.Budget > 0 {
		budget = r.Deadline.Budget
	}
	if budget <= 0 {
		return 0
	}
	return arrival + int64(budget)
}
