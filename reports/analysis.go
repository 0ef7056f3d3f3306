package reports

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// ErrAllWarmup is returned (wrapped) when the warm-up deletes every request.
var ErrAllWarmup = errors.New("nothing measured")

// Options configure an analysis.
type Options struct {
	// Pricing are the price tables (default: the embedded copy).
	Pricing *Pricing
	// Baseline is the strategy ΔHHI and paired differences are taken
	// against (default: the first strategy of the run).
	Baseline string
	// SLOTarget is the availability and SLO-attainment objective error
	// budgets are measured against (default 0.999).
	SLOTarget float64
	// IncludeWarmup keeps the warm-up requests the summary deletes.
	IncludeWarmup bool
	// EstimateTransfer prices client request and response payloads
	// estimated from tokens: BytesPerInputToken of prompt (JSON text) and
	// BytesPerOutputToken per streamed token (one SSE chunk or event-stream
	// frame each, 150–400 bytes, docs/references.md [13]).
	EstimateTransfer                        bool
	BytesPerInputToken, BytesPerOutputToken float64
	// State is the state inventory (metric C7 and exit costs).
	State []StateHolding
	// Exit are the exit-time assumptions.
	Exit ExitAssumptions
	// Command is the command line that regenerates the report.
	Command string
	// Version is the mcbench version writing the report.
	Version string
	// Objectives are the Answer's criteria in priority order, by
	// Objective.Key (default DefaultObjectives).
	Objectives []string
}

// DefaultOptions returns the defaults named in Options.
func DefaultOptions() Options {
	return Options{SLOTarget: 0.999, EstimateTransfer: true, BytesPerInputToken: results.PromptBytesPerToken, BytesPerOutputToken: results.StreamBytesPerToken,
		Exit: DefaultExitAssumptions()}
}

// Analysis is everything a report shows about one run.
type Analysis struct {
	Run     *results.Run
	Options Options
	// Strategies in scenario order.
	Strategies []*StrategyMetrics
	// Baseline indexes Strategies (-1 if none).
	Baseline int
	// Providers and Deployments as the scenario declares them (plus any
	// deployment found only in the records).
	Providers   []ProviderInfo
	Deployments []DeploymentInfo
	// Faults are the scenario's fault windows.
	Faults []FaultWindow
	// Warnings are problems a reader must know (unpriced models, missing
	// records, a scenario hash mismatch). They are shown at the top.
	Warnings []string
	// Records counts what was read.
	Records RecordCounts
	// WarmupRule says which requests were deleted as warm-up.
	WarmupRule string
	// BucketSeconds is the width of the time series' buckets.
	BucketSeconds float64
	// SpanSeconds is the span the time plots' axes cover: the scenario's
	// horizon, or a load test's schedule (0 when neither is known: the
	// axes then fit the data).
	SpanSeconds float64
	// ReferenceExits price exits of reference volumes (1 TB, 50 TB, 1 PB)
	// from each provider: worked examples for readers without an inventory.
	ReferenceExits []ExitLine
	// Answer is the verdict: the strategy to choose under the objectives.
	Answer *Answer
	// Took is how long reading and aggregating took.
	Took time.Duration
}

// RecordCounts counts outcome rows.
type RecordCounts struct {
	Rows, Attempts, Requests, WarmupRequests, OrphanAttempts int64
	// RecordedCostUSD sums the attempt records' own cost_usd: the token
	// cost at the prices the run used. The report recomputes cost from the
	// pricing tables it is given, which may be newer.
	RecordedCostUSD float64
}

// ProviderInfo is a provider of the scenario.
type ProviderInfo struct{ Name, Kind string }

// DeploymentInfo is a deployment and how it is priced.
type DeploymentInfo struct {
	Name, Provider, Kind, Region, Model, Layer string
	ProvisionedUnits                           float64
	// Price describes the matched token or unit price; Priced is false
	// when the model has no price (its cost is reported as 0, "unpriced").
	Price  string
	Priced bool
	// Declared is false for a deployment found only in the records.
	Declared bool
}

// FaultWindow is a scenario fault.
type FaultWindow struct {
	Kind, Target string
	Start, End   float64 // seconds
}

