package reports

import (
	"math"
	"time"
)

// Billing rules. They are printed in the report's methodology section; a
// change here is a change of method and belongs in the changelog.
const (
	// HoursPerMonth is the billing month cloud providers price against (8760/12).
	HoursPerMonth = 730.0
	// BytesPerGB: transfer and storage are priced in decimal gigabytes, as
	// the pricing tables (testdata/pricing/README.md) and the worked exit
	// examples of docs/references.md [15] do.
	BytesPerGB = 1e9
)

// TokenCost is the pay-as-you-go price of an attempt's tokens in USD:
// input, cached input and output tokens at their per-million prices.
// Cached input without a cached price is billed at the input price.
func TokenCost(p *TokenPrice, input, cachedInput, output int64) float64 {
	if p == nil {
		return 0
	}
	return (float64(input)*p.Input + float64(cachedInput)*p.CachedInput + float64(output)*p.Output) / 1e6
}

// BilledHours is the hours of a provisioned unit billed for a deployment
// that exists for d: the provider bills each started increment in full, so
// d is rounded up to a whole number of increments. Azure prorates PTUs by
// the minute (increment 1m: 15 minutes of 100 PTUs bill as 25 PTU-hours);
// Bedrock bills model units hourly (increment 1h: 61 minutes bill as 2 h).
func BilledHours(d, increment time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	if increment <= 0 {
		return d.Hours()
	}
	n := (d + increment - 1) / increment
	return (time.Duration(n) * increment).Hours()
}

// ProvisionedCost is units × hourly price × billed hours.
func ProvisionedCost(p *ProvisionedPrice, units float64, d time.Duration) float64 {
	if p == nil || units <= 0 {
		return 0
	}
	return units * p.PerUnitHour * BilledHours(d, p.Increment)
}

// TieredCost prices a volume of gb decimal gigabytes against volume tiers:
// each tier's price applies to the part of the volume inside the tier.
// With AWS's internet tiers, 50 TB costs 9,900 GB × 0.09 + 40,000 GB × 0.085
// = $4,291 (the first 100 GB are free).
func TieredCost(tiers []EgressTier, gb float64) float64 {
	cost := 0.0
	for _, t := range tiers {
		if gb <= t.FromGB {
			break
		}
		cost += (math.Min(gb, t.ToGB) - t.FromGB) * t.PerGB
	}
	return cost
}

// MonthlyRate is the average price per GB of a transfer volume that recurs
// every month: the run's volume is extrapolated to a 730-hour month from
// the observed window, priced against the tiers (monthly free allowances
// and volume discounts included), and divided back. Pricing the run's own
// few gigabytes against monthly tiers would make every short run free.
func MonthlyRate(tiers []EgressTier, gb, windowHours float64) float64 {
	if len(tiers) == 0 || gb <= 0 || windowHours <= 0 {
		return 0
	}
	monthly := gb * HoursPerMonth / windowHours
	return TieredCost(tiers, monthly) / monthly
}

// StorageCost is GB held × price per GB-month × the fraction of a month
// held (providers accrue GB-months from hourly usage).
func StorageCost(p *StoragePrice, gb float64, d time.Duration) float64 {
	if p == nil || gb <= 0 {
		return 0
	}
	return gb * p.PerGBMonth * d.Hours() / HoursPerMonth
}
