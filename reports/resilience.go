package reports

import (
	"fmt"
	"math"
	"slices"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Resilience metrics R1–R5 (docs/references.md [14]): error budgets as in
// Google's SRE practice, RTO/RPO as in NIST SP 800-34, and "not easily
// substitutable" from DORA (Regulation (EU) 2022/2554, Art 29).

// Nines is −log10(1 − A); +Inf for A = 1.
func Nines(a float64) float64 {
	if math.IsNaN(a) {
		return math.NaN()
	}
	if a >= 1 {
		return math.Inf(1)
	}
	return -math.Log10(1 - a)
}

// BudgetUsed is the share of the error budget spent: (1 − A)/(1 − target).
// Above 1 the objective is breached.
func BudgetUsed(a, target float64) float64 {
	if math.IsNaN(a) || target >= 1 {
		return math.NaN()
	}
	return (1 - a) / (1 - target)
}

// SeriesAvailability is A = ∏ A_i for services in series.
func SeriesAvailability(as ...float64) float64 {
	p := 1.0
	for _, a := range as {
		p *= a
	}
	return p
}

// FailoverAvailability is A₁ + (1 − A₁)·f·A₂: a primary backed by a
// secondary that takes over a fraction f of the primary's failures.
func FailoverAvailability(a1, f, a2 float64) float64 { return a1 + (1-a1)*f*a2 }

// FailoverCoverageBand reads FC with DORA Art 29's wording; the cut-offs
// are a harness convention.
func FailoverCoverageBand(fc float64) Band {
	b := Band{Basis: "DORA Art 29 'not easily substitutable'; cut-offs ≥0.99 / 0.5 are a harness convention", Convention: true}
	switch {
	case math.IsNaN(fc):
		return Band{}
	case fc >= 0.99:
		b.Label = "substitutable"
	case fc >= 0.5:
		b.Label = "partially substitutable"
	default:
		b.Label = "not easily substitutable"
	}
	return b
}

// outageLike: faults that take a deployment out entirely. Brownouts and
// throttles degrade it; their impact is measured but they do not define
// failover coverage.
func outageLike(kind string) bool {
	switch kind {
	case scenarios.FaultOutage, scenarios.FaultReset, scenarios.FaultSilent:
		return true
	}
	return false
}

// FaultImpact is what one fault window did to one strategy.
type FaultImpact struct {
	Kind, Target string
	Providers    []string
	// Start and End bound the window, in seconds from the start of the run.
	Start, End float64
	OutageLike bool
	// Requests were exposed to the window (an attempt in flight during
	// it: results.FaultWindow.InFlight); Breaches missed their SLO
	// (failures included).
	Requests, Breaches int64
	// BreachRate is Breaches/Requests; Baseline is the breach rate of
	// requests exposed to no fault window.
	BreachRate, Baseline float64
	// ExposedShare (π) is the share of normal traffic the router sends first
	// to what the fault takes out; Exposed = π × Requests.
	ExposedShare, Exposed float64
	// FailoverCoverage (R1) = 1 − excess breaches / exposed requests:
	// the share of the target's normal traffic still served within SLO.
	// NaN when the strategy sends the target no traffic.
	FailoverCoverage float64
	// BlastRadius (R2) = excess breaches / all requests in the window.
	BlastRadius float64
	// TimeToFailover and TimeToRecover are results.FaultResult's time to
	// fail over and to recover (its TimeToFailoverSeconds and
	// TimeToRecoverSeconds), computed from the records by the code the
	// engines use for summary.json, over every request exposed to the
	// window, warm-up included, as the engines count them. NaN when not
	// observed; FailoverWhy and RecoverWhy then say why ("not reached",
	// "none needed", "no failures", "no requests"), never 0.
	TimeToFailover, TimeToRecover float64
	FailoverWhy, RecoverWhy       string
	// BudgetFlag is true when the blast radius exceeds the error budget.
	BudgetFlag bool
}

func faultImpacts(w *world, s *stratAgg, target float64) []FaultImpact {
	base := ratio(float64(s.outside.breach), float64(s.outside.requests))
	out := make([]FaultImpact, len(w.faults))
	for fi, f := range w.faults {
		fa := s.faults[fi]
		im := FaultImpact{Kind: f.Kind, Target: f.Target, Start: float64(f.start) / 1e9, End: float64(f.end) / 1e9,
			OutageLike: outageLike(f.Kind), Requests: fa.requests, Breaches: fa.breach,
			BreachRate: ratio(float64(fa.breach), float64(fa.requests)), Baseline: base,
			FailoverCoverage: math.NaN(), BlastRadius: math.NaN(), TimeToRecover: math.NaN(), TimeToFailover: math.NaN()}
		for _, p := range f.providers {
			im.Providers = append(im.Providers, w.providerName(p))
		}
		im.ExposedShare = ratio(float64(s.outFirst[fi]), float64(s.outside.requests))
		if math.IsNaN(im.ExposedShare) {
			// No traffic outside fault windows: fall back to what the
			// router did inside this one.
			im.ExposedShare = ratio(float64(fa.exposed), float64(fa.requests))
		}
		im.Exposed = im.ExposedShare * float64(fa.requests)
		if fa.requests > 0 && !math.IsNaN(base) {
			excess := math.Max(0, float64(fa.breach)-base*float64(fa.requests))
			im.BlastRadius = excess / float64(fa.requests)
			if im.Exposed > 0 {
				im.FailoverCoverage = math.Max(0, 1-excess/im.Exposed)
			}
			im.BudgetFlag = im.BlastRadius > 1-target
		}
		fr := faultTimes(w, s, fi)
		im.TimeToFailover, im.TimeToRecover = float64(fr.TimeToFailoverSeconds), float64(fr.TimeToRecoverSeconds)
		im.FailoverWhy, im.RecoverWhy = fr.FailoverWhy(), fr.RecoverWhy()
		out[fi] = im
	}
	return out
}

// timesNote defines time to fail over and to recover under every table
// that shows them.
const timesNote = "Time to fail over: from the window's start to the completion of the first request exposed to it that completed on another deployment than its first attempt's; time to recover: from the window's start to the end of the last exposed request that failed. Means over the replications in which they were observed; \"not reached\" (requests failed, none failed over), \"none needed\" (none failed), \"no failures\" and \"no requests\" say why one was not, never 0."

// faultTimeCell shows a time to fail over or to recover in seconds, or
// why there is none: a numeric column whose missing values are empty in
// CSV and carry their reason on the page.
func faultTimeCell(v float64, why string) Cell {
	if math.IsNaN(v) {
		if why == "" {
			why = "-"
		}
		return Cell{Text: why, Num: true}
	}
	return secc(v)
}

// faultTimes summarises window fi's tallies over the strategy's
// replications with results.SummariseFault: the same figures, by the same
// code, as the window's entry in summary.json.
func faultTimes(w *world, s *stratAgg, fi int) results.FaultResult {
	reps := make([]int32, 0, len(s.ftally))
	for r := range s.ftally {
		reps = append(reps, r)
	}
	slices.Sort(reps)
	ts := make([]*results.FaultTally, len(reps))
	for i, r := range reps {
		ts[i] = &s.ftally[r][fi]
	}
	f := &w.faults[fi]
	return results.SummariseFault(&f.Fault, results.FaultWindow{Start: f.start, End: f.end}, ts, nil, false)
}

// ProviderExposure is one provider's weight in a strategy's resilience.
type ProviderExposure struct {
	Provider string
	// PrimaryShare is the share of requests whose first attempt went to the provider.
	PrimaryShare float64
	// StaticBlastRadius is the share of requests whose entry layer the
	// strategy places only on this provider: they fail when it is out,
	// whatever the capacity elsewhere (placement only).
	StaticBlastRadius float64
	// StaticCoverage is 1 − StaticBlastRadius/PrimaryShare: the share of the
	// provider's primary traffic that has a placed alternative elsewhere.
	StaticCoverage float64
	// ObservedCoverage and ObservedBlastRadius come from the worst
	// outage-like fault in the run that hits the provider (NaN: none).
	ObservedCoverage, ObservedBlastRadius float64
	// Band reads the observed coverage if there is one, else the static one.
	Band Band
	// Layers is how many layers the strategy places on the provider.
	Layers int
}

func providerExposures(w *world, s *stratAgg, strategy string, faults []FaultImpact) []ProviderExposure {
	placed := w.placed(strategy)
	total := 0.0
	for _, c := range s.classes {
		total += float64(c.requests)
	}
	primTotal := 0.0
	for _, v := range s.primary {
		primTotal += float64(v)
	}
	out := make([]ProviderExposure, len(w.providers))
	for p := range w.providers {
		e := ProviderExposure{Provider: w.providers[p].name, PrimaryShare: math.NaN(), StaticBlastRadius: math.NaN(),
			StaticCoverage: math.NaN(), ObservedCoverage: math.NaN(), ObservedBlastRadius: math.NaN()}
		if p < len(s.primary) {
			e.PrimaryShare = ratio(float64(s.primary[p]), primTotal)
		}
		for _, deps := range placed {
			if slices.ContainsFunc(deps, func(d int) bool { return w.deps[d].provider == p }) {
				e.Layers++
			}
		}
		onlyP := 0.0
		for ci, c := range s.classes {
			if ci >= len(w.classes) {
				continue
			}
			deps := placed[w.classes[ci].layer]
			if len(deps) > 0 && !slices.ContainsFunc(deps, func(d int) bool { return w.deps[d].provider != p }) {
				onlyP += float64(c.requests)
			}
		}
		e.StaticBlastRadius = ratio(onlyP, total)
		if e.PrimaryShare > 0 {
			e.StaticCoverage = math.Max(0, 1-e.StaticBlastRadius/e.PrimaryShare)
		}
		for _, f := range faults {
			if !f.OutageLike || !slices.Contains(f.Providers, e.Provider) || math.IsNaN(f.FailoverCoverage) {
				continue
			}
			if math.IsNaN(e.ObservedCoverage) || f.FailoverCoverage < e.ObservedCoverage {
				e.ObservedCoverage, e.ObservedBlastRadius = f.FailoverCoverage, f.BlastRadius
			}
		}
		fc := e.ObservedCoverage
		if math.IsNaN(fc) {
			fc = e.StaticCoverage
		}
		e.Band = FailoverCoverageBand(fc)
		out[p] = e
	}
	return out
}

// Resilience is a strategy's R1–R5.
type Resilience struct {
	// Availability is A = completed / measured requests (R3); Attainment
	// the share that met their SLO.
	Availability, Attainment float64
	Nines                    float64
	// BudgetUsed = (1 − A)/(1 − target); AttainmentBudgetUsed likewise
	// for SLO attainment. Above 1 the objective is missed.
	BudgetUsed, AttainmentBudgetUsed float64
	Faults                           []FaultImpact
	Providers                        []ProviderExposure
	// Flags are the DORA-style flags (R5) and error-budget flags.
	Flags []string
}

func resilienceOf(w *world, s *stratAgg, m *StrategyMetrics, target float64) Resilience {
	r := Resilience{Availability: ratio(float64(m.Completed), float64(m.Requests)), Attainment: ratio(float64(m.Good), float64(m.Requests))}
	r.Nines = Nines(r.Availability)
	r.BudgetUsed, r.AttainmentBudgetUsed = BudgetUsed(r.Availability, target), BudgetUsed(r.Attainment, target)
	r.Faults = faultImpacts(w, s, target)
	r.Providers = providerExposures(w, s, m.Name, r.Faults)
	if r.BudgetUsed > 1 {
		r.Flags = append(r.Flags, fmt.Sprintf("availability %.4f%% misses the %.4g%% objective (error budget used: %.0f%%)", 100*r.Availability, 100*target, 100*r.BudgetUsed))
	}
	for _, e := range r.Providers {
		fc := e.ObservedCoverage
		basis := "observed in a fault window"
		if math.IsNaN(fc) {
			fc, basis = e.StaticCoverage, "placement only"
		}
		if !math.IsNaN(fc) && fc < 0.5 && e.PrimaryShare > 0 {
			r.Flags = append(r.Flags, fmt.Sprintf("%s is not easily substitutable: failover coverage %.2f (%s; DORA Art 29(1)(a), all workloads treated as critical)", e.Provider, fc, basis))
		}
		if e.Layers >= 2 {
			r.Flags = append(r.Flags, fmt.Sprintf("%s serves %d layers: multiple arrangements with one provider (DORA Art 29(1)(b))", e.Provider, e.Layers))
		}
	}
	for _, f := range r.Faults {
		if f.BudgetFlag && f.OutageLike {
			r.Flags = append(r.Flags, fmt.Sprintf("%s of %s: blast radius %.1f%% exceeds the error budget %.2g%% (concentration-risk flag)", f.Kind, f.Target, 100*f.BlastRadius, 100*(1-target)))
		}
	}
	return r
}
