package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/loadgen"
	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/results/threshold"
	"github.com/mcbench/mcbench/scenarios"
	"github.com/mcbench/mcbench/sim"
)

// Exit codes of mcbench twin besides 0 (pass), exitUsage and
// exitThresholds, as they sit in the table of main.go.
const (
	// exitTwinFail: the simulator's prediction is outside the tolerance
	// (the table's 1: a check that failed).
	exitTwinFail = exitFailure
	// exitTwinInvalid: the measurement cannot be trusted (send lag or
	// fake lag beyond its bound, or nothing answered): the table's
	// "nothing measured".
	exitTwinInvalid = exitUnmeasured
	// exitTwinError: the twin could not run to its verdict (a target that
	// does not answer, a file that cannot be written, an interrupt): not
	// 1, which says the model is wrong.
	exitTwinError = exitUnreachable
)

// twinExit gives an error that is neither a usage error nor a verdict the
// exit code exitTwinError, so no script reads it as "the model is wrong".
func twinExit(err error) error {
	var ue usageError
	var ce exitCodeError
	if err == nil || errors.As(err, &ue) || errors.As(err, &ce) {
		return err
	}
	return exitCodeError{exitTwinError, err}
}

// Bounds on a twin run that uses the scenario's own run length: a twin
// sends every request for real, in real time.
const (
	twinMaxRequests = 20000
	twinMaxHorizon  = 30 * time.Minute
)

type twinFlags struct {
	strategy     string
	duration     string
	requests     string
	target       string
	endpoints    string
	tolerance    string
	replications int
	maxSendLag   time.Duration
	maxFakeLag   time.Duration
	noProgress   bool
	out          string
	thresholds   []string
}

func init() {
	var f twinFlags
	cmd := &cobra.Command{
		Use:   "twin SCENARIO --strategy NAME --out DIR",
		Short: "Check the simulator against a load test of the same requests, request by request",
		Long: `Load-test one strategy against the fakes with the scenario's own request stream
(the replay pacer: replication 0, every request at its arrival time), simulate
the same scenario and strategy, and check the prediction against the
measurement: per metric (TTFT and E2E p50, p90, p99 and mean, queue wait,
attempts per request, failures, throttles and timeouts per workload, token
cost) the simulator's replication 0 (the same requests) with its 95% interval
over replications, the measured value and the relative error
(measured − predicted) / predicted against --tolerance; and per request, the
residuals (measured − predicted) of the requests completed in both runs and the
requests whose outcome differs.

Both engines start empty and see the same requests: the scenario's warm-up is
set to none, so every request is compared. Without --duration or --requests the
scenario's own run length is used, up to 20,000 requests and 30 scenario
minutes (the load test runs in real time); longer runs need an explicit flag.

The measurement is trusted only if the load generator sent on time and the fakes
kept their planned clock: a send lag p99 beyond --max-send-lag or a fake lag p99
beyond --max-fake-lag (when the fakes report it) makes it invalid.

--target fake (the default) starts the scenario's fakes in-process; --target
endpoints uses fakes started elsewhere (mcbench fake --scenario FILE --json >
eps.json). A live service has no scenario model to check, so --target live is
refused.

DIR gets load/ and sim/ (run directories: mcbench report and compare read them)
and report/ (report.html, report.md with plots/, csv/ and twin.json).

Exit codes:
  0  pass: every metric with a tolerance is within it
  1  fail: the simulator disagrees with the measurement
  2  usage: a bad flag, an unknown strategy, a malformed --tolerance, --target live
  3  invalid: the machine or the load generator could not keep up (send lag or
     fake lag beyond its bound); rerun on a quieter machine or at a lower rate
  4  error: the twin could not reach a verdict (a target that does not answer,
     a file that cannot be written, an interrupt)
  99 the verdict passed and a --threshold was crossed (thresholds are checked
     against both the load test's and the simulation's summaries)

These are the codes of the table below: 1 is "the check failed", 3 "nothing
trustworthy was measured" (also when every request failed to connect or
authenticate), and 4 stands for a runtime failure, since 1 is the verdict.`,
		Example: `  mcbench twin demo --strategy azure-bedrock-split --duration 3m --out out/twin
  mcbench twin my.yaml --strategy primary --requests 5k --tolerance ttft.p50=2%,e2e.p99=5% --out out/twin
  mcbench fake --scenario my.yaml --json --quiet > eps.json &
  sleep 1; mcbench twin my.yaml --strategy primary --target endpoints --endpoints eps.json --out out/twin`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return twinExit(runTwin(cmd, args[0], &f)) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.strategy, "strategy", "", "strategy to check (required)")
	fl.StringVar(&f.duration, "duration", "", "scenario time of arrivals, e.g. 3m (default: the scenario's run length)")
	fl.StringVar(&f.requests, "requests", "", "number of requests, e.g. 2k (default: the scenario's run length)")
	fl.StringVar(&f.target, "target", "fake", "fake (in-process fakes on loopback) or endpoints (fakes running elsewhere, see --endpoints)")
	fl.StringVar(&f.endpoints, "endpoints", "", "with --target endpoints: a `FILE` holding what 'mcbench fake --json' printed")
	fl.StringVar(&f.tolerance, "tolerance", reports.DefaultTolerance,
		"METRIC.STATISTIC=PERCENT rules, comma-separated: ttft and e2e (p50, p90, p99, mean), wait (mean), attempts (mean), cost (total), failures, throttles and timeouts (a workload name); none for no check")
	fl.IntVar(&f.replications, "replications", 0, "simulated replications for the intervals (default: the scenario's, at least 2)")
	fl.DurationVar(&f.maxSendLag, "max-send-lag", 20*time.Millisecond, "largest send lag p99 (sent − intended) of a valid measurement")
	fl.DurationVar(&f.maxFakeLag, "max-fake-lag", 20*time.Millisecond, "largest fake lag p99 (delivered − planned) of a valid measurement")
	fl.BoolVar(&f.noProgress, "no-progress", false, "do not print the live status line")
	fl.StringVar(&f.out, "out", "", "directory for load/, sim/ and report/ (required)")
	addThresholdFlag(fl, &f.thresholds)
	rootCmd.AddCommand(cmd)
}

