package scenarios

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Routing weights accept percentages as fractions do (the README: fractions
// accept "10%"), read by the same parser.
func TestWeightsAcceptPercentages(t *testing.T) {
	_, err := Parse("r.yaml", routingScenario(`{policy: weighted, weights: {a: 20%, b: " 80 %"}}`))
	require.Error(t, err, `"80 %" (a space before %) is not a percentage, as in fractions`)
	s, err := Parse("r.yaml", routingScenario(`{policy: weighted, weights: {a: 20%, b: 80%}}`))
	require.NoError(t, err)
	assert.Equal(t, Weights{"a": 0.2, "b": 0.8}, s.Strategies[0].Routing.Weights)

	s, err = Parse("r.yaml", routingScenario(`{policy: weighted, weights: {a: 3, b: 12.5%}}`))
	require.NoError(t, err)
	assert.Equal(t, Weights{"a": 3, "b": 0.125}, s.Strategies[0].Routing.Weights, "numbers and percentages mix")

	// Defaults still fill the unnamed deployment with weight 1.
	s, err = Parse("r.yaml", routingScenario(`{policy: weighted, weights: {a: 50%}}`))
	require.NoError(t, err)
	assert.Equal(t, Weights{"a": 0.5, "b": 1}, s.Strategies[0].Routing.Weights)

	// "10%" reads the same as a fraction and as a weight.
	f, err := ParseFraction("10%")
	require.NoError(t, err)
	s, err = Parse("r.yaml", routingScenario(`{policy: weighted, weights: {a: 10%, b: 1}}`))
	require.NoError(t, err)
	assert.Equal(t, float64(f), s.Strategies[0].Routing.Weights["a"])

	// The resolved scenario round-trips through JSON (run.json).
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"weights":{"a":0.1,"b":1}`)

	// The JSON Schema accepts the percentage too.
	sch := compileSchema(t)
	assert.NoError(t, sch.Validate(yamlToJSON(t, routingScenario(`{policy: weighted, weights: {a: 20%, b: 80%}}`))))
	assert.Error(t, sch.Validate(yamlToJSON(t, routingScenario(`{policy: weighted, weights: {a: twenty}}`))))
}

// Bad weights are all reported, each at its own line, column and path.
func TestWeightsErrors(t *testing.T) {
	errs := parseErrors(t, string(routingScenario(`{policy: weighted, weights: {a: twenty, b: -5%}}`)))
	require.Len(t, errs, 2, "%v", errs)
	assert.Equal(t, `strategies[0].routing.weights.a`, errs[0].Path)
	assert.Contains(t, errs[0].Msg, "must be a number or a percentage")
	assert.Equal(t, 7, errs[0].Line)
	assert.Positive(t, errs[0].Column)
	assert.Equal(t, `strategies[0].routing.weights.b`, errs[1].Path)
	assert.Contains(t, errs[1].Msg, "must be a number >= 0")

	errs = parseErrors(t, string(routingScenario(`{policy: weighted, weights: [a, b]}`)))
	assert.Contains(t, errs[0].Msg, "expected a mapping of deployment name to weight")

	errs = parseErrors(t, string(routingScenario(`{policy: weighted, weights: {a: .nan, b: 1}}`)))
	assert.Contains(t, errs[0].Error(), "weights")
}
