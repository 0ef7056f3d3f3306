package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcbench/mcbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const legacyDir = "../testdata/legacy-v0"

// sample is a summary with every block, nulls included.
func sample() *Summary {
	cross := int64(12345)
	lat := Latency{Mean: 0.5, P50: 0.4, P90: 0.9, P99: 1.25, Max: 2, MeanCI95: CI{0.45, 0.55}, P99CI95: NoCI}
	return &Summary{Scenario: "s", ScenarioSHA256: "abc", Seed: 7, Version: "v", Source: "load",
		Results: []Result{{Strategy: "a", Replications: 1, Requests: 10, Completed: 8, Rejected: 1, Failed: 1, Attempts: 12,
			ThroughputRPS: 1.0 / 3, ThroughputRPSCI95: NoCI, PWait: 0.25, PWaitCI95: NoCI, WaitSeconds: &lat,
			TTFTSeconds: lat, E2ESeconds: lat, TokenCostUSD: Unknown, TokenCostUSDCI95: NoCI, TokenCostPer1kRequests: Unknown,
			Sessions: []SessionResult{{Class: "agent", Sessions: 3, Completed: 2, Failed: 1, LatencySeconds: lat, SLOAttainment: Unknown,
				MeanSteps: 2.5, FailoversPerSession: Unknown, CrossRegionBytesPerSession: 0.1, CrossCloudBytesPerSession: Unknown,
				StateBytesPerSession: Unknown, CrossCloudBytes: &cross}},
			Faults: []FaultResult{{Kind: "outage", Target: "eastus2", StartSeconds: 1, DurationSeconds: 2, Requests: 3, Failed: 1,
				ExtraE2ESeconds: Unknown, TimeToFailoverSeconds: 0, TimeToRecoverSeconds: 1.5, CostUSD: Unknown, ExtraCostUSD: Unknown}},
			Thresholds: []ThresholdResult{{Expression: "e2e.p99<2s", Value: 1.25, Pass: true},
				{Expression: "cost_per_successful_request<0.01", Value: Unknown, Pass: false}},
			Deployments: []DeploymentResult{{Name: "d", Attempts: 12, Completed: 8, Utilization: Unknown}},
		}},
		Load: &Load{Pacer: "poisson", Rate: 20, DurationSeconds: 3.5, Target: "fake", AttemptTTFTSeconds: lat, TPOTSeconds: lat,
			ITLPerChunkSeconds: lat, SendLagSeconds: lat, OutputTokens: 99, Scheduled: 10, Sent: 10, OutputTokensPerSecond: 28.3,
			Unanswered: 1},
	}
}

func TestSummaryRoundTripIsByteIdentical(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, WriteSummary(dir, sample()))
	first, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	s, err := ReadSummary(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	assert.Equal(t, CurrentSchema, s.SchemaVersion)
	assert.True(t, math.IsNaN(float64(s.Results[0].TokenCostUSD)), "null reads as NaN")
	assert.False(t, s.Results[0].TTFTSeconds.P99CI95.Defined(), "null reads as an undefined interval")
	var again bytes.Buffer
	require.NoError(t, EncodeSummary(&again, s))
	assert.Equal(t, string(first), again.String())
}

// writeRaw writes a summary.json with the given text and returns its path.
func writeRaw(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), SummaryFile)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func encoded(t *testing.T, s *Summary) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, EncodeSummary(&b, s))
	return b.String()
}

func formatError(t *testing.T, err error) *scenarios.FieldError {
	t.Helper()
	require.Error(t, err)
	var fe *scenarios.FieldError
	require.True(t, errors.As(err, &fe), "want a FieldError, got %T: %v", err, err)
	return fe
}