func runTwin(cmd *cobra.Command, arg string, f *twinFlags) error {
	s, err := scenarios.Open(arg)
	if err != nil {
		return usageError{err}
	}
	names := make([]string, len(s.Strategies))
	for i := range s.Strategies {
		names[i] = s.Strategies[i].Name
	}
	switch {
	case f.strategy == "":
		return usageError{fmt.Errorf("--strategy is required (scenario %q has: %s)", s.Name, strings.Join(names, ", "))}
	case !slices.Contains(names, f.strategy):
		return usageError{fmt.Errorf("--strategy: scenario %q has no strategy %q (it has: %s)", s.Name, f.strategy, strings.Join(names, ", "))}
	case f.out == "":
		return usageError{errors.New("--out DIR is required (the twin writes DIR/load, DIR/sim and DIR/report)")}
	}
	switch f.target {
	case "fake", "endpoints":
	case "live":
		return usageError{errors.New("--target live: a live service has no scenario model to check the simulator's draws against; twin checks the model against the fakes (--target fake or endpoints). To measure a live service, use mcbench load --target live")}
	default:
		return usageError{fmt.Errorf("--target must be fake or endpoints, got %q", f.target)}
	}
	tol, err := reports.ParseTolerance(f.tolerance, s)
	if err != nil {
		return usageError{fmt.Errorf("--tolerance: %w", err)}
	}
	if f.maxSendLag < 0 || f.maxFakeLag < 0 {
		return usageError{errors.New("--max-send-lag and --max-fake-lag must be ≥ 0 (0: no bound)")}
	}
	if err := applyTwinBounds(cmd, s, f); err != nil {
		return usageError{err}
	}
	ths, err := parseThresholds(f.thresholds)
	if err != nil {
		return err
	}
	if err := checkOutDir("--out", f.out); err != nil {
		return err
	}
	st := &s.Strategies[slices.Index(names, f.strategy)]

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	loadDir, simDir, repDir := filepath.Join(f.out, "load"), filepath.Join(f.out, "sim"), filepath.Join(f.out, "report")

	// 1. The measurement: replication 0's stream at its own arrival times.
	tg, err := openTarget(ctx, cmd, s, &loadFlags{strategy: f.strategy, target: f.target, endpoints: f.endpoints, pacer: "replay"})
	if err != nil {
		return err
	}
	if err := routesCover(s, st, tg.routes, f); err != nil {
		tg.close()
		return usageError{err}
	}
	var progress io.Writer
	if !f.noProgress {
		progress = errOut
		fmt.Fprintf(errOut, "twin: load test of %s (replay, target %s)\n", f.strategy, f.target)
	}
	prices := routePrices(s)
	sum, err := loadgen.Run(ctx, s, tg.routes, loadgen.Options{
		Strategy: f.strategy, Pacer: "replay", Duration: 0, Out: loadDir, Progress: progress,
		SendOutputTokens: true, Prices: prices, Target: f.target,
	})
	tg.close()
	if sum == nil {
		return err
	}
	sum.Version = versionString()
	threshold.Evaluate(ths, sum)
	if werr := results.WriteSummary(loadDir, sum); werr != nil && err == nil {
		err = werr
	}
	if werr := writeRunInfo(loadDir, s); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	if sum.Interrupted {
		return fmt.Errorf("interrupted: the load test in %s stopped before its stream ended; no twin report", loadDir)
	}
	if why := unmeasured(sum); why != "" {
		return exitCodeError{exitTwinInvalid, fmt.Errorf("twin: invalid measurement: the load test in %s: %s", loadDir, why)}
	}

	// 2. The prediction: the same scenario and strategy, every replication.
	parts, err := results.NewParts(simDir)
	if err != nil {
		return err
	}
	total := int64(-1)
	if s.Run.Requests > 0 {
		total = int64(s.Run.Requests) * int64(s.Replications)
	}
	bar := newProgress(errOut, total, "simulating", f.noProgress)
	simSum, err := sim.Run(ctx, s, sim.Options{
		Strategies: []string{f.strategy}, Prices: prices, Progress: bar.add,
		Records: func(strategy string, rep int) (sim.RecordSink, error) { return parts.Open(strategy, rep) },
	})
	bar.finish()
	if err != nil {
		return err
	}
	if simSum.Interrupted {
		return errors.New("interrupted: the simulation stopped early; no twin report")
	}
	simSum.Version = versionString()
	threshold.Evaluate(ths, simSum)
	if err := parts.Merge(); err != nil {
		return err
	}
	if err := results.WriteSummary(simDir, simSum); err != nil {
		return err
	}
	if err := writeRunInfo(simDir, s); err != nil {
		return err
	}

	// 3. The check.
	simRun, err := results.OpenRun(simDir)
	if err != nil {
		return err
	}
	loadRun, err := results.OpenRun(loadDir)
	if err != nil {
		return err
	}
	rep, err := reports.Twin(simRun, loadRun, reports.TwinOptions{
		Tolerance: tol, MaxSendLag: f.maxSendLag, MaxFakeLag: f.maxFakeLag,
		Command: regenerateCommand(cmd), Version: versionString(),
	})
	if err != nil {
		return err
	}
	files, err := rep.Document().Write(repDir, []string{reports.FormatHTML, reports.FormatMarkdown, reports.FormatCSV})
	if err != nil {
		return err
	}
	jsonPath := filepath.Join(repDir, reports.TwinJSONFile)
	if err := writeTwinJSON(jsonPath, rep); err != nil {
		return err
	}
	files = append(files, jsonPath)

	printTwin(w, rep)
	printThresholds(w, "load test", sum)
	printThresholds(w, "simulation", simSum)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "wrote %s (load test) and %s (simulation)\n", loadDir, simDir)
	printFiles(w, repDir, files)

	switch rep.Verdict {
	case reports.VerdictError:
		return exitCodeError{exitTwinError, fmt.Errorf("twin: no verdict: %s", strings.Join(rep.Reasons, "; "))}
	case reports.VerdictInvalid:
		return exitCodeError{exitTwinInvalid, fmt.Errorf("twin: invalid measurement: %s; rerun on a quieter machine or at a lower rate",
			strings.Join(rep.Reasons, "; "))}
	case reports.VerdictFail:
		return exitCodeError{exitTwinFail, fmt.Errorf("twin: fail: the simulator disagrees with the measurement: %s", strings.Join(rep.Reasons, "; "))}
	}
	return thresholdsError(sum, simSum)
}

