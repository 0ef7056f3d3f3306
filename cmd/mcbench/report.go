package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// reportFlags are the analysis options `report` and `compare` share.
type reportFlags struct {
	formats       string
	out           string
	pricing       string
	state         string
	baseline      string
	objectives    []string
	sloTarget     float64
	includeWarmup bool
	noTransfer    bool
	bandwidthGbps float64
	exitNotice    time.Duration
	exitParallel  time.Duration
	chromium      string
}

func (f *reportFlags) register(fl *pflag.FlagSet, outHelp string) {
	fl.StringVar(&f.formats, "format", "html,md,csv", "comma-separated formats: html (one self-contained page), md (with plots/ PNGs), csv (one file per table in csv/), parquet (one file per table in parquet/; report adds the run's records as parquet/outcomes.parquet), pdf (the HTML page printed on A4 by headless Chromium)")
	fl.StringVar(&f.chromium, "chromium", "", "Chromium or Chrome to print --format pdf with (default: $"+chromiumEnv+", else the first of "+strings.Join(reports.ChromiumNames, ", ")+" on PATH)")
	fl.StringVar(&f.out, "out", "", outHelp)
	fl.StringVar(&f.pricing, "pricing", "", "directory of pricing tables (default: the built-in copy of testdata/pricing)")
	fl.StringVar(&f.state, "state", "", "state inventory CSV (strategy,provider,region,class,gigabytes,note) for state concentration and exit costs")
	fl.Float64Var(&f.sloTarget, "slo-target", 0.999, "availability and SLO-attainment objective for error budgets")
	fl.BoolVar(&f.includeWarmup, "include-warmup", false, "keep the requests the run deleted as warm-up")
	fl.BoolVar(&f.noTransfer, "no-transfer-estimate", false, "do not price client payloads estimated from tokens (recorded cross-cloud bytes are still priced)")
	fl.Float64Var(&f.bandwidthGbps, "exit-bandwidth", 10, "Gbps available to copy state out of a provider (exit time)")
	fl.DurationVar(&f.exitNotice, "exit-notice", 0, "contractual notice before an exit starts (exit time)")
	fl.DurationVar(&f.exitParallel, "exit-reengineering", 0, "re-engineering or regeneration done alongside the data copy (exit time)")
}

// options turns the flags into analysis options; errors are the user's.
func (f *reportFlags) options(cmd *cobra.Command) (reports.Options, []string, error) {
	opt := reports.DefaultOptions()
	opt.Version = versionString()
	opt.SLOTarget = f.sloTarget
	opt.IncludeWarmup = f.includeWarmup
	opt.EstimateTransfer = !f.noTransfer
	opt.Exit.BandwidthGbps = f.bandwidthGbps
	opt.Exit.Notice = f.exitNotice
	opt.Exit.Parallel = f.exitParallel
	if f.sloTarget <= 0 || f.sloTarget >= 1 {
		return opt, nil, fmt.Errorf("--slo-target must be between 0 and 1 (e.g. 0.999), got %g", f.sloTarget)
	}
	if f.bandwidthGbps <= 0 {
		return opt, nil, fmt.Errorf("--exit-bandwidth must be positive, got %g", f.bandwidthGbps)
	}
	formats, err := parseFormats(f.formats)
	if err != nil {
		return opt, nil, err
	}
	if f.pricing != "" {
		p, err := reports.LoadPricingDir(f.pricing)
		if err != nil {
			return opt, nil, fmt.Errorf("--pricing: %w", err)
		}
		opt.Pricing = p
	}
	if f.state != "" {
		file, err := os.Open(f.state)
		if err != nil {
			return opt, nil, fmt.Errorf("--state: %w", err)
		}
		defer file.Close()
		if opt.State, err = reports.ParseStateInventory(file); err != nil {
			return opt, nil, fmt.Errorf("--state %s: %w", f.state, err)
		}
	}
	opt.Command = regenerateCommand(cmd)
	return opt, formats, nil
}

