package scenarios

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// routingScenario is a minimal scenario whose one strategy has the given
// routing section (YAML flow mapping).
func routingScenario(routing string) []byte {
	return []byte(`name: r
providers: [{name: azure, kind: azure, regions: [eastus2, westus3]}]
deployments:
  - {name: a, provider: azure, region: eastus2, capacity: {concurrency: 4}, latency: {ttft: 300ms}}
  - {name: b, provider: azure, region: westus3, capacity: {concurrency: 4}, latency: {ttft: 300ms}}
workloads: [{name: w, arrival: {process: poisson, rate: 1/s}}]
strategies: [{name: s, placement: {model: [a, b]}, routing: ` + routing + `}]
`)
}

func TestRoutingParamsLoad(t *testing.T) {
	s, err := Parse("r.yaml", routingScenario(`{policy: circuit-breaker, failure_domain: region, breaker: {failures: 3, failure_rate: 40%, open: 10s}}`))
	require.NoError(t, err)
	r := s.Strategies[0].Routing
	require.NotNil(t, r.Breaker)
	assert.Equal(t, 3, r.Breaker.Failures)
	assert.InDelta(t, 0.4, float64(*r.Breaker.FailureRate), 1e-12)
	assert.Equal(t, "10s", r.Breaker.Open.String())
	assert.Equal(t, DomainRegion, r.FailureDomain)
	assert.Nil(t, r.Outlier, "sections left out stay nil: every default")

	s, err = Parse("r.yaml", routingScenario(`{policy: latency, latency: {buffer: 0%, epsilon: 0}}`))
	require.NoError(t, err)
	require.NotNil(t, s.Strategies[0].Routing.Latency.Buffer, "an explicit 0 is kept apart from a default")
	assert.Zero(t, *s.Strategies[0].Routing.Latency.Buffer)

	for _, p := range Policies {
		_, err := Parse("r.yaml", routingScenario(`{policy: `+p+`}`))
		assert.NoError(t, err, p)
	}
}

func TestRoutingParamsValidation(t *testing.T) {
	for routing, want := range map[string]string{
		`{policy: weighted, weights: {a: 1}, latency: {half_life: 5s}}`:       "latency parameters are used only by the latency policy",
		`{policy: p2c, failure_domain: region}`:                               "failure_domain is used only by",
		`{policy: p2c, weights: {a: 1}}`:                                      "weights are used only by the weighted policy",
		`{policy: fallback, fallback: {preset: litellm, num_retries: 100}}`:   "must be between 0 and 99",
		`{policy: fallback, fallback: {max_fallbacks: 2}}`:                    "is used only with preset: litellm",
		`{policy: cost-aware, cost: {expected_output: 2.5, residency: [""]}}`: "whole number",
		`{policy: deadline, deadline: {ttft_timeout: -1s}}`:                   "must be >= 0",
		`{policy: primary-secondary, outlier: {preset: nginx}}`:               "must be one of envoy-default, aigw-doc",
	} {
		_, err := Parse("r.yaml", routingScenario(routing))
		require.Error(t, err, routing)
		assert.Contains(t, err.Error(), want, routing)
	}
	// An unknown policy is one problem, not one per section.
	_, err := Parse("r.yaml", routingScenario(`{policy: roulette, breaker: {failures: 3}}`))
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "\n")+1, err.Error())
	// Unknown keys inside a section are caught by the loader with a suggestion.
	_, err = Parse("r.yaml", routingScenario(`{policy: circuit-breaker, breaker: {failurs: 3}}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did you mean failures?")
}

func TestRoutingParamsSchema(t *testing.T) {
	sch := compileSchema(t)
	ok := []string{
		`{policy: error-class, error_class: {actions: {content_filter: retry-other-provider}}}`,
		`{policy: fallback, fallback: {preset: litellm, groups: one}}`,
		`{policy: primary-secondary, failure_domain: provider, outlier: {preset: aigw-doc, max_ejection: 100%}}`,
	}
	for _, r := range ok {
		assert.NoError(t, sch.Validate(yamlToJSON(t, routingScenario(r))), r)
	}
	bad := []string{
		`{policy: roulette}`,
		`{policy: error-class, error_class: {actions: {meteor: fail}}}`,
		`{policy: error-class, error_class: {actions: {server: pray}}}`,
		`{policy: circuit-breaker, breaker: {failurs: 3}}`,
		`{policy: circuit-breaker, failure_domain: continent}`,
		`{policy: latency, latency: {buffer: 1.5}}`,
		`{policy: fallback, fallback: {groups: all}}`,
	}
	for _, r := range bad {
		assert.Error(t, sch.Validate(yamlToJSON(t, routingScenario(r))), r)
	}

	raw, err := JSONSchema()
	require.NoError(t, err)
	var s struct {
		Defs map[string]struct {
			Description string `json:"description"`
			Properties  map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(raw, &s))
	for _, def := range []string{"OutlierParams", "FallbackParams", "BreakerParams", "LatencyParams", "QuotaParams", "PTUParams",
		"CostParams", "ErrorClassParams", "HedgeParams", "DeadlineParams"} {
		d, ok := s.Defs[def]
		require.True(t, ok, def)
		assert.NotEmpty(t, d.Description, def)
		for name, p := range d.Properties {
			assert.NotEmpty(t, p.Description, "%s.%s", def, name)
		}
	}
	assert.Contains(t, s.Defs["Routing"].Properties["failure_domain"].Description, "region or provider")
	assert.Contains(t, s.Defs["BreakerParams"].Properties["open"].Description, "Default 30s")
}
