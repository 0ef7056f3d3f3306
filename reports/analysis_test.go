package reports

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// TestTotalsRecomputedFromRecords recomputes the report's token spend,
// request counts and provider totals straight from outcomes.csv, with an
// implementation independent of the streaming aggregation: read every
// row, join attempts to requests by id, apply the warm-up and billing
// rules, price each billed attempt.
func TestTotalsRecomputedFromRecords(t *testing.T) {
	sc := smallDemo(t)
	sc.Run.Warmup = scenarios.Warmup{Duration: scenarios.Duration(5 * time.Second)}
	f := &fixture{sc: sc, records: synthRecords(sc, 3, 4000, 7)}
	dir := f.write(t)
	run, err := results.OpenRun(dir)
	require.NoError(t, err)
	an, err := Analyze(run, DefaultOptions())
	require.NoError(t, err)
	require.Empty(t, countWarnings(an.Warnings))

	type key struct {
		strategy string
		rep      int32
		id       uint64
	}
	var rows []results.Outcome
	file, err := os.Open(filepath.Join(dir, results.OutcomesFile))
	require.NoError(t, err)
	require.NoError(t, results.ReadOutcomes(file, "outcomes.csv", func(o *results.Outcome) error { rows = append(rows, *o); return nil }))
	file.Close()
	arrival := map[key]int64{}
	for _, o := range rows {
		if o.Kind == results.KindRequest {
			arrival[key{o.Strategy, o.Replication, o.RequestID}] = o.Intended
		}
	}
	p := pricing(t)
	kind := map[string]string{}
	for _, pr := range sc.Providers {
		kind[pr.Name] = pr.Kind
	}
	model := map[string]string{}
	for _, d := range sc.Deployments {
		model[d.Name] = d.Model
	}
	tokenCost := map[string]float64{}
	byProvider := map[string]map[string]float64{}
	requests, completed := map[string]int64{}, map[string]int64{}
	for _, o := range rows {
		at, ok := arrival[key{o.Strategy, o.Replication, o.RequestID}]
		require.True(t, ok)
		if at < int64(5*time.Second) {
			continue // warm-up
		}
		if o.Kind == results.KindRequest {
			requests[o.Strategy]++
			if o.Status == results.StatusOK {
				completed[o.Strategy]++
			}
			continue
		}
		if o.Status != results.StatusOK && o.FirstToken == 0 {
			continue
		}
		price := p.TokenPriceFor(kind[o.Provider], model[o.Deployment], o.Region, nil)
		require.NotNil(t, price, o.Deployment)
		usd := (float64(o.InputTokens)*price.Input + float64(o.OutputTokens)*price.Output) / 1e6
		tokenCost[o.Strategy] += usd
		if byProvider[o.Strategy] == nil {
			byProvider[o.Strategy] = map[string]float64{}
		}
		byProvider[o.Strategy][o.Provider] += usd
	}

	require.Len(t, an.Strategies, len(sc.Strategies))
	for _, m := range an.Strategies {
		assert.Equal(t, requests[m.Name], m.Requests, m.Name)
		assert.Equal(t, completed[m.Name], m.Completed, m.Name)
		assert.InDelta(t, tokenCost[m.Name], m.Cost.Token, 1e-6, m.Name)
		model := layerIndex("model")
		for pi, pr := range an.Providers {
			assert.InDelta(t, byProvider[m.Name][pr.Name], m.Cost.ByProviderLayer[pi][model], 1e-6, "%s %s", m.Name, pr.Name)
		}
		// Every dollar is in exactly one provider/layer cell, and the
		// components add up to the total.
		sum := 0.0
		for _, row := range m.Cost.ByProviderLayer {
			for _, v := range row {
				sum += v
			}
		}
		assert.InDelta(t, m.Cost.Total, sum, 1e-9, m.Name)
		assert.InDelta(t, m.Cost.Total, m.Cost.Token+m.Cost.Provisioned+m.Cost.Transfer+m.Cost.Storage, 1e-9)
		repSum := 0.0
		for _, r := range m.Reps {
			repSum += r.CostUSD
		}
		assert.InDelta(t, m.Cost.Total, repSum, 1e-9, "replications add up to the total")
		assert.InDelta(t, m.Cost.Total/float64(m.Requests), m.Cost.PerRequest, 1e-15)
		assert.InDelta(t, m.Cost.Total/float64(m.Good), m.Cost.PerGoodRequest, 1e-15)
		assert.Equal(t, 3, m.Replications)
	}
}