// StrategyMetrics is one strategy's results.
type StrategyMetrics struct {
	Name, Description string
	Replications      int
	// Measured requests and their outcomes, summed over replications.
	Requests, Completed, Good, Attempts int64
	// Retried completed after more than one attempt; FailedOver completed
	// on a deployment other than the first one tried.
	Retried, FailedOver int64
	// Status counts requests by final status (index: results.Status).
	Status [nStatus]int64
	// TTFT and E2E: from arrival (intended send) to first token and to the
	// last token, over completed requests.
	TTFT, E2E Latency
	// SuccessRate (availability, A) and GoodRate (SLO attainment) with
	// their 95% intervals over replications.
	SuccessRate, GoodRate results.Interval
	// ThroughputRPS and GoodputRPS: completed and SLO-meeting requests per
	// second of the measured window, over replications.
	ThroughputRPS, GoodputRPS results.Interval
	// WindowHours is the measured time summed over replications.
	WindowHours float64
	Cost        Cost
	Deployments []DeploymentMetrics
	Classes     []ClassMetrics
	Reps        []RepMetrics
	// Concentration, LockIn and Resilience are the regulators' metrics.
	Concentration Concentration
	LockIn        LockIn
	Resilience    Resilience
	// Series is the timeline; SeriesDeployments names ServedBy's columns.
	Series            []SeriesPoint
	SeriesDeployments []string
	// TTFTCDF and E2ECDF are the latency distributions for plots.
	TTFTCDF, E2ECDF []CDFPoint
	// VsBaseline are paired differences against the baseline strategy.
	VsBaseline []Diff
	// FromSummary is true when the run had no outcome records and the
	// metrics come from summary.json alone.
	FromSummary bool

	ttftHist, e2eHist *hdrhistogram.Histogram
}

// Latency is a latency distribution in seconds with 95% intervals over
// replications of the mean and of the p99.
type Latency struct {
	Mean, P50, P90, P99, Max float64
	MeanCI, P99CI            results.Interval
}

// RepMetrics are one replication's statistics: the unit of confidence
// intervals and paired differences.
type RepMetrics struct {
	Rep                                int32
	Requests, OK, Good                 int64
	WindowSeconds                      float64
	MeanTTFT, P99TTFT, MeanE2E, P99E2E float64
	SuccessRate, GoodRate              float64
	CostUSD, CostPerRequest            float64
	// CostPerSuccess is CostUSD over completed requests: failed requests
	// cost nothing, so dividing by all requests would make a strategy look
	// cheaper the more it fails.
	CostPerSuccess float64
	// Spend is the replication's spend by provider and layer; Traffic its
	// completed attempts and Tokens its billed tokens, indexed alike.
	Spend, Traffic, Tokens [][]float64
	// ModelHHI is the model layer's HHI by traffic share (completed
	// attempts) in this replication: the concentration objective of the
	// Answer (NaN when the replication served no model traffic).
	ModelHHI float64
}

// Cost is a strategy's spend at list prices, summed over replications.
type Cost struct {
	Total, Token, Provisioned, Transfer, Storage float64
	// ByProviderLayer[p][l] indexes Analysis.Providers and Layers.
	ByProviderLayer [][]float64
	// PerRequest is Total / measured requests; PerMTokens is Total per
	// million billed tokens; PerGoodRequest is Total / SLO-meeting requests.
	PerRequest, PerMTokens, PerGoodRequest float64
	// PerSuccess is Total / completed requests, the cost headline: a
	// strategy cannot look cheaper by failing. PerSuccessCI is the 95%
	// interval of the per-replication ratios (its Mean is their mean, which
	// differs slightly from PerSuccess, the ratio of the sums).
	PerSuccess   float64
	PerSuccessCI results.Interval
	// PerReplication is the total per replication with its 95% interval.
	PerReplication results.Interval
	// PerHour is the spend rate over the measured window.
	PerHour                   float64
	BilledInput, BilledOutput int64
	TransferLines             []TransferLine
	ProvisionedLines          []ProvisionedLine
	StorageLines              []StorageLine
	// Unpriced lists what had no price (counted as 0).
	Unpriced []string
}

// TransferLine is transfer spend by paying region, path and source.
type TransferLine struct {
	Provider, Region, Path, Source string
	GB, PerGB, USD                 float64
	CrossCloud                     bool
}

// ProvisionedLine is a provisioned deployment's bill.
type ProvisionedLine struct {
	Deployment, Provider, Unit string
	Units, BilledHours, USD    float64
	Increment                  time.Duration
	Commitment                 string
}

// StorageLine is state held and its storage bill.
type StorageLine struct {
	Provider, Region, Class string
	GB, PerGBMonth, USD     float64
}

