package reports

import (
	"math"
	"slices"

	"github.com/mcbench/mcbench/results"
)

// Concentration measures. The HHI and its bands follow the DOJ/FTC Merger
// Guidelines (18 Dec 2023, §2.1, Guideline 1) and the EU Horizontal Merger
// Guidelines (OJ C 31, 5.2.2004, paras 17–21); the normalised and stack
// measures and the harness bands are this repository's (docs/references.md
// [14]). They describe the supplier concentration of this workload, an
// analogue of, not a finding about, market concentration: the agencies'
// thresholds apply to relevant markets.

// Shares converts amounts to percentage shares (0–100). All-zero amounts
// give nil: there is no distribution to measure.
func Shares(amounts []float64) []float64 {
	total := 0.0
	for _, a := range amounts {
		total += a
	}
	if total <= 0 {
		return nil
	}
	out := make([]float64, len(amounts))
	for i, a := range amounts {
		out[i] = 100 * a / total
	}
	return out
}

// HHI is the Herfindahl–Hirschman index of percentage shares: Σ s².
// It runs from near 0 to 10,000 (one supplier). Shares 30/30/20/20 give
// 2,600 (the DOJ/FTC example). NaN for no shares.
func HHI(shares []float64) float64 {
	if len(shares) == 0 {
		return math.NaN()
	}
	h := 0.0
	for _, s := range shares {
		h += s * s
	}
	return h
}

// NormalisedHHI is H* = (HHI − 10⁴/n)/(10⁴ − 10⁴/n) for n capable
// suppliers: 0 when the work is split evenly over all of them, 1 when one
// supplier has it all. With n = 1 the layer is exclusive and H* is 1 by
// definition (there is no balance to strike).
func NormalisedHHI(hhi float64, n int) float64 {
	if math.IsNaN(hhi) || n < 1 {
		return math.NaN()
	}
	if n == 1 {
		return 1
	}
	floor := 1e4 / float64(n)
	return math.Max(0, (hhi-floor)/(1e4-floor))
}

// CR1 is the largest share and its index (-1 for no shares).
func CR1(shares []float64) (float64, int) {
	best, bi := math.NaN(), -1
	for i, s := range shares {
		if bi < 0 || s > best {
			best, bi = s, i
		}
	}
	return best, bi
}

// EffectiveSuppliers is the numbers-equivalent 10⁴/HHI: how many equal
// suppliers would give the same HHI.
func EffectiveSuppliers(hhi float64) float64 {
	if math.IsNaN(hhi) || hhi <= 0 {
		return math.NaN()
	}
	return 1e4 / hhi
}

// MergerDelta is the HHI change when suppliers with shares si and sj
// combine: 2·si·sj.
func MergerDelta(si, sj float64) float64 { return 2 * si * sj }

// StackHHI are the three stack-level views of metric C3: the HHI of total
// spend, the spend-weighted mean of the layer HHIs, and the largest layer
// HHI (which the other two can hide: models 100% on one cloud and agents
// 100% on another with a 70/30 split give an aggregate 5,800 but a max
// 10,000).
type StackHHI struct {
	Aggregate, Weighted, Max float64
	MaxLayer                 int
}

// StackConcentration computes C3 from spend[provider][layer].
func StackConcentration(spend [][]float64, layers int) StackHHI {
	st := StackHHI{Aggregate: math.NaN(), Weighted: math.NaN(), Max: math.NaN(), MaxLayer: -1}
	totalBy := make([]float64, len(spend))
	layerTotal := make([]float64, layers)
	grand := 0.0
	for p := range spend {
		for l := 0; l < layers && l < len(spend[p]); l++ {
			totalBy[p] += spend[p][l]
			layerTotal[l] += spend[p][l]
			grand += spend[p][l]
		}
	}
	st.Aggregate = HHI(Shares(totalBy))
	if grand <= 0 {
		return st
	}
	st.Weighted = 0
	for l := 0; l < layers; l++ {
		col := make([]float64, len(spend))
		for p := range spend {
			if l < len(spend[p]) {
				col[p] = spend[p][l]
			}
		}
		h := HHI(Shares(col))
		if math.IsNaN(h) {
			continue
		}
		st.Weighted += layerTotal[l] / grand * h
		if math.IsNaN(st.Max) || h > st.Max {
			st.Max, st.MaxLayer = h, l
		}
	}
	return st
}

// Band is an interpretation of a number, with where the cut-offs come from.
type Band struct {
	// Label is the band ("high", "tilted", …).
	Label string
	// Basis names the source of the cut-offs; Convention marks harness
	// conventions with no regulatory basis (calibrate before publishing).
	Basis      string
	Convention bool
}

func (b Band) String() string {
	if b.Label == "" {
		return "-"
	}
	if b.Convention {
		return b.Label + " (convention)"
	}
	return b.Label
}