const twoCloudYAML = `
name: handmade
seed: 1
replications: 1
run: {horizon: 1h}
providers:
  - {name: azure, kind: azure, regions: [eastus2]}
  - {name: aws, kind: bedrock, regions: [us-east-1]}
deployments:
  - name: aoai
    provider: azure
    region: eastus2
    model: %s
    capacity: {concurrency: 10%s}
    latency: {ttft: {dist: constant, value: 100ms}}
  - name: br
    provider: aws
    region: us-east-1
    model: openai.gpt-oss-120b-1:0
    capacity: {concurrency: 10}
    latency: {ttft: {dist: constant, value: 100ms}}
workloads:
  - name: chat
    arrival: {process: poisson, rate: 1/s}
    slo: {ttft: 1s}
strategies:
  - name: split
    placement: {model: [aoai, br]}
    routing: {policy: weighted}
`

func handmadeScenario(t *testing.T, model, capacity string) *scenarios.Scenario {
	t.Helper()
	y := strings.Replace(strings.Replace(twoCloudYAML, "%s", model, 1), "%s", capacity, 1)
	sc, err := scenarios.Parse("handmade.yaml", []byte(y))
	require.NoError(t, err)
	return sc
}

// req makes one attempt and its request record.
func req(id uint64, dep, provider, region string, at, dur time.Duration, st results.Status, in, out int32, cross int64) []results.Outcome {
	a := results.Outcome{Kind: results.KindAttempt, RequestID: id, Attempt: 1, Class: "chat", Strategy: "split",
		Provider: provider, Region: region, Deployment: dep, Intended: int64(at), Sent: int64(at), Done: int64(at + dur),
		InputTokens: in, Status: st, CrossCloudBytes: cross}
	if st == results.StatusOK {
		a.FirstToken, a.FirstByte, a.OutputTokens = int64(at+dur/10), int64(at+dur/10), out
	}
	r := a
	r.Kind, r.CrossCloudBytes = results.KindRequest, 0
	return []results.Outcome{a, r}
}

// TestEgressFromRecordedCrossCloudBytes: today's records carry no
// cross-cloud bytes; this hands the aggregation some and checks the tiered
// monthly pricing and the multi-cloud tax by hand.
func TestEgressFromRecordedCrossCloudBytes(t *testing.T) {
	sc := handmadeScenario(t, "gpt-4o", "")
	var recs []results.Outcome
	// Ten requests on Bedrock over one hour, 5 GB of cross-cloud bytes each.
	for i := 0; i < 10; i++ {
		at := time.Duration(i) * 6 * time.Minute
		dur := time.Second
		if i == 9 {
			dur = 6*time.Minute - time.Duration(0) // the last one ends at 60 min
		}
		recs = append(recs, req(uint64(i), "br", "aws", "us-east-1", at, dur, results.StatusOK, 1_000_000, 100_000, 5_000_000_000)...)
	}
	opt := DefaultOptions()
	opt.EstimateTransfer = false
	an := analyzeFixture(t, &fixture{sc: sc, records: recs}, opt)
	m := an.Strategies[0]
	require.InDelta(t, 1.0, m.WindowHours, 1e-9)
	// 50 GB in an hour recurs as 36,500 GB a month: 100 free, 9,800 at
	// 0.09, 26,500 at 0.085 = $3,134.50; the run pays 50 GB at the average.
	monthly := 50.0 * 730
	want := 50 * (9900*0.09 + (monthly-10000)*0.085) / monthly
	assert.InDelta(t, want, m.Cost.Transfer, 1e-9)
	require.Len(t, m.Cost.TransferLines, 1)
	line := m.Cost.TransferLines[0]
	assert.True(t, line.CrossCloud)
	assert.Equal(t, "aws", line.Provider)
	assert.InDelta(t, 50, line.GB, 1e-9)
	tokens := 10 * (1.0*0.15 + 0.1*0.60)
	assert.InDelta(t, tokens, m.Cost.Token, 1e-9)
	assert.InDelta(t, want/(want+tokens), m.LockIn.MultiCloudTax, 1e-12)
	assert.InDelta(t, want, m.LockIn.CrossCloudUSD, 1e-12)
	aws := 1
	assert.InDelta(t, want, m.Cost.ByProviderLayer[aws][layerIndex(LayerNetwork)], 1e-12, "transfer is network-layer spend of the provider the bytes leave")
}