// DeploymentMetrics are one deployment's attempts and spend in a strategy.
type DeploymentMetrics struct {
	DeploymentInfo
	Attempts, Completed, Throttled, Rejected, Failed, TimedOut int64
	BilledInput, BilledOutput                                  int64
	TokenCost, ProvisionedCost                                 float64
}

// ClassMetrics are one traffic class's outcomes.
type ClassMetrics struct {
	Name                string
	Requests, OK, Good  int64
	SLOTTFT, SLOE2E     time.Duration
	SuccessRate, GoodRt float64
}

// Analyze reads a run directory's records (streaming) and computes every
// metric of the report.
func Analyze(run *results.Run, opt Options) (*Analysis, error) {
	start := time.Now()
	if opt.Pricing == nil {
		p, err := DefaultPricing()
		if err != nil {
			return nil, err
		}
		opt.Pricing = p
	}
	if opt.SLOTarget <= 0 || opt.SLOTarget >= 1 {
		return nil, fmt.Errorf("SLO target must be between 0 and 1 (exclusive), got %g", opt.SLOTarget)
	}
	sc := run.Scenario()
	w := newWorld(sc, opt.Pricing)
	an := &Analysis{Run: run, Options: opt, Baseline: -1}
	var warmup float64
	if run.Summary.Load != nil {
		warmup = run.Summary.Load.WarmupSeconds
	}
	warm := newWarmRule(sc, warmup, run.IsLoad(), opt.IncludeWarmup)
	an.WarmupRule = warm.String()
	if !run.HashVerified {
		an.Warnings = append(an.Warnings, fmt.Sprintf("the scenario in %s does not hash to the summary's scenario_sha256 (%s): the run directory may have been edited",
			results.RunInfoFile, short(run.Summary.ScenarioSHA256)))
	}
	// What OpenRun recovered from a run killed outright, and what is missing.
	an.Warnings = append(an.Warnings, run.Warnings...)
	if run.Summary.Interrupted && !run.Rebuilt {
		an.Warnings = append(an.Warnings, "the run was interrupted: results cover what was measured before the stop")
	}
	horizon := sc.Run.Horizon.Seconds()
	if run.IsLoad() {
		// A load test spans its schedule (the drain after it adds no
		// arrivals); fault windows that open after it never happened.
		ld := run.Summary.Load
		horizon = ld.ScheduleSeconds
		if horizon <= 0 {
			horizon = ld.DurationSeconds
		}
		kept := w.faults[:0]
		for _, f := range w.faults {
			if horizon > 0 && float64(f.start)/1e9 >= horizon {
				an.Warnings = append(an.Warnings, fmt.Sprintf("the %s of %s at %s is outside this load test's %s schedule: it never happened, and is left out",
					f.Kind, f.Target, secs(float64(f.start)/1e9), secs(horizon)))
				continue
			}
			kept = append(kept, f)
		}
		w.faults = kept
	}
	an.SpanSeconds = horizon
	agg := newAggregator(w, warm, &opt, horizon)
	if run.HasOutcomes {
		if err := run.Outcomes(agg.add); err != nil {
			return nil, err
		}
		agg.finish()
	} else {
		an.Warnings = append(an.Warnings, "the run has no outcomes.csv (simulate with --records): cost, concentration by spend, latency CDFs, timelines and fault impact need the records; what follows comes from summary.json alone")
	}
	an.Records = RecordCounts{Rows: agg.rows, Attempts: agg.attemptRows, Requests: agg.requestRows,
		WarmupRequests: agg.warmupRequests, OrphanAttempts: agg.orphanAttempts, RecordedCostUSD: agg.recordedCost}
	if agg.orphanAttempts > 0 {
		an.Warnings = append(an.Warnings, fmt.Sprintf("%d attempt records have no request record (an interrupted run?): they are costed by their own send time", agg.orphanAttempts))
	}
	for _, p := range w.providers {
		an.Providers = append(an.Providers, ProviderInfo{Name: p.name, Kind: p.kind})
	}
	an.Deployments = deploymentInfos(w)
	for _, d := range an.Deployments {
		if !d.Declared {
			an.Warnings = append(an.Warnings, fmt.Sprintf("deployment %q appears in the records but not in the scenario: unpriced", d.Name))
		} else if !d.Priced {
			an.Warnings = append(an.Warnings, fmt.Sprintf("deployment %q: no price for %s model %q in region %s: its cost is reported as 0 (unpriced)", d.Name, d.Kind, d.Model, d.Region))
		}
	}
	for _, f := range w.faults {
		an.Faults = append(an.Faults, FaultWindow{Kind: f.Kind, Target: f.Target, Start: float64(f.start) / 1e9, End: float64(f.end) / 1e9})
	}
	an.BucketSeconds = float64(agg.width) / 1e9

	// Strategies: those with records, else those in the summary, in scenario order.
	summaryOf := map[string]*results.Result{}
	for i := range run.Summary.Results {
		summaryOf[run.Summary.Results[i].Strategy] = &run.Summary.Results[i]
	}
	for _, s := range agg.strats {
		hasRecords := len(s.reps) > 0
		sum := summaryOf[s.name]
		if !hasRecords && (sum == nil || run.HasOutcomes) {
			continue
		}
		var m *StrategyMetrics
		if hasRecords {
			m = strategyMetrics(w, s, &opt)
			an.BucketSeconds = float64(s.series.width) / 1e9
		} else {
			m = strategyFromSummary(w, sum)
		}
		if st := w.strategyDef(s.name); st != nil {
			m.Description = st.Description
		}
		if sum != nil && hasRecords && sum.Requests != m.Requests && !opt.IncludeWarmup && !run.Rebuilt {
			why := ""
			if run.Summary.Interrupted {
				why = " (an interrupted run: a checkpoint summary covers only the replications finished when it was written)"
			}
			an.Warnings = append(an.Warnings, fmt.Sprintf("strategy %s: %d measured requests in the records, %d in the summary%s", s.name, m.Requests, sum.Requests, why))
		}
		an.Strategies = append(an.Strategies, m)
	}
	if len(an.Strategies) == 0 {
		if agg.requestRows > 0 && agg.warmupRequests == agg.requestRows {
			return nil, fmt.Errorf("%w: all %d requests of %s arrived in the warm-up (%s); run longer, or report with --include-warmup",
				ErrAllWarmup, agg.requestRows, run.Dir, an.WarmupRule)
		}
		return nil, fmt.Errorf("%s: no strategy has results", run.Dir)
	}
	an.Baseline = 0
	if opt.Baseline != "" {
		i := slices.IndexFunc(an.Strategies, func(m *StrategyMetrics) bool { return m.Name == opt.Baseline })
		if i < 0 {
			return nil, &BaselineError{Name: opt.Baseline, Have: an.strategyNames()}
		}
		an.Baseline = i
	}
	for _, m := range an.Strategies {
		concentrationOf(w, m, an.Strategies[an.Baseline], opt.State)
		if an.Strategies[an.Baseline] != m && !m.FromSummary {
			m.VsBaseline = PairedDiffs(an.Strategies[an.Baseline], m)
		}
		for _, u := range m.Cost.Unpriced {
			if !slices.Contains(an.Warnings, u) {
				an.Warnings = append(an.Warnings, u)
			}
		}
	}
	var unverified []string
	for _, d := range an.Deployments {
		if p := an.priceRow(d); p != nil && !p.Verified() {
			unverified = append(unverified, d.Name)
		}
	}
	if len(unverified) > 0 {
		an.Warnings = append(an.Warnings, fmt.Sprintf("the prices of %s have not been checked against their provider's own price page (no retrieval date; mcbench pricing check lists them): treat costs as indicative",
			strings.Join(unverified, ", ")))
	}
	objs, err := ParseObjectives(opt.Objectives)
	if err != nil {
		return nil, err
	}
	an.Answer = NewAnswer(an.withRecords(), objs)
	an.ReferenceExits = referenceExits(w, opt.Pricing, opt.Exit)
	an.Took = time.Since(start)
	return an, nil
}

