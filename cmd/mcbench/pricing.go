package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/reports"
)

// exitPricingStale is pricing check's exit code when a row is stale or
// unverified: a failed check, not a usage error (2) or a crash.
const exitPricingStale = 1

type pricingFlags struct {
	dir    string
	maxAge string
	now    string
	json   bool
}

func init() {
	var f pricingFlags
	cmd := &cobra.Command{
		Use:   "pricing",
		Short: "List the price tables with their sources, and check that every figure was read recently from its first-party source",
		Long: `Every row of the price tables cites the provider's own price page or price API
(or EUR-Lex, for the EU Data Act) as source_url, and the date its figure was read
there as retrieved; a row nobody has checked yet has an empty retrieved date and
the date the figure was first recorded as value_as_of. See testdata/pricing/README.md.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown pricing subcommand %q (see '%s --help')", args[0], cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	check := &cobra.Command{
		Use:   "check",
		Short: "List price rows never retrieved from their first-party source, or retrieved longer ago than --max-age",
		Long: `List every price row whose figure was never read from its first-party source
(no retrieved date: "unverified"), was read longer ago than --max-age ("stale"),
or carries a retrieval date after --now ("future"), one per line:

  FILE:LINE: STATUS: PROVIDER ITEM (REGION): DETAIL: URL

Exit status 0 when every row is fresh, 1 when some are not (so a pipeline can
gate on it), 2 for bad flags or tables that do not load.`,
		Example: `  mcbench pricing check
  mcbench pricing check --max-age 30d --now 2026-12-01 --json
  mcbench pricing check --pricing my-prices/`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return runPricingCheck(cmd.OutOrStdout(), &f) },
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Print every price row with its source URL and dates",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return runPricingList(cmd.OutOrStdout(), &f) },
	}
	for _, c := range []*cobra.Command{check, list} {
		c.Flags().StringVar(&f.dir, "pricing", "", "directory of pricing tables (default: the built-in copy of testdata/pricing)")
		c.Flags().BoolVar(&f.json, "json", false, "write JSON instead of text")
	}
	check.Flags().StringVar(&f.maxAge, "max-age", "90d", "oldest acceptable retrieval: days (90d) or a Go duration (2160h)")
	check.Flags().StringVar(&f.now, "now", "", "date to check against, YYYY-MM-DD (default: today, UTC)")
	cmd.AddCommand(check, list)
	rootCmd.AddCommand(cmd)
}

var daysRE = regexp.MustCompile(`^([0-9]+)d$`)

// parseMaxAge reads a positive age given in days ("90d") or as a Go
// duration ("2160h").
func parseMaxAge(s string) (time.Duration, error) {
	var d time.Duration
	if m := daysRE.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("--max-age %q: too many days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("--max-age %q is neither days (90d) nor a duration (2160h)", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("--max-age %q must be positive", s)
	}
	return d, nil
}

// load loads the tables --pricing names, or the built-in ones.
// Tables that do not load are the user's input gone wrong: exit 2.
func (f *pricingFlags) load() (*reports.Pricing, error) {
	var (
		p   *reports.Pricing
		err error
	)
	if f.dir != "" {
		p, err = reports.LoadPricingDir(f.dir)
	} else {
		p, err = reports.DefaultPricing()
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("price tables do not load:\n%w", err)}
	}
	return p, nil
}

// pricingCheckJSON is pricing check's --json output.
type pricingCheckJSON struct {
	Tables     string             `json:"tables"`
	Now        string             `json:"now"`
	MaxAge     string             `json:"max_age"`
	MaxAgeDays float64            `json:"max_age_days"`
	Rows       int                `json:"rows"`
	Problems   []pricingProblemJS `json:"problems"`
}

type pricingProblemJS struct {
	File         string `json:"file"`
	Line         int    `json:"line"`
	Status       string `json:"status"`
	Table        string `json:"table"`
	ProviderKind string `json:"provider_kind"`
	Item         string `json:"item"`
	Region       string `json:"region"`
	Price        string `json:"price"`
	SourceURL    string `json:"source_url"`
	Retrieved    string `json:"retrieved,omitempty"`
	ValueAsOf    string `json:"value_as_of,omitempty"`
	// AgeDays is absent for an unverified row (there is no retrieval).
	AgeDays *int `json:"age_days,omitempty"`
}

func runPricingCheck(out io.Writer, f *pricingFlags) error {
	maxAge, err := parseMaxAge(f.maxAge)
	if err != nil {
		return usageError{err}
	}
	now := time.Now().UTC()
	if f.now != "" {
		if now, err = time.Parse(time.DateOnly, f.now); err != nil {
			return usageError{fmt.Errorf("--now %q is not a date (YYYY-MM-DD)", f.now)}
		}
	}
	p, err := f.load()
	if err != nil {
		return err
	}
	rows := len(p.Rows())
	probs := p.Check(now, maxAge)
	today := now.Format(time.DateOnly)
	if f.json {
		doc := pricingCheckJSON{Tables: p.Origin, Now: today, MaxAge: f.maxAge, MaxAgeDays: maxAge.Hours() / 24, Rows: rows,
			Problems: []pricingProblemJS{}}
		for _, pr := range probs {
			j := pricingProblemJS{File: pr.File, Line: pr.Line, Status: pr.Status, Table: pr.Table, ProviderKind: pr.ProviderKind,
				Item: pr.Item, Region: pr.Region, Price: pr.Price, SourceURL: pr.SourceURL,
				Retrieved: dateOrEmpty(pr.Retrieved), ValueAsOf: dateOrEmpty(pr.ValueAsOf)}
			if pr.Status != reports.PriceUnverified {
				age := pr.AgeDays
				j.AgeDays = &age
			}
			doc.Problems = append(doc.Problems, j)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		for _, pr := range probs {
			var detail string
			switch pr.Status {
			case reports.PriceUnverified:
				detail = "never retrieved from its source"
				if !pr.ValueAsOf.IsZero() {
					detail += " (value as of " + dateOrEmpty(pr.ValueAsOf) + ")"
				}
			case reports.PriceStale:
				detail = fmt.Sprintf("retrieved %s, %d days before %s (max age %s)", dateOrEmpty(pr.Retrieved), pr.AgeDays, today, f.maxAge)
			case reports.PriceFuture:
				detail = fmt.Sprintf("retrieved %s, %d days after %s", dateOrEmpty(pr.Retrieved), -pr.AgeDays, today)
			}
			fmt.Fprintf(out, "%s:%d: %s: %s %s (%s): %s: %s\n", pr.File, pr.Line, pr.Status, pr.ProviderKind, pr.Item, pr.Region, detail, pr.SourceURL)
		}
	}
	if len(probs) > 0 {
		counts := map[string]int{}
		for _, pr := range probs {
			counts[pr.Status]++
		}
		var parts []string
		for _, s := range []string{reports.PriceUnverified, reports.PriceStale, reports.PriceFuture} {
			if counts[s] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
			}
		}
		return exitCodeError{exitPricingStale, fmt.Errorf("%d of %d price rows need a first-party check (%s; max age %s on %s)",
			len(probs), rows, strings.Join(parts, ", "), f.maxAge, today)}
	}
	if !f.json {
		fmt.Fprintf(out, "all %d price rows retrieved from their first-party source within %s of %s\n", rows, f.maxAge, today)
	}
	return nil
}

// pricingRowJSON is one row of pricing list's --json output.
type pricingRowJSON struct {
	File         string `json:"file"`
	Line         int    `json:"line"`
	Table        string `json:"table"`
	ProviderKind string `json:"provider_kind"`
	Item         string `json:"item"`
	Region       string `json:"region"`
	Price        string `json:"price"`
	SourceURL    string `json:"source_url"`
	Retrieved    string `json:"retrieved,omitempty"`
	ValueAsOf    string `json:"value_as_of,omitempty"`
	Estimate     bool   `json:"estimate"`
	Note         string `json:"note,omitempty"`
}

func runPricingList(out io.Writer, f *pricingFlags) error {
	p, err := f.load()
	if err != nil {
		return err
	}
	rows := p.Rows()
	if f.json {
		js := make([]pricingRowJSON, 0, len(rows))
		for _, r := range rows {
			js = append(js, pricingRowJSON{File: r.File, Line: r.Line, Table: r.Table, ProviderKind: r.ProviderKind, Item: r.Item,
				Region: r.Region, Price: r.Price, SourceURL: r.SourceURL, Retrieved: dateOrEmpty(r.Retrieved),
				ValueAsOf: dateOrEmpty(r.ValueAsOf), Estimate: r.Estimate, Note: r.Note})
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(js)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROW\tPROVIDER\tITEM\tREGION\tPRICE\tRETRIEVED\tSOURCE")
	for _, r := range rows {
		retrieved := dateOrEmpty(r.Retrieved)
		if !r.Verified() {
			retrieved = "unverified"
			if !r.ValueAsOf.IsZero() {
				retrieved += " (value " + dateOrEmpty(r.ValueAsOf) + ")"
			}
		}
		price := r.Price
		if r.Estimate {
			price += " (estimate)"
		}
		fmt.Fprintf(tw, "%s:%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.File, r.Line, r.ProviderKind, r.Item, r.Region, price, retrieved, r.SourceURL)
	}
	return tw.Flush()
}

// dateOrEmpty formats a date, or "" for the zero date (unknown).
func dateOrEmpty(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}