func TestEstimatedClientTransfer(t *testing.T) {
	sc := handmadeScenario(t, "gpt-4o", "")
	sc.Workloads[0].Origin = "eastus2"
	var recs []results.Outcome
	recs = append(recs, req(0, "aoai", "azure", "eastus2", 0, time.Second, results.StatusOK, 1000, 100, 0)...)
	recs = append(recs, req(1, "br", "aws", "us-east-1", time.Hour-time.Second, time.Second, results.StatusOK, 1000, 100, 0)...)
	an := analyzeFixture(t, &fixture{sc: sc, records: recs}, DefaultOptions())
	m := an.Strategies[0]
	got := map[string]float64{}
	for _, l := range m.Cost.TransferLines {
		got[l.Region+" "+l.Path] += l.GB * 1e9
	}
	// Same region: free. To Bedrock: the prompt leaves Azure, the stream leaves AWS.
	assert.Equal(t, map[string]float64{
		"eastus2 intra-region":  1000*4 + 100*250,
		"eastus2 inter-cloud":   1000 * 4,
		"us-east-1 inter-cloud": 100 * 250,
	}, got)
}

func TestUnknownModelIsUnpricedNotFatal(t *testing.T) {
	sc := handmadeScenario(t, "mystery-model-9", "")
	recs := req(0, "aoai", "azure", "eastus2", 0, time.Second, results.StatusOK, 1000, 100, 0)
	recs = append(recs, req(1, "br", "aws", "us-east-1", time.Second, time.Second, results.StatusOK, 1000, 100, 0)...)
	an := analyzeFixture(t, &fixture{sc: sc, records: recs}, DefaultOptions())
	require.NotEmpty(t, an.Warnings)
	assert.Contains(t, strings.Join(an.Warnings, "\n"), `"mystery-model-9"`)
	assert.Contains(t, strings.Join(an.Warnings, "\n"), "unpriced")
	m := an.Strategies[0]
	azure := 0
	assert.Equal(t, 0.0, m.Cost.ByProviderLayer[azure][layerIndex("model")])
	assert.InDelta(t, (1000*0.15+100*0.60)/1e6, m.Cost.Token, 1e-12, "the priced deployment is still costed")
	for _, d := range an.Deployments {
		if d.Name == "aoai" {
			assert.False(t, d.Priced)
			assert.Equal(t, "unpriced", d.Price)
		}
	}
	doc := an.Document()
	var sb strings.Builder
	require.NoError(t, WriteHTML(&sb, doc))
	assert.Contains(t, sb.String(), "unpriced")
}