// A 1.2 summary has no thresholds block and no unanswered count: it reads
// without them, and the 1.3 fields round-trip.
func TestSummaryThresholdsAndOlderMinor(t *testing.T) {
	text := encoded(t, sample())
	s, err := ReadSummary(writeRaw(t, text))
	require.NoError(t, err)
	require.Len(t, s.Results[0].Thresholds, 2)
	assert.Equal(t, ThresholdResult{Expression: "e2e.p99<2s", Value: 1.25, Pass: true}, s.Results[0].Thresholds[0])
	assert.False(t, s.Results[0].Thresholds[1].Value.Known())
	assert.Contains(t, text, `"value": null`)
	assert.Equal(t, int64(1), s.Load.Unanswered)

	old := sample()
	old.Results[0].Thresholds, old.Load.Unanswered = nil, 0
	older := encoded(t, old)
	assert.NotContains(t, older, `"thresholds"`, "no thresholds given: no block")
	older = strings.Replace(older, `"schema_version": "`+CurrentSchema+`"`, `"schema_version": "1.2"`, 1)
	older = strings.Replace(older, ",\n    \"unanswered\": 0", "", 1)
	require.NotContains(t, older, "unanswered")
	s, err = ReadSummary(writeRaw(t, older))
	require.NoError(t, err)
	assert.Empty(t, s.Results[0].Thresholds)
	assert.Zero(t, s.Load.Unanswered)
}

func TestReadSummaryRefusesANewerMajor(t *testing.T) {
	text := strings.Replace(encoded(t, sample()), `"schema_version": "`+CurrentSchema+`"`, `"schema_version": "2.3"`, 1)
	p := writeRaw(t, text)
	_, err := ReadSummary(p)
	fe := formatError(t, err)
	assert.Equal(t, "schema_version", fe.Path)
	assert.Equal(t, [2]int{2, 3}, [2]int{fe.Line, fe.Column}, "the field's position")
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), "2.3")
	assert.Contains(t, err.Error(), CurrentSchema)
}

func TestReadSummaryUnknownFields(t *testing.T) {
	text := strings.Replace(encoded(t, sample()), `"seed": 7,`, `"seed": 7, "colour": "blue",`, 1)
	// Same version: an unknown field is a typo or damage, and is refused.
	_, err := ReadSummary(writeRaw(t, text))
	fe := formatError(t, err)
	assert.Equal(t, "colour", fe.Path)
	assert.Positive(t, fe.Line, "the unknown field's position")
	// A newer minor may add fields: they are skipped.
	newer := strings.Replace(text, `"schema_version": "`+CurrentSchema+`"`, `"schema_version": "1.9"`, 1)
	s, err := ReadSummary(writeRaw(t, newer))
	require.NoError(t, err)
	assert.Equal(t, "1.9", s.SchemaVersion)
	assert.Equal(t, uint64(7), s.Seed)
}

func TestReadSummaryTruncated(t *testing.T) {
	text := encoded(t, sample())
	p := writeRaw(t, text[:len(text)/2])
	_, err := ReadSummary(p)
	fe := formatError(t, err)
	assert.Equal(t, p, fe.File)
	assert.Greater(t, fe.Line, 1)
	assert.Contains(t, fe.Msg, "truncated")
}

func TestReadSummaryWrongType(t *testing.T) {
	text := strings.Replace(encoded(t, sample()), `"requests": 10,`, `"requests": "ten",`, 1)
	p := writeRaw(t, text)
	_, err := ReadSummary(p)
	fe := formatError(t, err)
	assert.Equal(t, "results.requests", fe.Path)
	assert.Equal(t, 12, fe.Line, "the line of the field")
	assert.Contains(t, err.Error(), "got a JSON string, want an integer")

	// A number where an interval (pair or null) belongs.
	text = strings.Replace(encoded(t, sample()), `"throughput_rps_ci95": null`, `"throughput_rps_ci95": 3`, 1)
	_, err = ReadSummary(writeRaw(t, text))
	assert.Contains(t, formatError(t, err).Path, "throughput_rps_ci95")
}

