package reports

import (
	"fmt"
	"math"
	"time"
)

// PriceRow is one row of any pricing table in a common shape, for listings
// (`mcbench pricing list`) and freshness checks (Pricing.Check).
type PriceRow struct {
	// Table is the file's base name without ".csv": tokens, provisioned,
	// egress, storage or exit.
	Table        string
	ProviderKind string
	// Item is what the row prices: a model, a model's provisioned unit, a
	// transfer path and volume tier, a storage service or an exit regime.
	Item   string
	Region string
	// Price is the figure with its unit, for reading.
	Price string
	Provenance
}

// Rows returns every row of every table, table by table in file order.
func (p *Pricing) Rows() []PriceRow {
	var out []PriceRow
	for _, t := range p.Tokens {
		price := fmt.Sprintf("$%g in, $%g out per 1M tokens", t.Input, t.Output)
		if t.HasCached {
			price = fmt.Sprintf("$%g in, $%g cached in, $%g out per 1M tokens", t.Input, t.CachedInput, t.Output)
		}
		out = append(out, PriceRow{"tokens", t.ProviderKind, t.Model, t.Region, price, t.Provenance})
	}
	for _, t := range p.Provisioned {
		out = append(out, PriceRow{"provisioned", t.ProviderKind, t.Model + " (" + t.Unit + ")", t.Region,
			fmt.Sprintf("$%g per unit-hour, billed per %s, commitment %s", t.PerUnitHour, t.Increment, t.Commitment), t.Provenance})
	}
	for _, t := range p.Egress {
		to := fmt.Sprintf("%g GB", t.ToGB)
		if math.IsInf(t.ToGB, 1) {
			to = "∞"
		}
		out = append(out, PriceRow{"egress", t.ProviderKind, fmt.Sprintf("%s, %g GB–%s per month", t.Path, t.FromGB, to), t.Region,
			fmt.Sprintf("$%g/GB", t.PerGB), t.Provenance})
	}
	for _, t := range p.Storage {
		out = append(out, PriceRow{"storage", t.ProviderKind, t.Service, t.Region, fmt.Sprintf("$%g/GB-month", t.PerGBMonth), t.Provenance})
	}
	for _, e := range p.Exit {
		item := e.Regime + " from " + e.From.Format(time.DateOnly)
		if !e.Until.IsZero() {
			item += " until " + e.Until.Format(time.DateOnly)
		}
		price := "at cost (list price as ceiling)"
		if !e.AtCost() {
			price = fmt.Sprintf("$%g/GB", e.PerGB)
		}
		out = append(out, PriceRow{"exit", e.ProviderKind, item, "*", price, e.Provenance})
	}
	return out
}

// Freshness problems Pricing.Check reports.
const (
	// PriceUnverified: the row has no retrieval date; its figure has not
	// been checked against its first-party source.
	PriceUnverified = "unverified"
	// PriceStale: the figure was retrieved longer ago than the allowed age.
	PriceStale = "stale"
	// PriceFuture: the retrieval date is after the check's date, which is
	// a typing error or a wrong clock.
	PriceFuture = "future"
)

// PriceProblem is a row that fails a freshness check.
type PriceProblem struct {
	PriceRow
	// Status is PriceUnverified, PriceStale or PriceFuture.
	Status string
	// AgeDays is whole days from the retrieval date to the check's date
	// (negative for PriceFuture); meaningless for PriceUnverified.
	AgeDays int
}

// Check returns the rows whose figure was not retrieved from its first-party
// source within maxAge of now (calendar dates, UTC), and those never
// retrieved, in table order. A row retrieved exactly maxAge ago is fresh.
func (p *Pricing) Check(now time.Time, maxAge time.Duration) []PriceProblem {
	today := now.UTC().Truncate(24 * time.Hour)
	var out []PriceProblem
	for _, r := range p.Rows() {
		if !r.Verified() {
			out = append(out, PriceProblem{PriceRow: r, Status: PriceUnverified})
			continue
		}
		age := today.Sub(r.Retrieved)
		days := int(age / (24 * time.Hour))
		switch {
		case age < 0:
			out = append(out, PriceProblem{PriceRow: r, Status: PriceFuture, AgeDays: days})
		case age > maxAge:
			out = append(out, PriceProblem{PriceRow: r, Status: PriceStale, AgeDays: days})
		}
	}
	return out
}