func TestProvisionedUnitsBilledPerIncrement(t *testing.T) {
	sc := handmadeScenario(t, "gpt-4o", ", provisioned_units: 100")
	// A 14.5-minute window: Azure bills PTUs per started minute, so 15 minutes.
	recs := req(0, "aoai", "azure", "eastus2", 0, time.Second, results.StatusOK, 1000, 100, 0)
	recs = append(recs, req(1, "aoai", "azure", "eastus2", 14*time.Minute, 30*time.Second, results.StatusOK, 1000, 100, 0)...)
	an := analyzeFixture(t, &fixture{sc: sc, records: recs}, DefaultOptions())
	m := an.Strategies[0]
	require.Len(t, m.Cost.ProvisionedLines, 1)
	assert.InDelta(t, 0.25, m.Cost.ProvisionedLines[0].BilledHours, 1e-12)
	assert.InDelta(t, 100*1.00*0.25, m.Cost.Provisioned, 1e-9)
	assert.Equal(t, 0.0, m.Cost.Token, "a provisioned deployment's tokens are covered by its units")
	assert.Equal(t, int64(2000), m.Cost.BilledInput)
}

func TestOutageCoverageAndBlastRadius(t *testing.T) {
	sc := smallDemo(t)
	sc.Strategies = append(sc.Strategies, scenarios.Strategy{Name: "eastus2-only", Placement: map[string][]string{"model": {"aoai-eastus2"}}})
	f := &fixture{sc: sc, records: synthRecords(sc, 2, 6000, 3)}
	an := analyzeFixture(t, f, DefaultOptions())
	byName := map[string]*StrategyMetrics{}
	for _, m := range an.Strategies {
		byName[m.Name] = m
	}
	only := byName["eastus2-only"].Resilience.Faults[0]
	// The window holds every request with an attempt in flight during it:
	// 10 s of arrivals at one per 10 ms, two replications, and the requests
	// the outage cut in flight at its start, which arrived before it.
	win := results.FaultWindow{Start: 20e9, End: 30e9}
	exposed := map[[2]uint64]bool{}
	for _, o := range f.records {
		if o.Strategy == "eastus2-only" && o.Kind == results.KindAttempt && win.InFlight(o.Sent, o.Done) {
			exposed[[2]uint64{uint64(o.Replication), o.RequestID}] = true
		}
	}
	assert.Equal(t, int64(len(exposed)), only.Requests)
	assert.Greater(t, only.Requests, int64(2*1000), "the requests in flight at the start count too")
	assert.Equal(t, 1.0, only.ExposedShare)
	assert.Equal(t, 0.0, only.Baseline)
	// The fixture retries 50 ms after a failure, so requests arriving in the
	// last 50 ms of the window are served after it: 5 per replication;
	// every other exposed request fails.
	assert.InDelta(t, 10/float64(only.Requests), only.FailoverCoverage, 1e-9, "nothing takes over")
	assert.InDelta(t, 1-10/float64(only.Requests), only.BlastRadius, 1e-9)
	assert.True(t, only.BudgetFlag)
	assert.InDelta(t, 10, only.TimeToRecover, 0.1, "the last failure ends as the outage does")
	assert.True(t, math.IsNaN(only.TimeToFailover))
	assert.Equal(t, "not reached", only.FailoverWhy)
	// The timeline buckets requests by when they ended: the requests the
	// outage cut in flight (arrived before it) and those it failed all
	// fall inside the shaded window, none before it.
	spikes := 0
	for _, p := range byName["eastus2-only"].Series {
		if p.Requests > 0 && p.ErrorRate > 0.5 {
			spikes++
			assert.GreaterOrEqual(t, p.Start+an.BucketSeconds, 20.0, "bucket at %g s", p.Start)
			assert.Less(t, p.Start, 30.0+an.BucketSeconds, "bucket at %g s", p.Start)
		}
		assert.Less(t, p.Start, 60.0, "the timeline stops at the last arrival")
	}
	assert.Positive(t, spikes)
	exp := byName["eastus2-only"].Resilience.Providers[0]
	assert.Equal(t, "azure", exp.Provider)
	assert.Equal(t, 1.0, exp.StaticBlastRadius)
	assert.Contains(t, strings.Join(byName["eastus2-only"].Resilience.Flags, "\n"), "not easily substitutable")

	split := byName["azure-bedrock-split"].Resilience.Faults[0]
	// Requests sent to East US 2 in the window fail over to Bedrock within
	// their SLO; those the outage cut in flight fail over too, but late
	// (their SLO counts from arrival), and the fixture's throttled Bedrock
	// requests retry on East US 2 and fail in the window.
	assert.Greater(t, split.FailoverCoverage, 0.85)
	assert.Less(t, split.BlastRadius, 0.08)
	assert.Greater(t, split.FailoverCoverage, 100*only.FailoverCoverage)
	assert.InDelta(t, 0.6, split.ExposedShare, 0.03)
	assert.Less(t, split.TimeToFailover, 1.0, "the first request cut at the start completes on Bedrock within a second")
	assert.Greater(t, split.TimeToRecover, 5.0, "throttled retries fail on East US 2 throughout the window")
	assert.LessOrEqual(t, split.TimeToRecover, 10.1)
	ms := byName["azure-bedrock-split"]
	assert.Positive(t, ms.FailedOver)
	assert.Equal(t, 1.0, ms.LockIn.PortabilityIndex, "both providers served traffic: tested alternatives")
	assert.Equal(t, 0.5, byName["eastus2-only"].LockIn.PortabilityIndex, "an alternative exists in the scenario but was not exercised")

	// Concentration: the single-provider strategy is single-sourced in a
	// layer two providers can serve.
	lc := byName["eastus2-only"].Concentration.layer("model")
	require.NotNil(t, lc)
	assert.Equal(t, 2, lc.Capable)
	assert.InDelta(t, 10000, lc.SpendHHI, 1e-9)
	assert.InDelta(t, 1, lc.Normalised, 1e-12)
	assert.Equal(t, 100.0, byName["eastus2-only"].Concentration.PlacementExclusivity)
	assert.Equal(t, 0.0, byName["eastus2-only"].Concentration.Exclusivity)
	base := byName["azure-failover"].Concentration.layer("model")
	assert.True(t, math.IsNaN(base.DeltaSpend), "no delta for the baseline itself")
	ls := byName["azure-bedrock-split"].Concentration.layer("model")
	assert.InDelta(t, ls.SpendHHI-base.SpendHHI, ls.DeltaSpend, 1e-9)
}

