package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/results"
)

type compareFlags struct {
	reportFlags
	a, b string
}

func init() {
	var f compareFlags
	cmd := &cobra.Command{
		Use:   "compare RUN_A RUN_B",
		Short: "Put two runs side by side, with paired differences where they share a request stream",
		Long: `Compare one strategy of run A with one strategy of run B: two strategies of a
simulation (give the same directory twice), two simulations, or a simulation
and a load test of the same scenario (prediction against measurement).

When both runs are simulations with the same scenario hash and seed,
replication r of each saw the same request stream, so differences are paired
per replication (common random numbers) with 95% Student-t intervals.
Otherwise they are unpaired (Welch). A load test is one measurement of
replication 0's stream, so against a simulation it is always unpaired; to
check a simulation against a load test request by request, use mcbench twin.
Per-replication statistics come from outcomes.csv, so simulations need
--records.

Strategies are picked with --a and --b; without them, the only strategy of a
single-strategy run, or the first strategy both runs have.`,
		Example: `  mcbench compare out/run1 out/run1 --a azure-failover --b azure-bedrock-split
  mcbench compare out/sim1 out/load1 --a azure-failover
  mcbench compare out/run1 out/run2 --out out/compare --format html`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runCompare(cmd, args[0], args[1], &f) },
	}
	fl := cmd.Flags()
	f.register(fl, "directory for the comparison documents (default: print to stdout only)")
	fl.StringVar(&f.a, "a", "", "strategy of RUN_A")
	fl.StringVar(&f.b, "b", "", "strategy of RUN_B")
	rootCmd.AddCommand(cmd)
}

func runCompare(cmd *cobra.Command, dirA, dirB string, f *compareFlags) error {
	opt, formats, err := f.options(cmd)
	if err != nil {
		return usageError{err}
	}
	var chromium string
	if f.out != "" {
		if chromium, err = f.findChromium(formats); err != nil {
			return err
		}
	}
	if err := checkOutDir("--out", f.out); err != nil {
		return err
	}
	var ans [2]*reports.Analysis
	for i, dir := range []string{dirA, dirB} {
		// Errors say which run: the same directory may be given twice,
		// and a path inside it does not say whether it is A or B.
		which := fmt.Sprintf("RUN_%c (%s)", 'A'+i, dir)
		run, err := results.OpenRun(dir)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", which, err)}
		}
		if ans[i], err = reports.Analyze(run, opt); err != nil {
			return analysisError(fmt.Errorf("%s: %w", which, err))
		}
	}
	c, err := reports.Compare(ans[0], ans[1], f.a, f.b)
	if err != nil {
		return usageError{err}
	}
	doc := c.Document()
	printWarnings(cmd.ErrOrStderr(), doc.Warnings)
	printComparison(cmd.OutOrStdout(), c)
	if f.out != "" {
		files, err := writeDocument(cmd, doc, f.out, formats, chromium)
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout())
		printFiles(cmd.OutOrStdout(), f.out, files)
	}
	return nil
}

func printComparison(w io.Writer, c *reports.Comparison) {
	fmt.Fprintf(w, "A: %s in %s (%s, seed %d)\nB: %s in %s (%s, seed %d)\n\n",
		c.SA.Name, c.A.Run.Dir, c.A.Run.Summary.Source, c.A.Run.Summary.Seed,
		c.SB.Name, c.B.Run.Dir, c.B.Run.Summary.Source, c.B.Run.Summary.Seed)
	tw := newTable(w)
	tw.row("", "A", "B")
	for _, r := range c.Rows() {
		tw.row(r.Metric, r.A.Text, r.B.Text)
	}
	tw.flush()
	if len(c.Diffs) > 0 {
		fmt.Fprintln(w)
		tw = newTable(w)
		tw.row("B − A", "A", "B", "difference", "95% CI", "n", "significant")
		for _, d := range c.Diffs {
			ci := "-"
			if d.Delta.Defined() {
				ci = fmt.Sprintf("[%s, %s]", fmtUnit(d.Delta.Lo, d.Unit), fmtUnit(d.Delta.Hi, d.Unit))
			}
			sig := "no interval"
			if d.Delta.Defined() {
				sig = "no"
				if d.Significant() {
					sig = "yes"
				}
			}
			tw.row(d.Metric, fmtUnit(d.A, d.Unit), fmtUnit(d.B, d.Unit), fmtUnit(d.Delta.Mean, d.Unit), ci, fmt.Sprint(d.Delta.N), sig)
		}
		tw.flush()
	}
	if len(c.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range c.Notes {
			fmt.Fprintln(w, "note:", strings.TrimSpace(n))
		}
	}
}

func fmtUnit(x float64, unit string) string {
	switch unit {
	case "s":
		if x < 0 {
			return "-" + secs(-x)
		}
		return secs(x)
	case "ratio":
		return fmt.Sprintf("%.3f%%", 100*x)
	case "USD":
		if x < 0 {
			return "-" + dollars(-x)
		}
		return dollars(x)
	case "HHI":
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.4g", x)
}
