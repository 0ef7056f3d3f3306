package reports

import (
	"cmp"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcbench/mcbench/scenarios"
)

// The pricing tables' canonical copy is testdata/pricing (the project keeps
// pricing data with sources there); the go tool ignores testdata
// directories, so the binary embeds a copy kept identical by a test.
//
//go:generate sh -c "cp ../testdata/pricing/*.csv pricing/"
//go:embed pricing/*.csv
var embeddedPricing embed.FS

// Provenance says where a price comes from. Every row of every table has
// one, and its source is a first-party page: the provider's own price list
// or retail-prices API, the provider's own announcement, or the law itself
// (FirstPartyHosts lists the hosts accepted), since a regulator will not
// take a price on a third party's word.
type Provenance struct {
	// SourceURL is the first-party page or API query the figure is
	// published at (https, on a FirstPartyHosts host).
	SourceURL string
	// Retrieved is the date the figure was read from SourceURL. Zero means
	// nobody has checked the figure against that page yet: the row is
	// unverified, and `mcbench pricing check` lists it.
	Retrieved time.Time
	// ValueAsOf is the date of the figure as first recorded, before it was
	// checked against SourceURL (zero when the table gives none). It keeps
	// an unverified row dated without passing it off as a retrieval.
	ValueAsOf time.Time
	// Estimate marks figures that are derived or assumed, not quoted.
	Estimate bool
	// Note qualifies the figure (deployment type, tier, caveats).
	Note string
	// File and Line locate the row, for error messages, `mcbench pricing
	// check` and the report's list of prices used.
	File string
	Line int
}

// Verified reports whether the figure was read from its first-party source
// on a known date.
func (p Provenance) Verified() bool { return !p.Retrieved.IsZero() }

// Date is the date a figure stands for: when it was retrieved from its
// source, else the date it was first recorded.
func (p Provenance) Date() time.Time {
	if p.Verified() {
		return p.Retrieved
	}
	return p.ValueAsOf
}

// TokenPrice is a model's pay-as-you-go price in USD per million tokens.
type TokenPrice struct {
	ProviderKind, Model, Region string
	Input, CachedInput, Output  float64
	// HasCached is false when no cached-input price is known; cached input
	// is then billed at the input price.
	HasCached bool
	Provenance
}

// ProvisionedPrice is the hourly price of one provisioned-capacity unit
// (an Azure PTU, a Bedrock model unit).
type ProvisionedPrice struct {
	ProviderKind, Model, Region, Unit string
	PerUnitHour                       float64
	// Increment is the billing granularity: a partial increment is billed in
	// full (one minute for Azure PTUs, which Microsoft prorates by the
	// minute; one hour for Bedrock model units).
	Increment  time.Duration
	Commitment string
	Provenance
}

// EgressTier is one tier of a data-transfer price: USD per GB for the part
// of a month's volume between FromGB and ToGB (decimal gigabytes).
type EgressTier struct {
	ProviderKind, Path, Region string
	FromGB, ToGB               float64 // ToGB is +Inf for the last tier
	PerGB                      float64
	Provenance
}

// Transfer paths priced by egress.csv.
const (
	PathInternet    = "internet"
	PathInterRegion = "inter-region"
	PathInterAZ     = "inter-az"
)

// StoragePrice is the price of keeping state, in USD per GB-month.
type StoragePrice struct {
	ProviderKind, Service, Region string
	PerGBMonth                    float64
	Provenance
}

// ExitRegime is a rule for what egress of state costs when leaving a
// provider: an exit waiver or the EU Data Act's switching-charge rules.
type ExitRegime struct {
	// ProviderKind is a provider kind, or "*" for a rule that binds all.
	ProviderKind, Regime string
	// PerGB is the charge; NaN means "at most the provider's direct cost",
	// which is unknown, so reports show the list price as a ceiling.
	PerGB float64
	// From and Until bound when the regime applies (Until zero: open).
	From, Until time.Time
	Conditions  string
	Provenance
}

// AtCost reports whether the regime caps charges at the (unknown) direct cost.
func (e ExitRegime) AtCost() bool { return math.IsNaN(e.PerGB) }

// Pricing is the set of price tables a report uses.
type Pricing struct {
	// Origin says where the tables were read from ("embedded" or a directory).
	Origin      string
	Tokens      []TokenPrice
	Provisioned []ProvisionedPrice
	Egress      []EgressTier
	Storage     []StoragePrice
	Exit        []ExitRegime
}