// applyTwinBounds sets the run length (--duration or --requests, else the
// scenario's own within the twin's bounds), the replications and no
// warm-up.
func applyTwinBounds(cmd *cobra.Command, s *scenarios.Scenario, f *twinFlags) error {
	fl := cmd.Flags()
	switch {
	case fl.Changed("duration") && fl.Changed("requests"):
		return errors.New("--duration and --requests: give one (the run ends at a time or after a number of requests)")
	case fl.Changed("duration"):
		d, err := scenarios.ParseDuration(f.duration)
		if err != nil || d <= 0 {
			return fmt.Errorf("--duration: %q is not a positive duration (examples: 90s, 3m)", f.duration)
		}
		s.Run.Horizon, s.Run.Requests = d, 0
	case fl.Changed("requests"):
		n, err := scenarios.ParseCount(f.requests)
		if err != nil || n < 1 {
			return fmt.Errorf("--requests: %q is not a positive count (examples: 500, 2k)", f.requests)
		}
		s.Run.Requests, s.Run.Horizon = n, 0
	default:
		n, last, err := countStream(s, twinMaxRequests+1)
		if err != nil {
			return err
		}
		if n > twinMaxRequests || s.Run.Horizon.Std() > twinMaxHorizon || time.Duration(last) > twinMaxHorizon {
			length := fmt.Sprintf("more than %s requests", humanCount(twinMaxRequests))
			if n <= twinMaxRequests {
				length = fmt.Sprintf("%s of scenario time", max(s.Run.Horizon.Std(), time.Duration(last)))
			}
			return fmt.Errorf("scenario %q would send %s, and a twin sends every request for real, in real time: bound it with --duration (e.g. --duration 3m) or --requests (e.g. --requests 5k); without a flag twin runs up to %s requests and %s",
				s.Name, length, humanCount(twinMaxRequests), twinMaxHorizon)
		}
	}
	if fl.Changed("replications") {
		if f.replications < 2 || f.replications > 10000 {
			return fmt.Errorf("--replications: must be between 2 and 10000 (the interval needs two), got %d", f.replications)
		}
		s.Replications = f.replications
	}
	s.Replications = max(s.Replications, 2)
	s.Run.Warmup = scenarios.Warmup{}
	return nil
}

