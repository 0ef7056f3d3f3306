package reports

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
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

// Provenance says where a price comes from. Every row of every table has one.
type Provenance struct {
	// Source names the page, file or document the figure comes from.
	Source string
	// AsOf is the date of that source (its snapshot or publication).
	AsOf time.Time
	// Estimate marks figures that are derived or assumed, not quoted.
	Estimate bool
	// Note qualifies the figure (deployment type, tier, caveats).
	Note string
	// File and Line locate the row, for error messages and the report's
	// list of prices used.
	File string
	Line int
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

// DefaultPricing returns the embedded tables (a copy of testdata/pricing).
func DefaultPricing() (*Pricing, error) {
	sub, err := fs.Sub(embeddedPricing, "pricing")
	if err != nil {
		return nil, err
	}
	p, err := LoadPricing(sub)
	if err != nil {
		return nil, err
	}
	p.Origin = "embedded copy of testdata/pricing"
	return p, nil
}

// LoadPricingDir reads the tables from a directory.
func LoadPricingDir(dir string) (*Pricing, error) {
	p, err := LoadPricing(os.DirFS(dir))
	if err != nil {
		return nil, err
	}
	p.Origin = dir
	return p, nil
}

// LoadPricing reads tokens.csv, provisioned.csv, egress.csv, storage.csv
// and exit.csv from fsys. Each file is required; a row without a source or
// an as-of date is an error, since a price nobody can trace is worse than
// no price.
func LoadPricing(fsys fs.FS) (*Pricing, error) {
	p := &Pricing{}
	err := errors.Join(
		readTable(fsys, "tokens.csv", []string{"provider_kind", "model", "region", "input_usd_per_mtok", "cached_input_usd_per_mtok", "output_usd_per_mtok"}, func(r row) error {
			t := TokenPrice{ProviderKind: r.s("provider_kind"), Model: r.s("model"), Region: r.s("region"),
				Input: r.f("input_usd_per_mtok"), Output: r.f("output_usd_per_mtok"), Provenance: r.prov()}
			if r.s("cached_input_usd_per_mtok") != "" {
				t.CachedInput, t.HasCached = r.f("cached_input_usd_per_mtok"), true
			} else {
				t.CachedInput = t.Input
			}
			p.Tokens = append(p.Tokens, t)
			return r.err
		}),
		readTable(fsys, "provisioned.csv", []string{"provider_kind", "model", "region", "unit", "usd_per_unit_hour", "billing_increment", "commitment"}, func(r row) error {
			inc, err := time.ParseDuration(r.s("billing_increment"))
			if err != nil || inc <= 0 {
				return fmt.Errorf("billing_increment: %q is not a positive duration (1m, 1h)", r.s("billing_increment"))
			}
			p.Provisioned = append(p.Provisioned, ProvisionedPrice{ProviderKind: r.s("provider_kind"), Model: r.s("model"),
				Region: r.s("region"), Unit: r.s("unit"), PerUnitHour: r.f("usd_per_unit_hour"), Increment: inc,
				Commitment: r.s("commitment"), Provenance: r.prov()})
			return r.err
		}),
		readTable(fsys, "egress.csv", []string{"provider_kind", "path", "region", "from_gb", "to_gb", "usd_per_gb"}, func(r row) error {
			to := math.Inf(1)
			if r.s("to_gb") != "" {
				to = r.f("to_gb")
			}
			t := EgressTier{ProviderKind: r.s("provider_kind"), Path: r.s("path"), Region: r.s("region"),
				FromGB: r.f("from_gb"), ToGB: to, PerGB: r.f("usd_per_gb"), Provenance: r.prov()}
			if r.err == nil && t.ToGB <= t.FromGB {
				return fmt.Errorf("tier %g-%g GB is empty", t.FromGB, t.ToGB)
			}
			p.Egress = append(p.Egress, t)
			return r.err
		}),
		readTable(fsys, "storage.csv", []string{"provider_kind", "service", "region", "usd_per_gb_month"}, func(r row) error {
			p.Storage = append(p.Storage, StoragePrice{ProviderKind: r.s("provider_kind"), Service: r.s("service"),
				Region: r.s("region"), PerGBMonth: r.f("usd_per_gb_month"), Provenance: r.prov()})
			return r.err
		}),
		readTable(fsys, "exit.csv", []string{"provider_kind", "regime", "usd_per_gb", "applies_from", "applies_until", "conditions"}, func(r row) error {
			e := ExitRegime{ProviderKind: r.s("provider_kind"), Regime: r.s("regime"), PerGB: math.NaN(),
				From: r.date("applies_from"), Conditions: r.s("conditions"), Provenance: r.prov()}
			if r.s("usd_per_gb") != "" {
				e.PerGB = r.f("usd_per_gb")
			}
			if r.s("applies_until") != "" {
				e.Until = r.date("applies_until")
			}
			p.Exit = append(p.Exit, e)
			return r.err
		}),
	)
	if err != nil {
		return nil, err
	}
	if err := p.checkTiers(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkTiers makes sure each egress table's tiers start at 0 and leave no
// gap, so a volume is never silently unpriced between two tiers.
func (p *Pricing) checkTiers() error {
	groups := map[[3]string][]EgressTier{}
	for _, t := range p.Egress {
		k := [3]string{t.ProviderKind, t.Path, t.Region}
		groups[k] = append(groups[k], t)
	}
	for k, ts := range groups {
		slices.SortFunc(ts, func(a, b EgressTier) int { return cmpFloat(a.FromGB, b.FromGB) })
		if ts[0].FromGB != 0 {
			return fmt.Errorf("egress.csv: %s %s %s: the first tier starts at %g GB, not 0", k[0], k[1], k[2], ts[0].FromGB)
		}
		for i := 1; i < len(ts); i++ {
			if ts[i].FromGB != ts[i-1].ToGB {
				return fmt.Errorf("egress.csv line %d: tier starts at %g GB but the previous one ends at %g GB", ts[i].Line, ts[i].FromGB, ts[i-1].ToGB)
			}
		}
		if !math.IsInf(ts[len(ts)-1].ToGB, 1) {
			return fmt.Errorf("egress.csv: %s %s %s: the last tier must be open-ended (empty to_gb)", k[0], k[1], k[2])
		}
	}
	return nil
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

// row is one CSV row with typed getters that remember the first error.
type row struct {
	rec  []string
	col  map[string]int
	file string
	line int
	err  error
}

func (r *row) s(name string) string {
	i, ok := r.col[name]
	if !ok || i >= len(r.rec) {
		return ""
	}
	return strings.TrimSpace(r.rec[i])
}

func (r *row) f(name string) float64 {
	v, err := strconv.ParseFloat(r.s(name), 64)
	if (err != nil || v < 0 || math.IsNaN(v)) && r.err == nil {
		r.err = fmt.Errorf("%s: %q is not a non-negative number", name, r.s(name))
	}
	return v
}

func (r *row) date(name string) time.Time {
	d, err := time.Parse(time.DateOnly, r.s(name))
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: %q is not a date (YYYY-MM-DD)", name, r.s(name))
	}
	return d
}

func (r *row) prov() Provenance {
	p := Provenance{Source: r.s("source"), Note: r.s("note"), File: r.file, Line: r.line}
	if p.Source == "" && r.err == nil {
		r.err = errors.New("source is empty: every price needs a source")
	}
	p.AsOf = r.date("as_of")
	switch r.s("estimate") {
	case "yes", "true":
		p.Estimate = true
	case "", "no", "false":
	default:
		if r.err == nil {
			r.err = fmt.Errorf("estimate: %q is neither yes nor no", r.s("estimate"))
		}
	}
	return p
}

func readTable(fsys fs.FS, name string, required []string, fn func(row) error) error {
	f, err := fsys.Open(name)
	if err != nil {
		return fmt.Errorf("pricing: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("pricing %s: reading header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range append(required, "source", "as_of") {
		if _, ok := col[h]; !ok {
			return fmt.Errorf("pricing %s: header has no column %q", name, h)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("pricing %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		r := row{rec: rec, col: col, file: name, line: line}
		if err := fn(r); err != nil {
			return fmt.Errorf("pricing %s line %d: %w", name, line, err)
		}
	}
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

// Dates returns every distinct as-of date in the tables, newest first, with
// the number of rows carrying it: the methodology section prints them.
func (p *Pricing) Dates() []DateCount {
	m := map[time.Time]int{}
	add := func(pr Provenance) { m[pr.AsOf]++ }
	for _, t := range p.Tokens {
		add(t.Provenance)
	}
	for _, t := range p.Provisioned {
		add(t.Provenance)
	}
	for _, t := range p.Egress {
		add(t.Provenance)
	}
	for _, t := range p.Storage {
		add(t.Provenance)
	}
	for _, t := range p.Exit {
		add(t.Provenance)
	}
	out := make([]DateCount, 0, len(m))
	for d, n := range m {
		out = append(out, DateCount{Date: d, Rows: n})
	}
	slices.SortFunc(out, func(a, b DateCount) int { return b.Date.Compare(a.Date) })
	return out
}

// DateCount is an as-of date and how many price rows carry it.
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
