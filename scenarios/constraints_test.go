package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExclusivityRejectsBedrockModels: a strategy that places foundation
// models on Bedrock in a scenario that declares Azure exclusivity fails
// validation, naming the constraint and the placement's line.
func TestExclusivityRejectsBedrockModels(t *testing.T) {
	_, err := Load("../testdata/constraints/federated-exclusive.yaml")
	require.Error(t, err)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Len(t, errs, 1)
	e := errs[0]
	assert.Equal(t, 21, e.Line)
	assert.Equal(t, "strategies[1].placement.model[1]", e.Path)
	assert.Contains(t, e.Msg, "constraints.exclusivity.model")
	assert.Contains(t, e.Msg, `"claude"`)

	// As a what-if it loads, and the violation is reported, not enforced.
	data, err := os.ReadFile("../testdata/constraints/federated-exclusive.yaml")
	require.NoError(t, err)
	s, err := Parse("whatif.yaml", []byte(strings.Replace(string(data), "  - name: bedrock-failover\n", "  - name: bedrock-failover\n    what_if: true\n", 1)))
	require.NoError(t, err)
	assert.Empty(t, Violations(s, 0))
	v := Violations(s, 1)
	require.Len(t, v, 1)
	assert.Equal(t, "constraints.exclusivity.model", v[0].Constraint)
}

const residencyScenario = `
name: residency
providers:
  - name: azure
    kind: azure
    regions: [eastus2, {name: swedencentral, tags: [eu-data-zone]}]
deployments:
  - {name: us, provider: azure, region: eastus2, capacity: {concurrency: 1}, latency: {ttft: 1s}}
  - {name: eu, provider: azure, region: swedencentral, capacity: {concurrency: 1}, latency: {ttft: 1s}}
workloads:
  - {name: eu-chat, tags: [eu-data-zone], arrival: {process: poisson, rate: 1/s}}
constraints:
  residency: [eu-data-zone]
strategies:
  - {name: in-eu, placement: {model: [eu]}}
  - {name: spill-to-us, placement: {model: [eu, us]}}
`

func TestResidencyConfinesTaggedTraffic(t *testing.T) {
	_, err := Parse("residency.yaml", []byte(residencyScenario))
	require.Error(t, err)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Len(t, errs, 1)
	assert.Equal(t, "strategies[1].placement.model[1]", errs[0].Path)
	assert.Contains(t, errs[0].Msg, "eu-data-zone")
	assert.Contains(t, errs[0].Msg, "constraints.residency")

	bad := strings.Replace(residencyScenario, "residency: [eu-data-zone]", "residency: [fedramp-high]", 1)
	_, err = Parse("residency.yaml", []byte(bad))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no region carries tag "fedramp-high"`)
}