func parseFormats(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if f == "" {
			continue
		}
		if f == "markdown" {
			f = reports.FormatMarkdown
		}
		if !slices.Contains(reports.Formats, f) && f != reports.FormatPDF {
			return nil, fmt.Errorf("--format: unknown format %q (want a comma-separated list of %s)", f, strings.Join(append(slices.Clone(reports.Formats), reports.FormatPDF), ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--format: no format given")
	}
	return out, nil
}

// regenerateCommand is the command line as given: positional arguments and
// every flag the user set (in flag order), so the report can print what
// reproduces it.
func regenerateCommand(cmd *cobra.Command) string {
	parts := []string{cmd.CommandPath()}
	parts = append(parts, cmd.Flags().Args()...)
	cmd.Flags().Visit(func(f *pflag.Flag) {
		parts = append(parts, "--"+f.Name+"="+shellQuote(f.Value.String()))
	})
	for i := 1; i < len(parts); i++ {
		if !strings.HasPrefix(parts[i], "--") {
			parts[i] = shellQuote(parts[i])
		}
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ',' || r == ':' || r == '=' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func init() {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Write cost, lock-in, concentration and latency reports for a run",
		Long: `Read a run directory written by "mcbench sim --out" (with --records for cost
and timelines) or "mcbench load --out" and write a report: a self-contained
HTML page, Markdown with PNG plots, and one CSV per table. The parquet
format, not written by default (--format html,md,csv,parquet for all), writes
typed files for notebooks (pandas, polars, DuckDB): one per table in parquet/
(numeric columns as DOUBLE, empty cells as nulls) and parquet/outcomes.parquet,
every record of outcomes.csv (warm-up included) with one typed column per
CSV column.

The report has a section for architects (strategies side by side, cost and
the cost/latency Pareto front), for performance engineers (latency CDFs and
timelines through the fault windows) and for regulators' analysts
(concentration per layer against the US and EU bands, exclusivity, exit
costs under list prices, exit waivers and the EU Data Act, failover
coverage and blast radius), and a methodology section with the scenario
hash, seed, version, price retrieval dates and the command that regenerates it.

Costs come from the pricing tables (list prices, each with its first-party
source URL and retrieval date; 'mcbench pricing check' lists the rows not yet
checked or stale; --pricing uses other tables). A model without a price is reported as
unpriced (cost 0), with a warning.`,
		Example: `  mcbench sim demo --out out/run1 --records
  mcbench report out/run1
  mcbench report out/run1 --format html --out out/run1-report
  mcbench report out/run1 --format html,parquet
  mcbench report out/load1 --baseline azure-failover --state state.csv --slo-target 0.99`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd, args[0], &f) },
	}
	f.register(cmd.Flags(), "directory for the report (default: RUN_DIR/report)")
	cmd.Flags().StringVar(&f.baseline, "baseline", "", "strategy to take ΔHHI and paired differences against (default: the run's first)")
	cmd.Flags().StringSliceVar(&f.objectives, "objectives", reports.DefaultObjectives,
		"the Answer's criteria in priority order: "+strings.Join(reports.ObjectiveKeys(), ", "))
	rootCmd.AddCommand(cmd)
}

func runReport(cmd *cobra.Command, dir string, f *reportFlags) error {
	opt, formats, err := f.options(cmd)
	if err != nil {
		return usageError{err}
	}
	chromium, err := f.findChromium(formats)
	if err != nil {
		return err
	}
	opt.Baseline = f.baseline
	if _, err := reports.ParseObjectives(f.objectives); err != nil {
		return usageError{fmt.Errorf("--objectives: %w", err)}
	}
	opt.Objectives = f.objectives
	out := f.out
	if out == "" {
		out = filepath.Join(dir, "report")
	}
	run, err := results.OpenRun(dir)
	if err != nil {
		return usageError{err}
	}
	if err := checkOutDir("--out", out); err != nil {
		return err // before the analysis, which can take a while
	}
	an, err := reports.Analyze(run, opt)
	if err != nil {
		return analysisError(err)
	}
	files, err := writeDocument(cmd, an.Document(), out, formats, chromium)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	printWarnings(cmd.ErrOrStderr(), an.Warnings)
	printReportTable(w, an)
	fmt.Fprintf(w, "\nanswer: %s\n", an.Answer.Headline)
	fmt.Fprintf(w, "\nread %s records in %s\n", humanCount(an.Records.Rows), an.Took.Round(time.Millisecond))
	printFiles(w, out, files)
	return nil
}

// analysisError marks the analysis errors a user fixes with a flag or a
// run directory: a damaged file (FieldError) or one that cannot be read
// (a directory where outcomes.csv should be, no permission: PathError).
func analysisError(err error) error {
	var be *reports.BaselineError
	var fe *scenarios.FieldError
	var pe *fs.PathError
	switch {
	case errors.As(err, &fe), errors.As(err, &pe):
		return usageError{err}
	case errors.As(err, &be):
		return usageError{fmt.Errorf("--baseline: %w", err)}
	case errors.Is(err, reports.ErrAllWarmup):
		return usageError{err}
	}
	return err
}

func printWarnings(w io.Writer, ws []string) {
	for _, s := range ws {
		fmt.Fprintln(w, "warning:", s)
	}
}

func humanCount(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// printFiles names the documents and counts the rest, so a run with 30
// CSV tables does not scroll the report's location away.
func printFiles(w io.Writer, out string, files []string) {
	var csvs, plots, parquets int
	for _, p := range files {
		switch {
		case strings.HasSuffix(p, ".csv"):
			csvs++
		case strings.HasSuffix(p, ".png"):
			plots++
		case strings.HasSuffix(p, ".parquet") && filepath.Base(p) != reports.OutcomesParquetFile:
			parquets++
		default:
			fmt.Fprintf(w, "wrote %s\n", p)
		}
	}
	if plots > 0 {
		fmt.Fprintf(w, "wrote %d plots in %s\n", plots, filepath.Join(out, "plots"))
	}
	if csvs > 0 {
		fmt.Fprintf(w, "wrote %d CSV tables in %s\n", csvs, filepath.Join(out, "csv"))
	}
	if parquets > 0 {
		fmt.Fprintf(w, "wrote %d Parquet tables in %s\n", parquets, filepath.Join(out, reports.ParquetDir))
	}
}

func printReportTable(w io.Writer, an *reports.Analysis) {
	tw := newTable(w)
	tw.row("strategy", "requests", "ok", "within SLO", "TTFT p99", "E2E p99", "cost/success", "cost/1M tok", "model HHI (traffic)", "H*", "FC (worst outage)")
	for _, m := range an.Strategies {
		good := "-"
		if m.Good >= 0 {
			good = pct(m.Good, m.Requests)
		}
		hhi, hstar := "-", "-"
		for _, lc := range m.Concentration.Layers {
			if lc.Layer != "model" {
				continue
			}
			hhi, hstar = fmt.Sprintf("%.0f", lc.TrafficHHI), fmt.Sprintf("%.2f", lc.TrafficNormalised)
		}
		worst := math.NaN()
		for _, ft := range m.Resilience.Faults {
			c := ft.FailoverCoverage
			if ft.OutageLike && !math.IsNaN(c) && (math.IsNaN(worst) || c < worst) {
				worst = c
			}
		}
		fc := "-"
		if !math.IsNaN(worst) {
			fc = fmt.Sprintf("%.3f", worst)
		}
		tw.row(m.Name, fmt.Sprint(m.Requests), pct(m.Completed, m.Requests), good, secs(m.TTFT.P99), secs(m.E2E.P99),
			dollars(m.Cost.PerSuccess), dollars(m.Cost.PerMTokens), hhi, hstar, fc)
	}
	tw.flush()
}

func dollars(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case x < 1:
		return fmt.Sprintf("$%.3g", x)
	default:
		return fmt.Sprintf("$%.2f", x)
	}
}

// chromiumEnv names the environment variable that points --format pdf at
// a browser when --chromium is not given.
const chromiumEnv = "MCBENCH_CHROMIUM"

// pdfInstallHint is what to do when no browser is found.
const pdfInstallHint = "install Chromium (Debian/Ubuntu: apt-get install chromium; Fedora: dnf install chromium; macOS: brew install --cask chromium) or give a Chromium or Chrome binary with --chromium PATH or " + chromiumEnv + "=PATH"

// findChromium finds the browser when the formats include pdf, before any
// work is done. No browser is the user's to fix (install one, or say where
// it is), like a bad flag: a usage error, exit code 2.
func (f *reportFlags) findChromium(formats []string) (string, error) {
	if !slices.Contains(formats, reports.FormatPDF) {
		return "", nil
	}
	path, flag := f.chromium, "--chromium"
	if path == "" {
		path, flag = os.Getenv(chromiumEnv), chromiumEnv
	}
	bin, err := reports.FindChromium(path)
	switch {
	case err != nil && path != "":
		return "", usageError{fmt.Errorf("--format pdf: %s=%s: %w", flag, path, err)}
	case err != nil:
		return "", usageError{fmt.Errorf("--format pdf prints the HTML report with headless Chromium, and none was found: %s", pdfInstallHint)}
	}
	return bin, nil
}

// writeDocument writes the document in the formats; pdf prints the HTML
// page (written to a temporary directory when html was not asked for)
// with the browser, within reports.PDFTimeout.
func writeDocument(cmd *cobra.Command, doc *reports.Document, out string, formats []string, chromium string) ([]string, error) {
	pdf := slices.Contains(formats, reports.FormatPDF)
	formats = slices.DeleteFunc(slices.Clone(formats), func(f string) bool { return f == reports.FormatPDF })
	files, err := doc.Write(out, formats)
	if err != nil || !pdf {
		return files, err
	}
	htmlPath := filepath.Join(out, "report.html")
	if !slices.Contains(formats, reports.FormatHTML) {
		tmp, err := os.MkdirTemp("", "mcbench-pdf-")
		if err != nil {
			return files, err
		}
		defer os.RemoveAll(tmp)
		if _, err := doc.Write(tmp, []string{reports.FormatHTML}); err != nil {
			return files, err
		}
		htmlPath = filepath.Join(tmp, "report.html")
	}
	pdfPath := filepath.Join(out, "report.pdf")
	fmt.Fprintf(cmd.ErrOrStderr(), "printing %s with %s…\n", pdfPath, chromium)
	console, err := reports.PrintPDF(cmd.Context(), chromium, htmlPath, pdfPath)
	for _, m := range console {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: the HTML report logged in Chromium:", m)
	}
	if err != nil {
		return files, fmt.Errorf("--format pdf: %w", err)
	}
	return append(files, pdfPath), nil
}