// embeddedDir names the embedded tables in messages and listings: the
// embedded copy is byte for byte testdata/pricing (a test keeps it so), and
// that is the file to edit.
const embeddedDir = "testdata/pricing"

// DefaultPricing returns the embedded tables (a copy of testdata/pricing).
func DefaultPricing() (*Pricing, error) {
	sub, err := fs.Sub(embeddedPricing, "pricing")
	if err != nil {
		return nil, err
	}
	p, err := loadPricing(sub, embeddedDir)
	if err != nil {
		return nil, err
	}
	p.Origin = "embedded copy of " + embeddedDir
	return p, nil
}

// LoadPricingDir reads the tables from a directory; errors name the files
// by their path in it.
func LoadPricingDir(dir string) (*Pricing, error) {
	p, err := loadPricing(os.DirFS(dir), dir)
	if err != nil {
		return nil, err
	}
	p.Origin = dir
	return p, nil
}

// LoadPricing reads tokens.csv, provisioned.csv, egress.csv, storage.csv
// and exit.csv from fsys. Each file is required. Every row needs a
// first-party source_url (see FirstPartyHosts) and a date: its retrieved
// date, or, while nobody has checked it against that page, the
// value_as_of date it was first recorded with. A price nobody can trace
// to its provider is worse than no price. Row errors are
// returned as scenarios.Errors: every problem found, each naming the file,
// line, column and column name.
func LoadPricing(fsys fs.FS) (*Pricing, error) { return loadPricing(fsys, "") }