// USHHIBand reads an HHI against the 2023 US Merger Guidelines bands.
func USHHIBand(h float64) Band {
	b := Band{Basis: "US Merger Guidelines 2023 §2.1: 1,000–1,800 moderately, >1,800 highly concentrated"}
	switch {
	case math.IsNaN(h):
		return Band{}
	case h > 1800:
		b.Label = "highly concentrated"
	case h >= 1000:
		b.Label = "moderately concentrated"
	default:
		b.Label = "unconcentrated"
	}
	return b
}

// EUHHIBand reads an HHI (and, if not NaN, the change ΔHHI) against the EU
// Horizontal Merger Guidelines' "unlikely to raise concerns" screens.
func EUHHIBand(h, delta float64) Band {
	b := Band{Basis: "EU Horizontal Merger Guidelines paras 19–20: <1,000; 1,000–2,000 with Δ<250; >2,000 with Δ<150"}
	switch {
	case math.IsNaN(h):
		return Band{}
	case h < 1000:
		b.Label = "below screen (<1,000)"
	case h <= 2000:
		b.Label = "1,000–2,000"
		if !math.IsNaN(delta) {
			if delta < 250 {
				b.Label += ", Δ<250: unlikely concern"
			} else {
				b.Label += ", Δ≥250: screen exceeded"
			}
		}
	default:
		b.Label = ">2,000"
		if !math.IsNaN(delta) {
			if delta < 150 {
				b.Label += ", Δ<150: unlikely concern"
			} else {
				b.Label += ", Δ≥150: screen exceeded"
			}
		}
	}
	return b
}

// NormalisedBand reads H* with the harness convention.
func NormalisedBand(hstar float64, n int) Band {
	b := Band{Basis: "harness convention: <0.10 balanced, 0.10–0.40 tilted, >0.40 heavily tilted, 1 single-source", Convention: true}
	switch {
	case n == 1:
		b.Label = "exclusive (one capable provider)"
	case math.IsNaN(hstar):
		return Band{}
	case hstar >= 0.9999:
		b.Label = "single-source"
	case hstar > 0.40:
		b.Label = "heavily tilted"
	case hstar >= 0.10:
		b.Label = "tilted"
	default:
		b.Label = "balanced"
	}
	return b
}

// CR1Band reads the largest share against the US 30% share screen and the
// EU indicators (≥50% dominance, ≤25% comfort).
func CR1Band(cr1 float64) Band {
	b := Band{Basis: "US 2023 Guidelines 30% share screen; EU HMG para 17 (≥50%) and EUMR recital 32 (≤25%)"}
	switch {
	case math.IsNaN(cr1):
		return Band{}
	case cr1 >= 50:
		b.Label = "≥50%: EU dominance indicator"
	case cr1 > 30:
		b.Label = ">30%: above the US share screen"
	case cr1 > 25:
		b.Label = "25–30%"
	default:
		b.Label = "≤25%: EU comfort zone"
	}
	return b
}

// DeltaBand reads a change in HHI against the US significance threshold.
func DeltaBand(delta, post float64) Band {
	b := Band{Basis: "US 2023 Guidelines: ΔHHI >100 with HHI >1,800 is presumed harmful"}
	switch {
	case math.IsNaN(delta):
		return Band{}
	case delta > 100 && post > 1800:
		b.Label = ">100 into a highly concentrated layer"
	case delta > 100:
		b.Label = ">100"
	case delta < -100:
		b.Label = "deconcentrating"
	default:
		b.Label = "within ±100"
	}
	return b
}

// LayerConcentration is one layer's concentration in one strategy.
//
// The headline basis is traffic: requests served (completed attempts) per
// provider, the workload's actual dependence on each supplier. Token and
// spend shares stand beside it: at list prices an Azure model can cost
// ~16× a Bedrock one per token, so a 60/40 traffic split (HHI 5,200) is a
// 93/7 spend split (HHI 8,700), which describes price levels as much as
// dependence. The pseudo-layer network has no traffic, only spend.
type LayerConcentration struct {
	Layer string
	// Capable is n_l, the providers able to serve the layer in the scenario
	// (0 for the network pseudo-layer, where it is not defined); Placed is
	// how many the strategy places there.
	Capable, Placed int
	// TrafficShares, TokenShares and SpendShares are percentages per
	// provider (Analysis.Providers order): completed attempts, billed
	// tokens and spend at list prices.
	TrafficShares, TokenShares, SpendShares []float64
	Spend                                   float64
	Traffic                                 int64
	// SpendShareOfTotal is the layer's percentage of the strategy's spend;
	// Minor is true below MinorSpendPct, where the layer is listed but not
	// banded (a layer costing cents is no dependence worth a label).
	SpendShareOfTotal float64
	Minor             bool
	// TrafficHHI (the headline), TokenHHI and SpendHHI are C1 on each
	// basis; TrafficHHICI is the 95% interval of the per-replication
	// traffic HHIs and SpendHHISpread the mean and p5–p95 of the spend ones.
	TrafficHHI, TokenHHI, SpendHHI float64
	TrafficHHICI                   results.Interval
	SpendHHISpread                 Spread
	// TrafficNormalised and Normalised are C2 (H*) by traffic and by spend.
	TrafficNormalised, Normalised float64
	// Basis names the shares the bands and CR1 read: "traffic", or
	// "spend" for the network pseudo-layer.
	Basis string
	// CR1 is the largest share on Basis and CR1Provider its holder;
	// EffectiveProviders is 10⁴/HHI on Basis.
	CR1                float64
	CR1Provider        string
	EffectiveProviders float64
	// DeltaTraffic and DeltaSpend are C5 against the baseline strategy.
	DeltaTraffic, DeltaSpend float64
	// The bands read the Basis HHI; they are empty for a Minor layer.
	US, EU, Norm, CR1Band, DeltaBand Band
}

