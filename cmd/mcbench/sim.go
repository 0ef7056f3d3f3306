package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/results/threshold"
	"github.com/mcbench/mcbench/scenarios"
	"github.com/mcbench/mcbench/sim"
)

type simFlags struct {
	strategies   []string
	seed         uint64
	replications int
	requests     string
	horizon      string
	out          string
	jsonOut      bool
	records      bool
	workers      int
	noProgress   bool
	pricing      string
	thresholds   []string
}

func init() {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim SCENARIO",
		Short: "Simulate a scenario's strategies and compare them with confidence intervals",
		Long: `Simulate every strategy of a scenario (a YAML file, or the name of an embedded
scenario such as "demo") in a discrete-event simulator. Each strategy runs the
same replications of the same seeded request stream, so differences between
strategies come from the strategies, not from luck.`,
		Example: `  mcbench sim demo
  mcbench sim demo --strategy azure-failover --replications 20
  mcbench sim testdata/textbook/mm10-rho09.yaml --requests 1M --json
  mcbench sim my.yaml --out out/run1 --records`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runSim(cmd, args[0], &f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.strategies, "strategy", nil, "strategy to simulate (repeatable; default: all)")
	fl.Uint64Var(&f.seed, "seed", 0, "master seed (default: the scenario's)")
	fl.IntVar(&f.replications, "replications", 0, "replications per strategy (default: the scenario's)")
	fl.StringVar(&f.requests, "requests", "", "requests per replication, e.g. 200k or 1M, at most 1e9 (default: the scenario's)")
	fl.StringVar(&f.horizon, "horizon", "", "simulated time after which arrivals stop, e.g. 10m, at most 30d (default: the scenario's)")
	fl.StringVar(&f.out, "out", "", "directory for summary.json and run.json (and outcomes.csv, and sessions.csv with sessions, with --records)")
	fl.BoolVar(&f.jsonOut, "json", false, "print the summary as JSON on stdout instead of a table")
	fl.BoolVar(&f.records, "records", false, "with --out, also write one outcome record per attempt and per request")
	fl.IntVar(&f.workers, "workers", 0, "replications simulated at once, 1 to 4 × the number of CPUs (default: number of CPUs)")
	fl.BoolVar(&f.noProgress, "no-progress", false, "do not show a progress bar")
	fl.StringVar(&f.pricing, "pricing", "", "directory of pricing tables for token costs (default: the built-in copy of testdata/pricing)")
	addThresholdFlag(fl, &f.thresholds)
	rootCmd.AddCommand(cmd)
}

