package reports

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Section IDs.
const (
	SecAnswer      = "answer"
	SecArchitects  = "architects"
	SecPerformance = "performance"
	SecRegulators  = "regulators"
	SecMethodology = "methodology"
)

// Document lays the analysis out as a report.
func (an *Analysis) Document() *Document {
	sum := an.Run.Summary
	reps := 0
	for _, m := range an.Strategies {
		reps = max(reps, m.Replications)
	}
	kind := "simulation"
	if an.Run.IsLoad() {
		kind = "load test"
	}
	d := &Document{
		Title:     "mcbench report: " + sum.Scenario,
		Subtitle:  fmt.Sprintf("%s of %d strateg%s, %d replication%s, seed %d", kind, len(an.Strategies), plural(len(an.Strategies), "y", "ies"), reps, plural(reps, "", "s"), sum.Seed),
		Warnings:  an.Warnings,
		Generator: "mcbench " + an.Options.Version,
	}
	if an.Run.HasOutcomes {
		d.OutcomesCSV = filepath.Join(an.Run.Dir, results.OutcomesFile)
	}
	figs := map[string]*Figure{}
	for _, f := range an.Figures() {
		figs[f.ID] = f
	}
	d.Sections = []Section{an.answerSection(), an.architects(figs), an.performance(figs), an.regulators(figs), an.methodology()}
	return d
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (an *Analysis) glance() []string {
	var out []string
	for _, m := range an.Strategies {
		s := fmt.Sprintf("%s: %s of %s requests completed", m.Name, pct(m.SuccessRate.Mean), grouped(m.Requests))
		if m.Good >= 0 {
			s += fmt.Sprintf(", %s within SLO", pct(ratio(float64(m.Good), float64(m.Requests))))
		}
		s += fmt.Sprintf("; TTFT p99 %s, E2E p99 %s", secs(m.TTFT.P99), secs(m.E2E.P99))
		if !math.IsNaN(m.Cost.PerSuccess) {
			s += fmt.Sprintf("; %s per successful request", usd(m.Cost.PerSuccess))
		}
		if lc := m.Concentration.layer(scenarios.LayerModel); lc != nil {
			s += "; " + modelConcentrationText(lc)
		}
		out = append(out, s)
	}
	ms := an.withRecords()
	if len(ms) > 1 {
		xs, ys := make([]float64, len(ms)), make([]float64, len(ms))
		for i, m := range ms {
			xs[i], ys[i] = m.Cost.PerSuccess, m.E2E.P99
		}
		var names []string
		for _, i := range ParetoFront(xs, ys) {
			names = append(names, ms[i].Name)
		}
		out = append(out, "Pareto-optimal on cost per successful request and p99 end-to-end latency (no other strategy is better on both): "+strings.Join(names, ", "))
	}
	return out
}

// modelConcentrationText is the glance's concentration figure: the model
// layer's HHI by traffic share with its bands, spend share beside it.
func modelConcentrationText(lc *LayerConcentration) string {
	s := "model layer by requests: HHI " + num(lc.TrafficHHI, 0)
	var bands []string
	if lc.US.Label != "" {
		bands = append(bands, "US 2023: "+lc.US.Label)
	}
	if lc.Norm.Label != "" && !math.IsNaN(lc.TrafficNormalised) {
		bands = append(bands, "H* "+num(lc.TrafficNormalised, 2)+" "+lc.Norm.String())
	} else if lc.Norm.Label != "" {
		bands = append(bands, lc.Norm.String())
	}
	if len(bands) > 0 {
		s += " (" + strings.Join(bands, "; ") + ")"
	}
	if !math.IsNaN(lc.SpendHHI) {
		s += "; by spend: HHI " + num(lc.SpendHHI, 0)
	}
	return s
}

func (an *Analysis) baseName() string {
	if an.Baseline < 0 {
		return ""
	}
	return an.Strategies[an.Baseline].Name
}

// ---- Architects ----

func (an *Analysis) architects(figs map[string]*Figure) Section {
	single := len(an.Strategies) == 1
	s := Section{ID: SecArchitects, Title: "Strategy comparison", Audience: "architects"}
	tableTitle := "Strategies side by side"
	if single {
		// Nothing to compare: the section reports the one strategy, and
		// plots whose point is a comparison (cost against p99) are left out.
		s.Title, tableTitle = "Strategy "+an.Strategies[0].Name, "Headline figures"
		s.text("Figures are means over replications with 95% Student-t intervals (±) when there are two or more. Costs are at list prices from the pricing tables (see Methodology), summed over the measured window.")
	} else {
		s.text("Each strategy served the same seeded request stream; figures are means over replications with 95% Student-t intervals (±). Costs are at list prices from the pricing tables (see Methodology), summed over the measured window of every replication.")
	}
	t := &Table{ID: "strategies", Title: tableTitle,
		Columns: []string{"strategy", "requests", "completed", "within SLO", "TTFT p50", "TTFT p99", "E2E p99", "throughput (req/s)", "cost / successful request", "cost / 1M tokens", "cost / SLO-met request", "cost / replication"}}
	for _, m := range an.Strategies {
		t.row(txt(m.Name), intc(m.Requests), ivc(m.SuccessRate, pct), ivc(m.GoodRate, pct), secc(m.TTFT.P50), ivc(withMean(m.TTFT.P99CI, m.TTFT.P99), secs),
			ivc(withMean(m.E2E.P99CI, m.E2E.P99), secs), ivc(m.ThroughputRPS, func(x float64) string { return num(x, 1) }),
			ivc(withMean(m.Cost.PerSuccessCI, m.Cost.PerSuccess), usd), usdc(m.Cost.PerMTokens), usdc(m.Cost.PerGoodRequest), ivc(m.Cost.PerReplication, usd))
	}
	t.Notes = []string{"p99 columns: the percentile of the histogram merged over replications, ± the 95% half-width of the per-replication p99s.",
		"Within SLO: completed and within the class's TTFT and E2E objectives (classes without an SLO count every completed request)."}
	s.table(t)
	if an.Baseline >= 0 && len(an.Strategies) > 1 {
		dt := &Table{ID: "vs-baseline", Title: "Paired differences against the baseline " + an.baseName(),
			Columns: []string{"strategy", "statistic", "unit", "baseline", "strategy value", "difference [95% CI]", "significant"}}
		for _, m := range an.Strategies {
			for _, df := range m.VsBaseline {
				dt.row(txt(m.Name), txt(df.Metric), unitc(df.Unit), valc(df.A, df.Unit), valc(df.B, df.Unit), diffc(df.Delta, unitFmt(df.Unit)), txt(verdict(df)))
			}
		}
		dt.Notes = []string{"Same scenario and seed: replication r of every strategy saw the same requests, so each replication yields one difference (common random numbers) and the interval is a Student-t interval over those differences."}
		s.table(dt)
	}
	if !single {
		s.figure(figs[FigCostVsP99])
	}
	s.figure(figs[FigCostBreakdown])
	s.table(an.costComponents())
	s.table(an.costByProviderLayer())
	s.table(an.deploymentTable())
	s.table(an.transferTable())
	s.table(an.provisionedTable())
	return s
}

func withMean(iv results.Interval, m float64) results.Interval { iv.Mean = m; return iv }

func unitFmt(unit string) func(float64) string {
	switch unit {
	case "s":
		return secs
	case "ratio":
		return func(x float64) string { return num(100*x, 2) + " pp" }
	case "USD":
		return usd
	case "HHI":
		return hhiText
	}
	return func(x float64) string { return num(x, 3) }
}

func valc(x float64, unit string) Cell {
	switch unit {
	case "s":
		return secc(x)
	case "ratio":
		return pctc(x)
	case "USD":
		return usdc(x)
	case "HHI":
		return numc(x, 0)
	}
	return numc(x, 3)
}

// unitc is a row's unit, as the unit column of a table whose rows hold
// different statistics writes it.
func unitc(unit string) Cell {
	if unit == "ratio" {
		unit = "fraction"
	}
	return txt(unit)
}

func verdict(d Diff) string {
	switch {
	case !d.Delta.Defined():
		return "no interval"
	case !d.Significant():
		return "no (CI spans 0)"
	case (d.Delta.Mean < 0) == d.LowerIsBetter:
		return "yes, better"
	default:
		return "yes, worse"
	}
}

func (an *Analysis) costComponents() *Table {
	t := &Table{ID: "cost-components", Title: "Spend by component (summed over replications)",
		Columns: []string{"strategy", "tokens", "provisioned units", "data transfer", "state storage", "total", "per hour of traffic", "billed input tokens", "billed output tokens"}}
	for _, m := range an.withRecords() {
		c := &m.Cost
		t.row(txt(m.Name), usdc(c.Token), usdc(c.Provisioned), usdc(c.Transfer), usdc(c.Storage), usdc(c.Total), valCell(usd(c.PerHour), c.PerHour, "USD/h"), intc(c.BilledInput), intc(c.BilledOutput))
	}
	t.Notes = []string{"Billed tokens: attempts that produced tokens (completed, or cut after a first token); throttled, rejected and failed attempts cost nothing. Provisioned deployments' tokens are covered by their unit-hours."}
	return t
}

func (an *Analysis) costByProviderLayer() *Table {
	t := &Table{ID: "cost-by-provider-layer", Title: "Spend by provider and layer",
		Columns: []string{"strategy", "provider", "layer", "spend", "share of strategy spend"}}
	for _, m := range an.withRecords() {
		for p, pr := range an.Providers {
			for l, layer := range Layers {
				v := m.Cost.ByProviderLayer[p][l]
				if v == 0 {
					continue
				}
				t.row(txt(m.Name), txt(pr.Name), txt(layer), usdc(v), pctc(ratio(v, m.Cost.Total)))
			}
		}
		ptotal := make([]float64, len(an.Providers))
		for p := range an.Providers {
			for l := range Layers {
				ptotal[p] += m.Cost.ByProviderLayer[p][l]
			}
		}
		for p, pr := range an.Providers {
			if ptotal[p] > 0 {
				t.row(txt(m.Name), txt(pr.Name), txt("all layers"), usdc(ptotal[p]), pctc(ratio(ptotal[p], m.Cost.Total)))
			}
		}
	}
	return t
}

func (an *Analysis) deploymentTable() *Table {
	t := &Table{ID: "deployments", Title: "Attempts and spend by deployment",
		Columns: []string{"strategy", "deployment", "provider", "region", "model", "layer", "attempts", "completed", "throttled", "rejected", "failed", "timed out", "token spend", "unit spend", "price"}}
	for _, m := range an.Strategies {
		for _, d := range m.Deployments {
			t.row(txt(m.Name), txt(d.Name), txt(d.Provider), txt(d.Region), txt(d.Model), txt(d.Layer), intc(d.Attempts), intc(d.Completed),
				intc(d.Throttled), intc(d.Rejected), intc(d.Failed), intc(d.TimedOut), usdc(orNaN(d.TokenCost, m.FromSummary)), usdc(orNaN(d.ProvisionedCost, m.FromSummary)), txt(d.Price))
		}
	}
	return t
}

func orNaN(x float64, nan bool) float64 {
	if nan {
		return math.NaN()
	}
	return x
}

func (an *Analysis) transferTable() *Table {
	t := &Table{ID: "transfer", Title: "Data transfer by paying region and path",
		Columns: []string{"strategy", "paid by", "region", "path", "source", "volume", "USD/GB (monthly tiers)", "spend"}}
	for _, m := range an.withRecords() {
		for _, l := range m.Cost.TransferLines {
			t.row(txt(m.Name), txt(l.Provider), txt(l.Region), txt(l.Path), txt(l.Source), valCell(gb(l.GB), l.GB, "GB"), valCell(fmt.Sprintf("%.4f", l.PerGB), l.PerGB, "USD/GB"), usdc(l.USD))
		}
	}
	t.Notes = []string{fmt.Sprintf("Estimated payloads: %g bytes per input token (prompt JSON) and %g bytes per streamed output token (one SSE chunk or event-stream frame each: about 150 bytes for a Bedrock frame and 440 for an Azure chunk with content-filter results, as the fakes write them; see docs/references.md [13]). Egress is paid by the provider the bytes leave; ingress is free. Agentic sessions' model calls leave from the orchestration region, not the workload's origin: their cross-cloud bytes (prompts, answers) come from the records' cross_cloud_bytes instead, and session state transfer is in the simulator's summary.", an.Options.BytesPerInputToken, an.Options.BytesPerOutputToken),
		"Volume tiers (and monthly free allowances) are applied to the run's volume extrapolated to a 730-hour month; the resulting average $/GB prices the run's bytes.",
		"Recorded cross_cloud_bytes carry no direction and are charged as inter-cloud egress of the serving deployment's provider."}
	return t
}

func (an *Analysis) provisionedTable() *Table {
	t := &Table{ID: "provisioned", Title: "Provisioned capacity",
		Columns: []string{"strategy", "deployment", "provider", "unit", "units", "billing increment", "billed unit-hours per unit", "commitment", "spend"}}
	for _, m := range an.withRecords() {
		for _, l := range m.Cost.ProvisionedLines {
			t.row(txt(m.Name), txt(l.Deployment), txt(l.Provider), txt(l.Unit), numc(l.Units, 0), valCell(l.Increment.String(), l.Increment.Seconds(), "s"), numc(l.BilledHours, 3), txt(l.Commitment), usdc(l.USD))
		}
	}
	t.Notes = []string{"Each replication's measured window is billed separately, rounded up to whole billing increments: Azure prorates PTUs by the minute; Bedrock model units are billed per started hour (assumption: the user guide says hourly and states no proration). Commitments are not charged over a simulated window; they are listed for the reader."}
	return t
}

// ---- Performance engineers ----

func (an *Analysis) performance(figs map[string]*Figure) Section {
	s := Section{ID: SecPerformance, Title: "Latency and load", Audience: "performance engineers"}
	s.text("Latency runs from each request's intended send time (its arrival), so queueing, retries and a load generator falling behind all show up: no coordinated omission. TTFT is the first content token; E2E the last.")
	s.figure(figs[FigTTFTCDF])
	s.figure(figs[FigE2ECDF])
	t := &Table{ID: "latency", Title: "Latency per strategy", Columns: []string{"strategy", "latency", "mean", "p50", "p90", "p99", "max"}}
	for _, m := range an.Strategies {
		for _, l := range []struct {
			name string
			l    Latency
		}{{"TTFT", m.TTFT}, {"E2E", m.E2E}} {
			t.row(txt(m.Name), txt(l.name), ivc(withMean(l.l.MeanCI, l.l.Mean), secs), secc(l.l.P50), secc(l.l.P90), ivc(withMean(l.l.P99CI, l.l.P99), secs), secc(l.l.Max))
		}
	}
	s.table(t)
	s.figure(figs[FigTTFTOverTime])
	s.figure(figs[FigErrorsOverTime])
	ot := &Table{ID: "request-outcomes", Title: "Request outcomes", Columns: []string{"strategy", "requests", "completed", "throttled", "rejected", "failed", "timed out", "client error", "attempts / request", "completed after a retry", "completed by failover"}}
	for _, m := range an.Strategies {
		ot.row(txt(m.Name), intc(m.Requests), intc(m.Status[results.StatusOK]), intc(m.Status[results.StatusThrottled]), intc(m.Status[results.StatusRejected]),
			intc(m.Status[results.StatusFailed]), intc(m.Status[results.StatusTimedOut]), intc(m.Status[results.StatusClientError]),
			numc(ratio(float64(m.Attempts), float64(m.Requests)), 3), intc(m.Retried), intc(m.FailedOver))
	}
	s.table(ot)
	ct := &Table{ID: "classes", Title: "Traffic classes", Columns: []string{"strategy", "class", "SLO TTFT", "SLO E2E", "requests", "completed", "within SLO"}}
	for _, m := range an.Strategies {
		for _, c := range m.Classes {
			ct.row(txt(m.Name), txt(c.Name), sloc(c.SLOTTFT.Seconds()), sloc(c.SLOE2E.Seconds()), intc(c.Requests), pctc(c.SuccessRate), pctc(c.GoodRt))
		}
	}
	s.table(ct)
	if st := an.sessionsTable(); st != nil {
		s.table(st)
	}
	if ld := an.Run.Summary.Load; ld != nil {
		lt := &Table{ID: "load-test", Title: "Load-test measurements (from summary.json)", Columns: []string{"measurement", "mean", "p50", "p90", "p99", "max"}}
		for _, r := range []struct {
			name string
			l    results.Latency
		}{{"TTFT of the last attempt (from its own send)", ld.AttemptTTFTSeconds}, {"time per output token", ld.TPOTSeconds},
			{"inter-token latency per chunk", ld.ITLPerChunkSeconds}, {"send lag (actual − intended)", ld.SendLagSeconds}} {
			lt.row(txt(r.name), secc(r.l.Mean), secc(r.l.P50), secc(r.l.P90), secc(r.l.P99), secc(r.l.Max))
		}
		lt.Notes = []string{pacerLine(ld)}
		s.table(lt)
	}
	return s
}

// ---- Regulators' analysts ----

func (an *Analysis) regulators(figs map[string]*Figure) Section {
	s := Section{ID: SecRegulators, Title: "Concentration, lock-in and resilience", Audience: "regulators' analysts"}
	s.text("These figures describe the supplier concentration of this one workload: an analogue of, not a finding about, market concentration. The headline basis is traffic: the share of requests each provider served (completed attempts), the workload's dependence on it. Token and spend shares stand beside it: list prices differ by an order of magnitude between providers, so spend shares describe prices as much as dependence. Market thresholds are printed beside the normalised H*, which accounts for how few providers can serve a layer: with two capable providers the lowest possible HHI is 5,000. A layer under 1% of a strategy's spend is listed without a band.")
	s.head("Concentration per layer")
	t := &Table{ID: "concentration", Title: "Concentration per layer (C1, C2, C4, C5)",
		Columns: []string{"strategy", "layer", "capable providers n", "placed", "traffic shares (requests)", "traffic HHI", "H* by traffic", "token HHI", "spend shares", "spend HHI", "spend HHI p5–p95 over replications", "layer share of spend", "CR1", "effective providers", "Δ traffic HHI vs " + an.baseName(), "US 2023 band", "EU screen"}}
	for _, m := range an.Strategies {
		for _, lc := range m.Concentration.Layers {
			capable := nac("-")
			if lc.Capable > 0 {
				capable = intc(int64(lc.Capable))
			}
			spread := nac("-")
			if sp := lc.SpendHHISpread; sp.N > 0 {
				spread = rangec(num(sp.P5, 0)+"–"+num(sp.P95, 0), sp.P5, sp.P95, "HHI")
			}
			normText := num(lc.TrafficNormalised, 2)
			if lc.Norm.Label != "" && lc.Basis == "traffic" {
				normText += " " + lc.Norm.String()
			}
			normCell := valCell(normText, lc.TrafficNormalised, "index 0–1")
			if lc.Capable == 0 {
				normCell = nac("n/a")
			}
			deltaCell := numc(lc.DeltaTraffic, 0)
			if m == an.Strategies[an.Baseline] {
				deltaCell = nac("(baseline)")
			} else if lc.DeltaBand.Label != "" && lc.Basis == "traffic" {
				deltaCell.Text += " (" + lc.DeltaBand.Label + ")"
			}
			cr1Text := num(lc.CR1, 1) + "% " + lc.CR1Provider + " (" + lc.Basis + ")"
			if lc.CR1Band.Label != "" {
				cr1Text += ": " + lc.CR1Band.Label
			}
			cr1 := valCell(cr1Text, lc.CR1/100, "fraction")
			us, eu := txt(lc.US.Label), txt(lc.EU.Label)
			if lc.Minor {
				us, eu = txt("not banded: under 1% of spend"), txt("not banded")
			}
			t.row(txt(m.Name), txt(lc.Layer), capable, intc(int64(lc.Placed)), txt(an.sharesText(lc.TrafficShares)),
				ivc(withMean(lc.TrafficHHICI, lc.TrafficHHI), func(x float64) string { return num(x, 0) }), normCell, numc(lc.TokenHHI, 0),
				txt(an.sharesText(lc.SpendShares)), numc(lc.SpendHHI, 0), spread, valCell(num(lc.SpendShareOfTotal, 1)+"%", lc.SpendShareOfTotal/100, "fraction"),
				cr1, numc(lc.EffectiveProviders, 2), deltaCell, us, eu)
		}
	}
	t.Notes = []string{"HHI = Σ s² over percentage shares (0–10,000); traffic HHI ± the 95% interval over replications. H* = (HHI − 10⁴/n)/(10⁴ − 10⁴/n): 0 balanced over the n capable providers, 1 single-sourced. Effective providers = 10⁴/HHI. CR1 = the largest share. Bands read the traffic HHI (spend for the network layer) and come from the interpretation table below, which gives each one's basis.",
		"The network layer is data-transfer spend, attributed to the provider that charges it; it has no traffic and n is not defined for it."}
	s.table(t)
	s.figure(figs[FigHHIByLayer])
	st := &Table{ID: "stack", Title: "Stack concentration, exclusivity and state (C3, C6, C7)",
		Columns: []string{"strategy", "HHI of total spend", "spend-weighted layer HHI", "largest layer HHI", "exclusivity X (no capable alternative)", "single-provider placement", "state HHI", "providers in ≥2 layers"}}
	for _, m := range an.Strategies {
		c := &m.Concentration
		maxLayer := num(c.Stack.Max, 0)
		if c.Stack.MaxLayer >= 0 {
			maxLayer += " (" + Layers[c.Stack.MaxLayer] + ")"
		}
		st.row(txt(m.Name), numc(c.Stack.Aggregate, 0), numc(c.Stack.Weighted, 0), valCell(maxLayer, c.Stack.Max, "HHI"),
			valCell(num(c.Exclusivity, 1)+"%", c.Exclusivity/100, "fraction"), valCell(num(c.PlacementExclusivity, 1)+"%", c.PlacementExclusivity/100, "fraction"),
			numc(c.StateHHI, 0), txt(strings.Join(c.MultipleArrangements, ", ")))
	}
	st.Notes = []string{"X = 100·Σ traffic in layers only one provider can serve in the scenario / all traffic; any X > 0 is foreclosure-relevant. Single-provider placement is the same share for layers this strategy places on one provider.",
		"State HHI needs a state inventory (--state): the records carry no stored bytes."}
	s.table(st)

	s.head("Lock-in")
	if et := an.exitTable(); len(et.Rows) > 0 {
		s.table(et)
	} else {
		s.text("No state inventory was given (mcbench report --state FILE): the records carry no stored bytes, so state concentration (C7) and the exit cost and time from each provider (L1, L6) are not computed for this run. Stateless model inference holds no customer state to move; the reference volumes below show the order of magnitude of an exit.")
	}
	s.table(an.referenceExitTable())
	pt := &Table{ID: "portability", Title: "Portability (L7) and multi-cloud tax (L8)",
		Columns: []string{"strategy", "provider", "traffic served", "portability index PI", "band", "strategy PI", "cross-cloud transfer spend", "multi-cloud tax MT"}}
	for _, m := range an.Strategies {
		li := &m.LockIn
		for _, p := range li.Portability {
			pt.row(txt(m.Name), txt(p.Provider), intc(p.Traffic), numc(p.Index, 2), txt(p.Band.String()), valCell(num(li.PortabilityIndex, 2)+" "+li.PortabilityBand.String(), li.PortabilityIndex, "index 0–1"),
				usdc(li.CrossCloudUSD), pctc(li.MultiCloudTax))
		}
	}
	pt.Notes = []string{"PI_p = Σ_l Q_{p,l}·φ / Σ_l Q_{p,l}: φ = 1 when another provider serves the layer in this strategy and did serve traffic in this run (tested), 0.5 when another provider could serve it in the scenario but was not exercised, 0 when none can.",
		"MT = inter-cloud transfer spend / total spend, at list prices; under the EU Data Act in-parallel egress must be at cost from 2027."}
	s.table(pt)

	s.head("Resilience")
	rt := &Table{ID: "availability", Title: "Availability and error budgets (R3)",
		Columns: []string{"strategy", "availability A", "nines", "error budget used", "SLO attainment", "attainment budget used"}}
	for _, m := range an.Strategies {
		r := &m.Resilience
		rt.row(txt(m.Name), ivc(m.SuccessRate, pct), ninesCell(r.Nines, m.Requests), pctc(r.BudgetUsed), pctc(r.Attainment), pctc(r.AttainmentBudgetUsed))
	}
	rt.Notes = []string{fmt.Sprintf("Objective %s for both; budget used = (1 − A)/(1 − objective), above 100%% the objective is missed. Nines = −log10(1 − A); with no failure in n requests A is 1 and its nines unbounded, so the cell gives the 95%% lower bound −log10(3/n) (the rule of three) instead.", pct(an.Options.SLOTarget))}
	s.table(rt)
	ft := &Table{ID: "fault-impact", Title: "Fault windows: failover coverage, blast radius, recovery (R1, R2, R4)",
		Columns: []string{"strategy", "fault", "window", "requests", "SLO breaches", "baseline breach rate", "exposed share π", "failover coverage FC", "blast radius BR", "time to fail over", "time to recover"}}
	for _, m := range an.Strategies {
		for _, f := range m.Resilience.Faults {
			br := pctc(f.BlastRadius)
			if f.BudgetFlag && f.OutageLike {
				br.Text += " > budget"
			}
			fc := valCell(num(f.FailoverCoverage, 3), f.FailoverCoverage, "fraction")
			if f.OutageLike && !math.IsNaN(f.FailoverCoverage) {
				fc.Text += " " + FailoverCoverageBand(f.FailoverCoverage).String()
			}
			ft.row(txt(m.Name), txt(f.Kind+" of "+f.Target+" ("+strings.Join(f.Providers, ", ")+")"), rangec(fmt.Sprintf("%s–%s", secs(f.Start), secs(f.End)), f.Start, f.End, "s"),
				intc(f.Requests), pctc(f.BreachRate), pctc(f.Baseline), pctc(f.ExposedShare), fc, br,
				faultTimeCell(f.TimeToFailover, f.FailoverWhy), faultTimeCell(f.TimeToRecover, f.RecoverWhy))
		}
	}
	ft.Notes = []string{"A request is in a window when any of its attempts was in flight during it (sent before the window's end, ended at or after its start), so the requests a fault caught in flight count, wherever they arrived. π = share of requests in no fault window whose first attempt went to a deployment the fault hits. FC = 1 − excess breaches / (π × requests in the window); BR = excess breaches / requests in the window, where excess = breaches − baseline rate × requests.",
		timesNote,
		"Failover coverage and blast radius are defined for outages (outage, reset, silent); brownouts and throttles show their impact only."}
	s.table(ft)
	if wt := an.faultWindowsTable(); wt != nil {
		s.table(wt)
	}
	pe := &Table{ID: "provider-exposure", Title: "Each provider's outage (R1, R2, R5)",
		Columns: []string{"strategy", "provider", "primary share", "static blast radius", "static coverage", "observed coverage", "observed blast radius", "substitutability", "layers served"}}
	for _, m := range an.Strategies {
		for _, e := range m.Resilience.Providers {
			pe.row(txt(m.Name), txt(e.Provider), pctc(e.PrimaryShare), pctc(e.StaticBlastRadius), numc(e.StaticCoverage, 2), numc(e.ObservedCoverage, 3), pctc(e.ObservedBlastRadius), txt(e.Band.String()), intc(int64(e.Layers)))
		}
	}
	pe.Notes = []string{"Static figures use the placement only (capacity ignored): a request's traffic is lost with the provider when its entry layer is placed on that provider alone. Observed figures come from the worst outage in this run that hits the provider."}
	s.table(pe)
	s.figure(figs[FigFailover])
	var flags []string
	for _, m := range an.Strategies {
		for _, f := range m.Resilience.Flags {
			flags = append(flags, m.Name+": "+f)
		}
	}
	if len(flags) > 0 {
		s.head("Flags")
		s.list(flags)
	}
	s.table(bandsTable())
	return s
}

func (an *Analysis) sharesText(shares []float64) string {
	if len(shares) == 0 {
		return "-"
	}
	var parts []string
	for p, v := range shares {
		if v > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f%%", an.Providers[p].Name, v))
		}
	}
	return strings.Join(parts, " / ")
}