func TestStateInventoryDrivesExitAndC7(t *testing.T) {
	sc := smallDemo(t)
	opt := DefaultOptions()
	opt.State = []StateHolding{
		{Strategy: "*", Provider: "aws", Region: "us-east-1", Class: StateProprietary, GB: 50_000},
		{Strategy: "*", Provider: "aws", Class: StateRegenerable, GB: 1_000},
		{Strategy: "*", Provider: "azure", Class: StateOpen, GB: 50_000},
	}
	an := analyzeFixture(t, &fixture{sc: sc, records: synthRecords(sc, 1, 500, 1)}, opt)
	m := an.Strategies[0]
	require.Len(t, m.LockIn.Exit, 2)
	var aws ExitLine
	for _, e := range m.LockIn.Exit {
		if e.Provider == "aws" {
			aws = e
		}
	}
	assert.Equal(t, 50_000.0, aws.GB, "regenerable state is rebuilt, not moved")
	assert.Equal(t, 1_000.0, aws.RegenerableGB)
	assert.InDelta(t, 4291, aws.Cost.List, 1e-6)
	s := 100 * 51.0 / 101
	assert.InDelta(t, s*s+(100-s)*(100-s), m.Concentration.StateHHI, 1e-9, "51 TB at AWS (regenerable included), 50 TB at Azure")
	assert.Positive(t, m.Cost.Storage)
}

