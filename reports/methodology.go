package reports

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

func (an *Analysis) methodology() Section {
	s := Section{ID: SecMethodology, Title: "Methodology", Audience: "everyone"}
	sum := an.Run.Summary
	info := an.Run.Info
	sc := an.Run.Scenario()
	hash := sum.ScenarioSHA256
	if an.Run.HashVerified {
		hash += " (verified against run.json)"
	} else {
		hash += " (does NOT match the scenario in run.json)"
	}
	reps := []string{}
	for _, m := range an.Strategies {
		reps = append(reps, fmt.Sprintf("%s: %d", m.Name, m.Replications))
	}
	retrieved, unverified := an.Options.Pricing.Dates()
	var dates []string
	for _, d := range retrieved {
		dates = append(dates, fmt.Sprintf("%s (%d rows)", d.Date.Format(time.DateOnly), d.Rows))
	}
	if unverified > 0 {
		dates = append(dates, fmt.Sprintf("%d rows not yet checked against their first-party source (mcbench pricing check lists them)", unverified))
	}
	t := &Table{ID: "run", Title: "Run and report", Columns: []string{"item", "value"}}
	for _, kv := range [][2]string{
		{"scenario", sum.Scenario + " (" + info.Source + ")"},
		{"scenario SHA-256", hash},
		{"seed", fmt.Sprint(sum.Seed)},
		{"source", sum.Source},
		{"mcbench version of the run", orDash(sum.Version)},
		{"mcbench version of the report", orDash(an.Options.Version)},
		{"replications", strings.Join(reps, "; ")},
		{"warm-up", an.WarmupRule + " (the writer's rule, so counts match summary.json)"},
		{"records read", fmt.Sprintf("%s rows: %s attempts, %s requests (%s warm-up requests deleted, %s orphan attempts)",
			grouped(an.Records.Rows), grouped(an.Records.Attempts), grouped(an.Records.Requests), grouped(an.Records.WarmupRequests), grouped(an.Records.OrphanAttempts))},
		{"time buckets", secs(an.BucketSeconds)},
		{"confidence intervals", "95% Student t over per-replication statistics (replications are independent; strategies share each replication's request stream, so strategy differences are paired)"},
		{"percentiles", "HdrHistogram, 3 significant figures, merged over replications (per-replication and per-bucket histograms: 2 significant figures)"},
		{"SLO objective for error budgets", pct(an.Options.SLOTarget)},
		{"price tables", an.Options.Pricing.Origin},
		{"price sources", "the providers' own price pages and price APIs, their own announcements, and EUR-Lex for the EU Data Act; no third-party source"},
		{"price retrieval dates", strings.Join(dates, ", ")},
		{"run command", orDash(info.Command)},
		{"regenerate this report", orDash(an.Options.Command)},
	} {
		t.row(txt(kv[0]), txt(kv[1]))
	}
	if sc != nil && len(sc.Faults) > 0 {
		var fs []string
		for _, f := range sc.Faults {
			fs = append(fs, fmt.Sprintf("%s of %s from %s for %s", f.Kind, f.Target, f.Start, f.Duration))
		}
		t.row(txt("faults"), txt(strings.Join(fs, "; ")))
	}
	s.table(t)
	if len(an.Faults) > 0 { // the windows the run reached
		s.head("Fault windows")
		s.list(faultRules())
	}
	s.head("Cost rules")
	s.list([]string{
		"Deployments are priced by provider kind and model, and by region where prices differ (a row for the exact region, then one for a tag the region carries, then the default). A model without a price costs 0 and is flagged as unpriced.",
		"An attempt is billed when the model produced tokens: completed, or cut after its first token. Billed input = its input tokens; billed output = the output tokens delivered. Throttled, rejected and failed attempts are free. Cached-input tokens are not in the records today, so none are billed at the cached price.",
		"Provisioned units (Azure PTU, Bedrock model units) are billed for each replication's measured window (first arrival to last completion), rounded up to the provider's billing increment; their tokens cost nothing more.",
		fmt.Sprintf("Data transfer: estimated client payloads (%g B per input token, %g B per streamed output token) plus recorded cross_cloud_bytes, paid by the provider the bytes leave; tiers applied to the run's volume extrapolated to a %g-hour month.", an.Options.BytesPerInputToken, an.Options.BytesPerOutputToken, HoursPerMonth),
		"State storage: the --state inventory's GB × price per GB-month × the measured window's share of a 730-hour month.",
		"Cost per successful request (the cost headline) = total / completed requests: failed requests cost nothing, so dividing by every request would make a strategy cheaper the more it fails. Per request = total / measured requests; per 1M tokens = total / billed tokens × 10⁶; per SLO-met request (goodput) = total / requests that completed within their class's objectives.",
	})
	pt := &Table{ID: "prices-used", Title: "Prices used", Columns: []string{"deployment", "provider kind", "model", "region", "price", "source URL", "retrieved", "value as of", "estimate"}}
	for _, d := range an.Deployments {
		src, retrieved, asOf, est := "-", "-", "-", "-"
		if p := an.priceRow(d); p != nil {
			src, retrieved, asOf = p.SourceURL, dateOrEmpty(p.Retrieved), dateOrEmpty(p.ValueAsOf)
			est = "no"
			if p.Estimate {
				est = "yes"
			}
		}
		pt.row(txt(d.Name), txt(d.Kind), txt(d.Model), txt(d.Region), txt(d.Price), txt(src), txt(retrieved), txt(asOf), txt(est))
	}
	pt.Notes = []string{retrievedNote}
	s.table(pt)
	s.table(an.egressUsed())
	s.head("Definitions")
	s.list(definitions())
	return s
}