func (an *Analysis) exitTable() *Table {
	t := &Table{ID: "exit", Title: "Exit from each provider (L1, L6)",
		Columns: []string{"strategy", "provider", "state to move", "regenerable (not moved)", "egress at list", "with the 2024 exit waiver", "EU Data Act until 11 Jan 2027", "EU Data Act from 12 Jan 2027", "data transfer time", "exit time", "Data Act band"}}
	for _, m := range an.Strategies {
		for _, e := range m.LockIn.Exit {
			t.row(exitCells(m.Name, e)...)
		}
	}
	if len(t.Rows) == 0 {
		t.Rows = nil
	}
	t.Notes = []string{"State comes from the --state inventory. Waivers are conditional (approval, 60 days, full exit); the Data Act caps switching charges at direct cost until 12 Jan 2027 (the list price is shown as a ceiling) and bans them after."}
	return t
}

func exitCells(strategy string, e ExitLine) []Cell {
	waiver := usdc(e.Cost.Waiver)
	if math.IsNaN(e.Cost.Waiver) {
		waiver = nac("no programme")
	}
	return []Cell{txt(strategy), txt(e.Provider), valCell(gb(e.GB), e.GB, "GB"), valCell(gb(e.RegenerableGB), e.RegenerableGB, "GB"),
		usdc(e.Cost.List), waiver, valCell("≤ "+usd(e.Cost.EUUntil2027), e.Cost.EUUntil2027, "USD"), usdc(e.Cost.EUFrom2027),
		valCell(days(e.DataTime), e.DataTime.Seconds(), "s"), valCell(days(e.ExitTime), e.ExitTime.Seconds(), "s"), txt(e.Band.Label)}
}

