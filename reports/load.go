package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mcbench/mcbench/scenarios"
)

// Files of a run directory.
const (
	SummaryFile  = "summary.json"
	RunInfoFile  = "run.json"
	OutcomesFile = "outcomes.csv"
)

// Run is a run directory opened for reporting: its summary and run info,
// decoded into this package's own structs so reports depend on the JSON
// shapes, not on the simulator's or load generator's Go types.
type Run struct {
	// Dir is the run directory.
	Dir string
	// Summary is summary.json.
	Summary Summary
	// Info is run.json.
	Info RunInfo
	// HasOutcomes is true when outcomes.csv exists (sim --records, or load).
	HasOutcomes bool
	// HashVerified is true when the scenario in run.json hashes to the
	// summary's scenario_sha256 (the run directory is self-consistent).
	HashVerified bool
}

// RunInfo is the shape of run.json.
type RunInfo struct {
	Command  string              `json:"command"`
	Version  string              `json:"version"`
	Scenario *scenarios.Scenario `json:"scenario"`
	Source   string              `json:"scenario_source"`
}

// Summary is the shape of summary.json: the simulator's schema, plus the
// load test's fields when Source is "load".
type Summary struct {
	Scenario       string            `json:"scenario"`
	ScenarioSHA256 string            `json:"scenario_sha256"`
	Seed           uint64            `json:"seed"`
	Version        string            `json:"version"`
	Source         string            `json:"source"`
	Interrupted    bool              `json:"interrupted"`
	Results        []StrategySummary `json:"results"`
	// Load-test fields; zero for a simulation.
	Load            *LoadSummary `json:"load,omitempty"`
	Pacer           string       `json:"pacer,omitempty"`
	Rate            float64      `json:"rate,omitempty"`
	DurationSeconds float64      `json:"duration_seconds,omitempty"`
	// WarmupSeconds is the load test's warm-up (mcbench load --warmup).
	WarmupSeconds float64 `json:"warmup_seconds,omitempty"`
}

// StrategySummary is one entry of summary.json's results.
type StrategySummary struct {
	Strategy          string              `json:"strategy"`
	Replications      int                 `json:"replications"`
	Requests          int64               `json:"requests"`
	Completed         int64               `json:"completed"`
	Rejected          int64               `json:"rejected"`
	Failed            int64               `json:"failed"`
	TimedOut          int64               `json:"timed_out"`
	Attempts          int64               `json:"attempts"`
	ThroughputRPS     float64             `json:"throughput_rps"`
	ThroughputRPSCI95 *[2]float64         `json:"throughput_rps_ci95"`
	PWait             *float64            `json:"p_wait"`
	WaitSeconds       LatencySummary      `json:"wait_seconds"`
	TTFTSeconds       LatencySummary      `json:"ttft_seconds"`
	E2ESeconds        LatencySummary      `json:"e2e_seconds"`
	Deployments       []DeploymentSummary `json:"deployments"`
	// Sessions and Faults are the simulator's (and, for sessions, the load
	// generator's) blocks; see sim.SessionResult and sim.FaultResult.
	Sessions []SessionSummary `json:"sessions,omitempty"`
	Faults   []FaultSummary   `json:"faults,omitempty"`
}

// SessionSummary is one session workload's entry in summary.json.
type SessionSummary struct {
	Class                      string         `json:"class"`
	Sessions                   int64          `json:"sessions"`
	Completed                  int64          `json:"completed"`
	Failed                     int64          `json:"failed"`
	LatencySeconds             LatencySummary `json:"latency_seconds"`
	SLOAttainment              *float64       `json:"slo_attainment"`
	MeanSteps                  float64        `json:"mean_steps"`
	RetriesPerSession          float64        `json:"retries_per_session"`
	FailoversPerSession        float64        `json:"failovers_per_session"`
	CrossRegionBytesPerSession float64        `json:"cross_region_bytes_per_session"`
	CrossCloudBytesPerSession  float64        `json:"cross_cloud_bytes_per_session"`
	StateBytesPerSession       float64        `json:"state_bytes_per_session"`
}

