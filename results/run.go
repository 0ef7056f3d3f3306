package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mcbench/mcbench/scenarios"
)

// Run is a run directory opened for reading: its summary and run info,
// and whether it holds records.
type Run struct {
	// Dir is the run directory.
	Dir string
	// Summary is summary.json.
	Summary *Summary
	// Info is run.json.
	Info *RunInfo
	// HasOutcomes is true when outcomes.csv exists (sim --records, or load).
	HasOutcomes bool
	// HasSessions is true when sessions.csv exists.
	HasSessions bool
	// HashVerified is true when the scenario in run.json hashes to the
	// summary's scenario_sha256 (the run directory is self-consistent).
	HashVerified bool
	// Rebuilt is true when the run had no summary.json (it was killed
	// before writing one) and Summary was rebuilt from the records and
	// run.json: counts only (see recover.go).
	Rebuilt bool
	// Warnings say what OpenRun recovered from a run killed outright and
	// what is missing; a report shows them.
	Warnings []string
	// parts are the part files the records are read from when a killed
	// simulation never merged them into outcomes.csv.
	parts []string
}

// OpenRun reads a run directory's summary.json and run.json (see
// ReadSummary and ReadRunInfo for what is accepted). outcomes.csv and
// sessions.csv are optional: a simulation without --records has none.
func OpenRun(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("%w: %s is a symbolic link loop: following it never reaches a directory", ErrNotRunDir, dir)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNotRunDir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file (give the directory written by `mcbench sim --out` or `mcbench load --out`)", ErrNotRunDir, dir)
	}
	r := &Run{Dir: dir}
	r.Summary, err = ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil && !errors.Is(err, ErrNotRunDir) {
		return nil, err
	}
	sumErr := err
	if r.Info, err = ReadRunInfo(filepath.Join(dir, RunInfoFile)); err != nil {
		if sumErr != nil {
			return nil, sumErr
		}
		return nil, err
	}
	if err := recoverRun(r, sumErr); err != nil {
		return nil, err
	}
	// The record files are optional, but one that exists must be readable
	// under OpenRunFile's rules: a FIFO or a link outside the directory is
	// refused here, not taken for "no records".
	if r.HasOutcomes, err = hasRunFile(filepath.Join(dir, OutcomesFile)); err != nil {
		return nil, err
	}
	r.HasOutcomes = r.HasOutcomes || r.parts != nil
	if r.HasSessions, err = hasRunFile(filepath.Join(dir, SessionsFile)); err != nil {
		return nil, err
	}
	r.HashVerified = ScenarioHash(r.Info.Scenario) == r.Summary.ScenarioSHA256
	return r, nil
}

// IsLoad reports whether the run is a load test.
func (r *Run) IsLoad() bool { return r.Summary.Source == "load" }

// Scenario is the resolved scenario the run used.
func (r *Run) Scenario() *scenarios.Scenario { return r.Info.Scenario }

// Outcomes opens the run's outcomes.csv and calls fn for every record
// (reused between calls).
//
// The records of a run killed outright are read as far as they are whole
// (see recover.go).
func (r *Run) Outcomes(fn func(*Outcome) error) error { return r.outcomes(fn) }

// hasRunFile reports whether the optional run file exists, refusing one
// OpenRunFile would refuse.
func hasRunFile(path string) (bool, error) {
	_, err := checkRunFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
