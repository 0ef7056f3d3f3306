package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/reports"
	"github.com/mcbench/mcbench/reports/pricerefresh"
	"github.com/mcbench/mcbench/scenarios"
)

// exitPricingStale is pricing check's exit code when a row is stale or
// unverified: a failed check, not a usage error (2) or a crash.
const exitPricingStale = exitFailure

// exitPricingFetch is pricing refresh's exit code when a price API cannot
// be read (unreachable, an HTTP error, a malformed answer): the same code
// mcbench twin gives a target that does not answer.
const exitPricingFetch = exitUnreachable

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
	cmd.AddCommand(check, list, newPricingRefreshCmd())
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
	pricingRowJSON
	Status string `json:"status"`
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
			j := pricingProblemJS{pricingRowJSON: rowJSON(pr.PriceRow), Status: pr.Status}
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

// pricingRowJSON is one row of pricing list's --json output (and, with
// its status and age, of pricing check's).
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

// rowJSON is a price row as pricing list and pricing check print it.
func rowJSON(r reports.PriceRow) pricingRowJSON {
	return pricingRowJSON{File: r.File, Line: r.Line, Table: r.Table, ProviderKind: r.ProviderKind, Item: r.Item,
		Region: r.Region, Price: r.Price, SourceURL: r.SourceURL, Retrieved: dateOrEmpty(r.Retrieved),
		ValueAsOf: dateOrEmpty(r.ValueAsOf), Estimate: r.Estimate, Note: r.Note}
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
			js = append(js, rowJSON(r))
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

type pricingRefreshFlags struct {
	dir, azure, aws, now string
	dryRun               bool
	timeout              time.Duration
}

func newPricingRefreshCmd() *cobra.Command {
	var f pricingRefreshFlags
	c := &cobra.Command{
		Use:   "refresh",
		Short: "Fill the price tables from the providers' own price APIs (Azure Retail Prices API, AWS Price List Bulk API)",
		Long: `Fetch the figures of the price tables from the providers' own machine-readable
price lists, and fill each row a rule matches: its price (printed old → new when
it differs), source_url (the exact API query or offer file read), retrieved (today,
or --now) and a note "retrieved from the <API name> (...)" naming the region and
meters or products read. Rows no rule matches, or whose rule finds no single price,
stay as they are and are listed with the reason. Nothing needs or sends credentials.

  Azure: the Azure Retail Prices API (prices.azure.com), Azure OpenAI token
         meters (Global for region *, Data Zone for tag:eu-data-zone), bandwidth
         and Blob Storage hot LRS; prices per 1K tokens are converted to per 1M.
  AWS:   the AWS Price List Bulk API (pricing.us-east-1.amazonaws.com): offer
         index → region index → region offer (AmazonBedrock tokens, AmazonS3
         Standard storage, AWSDataTransfer outbound to the internet), us-east-1
         for region *. Offer files are read as a stream.

A row's egress tier takes the price of the one API tier that holds its whole
range. Every API is read before any table is written: if one fails, nothing is
written. The files in --dir are rewritten in place (only the refreshed rows'
lines change); when --dir is the repository's testdata/pricing, run
'go generate ./reports' afterwards to refresh the copy built into the binary.

Exit status 0 when the APIs were read (whether or not every row matched: run
'mcbench pricing check' to see what is still unverified), 2 for bad flags or
tables that do not load, 4 when a price API cannot be read.`,
		Example: `  mcbench pricing refresh --dry-run
  mcbench pricing refresh && go generate ./reports && mcbench pricing check
  mcbench pricing refresh --dir my-prices --azure-endpoint http://mirror.local/api/retail/prices`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPricingRefresh(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &f)
		},
	}
	c.Flags().StringVar(&f.dir, "dir", "testdata/pricing", "directory of the pricing tables to refresh in place")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print what would change (old and new lines) and write nothing")
	c.Flags().StringVar(&f.azure, "azure-endpoint", pricerefresh.AzureRetailPricesURL, "Azure Retail Prices API URL (a mirror or test server; rows still cite the official URL)")
	c.Flags().StringVar(&f.aws, "aws-endpoint", pricerefresh.AWSPriceListURL, "AWS Price List Bulk API base URL (a mirror or test server; rows still cite the official URL)")
	c.Flags().StringVar(&f.now, "now", "", "retrieval date to write, YYYY-MM-DD (default: today, UTC)")
	c.Flags().DurationVar(&f.timeout, "timeout", pricerefresh.DefaultTimeout, "time limit of one request, body included")
	return c
}

func runPricingRefresh(ctx context.Context, out, errOut io.Writer, f *pricingRefreshFlags) error {
	now := time.Now().UTC()
	if f.now != "" {
		var err error
		if now, err = time.Parse(time.DateOnly, f.now); err != nil {
			return usageError{fmt.Errorf("--now %q is not a date (YYYY-MM-DD)", f.now)}
		}
	}
	if f.timeout <= 0 {
		return usageError{fmt.Errorf("--timeout %s must be positive", f.timeout)}
	}
	for name, u := range map[string]string{"--azure-endpoint": f.azure, "--aws-endpoint": f.aws} {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			return usageError{fmt.Errorf("%s %q is not an http(s) URL", name, u)}
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := pricerefresh.Refresh(ctx, pricerefresh.Options{Dir: f.dir, Now: now,
		AzureEndpoint: f.azure, AWSEndpoint: f.aws, Client: &http.Client{Timeout: f.timeout}, Progress: errOut})
	if err != nil {
		var fe *pricerefresh.FetchError
		if errors.As(err, &fe) {
			return exitCodeError{exitPricingFetch, fmt.Errorf("pricing refresh: price API not read, no table changed: %w", err)}
		}
		var se scenarios.Errors
		var pe *fs.PathError
		if errors.As(err, &se) || errors.As(err, &pe) {
			return usageError{fmt.Errorf("price tables do not load:\n%w", err)}
		}
		return err
	}
	changed := 0
	for _, u := range res.Updated {
		what := "figures confirmed"
		if len(u.Changes) > 0 {
			var parts []string
			for _, c := range u.Changes {
				parts = append(parts, fmt.Sprintf("%s %s → %s", c.Column, c.Old, c.New))
			}
			what = strings.Join(parts, ", ")
			changed += len(u.Changes)
		}
		fmt.Fprintf(out, "%s:%d: %s: %s; retrieved %s from %s\n", u.File, u.Line, u.Row, what, now.Format(time.DateOnly), u.SourceURL)
		if f.dryRun {
			fmt.Fprintf(out, "  - %s\n  + %s\n", u.OldText, u.NewText)
		}
	}
	if len(res.Unmatched) > 0 {
		fmt.Fprintf(out, "not matched, left as they are:\n")
		for _, s := range res.Unmatched {
			fmt.Fprintf(out, "%s:%d: %s: %s\n", s.File, s.Line, s.Row, s.Reason)
		}
	}
	summary := fmt.Sprintf("refreshed %d of %d price rows (%d values changed), %d not matched", len(res.Updated), res.Rows, changed, len(res.Unmatched))
	if f.dryRun {
		fmt.Fprintf(out, "%s; dry run: nothing written\n", summary)
		return nil
	}
	written, err := res.Write()
	if err != nil {
		return fmt.Errorf("pricing refresh: %w", err)
	}
	if len(written) == 0 {
		fmt.Fprintf(out, "%s; no file changed\n", summary)
		return nil
	}
	fmt.Fprintf(out, "%s; wrote %s (run 'go generate ./reports' when this is the repository's testdata/pricing)\n", summary, strings.Join(written, ", "))
	return nil
}