func (an *Analysis) referenceExitTable() *Table {
	t := &Table{ID: "exit-reference", Title: "Exit egress for reference volumes (worked examples, list prices)",
		Columns: []string{"case", "provider", "state to move", "regenerable (not moved)", "egress at list", "with the 2024 exit waiver", "EU Data Act until 11 Jan 2027", "EU Data Act from 12 Jan 2027", "data transfer time", "exit time", "Data Act band"}}
	for _, e := range an.ReferenceExits {
		t.row(exitCells("reference", e)...)
	}
	a := an.Options.Exit
	t.Notes = []string{fmt.Sprintf("Exit time = notice (%s) + max(data transfer, re-engineering in parallel %s) + cut-over (%s); data transfer = 8·B/(β·BW) at %g Gbps and β = %g. The exit volume is priced against one month's tiers.",
		days(a.Notice), days(a.Parallel), days(a.Cutover), a.BandwidthGbps, a.Utilisation)}
	return t
}

func bandsTable() *Table {
	t := &Table{ID: "bands", Title: "Interpretation bands and their basis", Columns: []string{"metric", "bands", "basis", "convention?"}}
	for _, r := range [][4]string{
		{"HHI (C1)", "<1,000 unconcentrated; 1,000–1,800 moderately; >1,800 highly concentrated", "US Merger Guidelines 2023 §2.1", "no (market threshold, applied by analogy)"},
		{"HHI (C1), EU", "<1,000; 1,000–2,000 with Δ<250; >2,000 with Δ<150: unlikely to raise concerns", "EU Horizontal Merger Guidelines paras 19–20", "no (market screen, applied by analogy)"},
		{"ΔHHI (C5)", ">100 significant; presumption of harm when HHI >1,800", "US Merger Guidelines 2023", "no"},
		{"H* (C2)", "<0.10 balanced; 0.10–0.40 tilted; >0.40 heavily tilted; 1 single-source; n = 1 exclusive", "mcbench convention (docs/references.md [14])", "yes"},
		{"CR1 (C4)", ">30% US share screen; ≥50% EU dominance indicator; ≤25% EU comfort", "US 2023 Guidelines; EU HMG para 17; EUMR recital 32", "no"},
		{"Exit time (L6)", "≤30 days fits the Data Act transition; up to 7 months only if technically unfeasible; beyond is outside", "EU Data Act Art 25", "no"},
		{"Portability PI (L7)", "≥0.8 portable; 0.5–0.8 partial; <0.5 locked", "mcbench convention (docs/references.md [14])", "yes"},
		{"Failover coverage (R1)", "≥0.99 substitutable; 0.5–0.99 partial; <0.5 not easily substitutable", "DORA Art 29 wording; cut-offs an mcbench convention (docs/references.md [14])", "yes (cut-offs)"},
		{"Blast radius (R2)", "above the error budget: concentration-risk flag", "mcbench convention (docs/references.md [14])", "yes"},
		{"Error budget (R3)", ">100% used: objective missed", "Google SRE", "no"},
		{"Time to fail over / recover (R4)", "time to fail over: window start → first exposed request completed on another deployment; time to recover: window start → end of the last exposed request that failed; shown as not reached / none needed / no failures when unobserved", "this harness (RTO in the sense of NIST SP 800-34, measured per window)", "yes"},
	} {
		t.row(txt(r[0]), txt(r[1]), txt(r[2]), txt(r[3]))
	}
	return t
}

