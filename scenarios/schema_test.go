package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := JSONSchema()
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("scenario.schema.json", doc))
	sch, err := c.Compile("scenario.schema.json")
	require.NoError(t, err)
	return sch
}

// yamlToJSON converts a YAML scenario to the JSON instance an editor would
// check against the schema.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	j, err := json.Marshal(v)
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	require.NoError(t, err)
	return inst
}

func TestSchemaAcceptsGoodScenarios(t *testing.T) {
	sch := compileSchema(t)
	files, err := filepath.Glob("../testdata/good/*.yaml")
	require.NoError(t, err)
	lib, err := filepath.Glob("library/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, lib)
	for _, path := range append(files, lib...) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.NoError(t, sch.Validate(yamlToJSON(t, data)), path)
	}
}

func TestSchemaRejectsBadShapes(t *testing.T) {
	sch := compileSchema(t)
	for _, name := range []string{"unknown-keys", "unit-typos", "wrong-types", "bad-enums", "missing-required", "distributions"} {
		data, err := os.ReadFile(filepath.Join("../testdata/bad", name+".yaml"))
		require.NoError(t, err)
		assert.Error(t, sch.Validate(yamlToJSON(t, data)), name)
	}
}

func TestSchemaUnits(t *testing.T) {
	sch := compileSchema(t)
	base := func(latency string) []byte {
		return []byte(`name: m
providers: [{name: azure, kind: azure, regions: [eastus2]}]
deployments:
  - {name: d, provider: azure, region: eastus2, capacity: {concurrency: 4, quota: {tokens: 2M/min}}, latency: {ttft: ` + latency + `}}
workloads: [{name: w, arrival: {process: poisson, rate: 1/s}}]
strategies: [{name: s, placement: {model: [d]}}]
`)
	}
	for _, ok := range []string{"250ms", "1h30m", "1.5d", "{dist: exponential, mean: 1s}", "{dist: lognormal, median: 400ms, p99: 2s}", "{dist: empirical, values: [1s, 2s]}"} {
		assert.NoError(t, sch.Validate(yamlToJSON(t, base(ok))), ok)
		_, err := Parse("x.yaml", base(ok))
		assert.NoError(t, err, "the loader agrees: %s", ok)
	}
	for _, bad := range []string{"250 ms", "5", "{dist: gamma, mean: 1s}", "{dist: lognormal, median: 1s}", "{dist: exponential, mean: 1s, max: 2s}"} {
		assert.Error(t, sch.Validate(yamlToJSON(t, base(bad))), bad)
		_, err := Parse("x.yaml", base(bad))
		assert.Error(t, err, "the loader agrees: %s", bad)
	}
}

func TestSchemaDescriptions(t *testing.T) {
	raw, err := JSONSchema()
	require.NoError(t, err)
	var s struct {
		Defs map[string]struct {
			Description string `json:"description"`
			Properties  map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
			AdditionalProperties *bool `json:"additionalProperties"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(raw, &s))
	dep := s.Defs["Deployment"]
	assert.Contains(t, dep.Description, "Deployment is a model")
	assert.Contains(t, dep.Properties["provider"].Description, "declared provider")
	require.NotNil(t, dep.AdditionalProperties)
	assert.False(t, *dep.AdditionalProperties)
	assert.Contains(t, s.Defs["Duration"].Description, "Duration is a length of time")
}