func TestSummaryOnlyRun(t *testing.T) {
	sc := smallDemo(t)
	dir := (&fixture{sc: sc, records: synthRecords(sc, 1, 300, 1)}).write(t)
	require.NoError(t, os.Remove(filepath.Join(dir, results.OutcomesFile)))
	run, err := results.OpenRun(dir)
	require.NoError(t, err)
	an, err := Analyze(run, DefaultOptions())
	require.NoError(t, err)
	assert.Contains(t, an.Warnings[0], "no outcomes.csv")
	require.Len(t, an.Strategies, 2)
	assert.True(t, an.Strategies[0].FromSummary)
	assert.Equal(t, int64(300), an.Strategies[0].Requests)
	doc := an.Document()
	for _, f := range doc.Figures() {
		assert.NotEmpty(t, f.Missing, f.ID)
	}
	var sb strings.Builder
	require.NoError(t, WriteHTML(&sb, doc))
	require.NoError(t, WriteMarkdown(&sb, doc))
}

func TestLoadRunWarmupByIntendedTime(t *testing.T) {
	sc := smallDemo(t)
	sc.Strategies = sc.Strategies[:1]
	// The scenario's simulated warm-up does not apply to a load test; its
	// own --warmup (2 s) does.
	sc.Run.Warmup = scenarios.Warmup{Duration: scenarios.Duration(7 * time.Second)}
	f := &fixture{sc: sc, source: "load", records: synthRecords(sc, 1, 1000, 1), loadWarmup: 2}
	an := analyzeFixture(t, f, DefaultOptions())
	m := an.Strategies[0]
	assert.Equal(t, int64(800), m.Requests, "requests intended before 2 s are warm-up")
	assert.Equal(t, int64(200), an.Records.WarmupRequests)
	assert.Empty(t, countWarnings(an.Warnings), "counts match the summary")
	doc := an.Document()
	var tables []string
	for _, tb := range doc.Tables() {
		tables = append(tables, tb.ID)
	}
	assert.Contains(t, tables, "load-test")

	opt := DefaultOptions()
	opt.IncludeWarmup = true
	an = analyzeFixture(t, f, opt)
	assert.Equal(t, int64(1000), an.Strategies[0].Requests)
}

// A load test spans its schedule: a fault window of the scenario that
// opens after the last request was due never happened in it, and is left
// out (with a word), not drawn as an outage with no requests.
func TestLoadRunOmitsFaultWindowsOutsideItsSchedule(t *testing.T) {
	sc := smallDemo(t) // an outage at 20 s
	sc.Strategies = sc.Strategies[:1]
	f := &fixture{sc: sc, source: "load", records: synthRecords(sc, 1, 1000, 1), loadSchedule: 10} // 10 s of requests
	an := analyzeFixture(t, f, DefaultOptions())
	assert.Empty(t, an.Faults)
	assert.Contains(t, strings.Join(an.Warnings, "\n"), "is outside this load test's 10 s schedule: it never happened")
	var note string
	for _, tb := range an.Document().Tables() {
		if tb.ID == "load-test" {
			note = strings.Join(tb.Notes, " ")
		}
	}
	assert.Contains(t, note, "1,000 requests scheduled over 10 s (offered 100.0 req/s, asked 20 req/s); 1,000 sent (achieved 100.0 req/s); the run took 30 s with the drain",
		"the pacer line gives the schedule, offered and achieved rates, not the drain")

	assert.Equal(t, 10.0, an.SpanSeconds, "time axes span the schedule")
	for _, pt := range an.Strategies[0].Series {
		if pt.Requests > 0 {
			assert.Less(t, pt.Start, 10.0, "no request bucket after the schedule")
		}
	}
	doc := an.Document()
	assert.Equal(t, "Strategy "+sc.Strategies[0].Name, doc.Sections[1].Title, "one strategy: no comparison section")
	for _, fig := range doc.Figures() {
		assert.NotEqual(t, FigCostVsP99, fig.ID, "no one-point cost/p99 plot")
	}
	var md bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, doc))
	assert.NotContains(t, md.String(), "∞")
	assert.NotContains(t, md.String(), "vs-baseline")

	f.loadSchedule = 25 // the outage at 20 s is inside the schedule
	an = analyzeFixture(t, f, DefaultOptions())
	require.Len(t, an.Faults, 1)
}

