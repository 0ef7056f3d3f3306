package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Lock-in metrics L1, L6, L7 and L8 (docs/references.md [14]): exit egress
// at list prices and under the EU Data Act (Regulation (EU) 2023/2854,
// Arts 29 and 34), exit time against its Art 25 transition windows.

// State classes of metric C7/L1: only open and proprietary formats leave
// by egress; regenerable state (embeddings, caches, fine-tunes) is rebuilt,
// not moved, so exit egress excludes it.
const (
	StateOpen        = "open-format"
	StateProprietary = "proprietary-format"
	StateRegenerable = "regenerable"
)

// StateHolding is state held at a provider: an input the records cannot
// supply (they carry no stored bytes), given with `mcbench report --state`.
type StateHolding struct {
	// Strategy is the strategy the holding belongs to, or "*" for all.
	Strategy string
	Provider string
	// Region is where the state lives ("" or "*": the provider's first region).
	Region string
	Class  string
	GB     float64
	Note   string
}

// ParseStateInventory reads a state inventory CSV with the header
// strategy,provider,region,class,gigabytes[,note].
func ParseStateInventory(r io.Reader) ([]StateHolding, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("state inventory: reading header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range []string{"strategy", "provider", "region", "class", "gigabytes"} {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("state inventory: header has no column %q (want strategy,provider,region,class,gigabytes,note)", h)
		}
	}
	var out []StateHolding
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("state inventory: %w", err)
		}
		line, _ := cr.FieldPos(0)
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		gb, err := strconv.ParseFloat(get("gigabytes"), 64)
		if err != nil || gb < 0 || math.IsNaN(gb) || math.IsInf(gb, 0) {
			return nil, fmt.Errorf("state inventory line %d: gigabytes %q is not a non-negative number", line, get("gigabytes"))
		}
		h := StateHolding{Strategy: get("strategy"), Provider: get("provider"), Region: get("region"), Class: get("class"), GB: gb, Note: get("note")}
		switch h.Class {
		case StateOpen, StateProprietary, StateRegenerable:
		default:
			return nil, fmt.Errorf("state inventory line %d: class %q is not %s, %s or %s", line, h.Class, StateOpen, StateProprietary, StateRegenerable)
		}
		if h.Strategy == "" {
			h.Strategy = "*"
		}
		out = append(out, h)
	}
}

// ExitAssumptions are the parameters of exit time (L6) the records cannot
// supply. They are printed with the results.
type ExitAssumptions struct {
	// BandwidthGbps is the link the state leaves over; Utilisation the
	// share of it a bulk copy sustains (β).
	BandwidthGbps, Utilisation float64
	// Notice, Parallel and Cutover are T_notice, max(T_reeng, T_regen) and
	// T_cutover: contractual notice, re-engineering or regeneration done
	// alongside the copy, and the switch itself.
	Notice, Parallel, Cutover time.Duration
}

// DefaultExitAssumptions: 10 Gbps at 80% (the worked example of
// docs/references.md [15]), and no notice, re-engineering or cut-over
// time, so exit time is the data-transfer bound alone unless the user says
// otherwise.
func DefaultExitAssumptions() ExitAssumptions {
	return ExitAssumptions{BandwidthGbps: 10, Utilisation: 0.8}
}

// DataTime is T_data = 8·B/(β·BW): the time to copy gb decimal gigabytes.
// 1 PB at 10 Gbps and 80% takes 10⁶ s, about 11.6 days.
func (a ExitAssumptions) DataTime(gb float64) time.Duration {
	if gb <= 0 || a.BandwidthGbps <= 0 || a.Utilisation <= 0 {
		return 0
	}
	secs := 8 * gb * BytesPerGB / (a.Utilisation * a.BandwidthGbps * 1e9)
	return time.Duration(secs * float64(time.Second))
}

// ExitTime is T_exit = T_notice + max(T_data, T_parallel) + T_cutover.
func (a ExitAssumptions) ExitTime(gb float64) time.Duration {
	return a.Notice + max(a.DataTime(gb), a.Parallel) + a.Cutover
}