// FaultSummary is one fault window's entry in summary.json (simulator).
type FaultSummary struct {
	Kind                  string   `json:"kind"`
	Target                string   `json:"target"`
	To                    string   `json:"to"`
	StartSeconds          float64  `json:"start_seconds"`
	DurationSeconds       float64  `json:"duration_seconds"`
	Requests              int64    `json:"requests"`
	Failed                int64    `json:"failed"`
	ExtraE2ESeconds       *float64 `json:"extra_e2e_seconds"`
	TimeToRecoverSeconds  *float64 `json:"time_to_recover_seconds"`
	CostUSD               *float64 `json:"cost_usd"`
	ExtraCostUSD          *float64 `json:"extra_cost_usd"`
	Sessions              int64    `json:"sessions"`
	SessionsFailed        int64    `json:"sessions_failed"`
	TimeToFailoverSeconds *float64 `json:"time_to_failover_seconds"`
}

// LatencySummary is a latency distribution in seconds as summary.json has it.
type LatencySummary struct {
	Mean     float64     `json:"mean"`
	P50      float64     `json:"p50"`
	P90      float64     `json:"p90"`
	P99      float64     `json:"p99"`
	Max      float64     `json:"max"`
	MeanCI95 *[2]float64 `json:"mean_ci95"`
	P99CI95  *[2]float64 `json:"p99_ci95"`
}

// DeploymentSummary counts one deployment's attempts.
type DeploymentSummary struct {
	Name        string  `json:"name"`
	Attempts    int64   `json:"attempts"`
	Completed   int64   `json:"completed"`
	Throttled   int64   `json:"throttled"`
	Rejected    int64   `json:"rejected"`
	Failed      int64   `json:"failed"`
	TimedOut    int64   `json:"timed_out"`
	Utilization float64 `json:"utilization"`
}

// LoadSummary is the "load" object of a load test's summary.json.
type LoadSummary struct {
	AttemptTTFTSeconds    LatencySummary `json:"attempt_ttft_seconds"`
	TPOTSeconds           LatencySummary `json:"tpot_seconds"`
	ITLPerChunkSeconds    LatencySummary `json:"itl_per_chunk_seconds"`
	SendLagSeconds        LatencySummary `json:"send_lag_seconds"`
	OutputTokens          int64          `json:"output_tokens"`
	OutputTokensPerSecond float64        `json:"output_tokens_per_second"`
}

// ErrNotRunDir is returned (wrapped) when a directory is not a run directory.
var ErrNotRunDir = errors.New("not a run directory")

// OpenRun reads a run directory's summary.json and run.json. outcomes.csv
// is optional (a simulation without --records has none); reports then cover
// what the summary holds and say what is missing.
func OpenRun(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotRunDir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file (give the directory written by `mcbench sim --out` or `mcbench load --out`)", ErrNotRunDir, dir)
	}
	r := &Run{Dir: dir}
	if err := readJSON(filepath.Join(dir, SummaryFile), &r.Summary); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(dir, RunInfoFile), &r.Info); err != nil {
		return nil, err
	}
	if r.Info.Scenario == nil {
		return nil, fmt.Errorf("%s: no scenario in %s", dir, RunInfoFile)
	}
	if _, err := os.Stat(filepath.Join(dir, OutcomesFile)); err == nil {
		r.HasOutcomes = true
	}
	r.HashVerified = ScenarioHash(r.Info.Scenario) == r.Summary.ScenarioSHA256
	return r, nil
}

// ScenarioHash is the SHA-256 of the scenario's JSON encoding: the same
// hash the simulator and load generator write as scenario_sha256 (the
// resolved scenario round-trips through JSON unchanged).
func ScenarioHash(s *scenarios.Scenario) string {
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s has no %s (give the directory written by `mcbench sim --out` or `mcbench load --out`)",
			ErrNotRunDir, filepath.Dir(path), filepath.Base(path))
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// IsLoad reports whether the run is a load test.
func (r *Run) IsLoad() bool { return r.Summary.Source == "load" }

// Scenario is the resolved scenario the run used.
func (r *Run) Scenario() *scenarios.Scenario { return r.Info.Scenario }