// MinorSpendPct is the share of a strategy's spend below which a layer's
// concentration is shown without a band.
const MinorSpendPct = 1.0

// HeadlineHHI is the HHI on the layer's basis (traffic, or spend for the
// network pseudo-layer).
func (lc *LayerConcentration) HeadlineHHI() float64 {
	if lc.Basis == "spend" {
		return lc.SpendHHI
	}
	return lc.TrafficHHI
}

// HeadlineNormalised is H* on the layer's basis.
func (lc *LayerConcentration) HeadlineNormalised() float64 {
	if lc.Basis == "spend" {
		return lc.Normalised
	}
	return lc.TrafficNormalised
}

// Concentration is a strategy's C1–C7 (supplier concentration of this
// workload, not a market-share finding).
type Concentration struct {
	Layers []LayerConcentration
	// Stack is C3 over total spend.
	Stack StackHHI
	// Exclusivity is C6: the percentage of traffic in layers only one
	// provider can serve in the scenario; PlacementExclusivity the
	// percentage in layers the strategy places on a single provider.
	Exclusivity, PlacementExclusivity float64
	// StateHHI is C7 from the state inventory (NaN without one).
	StateHHI float64
	// MultipleArrangements lists providers serving two or more layers
	// (DORA Art 29(1)(b)).
	MultipleArrangements []string
}