// countStream counts replication 0's requests, up to limit, and returns
// the last arrival time it saw.
func countStream(s *scenarios.Scenario, limit int) (n int, last int64, err error) {
	st, err := scenarios.NewStream(s, 0)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	var r scenarios.Request
	for n < limit && st.Next(&r) {
		n++
		last = r.At
	}
	return n, last, st.Err()
}

// routesCover checks that the target reaches every deployment the load
// generator will call for the strategy: those placed in each layer the
// workloads enter (an endpoints file from another scenario may lack some).
func routesCover(s *scenarios.Scenario, st *scenarios.Strategy, routes map[string]loadgen.Route, f *twinFlags) error {
	for _, w := range s.Workloads {
		layer := w.Layer
		if layer == "" {
			layer = scenarios.LayerModel
		}
		for _, name := range st.Placement[layer] {
			if _, ok := routes[name]; !ok {
				return fmt.Errorf("--endpoints %s has no deployment %q, which strategy %q places: start the fakes with this scenario (mcbench fake --scenario SCENARIO --json)",
					f.endpoints, name, st.Name)
			}
		}
	}
	return nil
}

// zeroCount reports whether m is a count that is zero in every
// replication and in the measurement, with no tolerance.
func zeroCount(m *reports.TwinMetric) bool {
	ci := m.PredictedCI95
	return m.Unit == "requests" && m.Predicted == 0 && m.Measured == 0 && math.IsNaN(float64(m.Tolerance)) &&
		(!ci.Defined() || (ci[0] == 0 && ci[1] == 0))
}

func writeTwinJSON(path string, rep *reports.TwinReport) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = rep.WriteJSON(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// printTwin prints the metric table, the residuals, the validity line and
// the verdict.
func printTwin(w io.Writer, r *reports.TwinReport) {
	fmt.Fprintf(w, "twin %s / %s: simulation replication 0 of %d against a load test (target %s), %s requests, %s completed in both\n\n",
		r.Scenario, r.Strategy, r.Simulation.Replications, r.LoadTest.Target, humanCount(r.Simulation.Requests), humanCount(r.Pairing.CompletedInBoth))
	t := newTable(w)
	t.row("metric", "predicted", "95% CI of the mean over reps", "measured", "error", "tolerance", "verdict")
	for i := range r.Metrics {
		m := &r.Metrics[i]
		if zeroCount(m) {
			continue // a count that is zero in every run and unchecked says nothing
		}
		pred, meas, rel, tol := m.Texts()
		t.row(m.ID, pred, m.IntervalText(), meas, rel, tol, m.Verdict)
	}
	t.flush()
	fmt.Fprintln(w)
	for _, l := range r.Lines()[1:] {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "verdict:", strings.ToUpper(r.Verdict))
}