// Data Act windows (Regulation (EU) 2023/2854 Art 25): a 30-day transition,
// extendable to 7 months where the provider shows it is technically
// unfeasible. Seven months is taken as 7 × 30.44 days.
const (
	dataActTransition = 30 * 24 * time.Hour
	dataActExtended   = time.Duration(7 * 30.44 * 24 * float64(time.Hour))
)

// ExitTimeBand reads an exit time against the Data Act's windows.
func ExitTimeBand(d time.Duration) Band {
	b := Band{Basis: "EU Data Act Art 25: 30-day transition, up to 7 months only if technically unfeasible"}
	switch {
	case d <= dataActTransition:
		b.Label = "fits the 30-day transition"
	case d <= dataActExtended:
		b.Label = "needs the exceptional extension (30 days–7 months)"
	default:
		b.Label = "outside the Data Act envelope (>7 months)"
	}
	return b
}

// ExitCost is L1 for one provider under the three regimes, in USD.
type ExitCost struct {
	// List is the tiered internet egress at list prices.
	List float64
	// Waiver is the cost under the provider's 2024 exit programme (NaN
	// when the provider has none); WaiverConditions says what it takes.
	Waiver           float64
	WaiverConditions string
	// EUUntil2027 is the Data Act's cap before 12 Jan 2027: at most the
	// provider's direct cost, unknown, so the list price is a ceiling.
	EUUntil2027 float64
	// EUFrom2027 is the charge from 12 Jan 2027: switching charges are banned.
	EUFrom2027 float64
}

// ExitCosts prices egress of gb decimal gigabytes leaving a provider kind
// (from a region with tags) in one move, under list prices, its exit waiver
// and the EU Data Act. The exit is one month's egress, so the tiers apply
// to the exit volume alone.
func (p *Pricing) ExitCosts(kind, region string, tags []string, gb float64) ExitCost {
	list := TieredCost(p.EgressTiersFor(kind, PathInternet, region, tags), gb)
	e := ExitCost{List: list, Waiver: math.NaN(), EUUntil2027: list, EUFrom2027: list}
	for _, r := range p.ExitRegimesFor(kind) {
		switch r.Regime {
		case "waiver":
			if !r.AtCost() {
				e.Waiver = r.PerGB * gb
			}
			e.WaiverConditions = r.Conditions
		case "eu-data-act":
			v := list
			if !r.AtCost() {
				v = r.PerGB * gb
			}
			if r.Until.IsZero() {
				e.EUFrom2027 = v
			} else {
				e.EUUntil2027 = v
			}
		}
	}
	return e
}

// PortabilityBand reads PI with the harness convention.
func PortabilityBand(pi float64) Band {
	b := Band{Basis: "harness convention: ≥0.8 portable, 0.5–0.8 partial, <0.5 locked", Convention: true}
	switch {
	case math.IsNaN(pi):
		return Band{}
	case pi >= 0.8:
		b.Label = "portable"
	case pi >= 0.5:
		b.Label = "partial"
	default:
		b.Label = "locked"
	}
	return b
}

// ExitLine is one provider's exit: the state that must move, its egress
// cost under each regime (L1) and the exit time (L6).
type ExitLine struct {
	Provider, Kind, Region string
	// GB is the state that leaves by egress; RegenerableGB is rebuilt instead.
	GB, RegenerableGB float64
	Cost              ExitCost
	DataTime          time.Duration
	ExitTime          time.Duration
	Band              Band
}

// PortabilityLine is L7 for one provider.
type PortabilityLine struct {
	Provider string
	// Traffic is the completed attempts the provider served.
	Traffic int64
	// Index is PI_p = Σ_l Q_{p,l}·φ_{p,l} / Σ_l Q_{p,l}, with φ = 1 when
	// another provider serves the layer in this strategy and did serve
	// traffic in the run (tested), 0.5 when one exists in the scenario but
	// was not exercised, 0 when there is none.
	Index float64
	Band  Band
}