// retrievedNote explains the provenance columns of the price tables.
const retrievedNote = "Source URL: the provider's own price page or price API (EUR-Lex for the EU Data Act). Retrieved: the date the figure was read there; empty when nobody has checked the figure against that page yet, and value as of is then the date the figure was first recorded. mcbench pricing check lists unchecked and stale rows."

// dateOrEmpty formats a date, or "" for the zero date (not known).
func dateOrEmpty(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return d.Format(time.DateOnly)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (an *Analysis) priceRow(d DeploymentInfo) *Provenance {
	p := an.Options.Pricing
	var tags []string
	if sc := an.Run.Scenario(); sc != nil {
		for _, pr := range sc.Providers {
			for _, r := range pr.Regions {
				if r.Name == d.Region {
					tags = r.Tags
				}
			}
		}
	}
	if d.ProvisionedUnits > 0 {
		if r := p.ProvisionedFor(d.Kind, d.Model, d.Region, tags); r != nil {
			return &r.Provenance
		}
		return nil
	}
	if r := p.TokenPriceFor(d.Kind, d.Model, d.Region, tags); r != nil {
		return &r.Provenance
	}
	return nil
}

// egressUsed lists the transfer, storage and exit rows for the scenario's provider kinds.
func (an *Analysis) egressUsed() *Table {
	kinds := []string{}
	for _, p := range an.Providers {
		if !slices.Contains(kinds, p.Kind) {
			kinds = append(kinds, p.Kind)
		}
	}
	p := an.Options.Pricing
	t := &Table{ID: "transfer-prices", Title: "Transfer, storage and exit prices for the scenario's providers",
		Columns: []string{"provider kind", "item", "price", "source URL", "retrieved", "value as of", "estimate"}, Notes: []string{retrievedNote}}
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, k := range kinds {
		for _, e := range p.Egress {
			if e.ProviderKind != k {
				continue
			}
			span := num(e.FromGB, 0) + " GB–" + num(e.ToGB, 0) + " GB"
			if e.ToGB > 1e300 {
				span = "above " + num(e.FromGB, 0) + " GB"
			}
			t.row(txt(k), txt(fmt.Sprintf("%s (%s), %s per month", e.Path, e.Region, span)),
				txt(fmt.Sprintf("$%g/GB", e.PerGB)), txt(e.SourceURL), txt(dateOrEmpty(e.Retrieved)), txt(dateOrEmpty(e.ValueAsOf)), txt(yn(e.Estimate)))
		}
		for _, s := range p.Storage {
			if s.ProviderKind == k {
				t.row(txt(k), txt("storage "+s.Service+" ("+s.Region+")"), txt(fmt.Sprintf("$%g/GB-month", s.PerGBMonth)), txt(s.SourceURL), txt(dateOrEmpty(s.Retrieved)), txt(dateOrEmpty(s.ValueAsOf)), txt(yn(s.Estimate)))
			}
		}
		for _, x := range p.ExitRegimesFor(k) {
			price := "at cost (list as ceiling)"
			if !x.AtCost() {
				price = fmt.Sprintf("$%g/GB", x.PerGB)
			}
			t.row(txt(k), txt("exit: "+x.Regime+": "+x.Conditions), txt(price), txt(x.SourceURL), txt(dateOrEmpty(x.Retrieved)), txt(dateOrEmpty(x.ValueAsOf)), txt(yn(x.Estimate)))
		}
	}
	return t
}

// faultRules says how requests are assigned to fault windows and what the
// windows' figures mean: the definitions results.FaultResult documents,
// which the engines, summary.json, the CLI and every table here share.
func faultRules() []string {
	return []string{
		"A window runs from the fault's start (included) to its end (excluded). A request belongs to it when any of its attempts was in flight during it: sent before the window's end and ended at or after its start (an attempt the fault cut the instant it began belongs to it; one sent the instant it ended does not). Requests caught in flight when a fault strikes are its victims wherever they arrived; a request can belong to more than one window. Sessions belong to the windows they were in progress during.",
		"Time to fail over (TTF): from the window's start to the completion of the first request exposed to it that completed on a deployment other than the one its first attempt went to (a retry or a hedge elsewhere won), mean over the replications in which one did. Not observed: \"not reached\" when exposed requests failed and none failed over, \"none needed\" when none failed, \"no requests\" when none was exposed; never written as 0.",
		"Time to recover (TTR): from the window's start to the end of the last exposed request that failed: how long users saw failures the fault caused, the requests it cut at its start and those still failing after it ended included; mean over the replications in which a request failed, \"no failures\" otherwise. Both times are computed by the same code in the simulator, the load generator and this report (from the records), so summary.json, the CLI and every table agree.",
		"Extra E2E and extra cost (simulation only): the exposed requests against the requests in flight during the same span in a fault-free run of the same replication (same arrivals and draws). Failed requests are not in the E2E mean and a failed call is not billed, so a fault that fails requests fast can make either negative; the tables and the CLI then say so beside the figure, with the counts that explain it.",
		"Time series bucket requests and attempts by the time they ended (completed or failed), not by arrival: a fault can only end requests from its start on, so the errors, SLO breaches and slow first tokens it causes fall inside its shaded band (which spans exactly the window) or just after it, for requests it held up past its end. The timeline stops at the bucket of the last arrival: after it the run only drains, and its buckets would hold nothing but the slowest requests.",
	}
}

func definitions() []string {
	return []string{
		"TTFT = first content token − intended send time; E2E = last token − intended send time (completed requests only).",
		"Availability A = completed / measured requests; SLO attainment = requests completed within their class's TTFT and E2E objectives / measured requests; nines = −log10(1 − A); error budget used = (1 − A)/(1 − objective).",
		"Shares s_p = 100·x_p/Σx; HHI = Σ s_p²; H* = (HHI − 10⁴/n)/(10⁴ − 10⁴/n) with n the providers able to serve the layer in the scenario; CR1 = max s_p; N_eff = 10⁴/HHI; ΔHHI = HHI(strategy) − HHI(baseline); merger delta 2·s_i·s_j.",
		"Stack: HHI of total spend; Σ_l ω_l HHI_l with ω_l the layer's share of spend; max_l HHI_l.",
		"Exclusivity X = 100·Σ_{l: n_l = 1} Q_l / Σ_l Q_l (Q = completed attempts).",
		"Exit egress E = Σ_tiers price·volume in tier for the state leaving (regenerable state excluded), under list prices, the provider's 2024 exit waiver, and the EU Data Act (≤ direct cost until 12 Jan 2027, then 0).",
		"Exit time = T_notice + max(8·B/(β·BW), T_parallel) + T_cutover.",
		"Portability PI_p = Σ_l Q_{p,l}·φ_{p,l}/Σ_l Q_{p,l} (φ: 1 tested alternative, 0.5 untested, 0 none); multi-cloud tax MT = inter-cloud transfer spend / total spend.",
		"Failover coverage FC = 1 − excess breaches/(π·N_window); blast radius BR = excess breaches/N_window; excess = breaches − baseline breach rate·N_window; π = share of normal traffic first sent to what the fault takes out.",
	}
}
