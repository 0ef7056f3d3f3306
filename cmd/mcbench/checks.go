package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/results/threshold"
)

// checkOutDir makes sure dir, the value of flag, can hold the command's
// files before anything runs (a long simulation must not end on "cannot
// write"): it creates dir and writes and removes a probe file there. An
// empty dir (no flag) passes. Failures are usage errors naming the flag
// and the directory.
func checkOutDir(flag, dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageError{fmt.Errorf("%s %s: cannot create the directory: %w", flag, dir, err)}
	}
	f, err := os.CreateTemp(dir, ".mcbench-probe-*")
	if err != nil {
		return usageError{fmt.Errorf("%s %s: cannot write in the directory: %w", flag, dir, err)}
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// addThresholdFlag registers --threshold on a command.
func addThresholdFlag(fl *pflag.FlagSet, exprs *[]string) {
	fl.StringArrayVar(exprs, "threshold", nil,
		"FIGURE OP VALUE that must hold for every strategy, or the command exits 99, e.g. 'e2e.p99<2s', 'error_rate<1%', "+
			"'cost_per_successful_request<0.01' (repeatable; OP: < <= > >= ==; figures: "+figureList()+")")
}

// figureList writes the threshold figures' names compactly: the latency
// blocks as {e2e,ttft,wait}.{max,mean,p50,p90,p99}, then the others.
func figureList() string {
	var blocks, stats, plain []string
	for _, n := range threshold.Names() {
		block, stat, ok := strings.Cut(n, ".")
		if !ok {
			plain = append(plain, n)
			continue
		}
		if !slices.Contains(blocks, block) {
			blocks = append(blocks, block)
		}
		if !slices.Contains(stats, stat) {
			stats = append(stats, stat)
		}
	}
	if len(blocks) > 0 {
		plain = append([]string{"{" + strings.Join(blocks, ",") + "}.{" + strings.Join(stats, ",") + "}"}, plain...)
	}
	return strings.Join(plain, ", ")
}

// parseThresholds parses the --threshold flags; a bad expression is a
// usage error naming it and the rule it breaks.
func parseThresholds(exprs []string) ([]threshold.Threshold, error) {
	ts, err := threshold.ParseAll(exprs)
	if err != nil {
		return nil, usageError{fmt.Errorf("--threshold: %w", err)}
	}
	return ts, nil
}

// printThresholds prints the pass/fail table of the thresholds recorded in
// sum's results (nothing when there are none). what names the run in the
// heading when a command checks more than one ("load test").
func printThresholds(w io.Writer, what string, sum *results.Summary) {
	n, failed := 0, 0
	for _, r := range sum.Results {
		for _, x := range r.Thresholds {
			n++
			if !x.Pass {
				failed++
			}
		}
	}
	if n == 0 {
		return
	}
	head := "thresholds"
	if what != "" {
		head += " of the " + what
	}
	verdict := "all passed"
	if failed > 0 {
		verdict = fmt.Sprintf("%d of %d crossed", failed, n)
	}
	fmt.Fprintf(w, "\n%s: %s\n", head, verdict)
	t := newTable(w)
	t.row("  strategy", "threshold", "value", "result")
	for _, r := range sum.Results {
		for _, x := range r.Thresholds {
			value, result := "not measured", "FAIL"
			if th, err := threshold.Parse(x.Expression); err == nil {
				value = th.Figure.Format(float64(x.Value))
			}
			if x.Pass {
				result = "pass"
			}
			t.row("  "+r.Strategy, x.Expression, value, result)
		}
	}
	t.flush()
}

// thresholdsError is the error (exit code exitThresholds) when a threshold
// recorded in one of the summaries failed, naming each; nil otherwise.
func thresholdsError(sums ...*results.Summary) error {
	var crossed []string
	for _, s := range sums {
		for _, r := range s.Results {
			for _, x := range r.Thresholds {
				if !x.Pass {
					who := r.Strategy
					if len(sums) > 1 {
						who += " (" + s.Source + ")" // twin: the load test's or the simulation's
					}
					crossed = append(crossed, who+": "+x.Expression)
				}
			}
		}
	}
	if len(crossed) == 0 {
		return nil
	}
	return exitCodeError{exitThresholds, fmt.Errorf("thresholds crossed: %s", strings.Join(crossed, "; "))}
}

// unmeasured says why a load test measured nothing about its target, or
// "" when it measured something: every measured request failed to connect
// or had its credentials refused (a target that is down, killed, or
// behind a wrong key). A run whose requests all fell in the warm-up is not
// one: its records hold answers, which report --include-warmup reads.
func unmeasured(sum *results.Summary) string {
	if sum.Load == nil || len(sum.Results) == 0 {
		return ""
	}
	r := &sum.Results[0]
	switch {
	case r.Requests > 0 && sum.Load.Unanswered == r.Requests:
		return fmt.Sprintf("nothing measured: all %d measured requests failed to connect or were refused authentication (401/403); "+
			"check that the target is up and the credentials are right (error_class in outcomes.csv says which)", r.Requests)
	}
	return ""
}

// runExit is the error a run command returns once its files are written
// and its interrupt handled: err (a runtime failure) first, then a load
// test that measured nothing (exitUnmeasured), then crossed thresholds
// (exitThresholds), which mean little about a run that measured nothing.
func runExit(err error, sums ...*results.Summary) error {
	if err != nil {
		return err
	}
	for _, s := range sums {
		if why := unmeasured(s); why != "" {
			return exitCodeError{exitUnmeasured, errors.New(why)}
		}
	}
	return thresholdsError(sums...)
}