// LockIn is a strategy's lock-in metrics.
type LockIn struct {
	Exit        []ExitLine
	Portability []PortabilityLine
	// PortabilityIndex is the traffic-weighted PI over providers.
	PortabilityIndex float64
	PortabilityBand  Band
	// CrossCloudUSD is inter-cloud transfer spend; MultiCloudTax (L8) is
	// its share of total spend.
	CrossCloudUSD, MultiCloudTax float64
}

func lockInOf(w *world, m *StrategyMetrics, opt *Options) LockIn {
	li := LockIn{PortabilityIndex: math.NaN(), MultiCloudTax: math.NaN()}
	// L1 and L6 from the inventory: all of a provider's movable state
	// leaves in one exit, so its tiers apply to the total.
	holdings := holdingsFor(opt.State, m.Name)
	for p, pr := range w.providers {
		e := ExitLine{Provider: pr.name, Kind: pr.kind}
		region := -1
		for _, h := range holdings {
			hp, hr := w.holdingPlace(h)
			if hp != p {
				continue
			}
			if region < 0 {
				region = hr
			}
			if h.Class == StateRegenerable {
				e.RegenerableGB += h.GB
			} else {
				e.GB += h.GB
			}
		}
		if e.GB == 0 && e.RegenerableGB == 0 {
			continue
		}
		e.Region = w.regionName(region)
		e.Cost = opt.Pricing.ExitCosts(pr.kind, e.Region, w.regionTags(region), e.GB)
		e.DataTime, e.ExitTime = opt.Exit.DataTime(e.GB), opt.Exit.ExitTime(e.GB)
		e.Band = ExitTimeBand(e.ExitTime)
		li.Exit = append(li.Exit, e)
	}

	// L7: φ per provider and layer.
	traffic := trafficByProviderLayer(w, m)
	placed := w.placed(m.Name)
	servedBy := func(d int) bool {
		for _, dm := range m.Deployments {
			if dm.Name == w.deps[d].name {
				return dm.Completed > 0
			}
		}
		return false
	}
	var piNum, piDen float64
	for p, pr := range w.providers {
		var num, den float64
		for l := range Layers {
			q := traffic[p][l]
			if q == 0 {
				continue
			}
			phi := 0.0
			capable := false
			for q2, c := range w.capable[l] {
				capable = capable || (c && q2 != p)
			}
			if capable {
				phi = 0.5
				for _, d := range placed[l] {
					if w.deps[d].provider != p && servedBy(d) {
						phi = 1
					}
				}
			}
			num += q * phi
			den += q
		}
		if den == 0 {
			continue
		}
		pl := PortabilityLine{Provider: pr.name, Traffic: int64(den), Index: num / den}
		pl.Band = PortabilityBand(pl.Index)
		li.Portability = append(li.Portability, pl)
		piNum += num
		piDen += den
	}
	li.PortabilityIndex = ratio(piNum, piDen)
	li.PortabilityBand = PortabilityBand(li.PortabilityIndex)

	// L8.
	for _, t := range m.Cost.TransferLines {
		if t.CrossCloud {
			li.CrossCloudUSD += t.USD
		}
	}
	li.MultiCloudTax = ratio(li.CrossCloudUSD, m.Cost.Total)
	return li
}

// referenceExits prices exits of 1 TB, 50 TB and 1 PB from each provider
// kind of the scenario at list prices (50 TB and 1 PB are the worked
// examples of docs/references.md [15]), so a reader without a state
// inventory still sees the order of magnitude.
func referenceExits(w *world, p *Pricing, a ExitAssumptions) []ExitLine {
	var out []ExitLine
	seen := map[string]bool{}
	for _, pr := range w.providers {
		if seen[pr.kind] {
			continue
		}
		seen[pr.kind] = true
		for _, gb := range []float64{1e3, 50e3, 1e6} {
			e := ExitLine{Provider: pr.name, Kind: pr.kind, Region: "*", GB: gb}
			e.Cost = p.ExitCosts(pr.kind, "*", nil, gb)
			e.DataTime, e.ExitTime = a.DataTime(gb), a.ExitTime(gb)
			e.Band = ExitTimeBand(e.ExitTime)
			out = append(out, e)
		}
	}
	return out
}
