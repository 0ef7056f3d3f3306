package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mcbench/mcbench/scenarios"
)

// A run killed outright (SIGKILL, a crash, a power cut) leaves what it had
// written: run.json (written first), the records flushed so far
// (outcomes.csv of a load test, flushed every second; a simulation's part
// files in .parts, never merged), and perhaps a checkpoint summary.json
// marked interrupted, or none if it died before the first checkpoint.
// OpenRun reads such a directory rather than refusing it: it takes the
// records from the part files when outcomes.csv was never merged, drops a
// record cut in half at the end of a file, and rebuilds a summary from the
// records and run.json when summary.json is missing, saying in
// Run.Warnings what it did and what is missing.

// recoverRun fills in what a killed run left out. sumErr is the error
// reading summary.json gave (nil when it was read).
func recoverRun(r *Run, sumErr error) error {
	parts, err := partFiles(r.Dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(r.Dir, OutcomesFile)); err != nil && len(parts) > 0 {
		r.parts = parts
		r.Warnings = append(r.Warnings, fmt.Sprintf("the run was killed before merging its records: read from the %d part files in %s (a replication cut short ends where its last record was flushed)",
			len(parts), filepath.Join(r.Dir, PartsDir)))
	}
	if sumErr == nil {
		return nil
	}
	if !errors.Is(sumErr, ErrNotRunDir) || r.Info == nil || (r.parts == nil && !exists(filepath.Join(r.Dir, OutcomesFile))) {
		return sumErr
	}
	r.Rebuilt = true
	r.Summary, err = rebuildSummary(r)
	if err != nil {
		return fmt.Errorf("%w (rebuilding it from the records failed: %v)", sumErr, err)
	}
	r.Warnings = append(r.Warnings, fmt.Sprintf("%s has no %s (the run was killed before writing one): rebuilt the counts from the records and %s; the summary's intervals, Little's-law check and fault baselines are missing, and its counts include the warm-up",
		r.Dir, SummaryFile, RunInfoFile))
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// partFiles lists a run directory's outcome part files (sessions' parts
// excluded) in the order Parts.Merge concatenates them.
func partFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, PartsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, ".csv") && !strings.HasSuffix(n, ".sessions.csv") {
			out = append(out, filepath.Join(dir, PartsDir, n))
		}
	}
	sort.Strings(out)
	return out, nil
}

// wholeLines returns a reader of f up to the end of its last complete
// line: a writer killed mid-flush leaves half a record at the end.
func wholeLines(f *os.File) (io.Reader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	const chunk = 64 << 10
	end := st.Size()
	buf := make([]byte, chunk)
	for end > 0 {
		from := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-from], from)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return io.NewSectionReader(f, 0, from+int64(i)+1), nil
		}
		end = from
	}
	return io.NewSectionReader(f, 0, 0), nil
}

// outcomes calls fn for every complete record the run left: outcomes.csv,
// or the part files under one header when outcomes.csv was never merged.
func (r *Run) outcomes(fn func(*Outcome) error) error {
	if r.parts == nil {
		path := filepath.Join(r.Dir, OutcomesFile)
		f, err := OpenRunFile(path)
		if err != nil {
			return err
		}
		defer f.Close()
		var rd io.Reader = f
		if r.Rebuilt || r.Summary == nil || r.Summary.Interrupted {
			if rd, err = wholeLines(f); err != nil {
				return err
			}
		}
		return ReadOutcomes(rd, path, fn)
	}
	var head bytes.Buffer
	hw, err := NewOutcomeWriter(&head, true)
	if err == nil {
		err = hw.Flush()
	}
	if err != nil {
		return err
	}
	readers := []io.Reader{&head}
	for _, p := range r.parts {
		f, err := OpenRunFile(p)
		if err != nil {
			return err
		}
		defer f.Close()
		rd, err := wholeLines(f)
		if err != nil {
			return err
		}
		readers = append(readers, rd)
	}
	return ReadOutcomes(io.MultiReader(readers...), filepath.Join(r.Dir, PartsDir), fn)
}