func runSim(cmd *cobra.Command, arg string, f *simFlags) error {
	s, err := scenarios.Open(arg)
	if err != nil {
		return usageError{err}
	}
	lim, err := scenarios.CurrentLimits()
	if err != nil {
		return usageError{err}
	}
	if err := applySimOverrides(cmd, s, f, lim); err != nil {
		return usageError{err}
	}
	for _, name := range f.strategies {
		if !slices.ContainsFunc(s.Strategies, func(st scenarios.Strategy) bool { return st.Name == name }) {
			names := make([]string, len(s.Strategies))
			for i := range s.Strategies {
				names[i] = s.Strategies[i].Name
			}
			return usageError{fmt.Errorf("--strategy: scenario %q has no strategy %q (it has: %s)", s.Name, name, strings.Join(names, ", "))}
		}
	}
	if f.records && f.out == "" {
		return usageError{errors.New("--records needs --out DIR")}
	}
	ths, err := parseThresholds(f.thresholds)
	if err != nil {
		return err
	}
	if err := checkOutDir("--out", f.out); err != nil {
		return err
	}
	ctx, stop := interruptContext(context.Background())
	defer stop()

	opt := sim.Options{Strategies: f.strategies, Workers: f.workers, MaxInFlight: lim.InFlight}
	pricing, err := reports.DefaultPricing()
	if f.pricing != "" {
		pricing, err = reports.LoadPricingDir(f.pricing)
		if err != nil {
			return usageError{fmt.Errorf("--pricing: %w", err)}
		}
	}
	if err != nil {
		return err
	}
	opt.Prices = pricing.TokenPrices(s)
	if f.out != "" {
		// run.json first, so a run killed outright still says what it was
		// (`mcbench report` rebuilds the rest from the records).
		if err := writeRunInfo(f.out, s); err != nil {
			return err
		}
		opt.Checkpoint = func(sum *results.Summary) {
			sum.Version = versionString()
			_ = results.WriteSummary(f.out, sum) // best effort: the final write reports errors
		}
	}
	var parts *results.Parts
	if f.records {
		if parts, err = results.NewParts(f.out); err != nil {
			return err
		}
		opt.Records = func(strategy string, rep int) (sim.RecordSink, error) { return parts.Open(strategy, rep) }
	}
	nStrat := len(f.strategies)
	if nStrat == 0 {
		nStrat = len(s.Strategies)
	}
	total := int64(-1)
	if s.Run.Requests > 0 {
		total = int64(s.Run.Requests) * int64(s.Replications) * int64(nStrat)
	}
	bar := newProgress(cmd.ErrOrStderr(), total, "simulating", f.noProgress)
	opt.Progress = bar.add
	start := time.Now()
	sum, err := sim.Run(ctx, s, opt)
	bar.finish()
	var unstable *sim.UnstableError
	if err != nil && (sum == nil || !errors.As(err, &unstable)) {
		return err
	}
	// An unstable strategy stopped early: what finished is still written
	// and printed, and the error says why the run is incomplete.
	runErr := err
	sum.Version = versionString()
	threshold.Evaluate(ths, sum)
	if parts != nil {
		if err := parts.Merge(); err != nil {
			return err
		}
	}
	if f.out != "" {
		if err := results.WriteSummary(f.out, sum); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	if f.jsonOut {
		if err := results.EncodeSummary(w, sum); err != nil {
			return err
		}
		printThresholds(cmd.ErrOrStderr(), "", sum)
	} else {
		printSimTable(w, s, sum, time.Since(start))
		printThresholds(w, "", sum)
		if f.out != "" {
			fmt.Fprintf(w, "\nwrote %s\n", f.out)
		}
	}
	if runErr != nil {
		return runErr
	}
	if sum.Interrupted {
		return interrupted("interrupted: the results above cover what was simulated before the stop")
	}
	return thresholdsError(sum)
}

// applySimOverrides applies sim's flags to the scenario, each checked
// against lim so that a typo such as --requests 1e12 is refused at once.
func applySimOverrides(cmd *cobra.Command, s *scenarios.Scenario, f *simFlags, lim scenarios.Limits) error {
	fl := cmd.Flags()
	if fl.Changed("workers") {
		// 0 and negative numbers are refused rather than read as the
		// default: leaving the flag out is how to ask for it.
		switch {
		case f.workers < 1:
			return fmt.Errorf("--workers: must be at least 1, got %d (leave the flag out for one worker per CPU)", f.workers)
		case f.workers > lim.Workers:
			return fmt.Errorf("--workers: %d is more than the limit of %d (4 × %d CPUs: more workers than CPUs gain nothing and each holds a replication in memory); %s",
				f.workers, lim.Workers, runtime.GOMAXPROCS(0), scenarios.Raise("workers", float64(f.workers)))
		}
	}
	if fl.Changed("seed") {
		s.Seed = f.seed
	}
	if fl.Changed("replications") {
		switch {
		case f.replications < 1:
			return fmt.Errorf("--replications: must be at least 1, got %d", f.replications)
		case f.replications > lim.Replications:
			return fmt.Errorf("--replications: %d is more than the limit of %d; %s",
				f.replications, lim.Replications, scenarios.Raise("replications", float64(f.replications)))
		}
		s.Replications = f.replications
	}
	if fl.Changed("requests") {
		n, err := scenarios.ParseCount(f.requests)
		if err != nil || n < 1 || float64(n) != math.Trunc(float64(n)) {
			return fmt.Errorf("--requests: %q is not a positive whole count (examples: 200000, 200k, 1M)", f.requests)
		}
		if float64(n) > lim.Requests {
			return fmt.Errorf("--requests: %s is more than the limit of %.0f requests per replication; %s",
				f.requests, lim.Requests, scenarios.Raise("requests", float64(n)))
		}
		s.Run.Requests = n
		if !fl.Changed("horizon") {
			s.Run.Horizon = 0
		}
	}
	if fl.Changed("horizon") {
		d, err := scenarios.ParseDuration(f.horizon)
		if err != nil || d <= 0 {
			return fmt.Errorf("--horizon: %q is not a positive duration of at most %s (examples: 10m, 1h)", f.horizon, lim.Horizon)
		}
		if d > lim.Horizon {
			return fmt.Errorf("--horizon: %s is longer than the limit of %s; raise it with %s=horizon=%s", f.horizon, lim.Horizon, scenarios.LimitsEnv, d)
		}
		s.Run.Horizon = d
		if !fl.Changed("requests") {
			s.Run.Requests = 0
		}
	}
	if n := scenarios.ExpectedArrivals(s); s.Run.Requests == 0 && n > lim.Requests {
		return fmt.Errorf("--horizon: %s at the workloads' mean arrival rates brings about %.3g requests per replication, more than the limit of %.0f; add --requests to end sooner, or %s",
			s.Run.Horizon, n, lim.Requests, scenarios.Raise("requests", n))
	}
	if s.Run.Warmup.Duration > 0 && s.Run.Horizon > 0 && s.Run.Warmup.Duration >= s.Run.Horizon {
		return fmt.Errorf("warm-up %s is not shorter than the horizon %s", s.Run.Warmup.Duration, s.Run.Horizon)
	}
	return nil
}

// writeRunInfo writes run.json into a run directory.
func writeRunInfo(dir string, s *scenarios.Scenario) error {
	return results.WriteRunInfo(dir, &results.RunInfo{
		Command: "mcbench " + strings.Join(os.Args[1:], " "), Version: versionString(), Scenario: s, Source: s.Source,
	})
}

// span formats a duration that may be zero (shown as 0s) or undefined (-).
func span(s float64) string {
	if s == 0 {
		return "0s"
	}
	return secs(s)
}

// printSimTable prints one row per strategy: counts, throughput and latency
// with the 95% interval of the mean across replications.
func printSimTable(w io.Writer, s *scenarios.Scenario, sum *results.Summary, took time.Duration) {
	r0 := sum.Results
	reps := 0
	for _, r := range r0 {
		reps = max(reps, r.Replications) // an interrupted run's first strategy may not have started
	}
	fmt.Fprintf(w, "scenario %s  seed %d  replications %d  (simulated in %.2fs)\n\n", sum.Scenario, sum.Seed, reps, took.Seconds())
	tw := newTable(w)
	tw.row("strategy", "requests", "ok", "rejected", "failed", "timed out", "thr/s", "P(wait)", "TTFT p50", "TTFT p99", "E2E mean ±95%", "E2E p99", "tokens $/1k ok")
	for _, r := range sum.Results {
		tw.row(r.Strategy,
			fmt.Sprint(r.Requests), pct(r.Completed, r.Requests), pct(r.Rejected, r.Requests), pct(r.Failed, r.Requests), pct(r.TimedOut, r.Requests),
			figure("%.1f", r.ThroughputRPS), figure("%.3f", float64(r.PWait)),
			secs(r.TTFTSeconds.P50), secs(r.TTFTSeconds.P99),
			meanCI(r.E2ESeconds), secs(r.E2ESeconds.P99), usd(1000*float64(r.TokenCostPerSuccessfulRequest)))
	}
	tw.flush()
	printSessions(w, sum)
	for _, r := range sum.Results {
		for _, v := range r.Violations {
			fmt.Fprintf(w, "\nwhat-if: %s breaks %s: %s", r.Strategy, v.Constraint, v.Message)
		}
	}
	if len(s.Faults) > 0 {
		fmt.Fprintln(w)
		for i, f := range s.Faults {
			target := f.Target
			if f.Kind == scenarios.FaultLink {
				target = fmt.Sprintf("%s<->%s (latency x%g)", f.Target, f.To, f.LatencyFactor)
			}
			fmt.Fprintf(w, "fault: %s of %s from %s for %s\n", f.Kind, target, f.Start, f.Duration)
			t := newTable(w)
			t.row("  strategy", "exposed", "failed", "failed over", "extra E2E", "time to fail over", "time to recover", "extra cost", "sessions", "failed")
			var notes []string
			for _, r := range sum.Results {
				if i >= len(r.Faults) {
					continue
				}
				fr := r.Faults[i]
				t.row("  "+r.Strategy, fmt.Sprint(fr.Requests), pct(fr.Failed, fr.Requests), count(fr.FailedOver),
					signedSecs(float64(fr.ExtraE2ESeconds)), faultTime(float64(fr.TimeToFailoverSeconds), fr.FailoverWhy()),
					faultTime(float64(fr.TimeToRecoverSeconds), fr.RecoverWhy()),
					usd(float64(fr.ExtraCostUSD)), count(fr.Sessions), pct(fr.SessionsFailed, fr.Sessions))
				if why := fr.NegativeExtra(); why != "" {
					notes = append(notes, "  "+r.Strategy+": "+why)
				}
			}
			t.flush()
			for _, n := range notes {
				fmt.Fprintln(w, n)
			}
		}
		fmt.Fprintln(w, "  exposed: requests with an attempt in flight during the window; times from the window's start: to the first exposed request completed on another deployment (fail over), to the end of the last exposed failure (recover)")
	}
}

// figure formats a number, "-" when it was not measured (NaN).
func figure(format string, x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return fmt.Sprintf(format, x)
}

// faultTime writes a fault window's time to fail over or to recover, or
// why it was not observed (never "0" for "not observed").
func faultTime(s float64, why string) string {
	if math.IsNaN(s) {
		return why
	}
	return span(s)
}

// signedSecs writes an extra latency: "-" only when unknown, 0 as "0s".
func signedSecs(s float64) string {
	if math.IsNaN(s) {
		return "-"
	}
	return span(s)
}

// printSessions prints one table per session workload: how its sessions
// fared under each strategy.
func printSessions(w io.Writer, sum *results.Summary) {
	if len(sum.Results) == 0 {
		return
	}
	for i, c := range sum.Results[0].Sessions {
		fmt.Fprintf(w, "\nsessions of %s\n", c.Class)
		t := newTable(w)
		t.row("  strategy", "sessions", "ok", "failed", "latency mean ±95%", "p99", "in SLO", "steps", "retries", "failovers", "cross-cloud/session")
		for _, r := range sum.Results {
			if i >= len(r.Sessions) {
				continue
			}
			x := r.Sessions[i]
			slo := "-"
			if !math.IsNaN(float64(x.SLOAttainment)) {
				slo = fmt.Sprintf("%.1f%%", 100*float64(x.SLOAttainment))
			}
			t.row("  "+r.Strategy, fmt.Sprint(x.Sessions), pct(x.Completed, x.Sessions), pct(x.Failed, x.Sessions),
				meanCI(x.LatencySeconds), secs(x.LatencySeconds.P99), slo,
				fmt.Sprintf("%.2f", x.MeanSteps), fmt.Sprintf("%.3f", x.RetriesPerSession), fmt.Sprintf("%.3f", x.FailoversPerSession),
				bytesText(float64(x.CrossCloudBytesPerSession)))
		}
		t.flush()
	}
}

// bytesText writes a byte count with a decimal unit.
func bytesText(b float64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.2f MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f kB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

// usd writes a dollar amount, "-" when unknown.
func usd(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("$%.2f", x)
}

// count writes a count, "-" for none.
func count(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}