// sessionsTable shows the summary's agentic sessions, when there are any.
func (an *Analysis) sessionsTable() *Table {
	t := &Table{ID: "sessions", Title: "Agentic sessions (from summary.json)", Columns: []string{"strategy", "class", "sessions", "completed",
		"latency mean", "latency p99", "within session SLO", "steps", "retries / session", "orchestrator failovers / session",
		"cross-region bytes / session", "cross-cloud bytes / session", "state bytes / session"}}
	for _, r := range an.Run.Summary.Results {
		for _, x := range r.Sessions {
			t.row(txt(r.Strategy), txt(x.Class), intc(x.Sessions), pctc(ratio(float64(x.Completed), float64(x.Sessions))),
				secc(x.LatencySeconds.Mean), secc(x.LatencySeconds.P99), pctc(float64(x.SLOAttainment)), numc(x.MeanSteps, 2),
				numc(x.RetriesPerSession, 3), numc(float64(x.FailoversPerSession), 3), numc(float64(x.CrossRegionBytesPerSession), 0),
				numc(float64(x.CrossCloudBytesPerSession), 0), numc(float64(x.StateBytesPerSession), 0))
		}
	}
	if len(t.Rows) == 0 {
		return nil
	}
	t.Notes = []string{"A session enters the orchestration layer, makes its steps' model calls from the orchestration region through the strategy, and reads and writes its state around each; it fails when a call fails after its retries, when no orchestrator will host it, or when its state is lost. Bytes: prompts and streamed answers of the calls and the state, counted where they cross a region or cloud boundary (a load test counts none)."}
	return t
}