// rebuildSummary makes a summary of a run killed before it wrote one: the
// counts per strategy and deployment from the records (warm-up included:
// the report applies its own warm-up rule to the records), every figure
// that needs more than the records null, and for a load test the offered
// load as far as run.json's command line and the records say.
func rebuildSummary(r *Run) (*Summary, error) {
	sc := r.Info.Scenario
	sum := &Summary{Scenario: sc.Name, Seed: sc.Seed, ScenarioSHA256: ScenarioHash(sc), Version: r.Info.Version,
		Source: "sim", Interrupted: true}
	if f := strings.Fields(r.Info.Command); len(f) > 1 && f[1] == "load" {
		sum.Source = "load"
	}
	type acc struct {
		res  Result
		reps map[int32]bool
		deps map[string]int
	}
	var order []string
	byName := map[string]*acc{}
	var lastIntended, lastDone int64
	var nReq uint64
	err := r.outcomes(func(o *Outcome) error {
		a := byName[o.Strategy]
		if a == nil {
			a = &acc{res: Result{Strategy: o.Strategy}, reps: map[int32]bool{}, deps: map[string]int{}}
			byName[o.Strategy] = a
			order = append(order, o.Strategy)
		}
		a.reps[o.Replication] = true
		if o.Kind == KindAttempt {
			i, ok := a.deps[o.Deployment]
			if !ok {
				i = len(a.res.Deployments)
				a.deps[o.Deployment] = i
				a.res.Deployments = append(a.res.Deployments, DeploymentResult{Name: o.Deployment})
			}
			d := &a.res.Deployments[i]
			d.Attempts++
			switch o.Status {
			case StatusOK:
				d.Completed++
			case StatusThrottled:
				d.Throttled++
			case StatusRejected:
				d.Rejected++
			case StatusTimedOut:
				d.TimedOut++
			default:
				d.Failed++
			}
			a.res.Attempts++
			return nil
		}
		nReq++
		lastIntended, lastDone = max(lastIntended, o.Intended), max(lastDone, o.Done)
		a.res.Requests++
		switch o.Status {
		case StatusOK:
			a.res.Completed++
		case StatusThrottled, StatusRejected:
			a.res.Rejected++
		case StatusTimedOut:
			a.res.TimedOut++
		default:
			a.res.Failed++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, errors.New("the records hold no complete record")
	}
	// Strategies in scenario order, then any the scenario does not name.
	rank := func(name string) int {
		i := slices.IndexFunc(sc.Strategies, func(s scenarios.Strategy) bool { return s.Name == name })
		if i < 0 {
			return len(sc.Strategies)
		}
		return i
	}
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	for _, name := range order {
		a := byName[name]
		res := a.res
		res.Replications = len(a.reps)
		deps := res.Deployments
		res.MarkUnmeasured() // counts only: every figure is the report's to compute from the records
		res.Deployments = deps
		for i := range res.Deployments {
			res.Deployments[i].Utilization = Unknown
		}
		sum.Results = append(sum.Results, res)
	}
	if sum.Source == "load" {
		ld := &Load{Pacer: "constant", Rate: nan, Scheduled: nReq, Sent: nReq,
			ScheduleSeconds: float64(lastIntended) / 1e9, DurationSeconds: float64(lastDone) / 1e9,
			AttemptTTFTSeconds: UnmeasuredLatency(), TPOTSeconds: UnmeasuredLatency(),
			ITLPerChunkSeconds: UnmeasuredLatency(), SendLagSeconds: UnmeasuredLatency(), OutputTokensPerSecond: nan}
		// The load block's settings, from the command line run.json keeps
		// (mcbench load's defaults where a flag was not given).
		if v, ok := flagValue(r.Info.Command, "pacer"); ok {
			ld.Pacer = v
		}
		if v, ok := flagValue(r.Info.Command, "rate"); ok {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				ld.Rate = x
			}
		}
		if v, ok := flagValue(r.Info.Command, "warmup"); ok {
			if d, err := time.ParseDuration(v); err == nil {
				ld.WarmupSeconds = d.Seconds()
			}
		}
		sum.Load = ld
	}
	return sum, nil
}

// flagValue finds --name VALUE or --name=VALUE on a command line.
func flagValue(command, name string) (string, bool) {
	f := strings.Fields(command)
	for i, a := range f {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(f) {
			return f[i+1], true
		}
	}
	return "", false
}