// BaselineError says the requested baseline strategy is not in the run.
type BaselineError struct {
	Name string
	Have []string
}

func (e *BaselineError) Error() string {
	return fmt.Sprintf("baseline strategy %q is not in the run (it has: %s)", e.Name, strings.Join(e.Have, ", "))
}

func (an *Analysis) strategyNames() []string {
	out := make([]string, len(an.Strategies))
	for i, m := range an.Strategies {
		out[i] = m.Name
	}
	return out
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func deploymentInfos(w *world) []DeploymentInfo {
	out := make([]DeploymentInfo, len(w.deps))
	for i, d := range w.deps {
		di := DeploymentInfo{Name: d.name, Provider: w.providerName(d.provider), Region: w.regionName(d.region),
			Model: d.model, Layer: d.layer, ProvisionedUnits: d.units, Declared: d.declared}
		if d.provider >= 0 {
			di.Kind = w.providers[d.provider].kind
		}
		switch {
		case d.units > 0 && d.prov != nil:
			di.Priced = true
			di.Price = fmt.Sprintf("%g × %s at $%.2f/unit-hour, billed per %s", d.units, d.prov.Unit, d.prov.PerUnitHour, d.prov.Increment)
		case d.units > 0:
			di.Price = fmt.Sprintf("%g provisioned units: unpriced", d.units)
		case d.token != nil:
			di.Priced = true
			di.Price = fmt.Sprintf("$%.3g in / $%.3g out per 1M tokens", d.token.Input, d.token.Output)
			if d.token.Estimate {
				di.Price += " (estimate)"
			}
		default:
			di.Price = "unpriced"
		}
		out[i] = di
	}
	return out
}

// strategyMetrics finalises one strategy's aggregates.
func strategyMetrics(w *world, s *stratAgg, opt *Options) *StrategyMetrics {
	m := &StrategyMetrics{Name: s.name, Replications: len(s.reps), ttftHist: s.ttft, e2eHist: s.e2e}
	nP, nL := len(w.providers), len(Layers)
	var succ, good, thr, gput []float64
	var sumTTFT, sumE2E float64
	var bytesTotal []float64
	for _, ra := range s.reps {
		m.Requests += ra.requests
		m.Completed += ra.ok
		m.Good += ra.good
		m.Attempts += ra.attempts
		m.Retried += ra.retried
		m.FailedOver += ra.failedOver
		for i, v := range ra.status {
			m.Status[i] += v
		}
		sumTTFT += ra.sumTTFT
		sumE2E += ra.sumE2E
		if bytesTotal == nil {
			bytesTotal = make([]float64, len(ra.xfer))
		}
		for i, v := range ra.xfer {
			bytesTotal[i] += v
		}
		win := ra.window()
		m.WindowHours += win.Hours()
		succ = append(succ, ratio(float64(ra.ok), float64(ra.requests)))
		good = append(good, ratio(float64(ra.good), float64(ra.requests)))
		arr := ra.arrivalWindow().Seconds()
		thr = append(thr, ratio(float64(ra.ok), arr))
		gput = append(gput, ratio(float64(ra.good), arr))
	}
	m.SuccessRate, m.GoodRate = results.CI95(succ), results.CI95(good)
	m.ThroughputRPS, m.GoodputRPS = results.CI95(thr), results.CI95(gput)

	// Latency: percentiles from the merged histogram, intervals over replications.
	var meanT, p99T, meanE, p99E []float64
	for _, ra := range s.reps {
		meanT = append(meanT, ratio(ra.sumTTFT, float64(ra.ok))/1e9)
		meanE = append(meanE, ratio(ra.sumE2E, float64(ra.ok))/1e9)
		p99T = append(p99T, quantile(ra.ttft, 0.99))
		p99E = append(p99E, quantile(ra.e2e, 0.99))
	}
	m.TTFT = latencyOf(s.ttft, sumTTFT, m.Completed, meanT, p99T)
	m.E2E = latencyOf(s.e2e, sumE2E, m.Completed, meanE, p99E)
	m.TTFTCDF, m.E2ECDF = cdf(s.ttft, 400), cdf(s.e2e, 400)

	// Cost.
	c := &m.Cost
	c.ByProviderLayer = make([][]float64, nP)
	for p := range c.ByProviderLayer {
		c.ByProviderLayer[p] = make([]float64, nL)
	}
	if bytesTotal == nil {
		bytesTotal = make([]float64, len(w.regions)*nXPaths*nXSources)
	}
	rates := w.transferRates(opt.Pricing, bytesTotal, m.WindowHours)
	c.Unpriced = append(c.Unpriced, rates.unpriced...)
	placedProv := provisionedPlaced(w, s.name)
	depTotals := make([]depCell, len(w.deps))
	provCost := make([]float64, len(w.deps))
	var perRep, perSuccess []float64
	grid := func() [][]float64 {
		g := make([][]float64, nP)
		for p := range g {
			g[p] = make([]float64, nL)
		}
		return g
	}
	for _, ra := range s.reps {
		spend, traffic, tokens := grid(), grid(), grid()
		add := func(provider, layer int, usd float64) {
			if provider >= 0 {
				spend[provider][layer] += usd
			}
		}
		for d, cell := range ra.deps {
			dt := &depTotals[d]
			for i, v := range cell.status {
				dt.status[i] += v
			}
			dt.billedIn += cell.billedIn
			dt.billedOut += cell.billedOut
			dt.tokenCost += cell.tokenCost
			c.Token += cell.tokenCost
			c.BilledInput += cell.billedIn
			c.BilledOutput += cell.billedOut
			add(w.deps[d].provider, w.deps[d].layerIdx, cell.tokenCost)
			if p := w.deps[d].provider; p >= 0 {
				traffic[p][w.deps[d].layerIdx] += float64(cell.status[results.StatusOK])
				tokens[p][w.deps[d].layerIdx] += float64(cell.billedIn + cell.billedOut)
			}
		}
		win := ra.window()
		for _, d := range placedProv {
			dep := &w.deps[d]
			usd := ProvisionedCost(dep.prov, dep.units, win)
			provCost[d] += usd
			c.Provisioned += usd
			add(dep.provider, dep.layerIdx, usd)
		}
		for r := range w.regions {
			for path := 0; path < nXPaths; path++ {
				usd := rates.cost(ra.xfer, r, path)
				c.Transfer += usd
				add(w.regions[r].provider, layerIndex(LayerNetwork), usd)
			}
		}
		for _, h := range holdingsFor(opt.State, s.name) {
			p, r := w.holdingPlace(h)
			if p < 0 {
				continue
			}
			price := opt.Pricing.StorageFor(w.providers[p].kind, w.regionName(r), w.regionTags(r))
			usd := StorageCost(price, h.GB, win)
			c.Storage += usd
			add(p, layerIndex("state"), usd)
		}
		total := 0.0
		for p := range spend {
			for l := range spend[p] {
				c.ByProviderLayer[p][l] += spend[p][l]
				total += spend[p][l]
			}
		}
		perRep = append(perRep, total)
		perSuccess = append(perSuccess, ratio(total, float64(ra.ok)))
		m.Reps = append(m.Reps, RepMetrics{Rep: ra.rep, Requests: ra.requests, OK: ra.ok, Good: ra.good, WindowSeconds: win.Seconds(),
			MeanTTFT: ratio(ra.sumTTFT, float64(ra.ok)) / 1e9, P99TTFT: quantile(ra.ttft, 0.99),
			MeanE2E: ratio(ra.sumE2E, float64(ra.ok)) / 1e9, P99E2E: quantile(ra.e2e, 0.99),
			SuccessRate: ratio(float64(ra.ok), float64(ra.requests)), GoodRate: ratio(float64(ra.good), float64(ra.requests)),
			CostUSD: total, CostPerRequest: ratio(total, float64(ra.requests)), CostPerSuccess: ratio(total, float64(ra.ok)),
			Spend: spend, Traffic: traffic, Tokens: tokens, ModelHHI: HHI(Shares(column(traffic, layerIndex(scenarios.LayerModel))))})
	}
	c.Total = c.Token + c.Provisioned + c.Transfer + c.Storage
	c.PerRequest = ratio(c.Total, float64(m.Requests))
	c.PerGoodRequest = ratio(c.Total, float64(m.Good))
	c.PerSuccess = ratio(c.Total, float64(m.Completed))
	c.PerSuccessCI = results.CI95(perSuccess)
	c.PerMTokens = ratio(c.Total, float64(c.BilledInput+c.BilledOutput)/1e6)
	c.PerReplication = results.CI95(perRep)
	c.PerHour = ratio(c.Total, m.WindowHours)
	c.TransferLines = transferLines(w, bytesTotal, &rates)
	for _, d := range placedProv {
		dep := &w.deps[d]
		if dep.prov == nil {
			c.Unpriced = append(c.Unpriced, fmt.Sprintf("deployment %q: %g provisioned units with no unit price: counted as 0 (unpriced)", dep.name, dep.units))
			continue
		}
		hours := 0.0
		for _, ra := range s.reps {
			hours += BilledHours(ra.window(), dep.prov.Increment)
		}
		c.ProvisionedLines = append(c.ProvisionedLines, ProvisionedLine{Deployment: dep.name, Provider: w.providerName(dep.provider),
			Unit: dep.prov.Unit, Units: dep.units, BilledHours: hours, USD: provCost[d], Increment: dep.prov.Increment, Commitment: dep.prov.Commitment})
	}
	for _, h := range holdingsFor(opt.State, s.name) {
		p, r := w.holdingPlace(h)
		if p < 0 {
			c.Unpriced = append(c.Unpriced, fmt.Sprintf("state inventory: provider %q is not in the scenario", h.Provider))
			continue
		}
		price := opt.Pricing.StorageFor(w.providers[p].kind, w.regionName(r), w.regionTags(r))
		sl := StorageLine{Provider: h.Provider, Region: w.regionName(r), Class: h.Class, GB: h.GB}
		if price == nil {
			c.Unpriced = append(c.Unpriced, fmt.Sprintf("state storage at %s (%s): no storage price, counted as 0", h.Provider, w.providers[p].kind))
		} else {
			sl.PerGBMonth = price.PerGBMonth
			for _, ra := range s.reps {
				sl.USD += StorageCost(price, h.GB, ra.window())
			}
		}
		c.StorageLines = append(c.StorageLines, sl)
	}

	// Deployments and classes.
	infos := deploymentInfos(w)
	for d, dt := range depTotals {
		if dt.status == ([nStatus]int64{}) && provCost[d] == 0 {
			continue
		}
		m.Deployments = append(m.Deployments, DeploymentMetrics{DeploymentInfo: infos[d],
			Attempts: sum(dt.status[:]), Completed: dt.status[results.StatusOK], Throttled: dt.status[results.StatusThrottled],
			Rejected: dt.status[results.StatusRejected], Failed: dt.status[results.StatusFailed], TimedOut: dt.status[results.StatusTimedOut],
			BilledInput: dt.billedIn, BilledOutput: dt.billedOut, TokenCost: dt.tokenCost, ProvisionedCost: provCost[d]})
	}
	for ci, ca := range s.classes {
		if ca.requests == 0 {
			continue
		}
		cl := w.classes[ci]
		m.Classes = append(m.Classes, ClassMetrics{Name: cl.name, Requests: ca.requests, OK: ca.ok, Good: ca.good,
			SLOTTFT: time.Duration(cl.ttft), SLOE2E: time.Duration(cl.e2e),
			SuccessRate: ratio(float64(ca.ok), float64(ca.requests)), GoodRt: ratio(float64(ca.good), float64(ca.requests))})
	}

	// Timeline and resilience.
	var lastArrival int64
	for _, ra := range s.reps {
		lastArrival = max(lastArrival, ra.lastArrival)
	}
	m.Series = s.series.points(lastArrival)
	for _, d := range w.deps {
		m.SeriesDeployments = append(m.SeriesDeployments, d.name)
	}
	m.Resilience = resilienceOf(w, s, m, opt.SLOTarget)
	m.LockIn = lockInOf(w, m, opt)
	return m
}

func sum(xs []int64) int64 {
	t := int64(0)
	for _, x := range xs {
		t += x
	}
	return t
}

// arrivalWindow is the span of the replication's measured arrivals, over
// which throughput is defined in both engines' summaries.
func (ra *repAgg) arrivalWindow() time.Duration {
	if ra.requests == 0 || ra.lastArrival < ra.first {
		return 0
	}
	return time.Duration(ra.lastArrival - ra.first)
}

// window is the replication's measured time: first arrival to last
// completion, over which resources are held and billed.
func (ra *repAgg) window() time.Duration {
	if ra.requests == 0 || ra.last < ra.first {
		return 0
	}
	return time.Duration(ra.last - ra.first)
}

func latencyOf(h *hdrhistogram.Histogram, sumNS float64, n int64, means, p99s []float64) Latency {
	l := Latency{Mean: ratio(sumNS, float64(n)) / 1e9, P50: quantile(h, 0.5), P90: quantile(h, 0.9), P99: quantile(h, 0.99),
		Max: math.NaN(), MeanCI: results.CI95(means), P99CI: results.CI95(p99s)}
	if h.TotalCount() > 0 {
		l.Max = float64(h.Max()) / 1e6
	}
	return l
}

// provisionedPlaced lists the provisioned deployments a strategy places:
// they are billed for the whole window whether or not traffic reaches them.
func provisionedPlaced(w *world, strategy string) []int {
	var out []int
	for _, deps := range w.placed(strategy) {
		for _, d := range deps {
			if w.deps[d].units > 0 && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

func transferLines(w *world, bytes []float64, rates *transferRates) []TransferLine {
	var out []TransferLine
	for r, reg := range w.regions {
		for path := 0; path < nXPaths; path++ {
			for src := 0; src < nXSources; src++ {
				b := bytes[xferIndex(r, path, src)]
				if b == 0 {
					continue
				}
				gb := b / BytesPerGB
				out = append(out, TransferLine{Provider: w.providerName(reg.provider), Region: reg.name, Path: xPathNames[path],
					Source: xSourceNames[src], GB: gb, PerGB: rates.perGB[r][path], USD: gb * rates.perGB[r][path],
					CrossCloud: path == xInterCloud})
			}
		}
	}
	return out
}

func holdingsFor(hs []StateHolding, strategy string) []StateHolding {
	var out []StateHolding
	for _, h := range hs {
		if h.Strategy == "*" || h.Strategy == strategy {
			out = append(out, h)
		}
	}
	return out
}

// holdingPlace resolves a state holding to a provider and region index.
func (w *world) holdingPlace(h StateHolding) (provider, region int) {
	provider, region = -1, -1
	for p, pr := range w.providers {
		if pr.name == h.Provider {
			provider = p
		}
	}
	if provider < 0 {
		return -1, -1
	}
	for r, reg := range w.regions {
		if reg.provider == provider && (reg.name == h.Region || ((h.Region == "" || h.Region == "*") && region < 0)) {
			region = r
		}
	}
	return provider, region
}

func (w *world) regionTags(r int) []string {
	if r < 0 {
		return nil
	}
	return w.regions[r].tags
}

// strategyFromSummary builds what summary.json supports when the run has
// no records: counts, latency and per-deployment attempts, no cost.
func strategyFromSummary(w *world, s *results.Result) *StrategyMetrics {
	m := &StrategyMetrics{Name: s.Strategy, Replications: s.Replications, Requests: s.Requests, Completed: s.Completed,
		Attempts: s.Attempts, Good: -1, FromSummary: true}
	m.Status[results.StatusOK] = s.Completed
	m.Status[results.StatusRejected] = s.Rejected
	m.Status[results.StatusFailed] = s.Failed
	m.Status[results.StatusTimedOut] = s.TimedOut
	m.SuccessRate = results.Interval{Mean: ratio(float64(s.Completed), float64(s.Requests)), Lo: math.NaN(), Hi: math.NaN(), N: s.Replications}
	m.GoodRate = results.Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	m.ThroughputRPS = ciFromSummary(s.ThroughputRPS, s.ThroughputRPSCI95, s.Replications)
	m.GoodputRPS = results.Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	lat := func(l results.Latency) Latency {
		return Latency{Mean: l.Mean, P50: l.P50, P90: l.P90, P99: l.P99, Max: l.Max,
			MeanCI: ciFromSummary(l.Mean, l.MeanCI95, s.Replications), P99CI: ciFromSummary(l.P99, l.P99CI95, s.Replications)}
	}
	m.TTFT, m.E2E = lat(s.TTFTSeconds), lat(s.E2ESeconds)
	nan := math.NaN()
	m.Cost = Cost{Total: nan, Token: nan, Provisioned: nan, Transfer: nan, Storage: nan, PerRequest: nan, PerMTokens: nan,
		PerGoodRequest: nan, PerSuccess: nan, PerSuccessCI: results.Interval{Mean: nan, Lo: nan, Hi: nan}, PerHour: nan, PerReplication: results.Interval{Mean: nan, Lo: nan, Hi: nan}}
	infos := deploymentInfos(w)
	for _, d := range s.Deployments {
		dm := DeploymentMetrics{Attempts: d.Attempts, Completed: d.Completed, Throttled: d.Throttled, Rejected: d.Rejected, Failed: d.Failed, TimedOut: d.TimedOut}
		if i, ok := w.depIndex[d.Name]; ok {
			dm.DeploymentInfo = infos[i]
		} else {
			dm.DeploymentInfo = DeploymentInfo{Name: d.Name}
		}
		if d.Attempts > 0 {
			m.Deployments = append(m.Deployments, dm)
		}
	}
	m.Resilience = Resilience{Availability: m.SuccessRate.Mean, Attainment: nan, Nines: Nines(m.SuccessRate.Mean)}
	m.LockIn = LockIn{PortabilityIndex: nan, MultiCloudTax: nan}
	return m
}

func ciFromSummary(mean float64, ci results.CI, n int) results.Interval {
	iv := results.Interval{Mean: mean, Lo: math.NaN(), Hi: math.NaN(), N: n, Level: 0.95}
	if ci.Defined() {
		iv.Lo, iv.Hi = ci[0], ci[1]
	}
	return iv
}