// faultWindowsTable shows the simulator's per-window comparison with the
// fault-free run of the same replications, when the summary has one.
func (an *Analysis) faultWindowsTable() *Table {
	t := &Table{ID: "fault-windows", Title: "Fault windows against the fault-free run (from summary.json)", Columns: []string{"strategy", "fault", "requests",
		"failed", "extra E2E", "time to fail over", "time to recover", "token cost", "extra cost", "sessions", "sessions failed"}}
	current := results.FaultTimesDefined(an.Run.Summary.SchemaVersion)
	var negatives []string
	for _, r := range an.Run.Summary.Results {
		for _, f := range r.Faults {
			target := f.Target
			if f.To != "" {
				target += "–" + f.To
			}
			ttf, ttr := faultTimeCell(float64(f.TimeToFailoverSeconds), f.FailoverWhy()), faultTimeCell(float64(f.TimeToRecoverSeconds), f.RecoverWhy())
			if !current {
				ttf, ttr = faultTimeCell(math.NaN(), "earlier definition"), faultTimeCell(math.NaN(), "earlier definition")
			}
			extraE2E, extraCost := secc(float64(f.ExtraE2ESeconds)), usdc(float64(f.ExtraCostUSD))
			if why := f.NegativeExtra(); why != "" {
				if f.ExtraE2ESeconds < 0 {
					extraE2E.Text += " *"
				}
				if f.ExtraCostUSD < 0 {
					extraCost.Text += " *"
				}
				negatives = append(negatives, fmt.Sprintf("* %s, %s of %s at %s: %s.", r.Strategy, f.Kind, target, secs(f.StartSeconds), why))
			}
			t.row(txt(r.Strategy), txt(fmt.Sprintf("%s of %s at %s for %s", f.Kind, target, secs(f.StartSeconds), secs(f.DurationSeconds))),
				intc(f.Requests), pctc(ratio(float64(f.Failed), float64(f.Requests))), extraE2E,
				ttf, ttr, usdc(float64(f.CostUSD)), extraCost,
				intc(f.Sessions), pctc(ratio(float64(f.SessionsFailed), float64(f.Sessions))))
		}
	}
	if len(t.Rows) == 0 {
		return nil
	}
	t.Notes = []string{"Computed by the engine that wrote summary.json: the requests (and sessions) in flight during the window, against those in flight during the same span in a run of the same replication without faults (common random numbers: the same arrivals and draws), so a window at peak load is not blamed for the peak. Extra E2E and cost are means per replication; token cost is pay-as-you-go at the run's prices (provisioned capacity's marginal tokens are free). A load test has no fault-free run: its extra E2E and cost are empty.",
		timesNote}
	if !current {
		t.Notes = append(t.Notes, fmt.Sprintf("This summary.json has schema %s: it booked requests into windows by arrival and measured time to fail over and to recover by earlier rules, so those columns are left empty here; the R1 table gives them from the records under today's definitions.", orDash(an.Run.Summary.SchemaVersion)))
	}
	t.Notes = append(t.Notes, negatives...)
	return t
}