func TestOpenRunErrors(t *testing.T) {
	_, err := results.OpenRun(t.TempDir())
	assert.ErrorIs(t, err, results.ErrNotRunDir)
	_, err = results.OpenRun(filepath.Join(t.TempDir(), "nope"))
	assert.ErrorIs(t, err, results.ErrNotRunDir)
	sc := smallDemo(t)
	dir := (&fixture{sc: sc, records: synthRecords(sc, 1, 10, 1)}).write(t)
	run, err := results.OpenRun(dir)
	require.NoError(t, err)
	assert.True(t, run.HashVerified)
	_, err = Analyze(run, Options{SLOTarget: 1})
	assert.Error(t, err)
	opt := DefaultOptions()
	opt.Baseline = "nope"
	_, err = Analyze(run, opt)
	assert.ErrorContains(t, err, `baseline strategy "nope"`)
}

func TestPairedAndUnpairedDiffs(t *testing.T) {
	a := &StrategyMetrics{Reps: []RepMetrics{{Rep: 0, MeanTTFT: 1}, {Rep: 1, MeanTTFT: 2}, {Rep: 2, MeanTTFT: 3}}}
	b := &StrategyMetrics{Reps: []RepMetrics{{Rep: 0, MeanTTFT: 1.5}, {Rep: 1, MeanTTFT: 2.5}, {Rep: 2, MeanTTFT: 3.5}, {Rep: 3, MeanTTFT: 9}}}
	d := PairedDiffs(a, b)[0]
	assert.Equal(t, "mean TTFT", d.Metric)
	assert.True(t, d.Paired)
	// Every paired difference is exactly 0.5: a zero-width interval that
	// excludes 0, although the two sides' spreads overlap.
	assert.InDelta(t, 0.5, d.Delta.Mean, 1e-12)
	assert.InDelta(t, 0, d.Delta.HalfWidth(), 1e-12)
	assert.Equal(t, 3, d.Delta.N, "replication 3 has no partner")
	assert.True(t, d.Significant())
	u := UnpairedDiffs(a, b)[0]
	assert.False(t, u.Paired)
	assert.False(t, u.Significant(), "unpaired, the same data cannot tell the strategies apart")
}

func TestOrphanAttemptsAndRecordedCost(t *testing.T) {
	sc := handmadeScenario(t, "gpt-4o", "")
	recs := req(0, "aoai", "azure", "eastus2", 0, time.Second, results.StatusOK, 1000, 100, 0)
	// An interrupted run: the attempt of request 1 was written, its request record never was.
	orphan := req(1, "br", "aws", "us-east-1", time.Second, time.Second, results.StatusOK, 2000, 200, 0)[0]
	orphan.CostUSD = 0.5
	recs = append(recs, orphan)
	an := analyzeFixture(t, &fixture{sc: sc, records: recs}, DefaultOptions())
	assert.Equal(t, int64(1), an.Records.OrphanAttempts)
	w := strings.Join(an.Warnings, "\n")
	assert.Contains(t, w, "1 attempt records have no request record")
	assert.InDelta(t, 0.5, an.Records.RecordedCostUSD, 1e-12, "the attempts' own cost, kept beside the recomputed one")
	m := an.Strategies[0]
	assert.Equal(t, int64(1), m.Requests)
	assert.InDelta(t, (1000*2.5+100*10.0)/1e6+(2000*0.15+200*0.60)/1e6, m.Cost.Token, 1e-12, "the orphan attempt is still paid for")
}

// countWarnings are the warnings other than the one about prices not yet
// checked against their first-party page (a property of the price tables,
// not of the records).
func countWarnings(ws []string) []string {
	var out []string
	for _, w := range ws {
		if !strings.HasPrefix(w, "the prices of ") {
			out = append(out, w)
		}
	}
	return out
}