func concentrationOf(w *world, m, base *StrategyMetrics, state []StateHolding) {
	nP := len(w.providers)
	traffic := trafficByProviderLayer(w, m)
	bTraffic := trafficByProviderLayer(w, base)
	tokens := tokensByProviderLayer(w, m)
	priced := !m.FromSummary
	c := Concentration{Exclusivity: math.NaN(), PlacementExclusivity: math.NaN(), StateHHI: math.NaN()}
	placed := w.placed(m.Name)
	var qTotal, qExcl, qPlacedExcl float64
	for l, name := range Layers {
		lc := LayerConcentration{Layer: name, Normalised: math.NaN(), TrafficNormalised: math.NaN(), DeltaSpend: math.NaN(), DeltaTraffic: math.NaN(),
			SpendHHI: math.NaN(), TokenHHI: math.NaN(), CR1: math.NaN(), EffectiveProviders: math.NaN(), SpendShareOfTotal: math.NaN(),
			TrafficHHICI: results.Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}, Basis: "traffic"}
		if name != LayerNetwork {
			lc.Capable = w.nCapable(l)
		}
		var provs []int
		for _, d := range placed[l] {
			if p := w.deps[d].provider; p >= 0 && !slices.Contains(provs, p) {
				provs = append(provs, p)
			}
		}
		lc.Placed = len(provs)
		tcol := column(traffic, l)
		for _, v := range tcol {
			lc.Traffic += int64(v)
		}
		if priced {
			scol := column(m.Cost.ByProviderLayer, l)
			for _, v := range scol {
				lc.Spend += v
			}
			lc.SpendShares = Shares(scol)
			lc.SpendShareOfTotal = 100 * ratio(lc.Spend, m.Cost.Total)
			lc.Minor = lc.SpendShareOfTotal < MinorSpendPct
		}
		if lc.Spend <= 0 && lc.Traffic == 0 {
			continue
		}
		lc.TrafficShares, lc.TokenShares = Shares(tcol), Shares(column(tokens, l))
		lc.TrafficHHI, lc.TokenHHI, lc.SpendHHI = HHI(lc.TrafficShares), HHI(lc.TokenShares), HHI(lc.SpendShares)
		var spendReps, trafficReps []float64
		for _, r := range m.Reps {
			spendReps = append(spendReps, HHI(Shares(column(r.Spend, l))))
			trafficReps = append(trafficReps, HHI(Shares(column(r.Traffic, l))))
		}
		lc.SpendHHISpread = SpreadOf(spendReps)
		if len(results.Finite(trafficReps)) > 0 {
			lc.TrafficHHICI = results.CI95(results.Finite(trafficReps))
		}
		if lc.Capable > 0 {
			lc.Normalised = NormalisedHHI(lc.SpendHHI, lc.Capable)
			lc.TrafficNormalised = NormalisedHHI(lc.TrafficHHI, lc.Capable)
		}
		shares := lc.TrafficShares
		if len(shares) == 0 {
			lc.Basis, shares = "spend", lc.SpendShares
		}
		h := lc.HeadlineHHI()
		var who int
		lc.CR1, who = CR1(shares)
		if who >= 0 {
			lc.CR1Provider = w.providerName(who)
		}
		lc.EffectiveProviders = EffectiveSuppliers(h)
		if m != base {
			if priced && !base.FromSummary {
				lc.DeltaSpend = lc.SpendHHI - HHI(Shares(column(base.Cost.ByProviderLayer, l)))
			}
			lc.DeltaTraffic = lc.TrafficHHI - HHI(Shares(column(bTraffic, l)))
		}
		delta := lc.DeltaTraffic
		if lc.Basis == "spend" {
			delta = lc.DeltaSpend
		}
		if !lc.Minor {
			lc.US, lc.EU = USHHIBand(h), EUHHIBand(h, delta)
			lc.Norm, lc.CR1Band, lc.DeltaBand = NormalisedBand(lc.HeadlineNormalised(), lc.Capable), CR1Band(lc.CR1), DeltaBand(delta, h)
		}
		if name != LayerNetwork {
			q := float64(lc.Traffic)
			qTotal += q
			if lc.Capable == 1 {
				qExcl += q
			}
			if lc.Placed == 1 {
				qPlacedExcl += q
			}
		}
		c.Layers = append(c.Layers, lc)
	}
	if qTotal > 0 {
		c.Exclusivity, c.PlacementExclusivity = 100*qExcl/qTotal, 100*qPlacedExcl/qTotal
	}
	if priced {
		c.Stack = StackConcentration(m.Cost.ByProviderLayer, len(Layers))
	} else {
		c.Stack = StackHHI{Aggregate: math.NaN(), Weighted: math.NaN(), Max: math.NaN(), MaxLayer: -1}
	}
	for p := 0; p < nP; p++ {
		n := 0
		for l, name := range Layers {
			if name == LayerNetwork {
				continue
			}
			used := traffic[p][l] > 0
			if priced && m.Cost.ByProviderLayer[p][l] > 0 {
				used = true
			}
			if used {
				n++
			}
		}
		if n >= 2 {
			c.MultipleArrangements = append(c.MultipleArrangements, w.providerName(p))
		}
	}
	c.StateHHI = stateHHI(w, holdingsFor(state, m.Name))
	m.Concentration = c
}

// column is layer l of a provider × layer grid, one value per provider.
func column(grid [][]float64, l int) []float64 {
	out := make([]float64, len(grid))
	for p := range grid {
		if l < len(grid[p]) {
			out[p] = grid[p][l]
		}
	}
	return out
}

// tokensByProviderLayer is billed tokens (input + output) per provider and layer.
func tokensByProviderLayer(w *world, m *StrategyMetrics) [][]float64 {
	return byProviderLayer(w, m, func(d *DeploymentMetrics) int64 { return d.BilledInput + d.BilledOutput })
}

// trafficByProviderLayer is completed attempts per provider and layer.
func trafficByProviderLayer(w *world, m *StrategyMetrics) [][]float64 {
	return byProviderLayer(w, m, func(d *DeploymentMetrics) int64 { return d.Completed })
}

// byProviderLayer sums a per-deployment count of the strategy into a
// provider × layer grid (deployments without a provider left out).
func byProviderLayer(w *world, m *StrategyMetrics, count func(*DeploymentMetrics) int64) [][]float64 {
	out := make([][]float64, len(w.providers))
	for p := range out {
		out[p] = make([]float64, len(Layers))
	}
	for i := range m.Deployments {
		d := &m.Deployments[i]
		j, ok := w.depIndex[d.Name]
		if !ok || w.deps[j].provider < 0 {
			continue
		}
		out[w.deps[j].provider][w.deps[j].layerIdx] += float64(count(d))
	}
	return out
}

// stateHHI is C7 over the state a strategy holds.
func stateHHI(w *world, hs []StateHolding) float64 {
	b := make([]float64, len(w.providers))
	for _, h := range hs {
		if p, _ := w.holdingPlace(h); p >= 0 {
			b[p] += h.GB
		}
	}
	return HHI(Shares(b))
}