// ninesCell is −log10(1 − A), or for a run without a failure (A = 1,
// unbounded nines) the 95% lower bound from the rule of three: zero
// failures in n requests bound the failure rate by 3/n.
func ninesCell(nines float64, requests int64) Cell {
	if !math.IsInf(nines, 1) {
		return numc(nines, 2)
	}
	if requests <= 0 {
		return nac("-")
	}
	// The bound is not the column's figure, so machines read it as missing.
	lb := -math.Log10(3 / float64(requests))
	return nac("≥ " + num(lb, 2) + " (no failure in " + grouped(requests) + ")")
}

// pacerLine describes what the load generator was asked to send and what
// it sent: the scheduled span, the offered and achieved send rates, and
// the run's length with the drain.
func pacerLine(ld *results.Load) string {
	s := fmt.Sprintf("Pacer %s: %s requests scheduled over %s", ld.Pacer, grouped(int64(ld.Scheduled)), secs(ld.ScheduleSeconds))
	if ld.ScheduleSeconds > 0 {
		s += fmt.Sprintf(" (offered %s req/s", num(float64(ld.Scheduled)/ld.ScheduleSeconds, 1))
		if ld.Rate > 0 {
			s += fmt.Sprintf(", asked %g req/s", ld.Rate)
		}
		s += fmt.Sprintf("); %s sent (achieved %s req/s)", grouped(int64(ld.Sent)), num(float64(ld.Sent)/ld.ScheduleSeconds, 1))
	} else {
		s += fmt.Sprintf("; %s sent", grouped(int64(ld.Sent)))
	}
	return s + fmt.Sprintf("; the run took %s with the drain of the calls in flight; %s output tokens (%.1f/s).",
		secs(ld.DurationSeconds), grouped(ld.OutputTokens), ld.OutputTokensPerSecond)
}