func TestReadSummaryRefusesWhatCannotBeRight(t *testing.T) {
	for name, edit := range map[string][2]string{
		"bad source":        {`"source": "load"`, `"source": "guess"`},
		"not a version":     {`"schema_version": "` + CurrentSchema + `"`, `"schema_version": "one"`},
		"counts add up":     {`"completed": 8,`, `"completed": 80,`},
		"missing load":      {`"load": {`, `"nothing": {`},
		"more than a value": {"\n}\n", "\n}\n{}\n"},
	} {
		t.Run(name, func(t *testing.T) {
			text := encoded(t, sample())
			require.Contains(t, text, edit[0])
			_, err := ReadSummary(writeRaw(t, strings.Replace(text, edit[0], edit[1], 1)))
			formatError(t, err)
		})
	}
	_, err := ReadSummary(filepath.Join(t.TempDir(), SummaryFile))
	assert.ErrorIs(t, err, ErrNotRunDir)
}

// The 0.0 layout (before schema_version) is migrated: a load test's
// pacer, rate, duration and warm-up move into the load block, and the
// zeros it wrote for what it did not measure become null.
func TestReadSummaryMigratesLegacyLayout(t *testing.T) {
	s, err := ReadSummary(filepath.Join(legacyDir, "load", SummaryFile))
	require.NoError(t, err)
	assert.Equal(t, "0.0", s.SchemaVersion)
	require.NotNil(t, s.Load)
	assert.Equal(t, "constant", s.Load.Pacer)
	assert.Equal(t, 10.0, s.Load.Rate)
	assert.Greater(t, s.Load.DurationSeconds, 3.0)
	assert.Nil(t, s.Results[0].WaitSeconds, "0.0 wrote zeros for an unmeasured wait")
	assert.Nil(t, s.Results[0].Little)
	assert.Equal(t, int64(30), s.Results[0].Requests)

	sim, err := ReadSummary(filepath.Join(legacyDir, "sim", SummaryFile))
	require.NoError(t, err)
	assert.Nil(t, sim.Load)
	require.Len(t, sim.Results, 2)
	require.NotNil(t, sim.Results[0].WaitSeconds)
	require.Len(t, sim.Results[0].Faults, 1)
	assert.Equal(t, int64(8446), sim.Results[0].Faults[0].Requests)

	run, err := OpenRun(filepath.Join(legacyDir, "load"))
	require.NoError(t, err)
	assert.True(t, run.HashVerified, "the scenario in a 0.0 run.json still hashes to its summary's")
	assert.True(t, run.HasOutcomes)
	n := 0
	require.NoError(t, run.Outcomes(func(o *Outcome) error { n++; return nil }))
	assert.Equal(t, 60, n, "30 requests, one attempt each")
}

func TestReadRunInfo(t *testing.T) {
	ri, err := ReadRunInfo(filepath.Join(legacyDir, "sim", RunInfoFile))
	require.NoError(t, err)
	assert.Equal(t, "0.0", ri.SchemaVersion)
	require.NotNil(t, ri.Scenario)
	assert.Equal(t, "demo", ri.Scenario.Name)

	// Write → read → write is byte-identical.
	dir := t.TempDir()
	require.NoError(t, WriteRunInfo(dir, ri))
	first, err := os.ReadFile(filepath.Join(dir, RunInfoFile))
	require.NoError(t, err)
	again, err := ReadRunInfo(filepath.Join(dir, RunInfoFile))
	require.NoError(t, err)
	dir2 := t.TempDir()
	require.NoError(t, WriteRunInfo(dir2, again))
	second, err := os.ReadFile(filepath.Join(dir2, RunInfoFile))
	require.NoError(t, err)
	assert.Equal(t, string(first), string(second))

	var raw map[string]any
	require.NoError(t, json.Unmarshal(first, &raw))
	delete(raw, "scenario")
	b, err := json.Marshal(raw)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), RunInfoFile)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	_, err = ReadRunInfo(p)
	assert.Equal(t, "scenario", formatError(t, err).Path)
}

// CurrentSchema and its parts are written twice (a string for the files,
// integers for the comparisons); they must say the same.
func TestCurrentSchemaParts(t *testing.T) {
	assert.Equal(t, CurrentSchema, fmt.Sprintf("%d.%d", currentMajor, currentMinor))
}