func loadPricing(fsys fs.FS, dir string) (*Pricing, error) {
	p := &Pricing{}
	var errs scenarios.Errors
	for _, t := range []struct {
		name     string
		required []string
		fn       func(*row)
	}{
		{"tokens.csv", []string{"provider_kind", "model", "region", "input_usd_per_mtok", "cached_input_usd_per_mtok", "output_usd_per_mtok"}, func(r *row) {
			t := TokenPrice{ProviderKind: r.s("provider_kind"), Model: r.s("model"), Region: r.s("region"),
				Input: r.f("input_usd_per_mtok"), Output: r.f("output_usd_per_mtok"), Provenance: r.prov()}
			if r.s("cached_input_usd_per_mtok") != "" {
				t.CachedInput, t.HasCached = r.f("cached_input_usd_per_mtok"), true
			} else {
				t.CachedInput = t.Input
			}
			p.Tokens = append(p.Tokens, t)
		}},
		{"provisioned.csv", []string{"provider_kind", "model", "region", "unit", "usd_per_unit_hour", "billing_increment", "commitment"}, func(r *row) {
			inc, err := time.ParseDuration(r.s("billing_increment"))
			if err != nil || inc <= 0 {
				r.fail("billing_increment", "%q is not a positive duration (1m, 1h)", r.s("billing_increment"))
			}
			p.Provisioned = append(p.Provisioned, ProvisionedPrice{ProviderKind: r.s("provider_kind"), Model: r.s("model"),
				Region: r.s("region"), Unit: r.s("unit"), PerUnitHour: r.f("usd_per_unit_hour"), Increment: inc,
				Commitment: r.s("commitment"), Provenance: r.prov()})
		}},
		{"egress.csv", []string{"provider_kind", "path", "region", "from_gb", "to_gb", "usd_per_gb"}, func(r *row) {
			to := math.Inf(1)
			if r.s("to_gb") != "" {
				to = r.f("to_gb")
			}
			t := EgressTier{ProviderKind: r.s("provider_kind"), Path: r.s("path"), Region: r.s("region"),
				FromGB: r.f("from_gb"), ToGB: to, PerGB: r.f("usd_per_gb"), Provenance: r.prov()}
			if len(r.errs) == 0 && t.ToGB <= t.FromGB {
				r.fail("to_gb", "tier %g-%g GB is empty", t.FromGB, t.ToGB)
			}
			p.Egress = append(p.Egress, t)
		}},
		{"storage.csv", []string{"provider_kind", "service", "region", "usd_per_gb_month"}, func(r *row) {
			p.Storage = append(p.Storage, StoragePrice{ProviderKind: r.s("provider_kind"), Service: r.s("service"),
				Region: r.s("region"), PerGBMonth: r.f("usd_per_gb_month"), Provenance: r.prov()})
		}},
		{"exit.csv", []string{"provider_kind", "regime", "usd_per_gb", "applies_from", "applies_until", "conditions"}, func(r *row) {
			e := ExitRegime{ProviderKind: r.s("provider_kind"), Regime: r.s("regime"), PerGB: math.NaN(),
				From: r.date("applies_from"), Conditions: r.s("conditions"), Provenance: r.prov()}
			if r.s("usd_per_gb") != "" {
				e.PerGB = r.f("usd_per_gb")
			}
			if r.s("applies_until") != "" {
				e.Until = r.date("applies_until")
			}
			p.Exit = append(p.Exit, e)
		}},
	} {
		errs = append(errs, readTable(fsys, dir, t.name, t.required, t.fn)...)
	}
	if len(errs) == 0 {
		errs = p.checkTiers()
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// firstPartyHosts are the hosts a price row's source_url may point at: the
// providers' own price pages, retail-prices APIs, documentation and blogs,
// and the EU's own publication of the law. A host matches itself and its
// subdomains, so learn.microsoft.com matches microsoft.com but
// microsoft.com.example.net does not.
var firstPartyHosts = []string{
	"microsoft.com",  // azure.microsoft.com price pages, learn.microsoft.com
	"azure.com",      // prices.azure.com, the Azure Retail Prices API
	"aws.amazon.com", // AWS price pages, documentation and the AWS News Blog
	"amazonaws.com",  // the AWS Price List API (pricing.us-east-1.amazonaws.com)
	"europa.eu",      // EUR-Lex, for the EU Data Act (law, not a price)
}

// FirstPartyHosts returns the hosts (and, implicitly, their subdomains) a
// price row's source_url may point at.
func FirstPartyHosts() []string { return slices.Clone(firstPartyHosts) }

// CheckSourceURL returns why raw is not an acceptable price source: empty,
// not an https URL, or on a host that is not first-party.
func CheckSourceURL(raw string) error {
	if raw == "" {
		return errors.New("empty: every price needs the first-party page or price API it is published at")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an https URL", raw)
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range firstPartyHosts {
		if host == h || strings.HasSuffix(host, "."+h) {
			return nil
		}
	}
	return fmt.Errorf("%q is not a first-party source: host %s is not %s or a subdomain of one (cite the provider's own price list or retail-prices API, or EUR-Lex for the law)",
		raw, host, strings.Join(firstPartyHosts, ", "))
}

// checkTiers makes sure each egress table's tiers start at 0 and leave no
// gap, so a volume is never silently unpriced between two tiers.
func (p *Pricing) checkTiers() scenarios.Errors {
	groups := map[[3]string][]EgressTier{}
	for _, t := range p.Egress {
		k := [3]string{t.ProviderKind, t.Path, t.Region}
		groups[k] = append(groups[k], t)
	}
	var errs scenarios.Errors
	for k, ts := range groups {
		slices.SortFunc(ts, func(a, b EgressTier) int { return cmpFloat(a.FromGB, b.FromGB) })
		fail := func(t EgressTier, col, format string, a ...any) {
			errs = append(errs, &scenarios.FieldError{File: t.File, Line: t.Line, Path: col,
				Msg: k[0] + " " + k[1] + " " + k[2] + ": " + fmt.Sprintf(format, a...)})
		}
		if ts[0].FromGB != 0 {
			fail(ts[0], "from_gb", "the first tier starts at %g GB, not 0", ts[0].FromGB)
		}
		for i := 1; i < len(ts); i++ {
			if ts[i].FromGB != ts[i-1].ToGB {
				fail(ts[i], "from_gb", "tier starts at %g GB but the previous one ends at %g GB", ts[i].FromGB, ts[i-1].ToGB)
			}
		}
		if last := ts[len(ts)-1]; !math.IsInf(last.ToGB, 1) {
			fail(last, "to_gb", "the last tier must be open-ended (empty to_gb)")
		}
	}
	// Map order is random: sort so the same tables give the same message.
	slices.SortFunc(errs, func(a, b *scenarios.FieldError) int {
		return cmp.Or(strings.Compare(a.File, b.File), a.Line-b.Line, strings.Compare(a.Path, b.Path))
	})
	return errs
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// row is one CSV row with typed getters that record each problem as a
// FieldError at the offending field.
type row struct {
	rec  []string
	col  map[string]int
	file string
	line int
	// pos is the csv.Reader's FieldPos for this row: the line and column
	// where a field starts.
	pos  func(field int) (line, column int)
	errs []*scenarios.FieldError
}

func (r *row) s(name string) string {
	i, ok := r.col[name]
	if !ok || i >= len(r.rec) {
		return ""
	}
	return strings.TrimSpace(r.rec[i])
}

// fail records a problem with the named column, located at its field when
// the row has one.
func (r *row) fail(name, format string, a ...any) {
	e := &scenarios.FieldError{File: r.file, Line: r.line, Path: name, Msg: fmt.Sprintf(format, a...)}
	if i, ok := r.col[name]; ok && i < len(r.rec) {
		e.Line, e.Column = r.pos(i)
	}
	r.errs = append(r.errs, e)
}

func (r *row) f(name string) float64 {
	v, err := strconv.ParseFloat(r.s(name), 64)
	if err != nil || v < 0 || math.IsNaN(v) {
		r.fail(name, "%q is not a non-negative number", r.s(name))
	}
	return v
}

func (r *row) date(name string) time.Time {
	d, err := time.Parse(time.DateOnly, r.s(name))
	if err != nil {
		r.fail(name, "%q is not a date (YYYY-MM-DD)", r.s(name))
	}
	return d
}

// optDate is date for a column that may be empty (zero time).
func (r *row) optDate(name string) time.Time {
	if r.s(name) == "" {
		return time.Time{}
	}
	return r.date(name)
}

func (r *row) prov() Provenance {
	p := Provenance{SourceURL: r.s("source_url"), Note: r.s("note"), File: r.file, Line: r.line,
		Retrieved: r.optDate("retrieved"), ValueAsOf: r.optDate("value_as_of")}
	if err := CheckSourceURL(p.SourceURL); err != nil {
		r.fail("source_url", "%v", err)
	}
	if r.s("retrieved") == "" && r.s("value_as_of") == "" {
		r.fail("retrieved", "no date: give the date the figure was read from source_url, or, until someone checks it there, the value_as_of date it was recorded with")
	}
	switch r.s("estimate") {
	case "yes", "true":
		p.Estimate = true
	case "", "no", "false":
	default:
		r.fail("estimate", "%q is neither yes nor no", r.s("estimate"))
	}
	return p
}

// provenanceColumns are the columns every table has besides its own;
// estimate and note are optional.
var provenanceColumns = []string{"source_url", "retrieved", "value_as_of"}

func readTable(fsys fs.FS, dir, name string, required []string, fn func(*row)) []*scenarios.FieldError {
	file := name
	if dir != "" {
		file = filepath.Join(dir, name)
	}
	f, err := fsys.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return []*scenarios.FieldError{{File: file, Msg: "cannot read the table: " + err.Error()}}
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return []*scenarios.FieldError{csvError(file, err)}
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	var errs []*scenarios.FieldError
	for _, h := range append(required, provenanceColumns...) {
		if _, ok := col[h]; !ok {
			msg := "the header has no such column"
			if _, old := col["source"]; old && slices.Contains(provenanceColumns, h) {
				msg += " (the source and as_of columns were replaced by source_url, retrieved and value_as_of: see testdata/pricing/README.md)"
			}
			errs = append(errs, &scenarios.FieldError{File: file, Line: 1, Path: h, Msg: msg})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return errs
		}
		if err != nil {
			return append(errs, csvError(file, err))
		}
		line, _ := cr.FieldPos(0)
		r := row{rec: rec, col: col, file: file, line: line, pos: cr.FieldPos}
		fn(&r)
		errs = append(errs, r.errs...)
	}
}

// csvError turns a CSV syntax error into a FieldError at its position.
func csvError(file string, err error) *scenarios.FieldError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &scenarios.FieldError{File: file, Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error()}
	}
	return &scenarios.FieldError{File: file, Msg: err.Error()}
}

// regionScore says how specifically a row's region matches: 2 for the exact
// region, 1 for a tag the region carries, 0 for "*", -1 for no match.
func regionScore(rowRegion, region string, tags []string) int {
	switch {
	case rowRegion == "*" || rowRegion == "":
		return 0
	case strings.EqualFold(rowRegion, region):
		return 2
	case strings.HasPrefix(rowRegion, "tag:") && slices.Contains(tags, rowRegion[len("tag:"):]):
		return 1
	}
	return -1
}

func modelScore(rowModel, model string) int {
	switch {
	case rowModel == "*":
		return 0
	case strings.EqualFold(rowModel, model):
		return 1
	}
	return -1
}

// best returns the index of the best-scoring row (-1 if none matches).
// Ties go to the first row, so table order is a stable tie-break.
func best(n int, score func(i int) int) int {
	bi, bs := -1, -1
	for i := 0; i < n; i++ {
		if s := score(i); s > bs {
			bi, bs = i, s
		}
	}
	return bi
}

// TokenPriceFor returns the token price of a model on a provider kind in a
// region (with the region's tags), or nil when the model is unpriced.
func (p *Pricing) TokenPriceFor(kind, model, region string, tags []string) *TokenPrice {
	i := best(len(p.Tokens), func(i int) int {
		t := &p.Tokens[i]
		m, r := modelScore(t.Model, model), regionScore(t.Region, region, tags)
		if t.ProviderKind != kind || m < 1 || r < 0 {
			return -1
		}
		return r
	})
	if i < 0 {
		return nil
	}
	return &p.Tokens[i]
}

// ProvisionedFor returns the provisioned-unit price for a deployment, or nil.
func (p *Pricing) ProvisionedFor(kind, model, region string, tags []string) *ProvisionedPrice {
	i := best(len(p.Provisioned), func(i int) int {
		t := &p.Provisioned[i]
		m, r := modelScore(t.Model, model), regionScore(t.Region, region, tags)
		if t.ProviderKind != kind || m < 0 || r < 0 {
			return -1
		}
		return m*4 + r
	})
	if i < 0 {
		return nil
	}
	return &p.Provisioned[i]
}

// EgressTiersFor returns the tiers of the most specific table for a path
// leaving a region, in volume order, or nil when the path is unpriced.
func (p *Pricing) EgressTiersFor(kind, path, region string, tags []string) []EgressTier {
	bestScore, bestRegion := -1, ""
	for _, t := range p.Egress {
		if t.ProviderKind != kind || t.Path != path {
			continue
		}
		if s := regionScore(t.Region, region, tags); s > bestScore {
			bestScore, bestRegion = s, t.Region
		}
	}
	if bestScore < 0 {
		return nil
	}
	var out []EgressTier
	for _, t := range p.Egress {
		if t.ProviderKind == kind && t.Path == path && t.Region == bestRegion {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b EgressTier) int { return cmpFloat(a.FromGB, b.FromGB) })
	return out
}

// StorageFor returns the state-storage price for a provider kind in a region, or nil.
func (p *Pricing) StorageFor(kind, region string, tags []string) *StoragePrice {
	i := best(len(p.Storage), func(i int) int {
		t := &p.Storage[i]
		if t.ProviderKind != kind {
			return -1
		}
		return regionScore(t.Region, region, tags)
	})
	if i < 0 {
		return nil
	}
	return &p.Storage[i]
}

// ExitRegimesFor returns the exit regimes that bind a provider kind,
// provider-specific ones first.
func (p *Pricing) ExitRegimesFor(kind string) []ExitRegime {
	var out []ExitRegime
	for _, e := range p.Exit {
		if e.ProviderKind == kind {
			out = append(out, e)
		}
	}
	for _, e := range p.Exit {
		if e.ProviderKind == "*" {
			out = append(out, e)
		}
	}
	return out
}

// Dates returns each distinct retrieval date in the tables, newest first,
// with the number of rows read from their first-party source on it, and the
// number of rows nobody has checked against that source yet: the
// methodology section prints both.
func (p *Pricing) Dates() (retrieved []DateCount, unverified int) {
	m := map[time.Time]int{}
	for _, r := range p.Rows() {
		if r.Verified() {
			m[r.Retrieved]++
		} else {
			unverified++
		}
	}
	for d, n := range m {
		retrieved = append(retrieved, DateCount{Date: d, Rows: n})
	}
	slices.SortFunc(retrieved, func(a, b DateCount) int { return b.Date.Compare(a.Date) })
	return retrieved, unverified
}

// DateCount is a retrieval date and how many price rows carry it.
type DateCount struct {
	Date time.Time
	Rows int
}

// TokenPrices returns a function giving each deployment of s its
// pay-as-you-go token prices (USD per million input and output tokens), for
// the simulator's cost figures and the cost-aware routing policy. ok is
// false for a deployment whose model the tables do not price.
func (p *Pricing) TokenPrices(s *scenarios.Scenario) func(d *scenarios.Deployment) (input, output float64, ok bool) {
	return func(d *scenarios.Deployment) (float64, float64, bool) {
		for _, pr := range s.Providers {
			if pr.Name != d.Provider {
				continue
			}
			for _, r := range pr.Regions {
				if r.Name == d.Region {
					if tp := p.TokenPriceFor(pr.Kind, d.Model, d.Region, r.Tags); tp != nil {
						return tp.Input, tp.Output, true
					}
				}
			}
		}
		return 0, 0, false
	}
}
