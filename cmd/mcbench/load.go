package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/backends/routing"
	"github.com/mcbench/mcbench/internal/loopback"
	"github.com/mcbench/mcbench/loadgen"
	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/results/threshold"
	"github.com/mcbench/mcbench/scenarios"
)

type loadFlags struct {
	strategy   string
	target     string
	live       bool
	pacer      string
	rate       float64
	duration   time.Duration
	out        string
	jsonOut    bool
	promAddr   string
	listenAny  bool
	noStream   bool
	workers    uint64
	grace      time.Duration
	noProgress bool
	endpoints  string
	warmup     time.Duration
	thresholds []string
}

func init() {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load SCENARIO --strategy NAME",
		Short: "Load-test a strategy's routing path against the fakes or the live endpoints",
		Long: `Push a scenario's workload through one strategy's routing path with an
open-loop load generator built on vegeta. Latency is measured from each
request's intended send time, so a slow target shows in the numbers instead
of silently lowering the offered load (no coordinated omission).

--target fake (the default) starts the scenario's fakes in-process on loopback
and attacks them. --target live sends real traffic to the scenario's endpoints
with credentials from the environment; it also needs --live.

Pacers: constant, poisson (seeded), ramp (0 to --rate over --duration), sine
(mean --rate, amplitude half of it), steps (five steps up to --rate), replay
(the scenario's own request stream and arrival times, as the simulator sees it).`,
		Example: `  mcbench load demo --strategy azure-failover --rate 20 --duration 30s
  mcbench load demo --strategy azure-bedrock-split --pacer replay --duration 1m --out out/load1
  mcbench load demo --strategy azure-failover --pacer poisson --rate 50 --duration 2m --json
  mcbench fake --scenario demo --json --quiet > eps.json &
  sleep 1; mcbench load demo --strategy azure-failover --target endpoints --endpoints eps.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runLoad(cmd, args[0], &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.strategy, "strategy", "", "strategy to drive (required)")
	fl.StringVar(&f.target, "target", "fake", "fake (in-process fakes on loopback), endpoints (fakes running elsewhere, see --endpoints) or live")
	fl.StringVar(&f.endpoints, "endpoints", "", "with --target endpoints: a `FILE` holding what 'mcbench fake --json' printed")
	fl.BoolVar(&f.live, "live", false, "confirm that --target live may send real, billed traffic")
	fl.StringVar(&f.pacer, "pacer", "constant", "constant, poisson, ramp, sine, steps or replay")
	fl.Float64Var(&f.rate, "rate", 10, "requests per second (mean or final rate; ignored by replay)")
	fl.DurationVar(&f.duration, "duration", 30*time.Second, "how long to send (0: until the schedule ends)")
	fl.StringVar(&f.out, "out", "", "directory for summary.json, run.json, outcomes.csv, sessions.csv (with sessions), results.vegeta and latency.hlog")
	fl.BoolVar(&f.jsonOut, "json", false, "print the summary as JSON on stdout")
	fl.StringVar(&f.promAddr, "prometheus-addr", "", "serve Prometheus metrics on this address while running (loopback only; a bare :PORT is 127.0.0.1:PORT)")
	fl.BoolVar(&f.listenAny, "listen-any", false, "allow a non-loopback --prometheus-addr (a bare :PORT then listens on every interface)")
	fl.BoolVar(&f.noStream, "no-stream", false, "use non-streaming calls")
	fl.Uint64Var(&f.workers, "workers", 64, "initial attack workers, at most 10000 (more are started as needed)")
	fl.DurationVar(&f.grace, "grace", 30*time.Second, "after a stop, how long in-flight requests may finish")
	fl.BoolVar(&f.noProgress, "no-progress", false, "do not print the live status line")
	fl.DurationVar(&f.warmup, "warmup", 0, "leave requests due in this first part of the run out of the statistics (they stay in the records)")
	addThresholdFlag(fl, &f.thresholds)
	rootCmd.AddCommand(cmd)
}

func runLoad(cmd *cobra.Command, arg string, f *loadFlags) error {
	if f.strategy == "" {
		return usageError{errors.New("--strategy is required")}
	}
	s, err := scenarios.Open(arg)
	if err != nil {
		return usageError{err}
	}
	if f.promAddr != "" {
		if f.promAddr, err = loopback.Resolve(f.promAddr, f.listenAny); err != nil {
			return usageError{fmt.Errorf("--prometheus-addr: %w", err)}
		}
	}
	if err := checkLoadLimits(f); err != nil {
		return usageError{err}
	}
	if _, err := loadgen.ParsePacer(f.pacer, f.rate, 1, nil, f.duration); err != nil {
		return usageError{fmt.Errorf("--pacer: %w", err)}
	}
	found := false
	for _, st := range s.Strategies {
		found = found || st.Name == f.strategy
	}
	if !found {
		return usageError{fmt.Errorf("--strategy: scenario %q has no strategy %q", s.Name, f.strategy)}
	}
	ths, err := parseThresholds(f.thresholds)
	if err != nil {
		return err
	}
	if err := checkOutDir("--out", f.out); err != nil {
		return err
	}
	ctx, stop := interruptContext(cmd.Context())
	defer stop()

	tg, err := openTarget(ctx, cmd, s, f)
	if err != nil {
		return err
	}
	defer tg.close()
	routes := tg.routes

	var progress io.Writer
	if !f.noProgress {
		progress = cmd.ErrOrStderr()
	}
	var checkpoint func(*results.Summary)
	if f.out != "" {
		// run.json first, and a summary checkpoint every few seconds, so a
		// run killed outright leaves a directory `mcbench report` reads.
		if err := writeRunInfo(f.out, s); err != nil {
			return err
		}
		checkpoint = func(sum *results.Summary) {
			sum.Version = versionString()
			_ = results.WriteSummary(f.out, sum) // best effort: the final write reports errors
		}
	}
	sum, err := loadgen.Run(ctx, s, routes, loadgen.Options{
		Strategy: f.strategy, Pacer: f.pacer, Rate: f.rate, Duration: f.duration, Out: f.out,
		Progress: progress, PrometheusAddr: f.promAddr, SendOutputTokens: f.target != "live",
		NoStream: f.noStream, Workers: f.workers, Grace: f.grace, Warmup: f.warmup,
		Prices: routePrices(s), Target: f.target, Checkpoint: checkpoint, PrometheusListenAny: f.listenAny,
	})
	if sum == nil {
		return err
	}
	sum.Version = versionString()
	threshold.Evaluate(ths, sum)
	if f.out != "" {
		if werr := results.WriteSummary(f.out, sum); werr != nil && err == nil {
			err = werr
		}
	}
	w := cmd.OutOrStdout()
	if f.jsonOut {
		if jerr := results.EncodeSummary(w, sum); jerr != nil && err == nil {
			err = jerr
		}
		printThresholds(cmd.ErrOrStderr(), "", sum)
	} else {
		printLoadTable(w, sum)
		printThresholds(w, "", sum)
	}
	if err == nil && sum.Interrupted {
		err = interrupted("interrupted: the results above cover what was measured before the stop")
	}
	return runExit(err, sum)
}

// printCostBound prints, before a live run, the most it could cost: every
// scheduled request, every attempt, at the largest prompt the workload draws
// (its 99.99th percentile) plus max_tokens, at the dearest placed
// deployment's list prices.
func printCostBound(w io.Writer, s *scenarios.Scenario, st *scenarios.Strategy, f *loadFlags) error {
	feed, err := loadgen.NewRequestFeed(s, f.pacer != "replay")
	if err != nil {
		return err
	}
	defer feed.Close()
	sched, err := loadgen.ParsePacer(f.pacer, f.rate, s.Seed, feed, f.duration)
	if err != nil {
		return usageError{err}
	}
	p := loadgen.NewPacer(sched, f.duration)
	n := p.Scheduled()
	if f.duration <= 0 && f.pacer != "replay" {
		return usageError{errors.New("--target live needs a --duration, so the run's cost is bounded")}
	}
	pricing, err := reports.DefaultPricing()
	if err != nil {
		return err
	}
	priceOf := pricing.TokenPrices(s)
	var inPrice, outPrice float64
	var unpriced []string
	for layer, names := range st.Placement {
		if layer == scenarios.LayerOrchestration || layer == scenarios.LayerState {
			continue // the load generator stands in for these; it never calls them
		}
		for _, name := range names {
			for i := range s.Deployments {
				d := &s.Deployments[i]
				if d.Name != name {
					continue
				}
				in, out, ok := priceOf(d)
				if !ok {
					unpriced = append(unpriced, fmt.Sprintf("%s (%s)", d.Name, d.Model))
					continue
				}
				inPrice, outPrice = max(inPrice, in), max(outPrice, out)
			}
		}
	}
	var maxIn, maxOut float64
	for _, wl := range s.Workloads {
		maxIn = max(maxIn, wl.InputTokens.Quantile(0.9999))
		maxOut = max(maxOut, float64(wl.MaxTokens))
	}
	attempts := float64(max(st.Routing.MaxAttempts, 1))
	bound := float64(n) * attempts * (maxIn*inPrice + maxOut*outPrice) / 1e6
	fmt.Fprintf(w, "live run: at most %d requests × %g attempts × (%.0f input + %.0f output tokens) at up to $%.2f / $%.2f per 1M tokens\n",
		n, attempts, maxIn, maxOut, inPrice, outPrice)
	fmt.Fprintf(w, "live run: it could cost at most $%.2f at list prices", bound)
	if len(unpriced) > 0 {
		fmt.Fprintf(w, ", plus whatever these unpriced deployments charge: %s", strings.Join(unpriced, ", "))
	}
	fmt.Fprintln(w)
	return nil
}

func printLoadTable(w io.Writer, sum *results.Summary) {
	r := sum.Results[0]
	x := sum.Load
	fmt.Fprintf(w, "scenario %s  strategy %s  pacer %s", sum.Scenario, r.Strategy, x.Pacer)
	if x.ScheduleSeconds > 0 {
		fmt.Fprintf(w, ": %d requests over %.1fs (%.1f req/s offered)", x.Scheduled, x.ScheduleSeconds, float64(x.Scheduled)/x.ScheduleSeconds)
	}
	fmt.Fprintf(w, "  ran %.1fs with the drain\n\n", x.DurationSeconds)
	t := newTable(w)
	t.row("requests", "ok", "rejected", "failed", "timed out", "attempts", "thr/s", "out tok/s", "tokens $/1k ok")
	t.row(fmt.Sprint(r.Requests), pct(r.Completed, r.Requests), pct(r.Rejected, r.Requests), pct(r.Failed, r.Requests),
		pct(r.TimedOut, r.Requests), fmt.Sprint(r.Attempts), fmt.Sprintf("%.1f", r.ThroughputRPS), fmt.Sprintf("%.0f", x.OutputTokensPerSecond),
		usd(1000*float64(r.TokenCostPerSuccessfulRequest)))
	t.flush()
	if x.Sent < x.Scheduled {
		fmt.Fprintf(w, "\nwarning: the generator fell behind: it sent %d of the %d requests scheduled (%.0f%%); the offered load was lower than asked\n",
			x.Sent, x.Scheduled, 100*float64(x.Sent)/float64(x.Scheduled))
	}
	fmt.Fprintln(w)
	t = newTable(w)
	t.row("latency", "mean", "p50", "p90", "p99", "max")
	for _, row := range []struct {
		name string
		mean float64
		p50  float64
		p90  float64
		p99  float64
		max  float64
	}{
		{"TTFT (from intended send)", r.TTFTSeconds.Mean, r.TTFTSeconds.P50, r.TTFTSeconds.P90, r.TTFTSeconds.P99, r.TTFTSeconds.Max},
		{"E2E (from intended send)", r.E2ESeconds.Mean, r.E2ESeconds.P50, r.E2ESeconds.P90, r.E2ESeconds.P99, r.E2ESeconds.Max},
		{"TTFT of the last attempt", x.AttemptTTFTSeconds.Mean, x.AttemptTTFTSeconds.P50, x.AttemptTTFTSeconds.P90, x.AttemptTTFTSeconds.P99, x.AttemptTTFTSeconds.Max},
		{"TPOT per request", x.TPOTSeconds.Mean, x.TPOTSeconds.P50, x.TPOTSeconds.P90, x.TPOTSeconds.P99, x.TPOTSeconds.Max},
		{"ITL per chunk", x.ITLPerChunkSeconds.Mean, x.ITLPerChunkSeconds.P50, x.ITLPerChunkSeconds.P90, x.ITLPerChunkSeconds.P99, x.ITLPerChunkSeconds.Max},
		{"send lag (actual − intended)", x.SendLagSeconds.Mean, x.SendLagSeconds.P50, x.SendLagSeconds.P90, x.SendLagSeconds.P99, x.SendLagSeconds.Max},
	} {
		t.row(row.name, secs(row.mean), secs(row.p50), secs(row.p90), secs(row.p99), secs(row.max))
	}
	if w := r.WaitSeconds; w != nil {
		t.row(fmt.Sprintf("queue wait at the fakes (P(wait) %.3f)", float64(r.PWait)), span(w.Mean), span(w.P50), span(w.P90), span(w.P99), span(w.Max))
	}
	t.flush()
	printSessions(w, sum)
}

// routePrices gives the cost-aware policy the pricing tables' token prices,
// as mcbench sim does; without tables it routes on its other criteria.
func routePrices(s *scenarios.Scenario) routing.Prices {
	p, err := reports.DefaultPricing()
	if err != nil {
		return nil
	}
	return p.TokenPrices(s)
}

// target is where a load test's calls go: routes by deployment name, and
// the in-process fake server when the target is "fake".
type target struct {
	routes map[string]loadgen.Route
	srv    *fake.Server
	close  func()
}

// openTarget resolves --target (and --endpoints, --live) into routes,
// starting in-process fakes on loopback for "fake". Errors in the flags are
// usage errors.
func openTarget(ctx context.Context, cmd *cobra.Command, s *scenarios.Scenario, f *loadFlags) (*target, error) {
	tg := &target{close: func() {}}
	switch f.target {
	case "fake":
		fctx, cancel := context.WithCancel(context.Background())
		srv, base, err := fake.StartLoopback(fctx, s, fake.Options{})
		if err != nil {
			cancel()
			return nil, usageError{err}
		}
		tg.srv, tg.close = srv, cancel
		tg.routes = loadgen.FakeRoutes(srv, base)
	case "endpoints":
		if f.endpoints == "" {
			return nil, usageError{errors.New("--target endpoints needs --endpoints FILE (the first line `mcbench fake --json` prints)")}
		}
		eps, err := loadgen.ReadEndpoints(f.endpoints)
		if err != nil {
			return nil, usageError{err}
		}
		tg.routes = loadgen.EndpointRoutes(eps)
	case "live":
		if !f.live {
			return nil, usageError{errors.New("--target live sends real, billed traffic to the scenario's endpoints: add --live to confirm")}
		}
		st := &s.Strategies[slices.IndexFunc(s.Strategies, func(x scenarios.Strategy) bool { return x.Name == f.strategy })]
		if err := printCostBound(cmd.ErrOrStderr(), s, st, f); err != nil {
			return nil, err
		}
		routes, err := loadgen.LiveRoutes(ctx, s, st)
		if err != nil {
			return nil, usageError{err}
		}
		tg.routes = routes
	default:
		return nil, usageError{fmt.Errorf("--target must be fake, endpoints or live, got %q", f.target)}
	}
	return tg, nil
}

// checkLoadLimits refuses flag values outside scenarios.Limits: a typo such
// as --workers 100000000 would otherwise start that many goroutines.
func checkLoadLimits(f *loadFlags) error {
	lim, err := scenarios.CurrentLimits()
	if err != nil {
		return err
	}
	switch {
	case f.workers < 1:
		return fmt.Errorf("--workers: must be at least 1, got %d", f.workers)
	case f.workers > uint64(lim.LoadWorkers):
		return fmt.Errorf("--workers: %d is more than the limit of %d initial workers (more are started as the load needs them); %s",
			f.workers, lim.LoadWorkers, scenarios.Raise("load_workers", float64(f.workers)))
	}
	if f.pacer != "replay" && (!(f.rate > 0) || math.IsInf(f.rate, 0)) {
		return fmt.Errorf("--rate must be a number > 0, got %g", f.rate)
	}
	if f.duration < 0 || f.duration > lim.Horizon.Std() {
		return fmt.Errorf("--duration: must be between 0 and %s (the limit), got %s; raise it with %s=horizon=%s",
			lim.Horizon, f.duration, scenarios.LimitsEnv, f.duration)
	}
	if n := f.rate * f.duration.Seconds(); f.pacer != "replay" && n > lim.Requests {
		return fmt.Errorf("--rate %g for --duration %s is about %.3g requests, more than the limit of %.0f; %s",
			f.rate, f.duration, n, lim.Requests, scenarios.Raise("requests", n))
	}
	return nil
}
