package reports

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// Twin verdicts.
const (
	// VerdictPass: every metric with a tolerance is within it.
	VerdictPass = "pass"
	// VerdictFail: a metric is outside its tolerance: the model disagrees
	// with the measurement.
	VerdictFail = "fail"
	// VerdictInvalid: the measurement cannot be trusted (the load
	// generator or the fakes fell behind); it takes precedence over fail.
	VerdictInvalid = "invalid"
	// VerdictError: there is nothing to judge: the target did not answer
	// requests the simulator completed (connection failures: a fake that
	// is not running or died), or no metric with a tolerance could be
	// computed. It takes precedence over invalid and fail: neither the
	// model nor the machine is to blame.
	VerdictError = "error"
)

// Per-metric verdicts besides pass and fail.
const (
	// MetricNoTolerance: the metric is reported, not checked.
	MetricNoTolerance = "no tolerance"
	// MetricUndefined: a side has no value (nothing completed, say), so a
	// tolerance cannot be checked; it does not fail the twin.
	MetricUndefined = "undefined"
)

// TwinJSONFile is the twin report's JSON file in the report directory.
const TwinJSONFile = "twin.json"

// TwinListed is how many requests whose outcome differs the report lists
// (all are counted).
const TwinListed = 50

// TwinOptions configure Twin.
type TwinOptions struct {
	// Tolerance holds the metrics to check; metrics without a rule get no
	// verdict.
	Tolerance Tolerance
	// MaxSendLag and MaxFakeLag bound the p99 of the load generator's send
	// lag (sent − intended) and of the fakes' lag (results.Outcome.Lag);
	// beyond either the measurement is invalid. Zero or less: no bound.
	MaxSendLag, MaxFakeLag time.Duration
	// Pricing are the price tables for token cost (default: the embedded
	// copy).
	Pricing *Pricing
	// Command is the command line that produced the twin, and Version the
	// mcbench version, for the document.
	Command, Version string
}

// TwinReport is a simulation checked against a load test of the same
// scenario, strategy and request stream: predicted (the simulation's
// replication 0, the stream the load test sent) against measured, metric
// by metric and request by request. It encodes as twin.json: numbers
// that are undefined are null.
type TwinReport struct {
	Scenario       string `json:"scenario"`
	ScenarioSHA256 string `json:"scenario_sha256"`
	Seed           uint64 `json:"seed"`
	Strategy       string `json:"strategy"`
	// Version is the mcbench version that wrote the report.
	Version string `json:"version,omitempty"`
	// Command is the command line that produced the twin.
	Command    string   `json:"command,omitempty"`
	Simulation TwinSide `json:"simulation"`
	LoadTest   TwinSide `json:"load_test"`
	// Pairing counts the requests of replication 0 found in both runs.
	Pairing   TwinPairing   `json:"pairing"`
	Tolerance Tolerance     `json:"tolerance"`
	Metrics   []TwinMetric  `json:"metrics"`
	Residuals TwinResiduals `json:"residuals"`
	// Differences are the paired requests whose outcome differs.
	Differences TwinDifferences `json:"outcome_differences"`
	Validity    TwinValidity    `json:"validity"`
	// Verdict is pass, fail or invalid; Reasons say why.
	Verdict string   `json:"verdict"`
	Reasons []string `json:"reasons"`

	// Distributions of replication 0 and of the load test, for the plots.
	simTTFT, simE2E, loadTTFT, loadE2E *hdrhistogram.Histogram
	// strategyColour is the strategy's colour in the scenario's palette.
	strategyColour color.NRGBA
}

// TwinSide describes one of the two runs.
type TwinSide struct {
	Dir    string `json:"dir"`
	Source string `json:"source"`
	// Replications is the simulation's replication count (1 for a load test).
	Replications int `json:"replications"`
	// Requests are the requests of replication 0 (the load test's one).
	Requests int64 `json:"requests"`
	// Completed of them got a full response.
	Completed int64 `json:"completed"`
	// Target is where a load test's calls went (fake or endpoints).
	Target  string `json:"target,omitempty"`
	Command string `json:"command,omitempty"`
}

// TwinPairing counts requests by the run they appear in.
type TwinPairing struct {
	// Paired requests appear in both runs (same request ID).
	Paired int64 `json:"paired"`
	// CompletedInBoth of them completed in both: the residuals' requests.
	CompletedInBoth  int64 `json:"completed_in_both"`
	OnlyInSimulation int64 `json:"only_in_simulation"`
	OnlyInLoadTest   int64 `json:"only_in_load_test"`
	// Unanswered are paired requests the simulator completed that failed
	// in the load test on a connection error: the target did not answer.
	Unanswered int64 `json:"unanswered"`
}

// TwinMetric is one statistic predicted and measured.
type TwinMetric struct {
	// ID names the metric in tolerances ("ttft.p99", "failures.chat").
	ID string `json:"id"`
	// Name is for reading ("TTFT p99", "failures (chat)").
	Name string `json:"name"`
	// Unit is "s", "requests", "attempts" or "USD".
	Unit string `json:"unit"`
	// Predicted is the simulation's replication 0: the same requests the
	// load test sent.
	Predicted results.Num `json:"predicted"`
	// PredictedCI95 is the 95% Student-t interval of the statistic's mean
	// over the simulation's replications (null with fewer than two).
	PredictedCI95 results.CI `json:"predicted_ci95"`
	// Measured is the load test's value.
	Measured results.Num `json:"measured"`
	// MeasuredInCI95 says whether Measured lies in PredictedCI95 (null
	// when the interval is undefined).
	MeasuredInCI95 *bool `json:"measured_in_ci95"`
	// RelativeError is (measured − predicted) / predicted: 0 when both are
	// 0, null when undefined (a side without a value, or predicted 0 and
	// measured not).
	RelativeError results.Num `json:"relative_error"`
	// Tolerance is the bound on |RelativeError| (null: none).
	Tolerance results.Num `json:"tolerance"`
	// Verdict is pass, fail, "no tolerance" or "undefined".
	Verdict string `json:"verdict"`

	relErr float64 // RelativeError with ±Inf kept, for the verdict
}

// TwinResiduals are measured − predicted per request, for the requests
// completed in both runs.
type TwinResiduals struct {
	TTFT ResidualStats `json:"ttft"`
	E2E  ResidualStats `json:"e2e"`
}

// ResidualStats summarises per-request residuals in nanoseconds
// (percentiles interpolated between order statistics, Hyndman–Fan type 7).
type ResidualStats struct {
	N         int64             `json:"n"`
	MedianNS  results.Num       `json:"median_ns"`
	MeanNS    results.Num       `json:"mean_ns"`
	P1NS      results.Num       `json:"p1_ns"`
	P99NS     results.Num       `json:"p99_ns"`
	MaxAbsNS  results.Num       `json:"max_abs_ns"`
	Histogram ResidualHistogram `json:"histogram"`
}

// ResidualHistogram has equal bins from the residuals' 0.5th to their
// 99.5th percentile; Below and Above count the residuals outside.
type ResidualHistogram struct {
	Bins  []ResidualBin `json:"bins"`
	Below int64         `json:"below"`
	Above int64         `json:"above"`
}

// ResidualBin is one bin [LoNS, HiNS) (the last bin includes HiNS).
type ResidualBin struct {
	LoNS  float64 `json:"lo_ns"`
	HiNS  float64 `json:"hi_ns"`
	Count int64   `json:"count"`
}

// TwinDifferences counts the requests whose outcome differs between the
// runs: status, deployment of the deciding attempt, or number of
// attempts, or present in one run only. A request can differ in several
// ways; Count counts it once.
type TwinDifferences struct {
	Count            int64 `json:"count"`
	Status           int64 `json:"status"`
	Deployment       int64 `json:"deployment"`
	Attempts         int64 `json:"attempts"`
	OnlyInSimulation int64 `json:"only_in_simulation"`
	OnlyInLoadTest   int64 `json:"only_in_load_test"`
	// Listed are the first TwinListed of them by request ID.
	Listed []OutcomeDifference `json:"listed"`
}

// OutcomeDifference is one request whose outcome differs.
type OutcomeDifference struct {
	RequestID uint64 `json:"request_id"`
	Class     string `json:"class"`
	// Differs names what differs: status, deployment, attempts, missing.
	Differs   []string     `json:"differs"`
	Predicted *TwinOutcome `json:"predicted"`
	Measured  *TwinOutcome `json:"measured"`
}

// TwinOutcome is how one run ended a request (nil: not in that run).
type TwinOutcome struct {
	Status     string `json:"status"`
	ErrorClass string `json:"error_class,omitempty"`
	Deployment string `json:"deployment"`
	Attempts   int32  `json:"attempts"`
	// TTFTSeconds and E2ESeconds are null unless the request completed.
	TTFTSeconds results.Num `json:"ttft_seconds"`
	E2ESeconds  results.Num `json:"e2e_seconds"`
}

// TwinValidity says whether the measurement can be trusted: the load
// generator sent on time and the fakes kept their planned clock.
type TwinValidity struct {
	Valid bool `json:"valid"`
	// SendLagP99Seconds is the 99th percentile of sent − intended over the
	// load test's requests; MaxSendLagSeconds its bound (null: none).
	SendLagP99Seconds results.Num `json:"send_lag_p99_seconds"`
	SendLagMaxSeconds results.Num `json:"send_lag_max_seconds"`
	MaxSendLagSeconds results.Num `json:"max_send_lag_seconds"`
	// FakeLagReported is false when no attempt reported a lag (live
	// endpoints, fakes that do not say): FakeLagP99Seconds is then null
	// and unused.
	FakeLagReported   bool        `json:"fake_lag_reported"`
	FakeLagP99Seconds results.Num `json:"fake_lag_p99_seconds"`
	FakeLagMaxSeconds results.Num `json:"fake_lag_max_seconds"`
	MaxFakeLagSeconds results.Num `json:"max_fake_lag_seconds"`
	// Scheduled and Sent are the load test's (Sent < Scheduled: it could
	// not send everything).
	Scheduled uint64 `json:"scheduled"`
	Sent      uint64 `json:"sent"`
	// Problems say what makes the measurement invalid.
	Problems []string `json:"problems"`
}

// twinReq is what the twin keeps of one request of replication 0: small,
// so holding every request of a bounded run is cheap.
type twinReq struct {
	ttft, e2e int64 // ns from intended; -1 unless completed
	attempts  int32
	status    results.Status
	dep, cls  uint16 // interned names
	errClass  uint16
}

// twinAgg is one replication's running statistics (or the load test's).
type twinAgg struct {
	rep             int32
	ttft, e2e       *hdrhistogram.Histogram
	sumTTFT, sumE2E float64
	ok              int64
	sumWait         float64
	waitUnknown     bool
	requests, tries int64
	fail, thr, tmo  []int64 // per class
	cost            float64
}

func newTwinAgg(rep int32) *twinAgg {
	return &twinAgg{rep: rep, ttft: newHist(3), e2e: newHist(3)}
}

func grow(xs []int64, i int) []int64 {
	for len(xs) <= i {
		xs = append(xs, 0)
	}
	return xs
}

// request folds one request record.
func (a *twinAgg) request(o *results.Outcome, cls int) {
	a.requests++
	a.tries += int64(max(o.Attempt, 0))
	a.fail, a.thr, a.tmo = grow(a.fail, cls), grow(a.thr, cls), grow(a.tmo, cls)
	switch o.Status {
	case results.StatusOK:
		ttft, e2e := o.FirstToken-o.Intended, o.Done-o.Intended
		a.ok++
		a.sumTTFT += float64(ttft)
		a.sumE2E += float64(e2e)
		recordNS(a.ttft, ttft)
		recordNS(a.e2e, e2e)
		if o.Queued < 0 {
			a.waitUnknown = true
		} else {
			a.sumWait += float64(o.Queued)
		}
	case results.StatusFailed:
		a.fail[cls]++
	case results.StatusThrottled, results.StatusRejected:
		a.thr[cls]++
	case results.StatusTimedOut:
		a.tmo[cls]++
	}
}

// twinBuilder reads both runs.
type twinBuilder struct {
	names   []string
	nameIdx map[string]uint16
	classes []string // scenario workloads, then any other class seen
	price   map[string][2]float64
	priced  bool
}

func (b *twinBuilder) intern(s string) uint16 {
	if i, ok := b.nameIdx[s]; ok {
		return i
	}
	if len(b.names) >= math.MaxUint16 {
		return uint16(len(b.names) - 1) // far more names than any scenario has: share the last
	}
	i := uint16(len(b.names))
	b.names = append(b.names, s)
	b.nameIdx[s] = i
	return i
}

func (b *twinBuilder) class(name string) int {
	if i := slices.Index(b.classes, name); i >= 0 {
		return i
	}
	b.classes = append(b.classes, name)
	return len(b.classes) - 1
}

// attemptCost prices an attempt's billed tokens (results.Billed) at its
// deployment's pay-as-you-go price, as both engines do.
func (b *twinBuilder) attemptCost(o *results.Outcome) float64 {
	p, ok := b.price[o.Deployment]
	if !ok {
		return 0
	}
	in, out, billed := results.Billed(o.Status, o.FirstToken, o.InputTokens, o.OutputTokens)
	if !billed {
		return 0
	}
	return (float64(in)*p[0] + float64(out)*p[1]) / 1e6
}

func (b *twinBuilder) keep(o *results.Outcome, cls int) twinReq {
	r := twinReq{ttft: -1, e2e: -1, attempts: o.Attempt, status: o.Status, dep: b.intern(o.Deployment), cls: uint16(cls), errClass: b.intern(o.ErrorClass)}
	if o.Status == results.StatusOK {
		r.ttft, r.e2e = o.FirstToken-o.Intended, o.Done-o.Intended
	}
	return r
}

// Twin checks a simulation (sim, written with records) against a load
// test (load) of the same scenario, seed and strategy, sent with the
// replay pacer: replication 0 of the simulation is the request stream the
// load test sent, so each request is paired by its ID. It streams both
// outcomes.csv files and keeps one small record per request of
// replication 0 of each.
func Twin(sim, load *results.Run, opt TwinOptions) (*TwinReport, error) {
	switch {
	case sim.Summary.Source != "sim":
		return nil, fmt.Errorf("%s is a %s run, not a simulation", sim.Dir, sim.Summary.Source)
	case !load.IsLoad():
		return nil, fmt.Errorf("%s is a %s run, not a load test", load.Dir, load.Summary.Source)
	case !sim.HasOutcomes:
		return nil, fmt.Errorf("%s has no %s: simulate with --records", sim.Dir, results.OutcomesFile)
	case !load.HasOutcomes:
		return nil, fmt.Errorf("%s has no %s", load.Dir, results.OutcomesFile)
	case sim.Summary.ScenarioSHA256 != load.Summary.ScenarioSHA256 || sim.Summary.Seed != load.Summary.Seed:
		return nil, fmt.Errorf("%s and %s ran different scenarios or seeds (scenario hash %s against %s, seed %d against %d): they share no request stream",
			sim.Dir, load.Dir, short(sim.Summary.ScenarioSHA256), short(load.Summary.ScenarioSHA256), sim.Summary.Seed, load.Summary.Seed)
	case len(load.Summary.Results) != 1:
		return nil, fmt.Errorf("%s has %d strategies; a load test has one", load.Dir, len(load.Summary.Results))
	}
	if l := load.Summary.Load; l != nil && l.Pacer != "replay" {
		return nil, fmt.Errorf("%s was paced by %q: only the replay pacer sends the simulator's arrival times", load.Dir, l.Pacer)
	}
	strategy := load.Summary.Results[0].Strategy
	if !slices.ContainsFunc(sim.Summary.Results, func(r results.Result) bool { return r.Strategy == strategy }) {
		return nil, fmt.Errorf("%s did not simulate strategy %q, which %s load-tested", sim.Dir, strategy, load.Dir)
	}
	sc := sim.Scenario()
	b := &twinBuilder{nameIdx: map[string]uint16{}, price: map[string][2]float64{}}
	b.intern("")
	for _, w := range sc.Workloads {
		b.class(w.Name)
	}
	if err := b.setPrices(sc, strategy, opt.Pricing); err != nil {
		return nil, err
	}

	// The simulation: every replication's statistics, and replication 0's requests.
	simReps := map[int32]*twinAgg{}
	simReqs := map[uint64]twinReq{}
	err := sim.Outcomes(func(o *results.Outcome) error {
		if o.Strategy != strategy {
			return nil
		}
		a := simReps[o.Replication]
		if a == nil {
			a = newTwinAgg(o.Replication)
			simReps[o.Replication] = a
		}
		if o.Kind == results.KindAttempt {
			a.cost += b.attemptCost(o)
			return nil
		}
		cls := b.class(o.Class)
		a.request(o, cls)
		if o.Replication == 0 {
			simReqs[o.RequestID] = b.keep(o, cls)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sim0 := simReps[0]
	if sim0 == nil || sim0.requests == 0 {
		return nil, fmt.Errorf("%s has no request records of replication 0 for strategy %q", sim.Dir, strategy)
	}

	// The load test: its statistics, requests, send lag and fake lag.
	meas := newTwinAgg(0)
	loadReqs := map[uint64]twinReq{}
	var sendLag, fakeLag []float64
	err = load.Outcomes(func(o *results.Outcome) error {
		if o.Strategy != strategy {
			return nil
		}
		if o.Kind == results.KindAttempt {
			meas.cost += b.attemptCost(o)
			if o.Lag >= 0 {
				fakeLag = append(fakeLag, float64(o.Lag))
			}
			return nil
		}
		cls := b.class(o.Class)
		meas.request(o, cls)
		loadReqs[o.RequestID] = b.keep(o, cls)
		if o.Attempt >= 1 {
			sendLag = append(sendLag, float64(o.Sent-o.Intended))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	reps := make([]*twinAgg, 0, len(simReps))
	for _, a := range simReps {
		reps = append(reps, a)
	}
	slices.SortFunc(reps, func(x, y *twinAgg) int { return int(x.rep - y.rep) })

	r := &TwinReport{
		Scenario: sim.Summary.Scenario, ScenarioSHA256: sim.Summary.ScenarioSHA256, Seed: sim.Summary.Seed, Strategy: strategy,
		Version: opt.Version, Command: opt.Command, Tolerance: opt.Tolerance,
		Simulation: TwinSide{Dir: sim.Dir, Source: "sim", Replications: len(reps), Requests: sim0.requests, Completed: sim0.ok, Command: sim.Info.Command},
		LoadTest:   TwinSide{Dir: load.Dir, Source: "load", Replications: 1, Requests: meas.requests, Completed: meas.ok, Command: load.Info.Command},
		simTTFT:    sim0.ttft, simE2E: sim0.e2e, loadTTFT: meas.ttft, loadE2E: meas.e2e,
		strategyColour: scenarioPalette(sc).Strategy(strategy),
	}
	if r.Tolerance == nil {
		r.Tolerance = Tolerance{}
	}
	if l := load.Summary.Load; l != nil {
		r.LoadTest.Target = l.Target
	}
	r.Metrics = b.metrics(reps, sim0, meas, opt.Tolerance)
	r.pair(b, simReqs, loadReqs)
	r.Validity = validity(load, sendLag, fakeLag, opt)
	r.decide()
	return r, nil
}

func (b *twinBuilder) setPrices(sc *scenarios.Scenario, strategy string, pricing *Pricing) error {
	if pricing == nil {
		var err error
		if pricing, err = DefaultPricing(); err != nil {
			return err
		}
	}
	priceOf := pricing.TokenPrices(sc)
	var placed []string
	for _, st := range sc.Strategies {
		if st.Name == strategy {
			for _, names := range st.Placement {
				placed = append(placed, names...)
			}
		}
	}
	for i := range sc.Deployments {
		d := &sc.Deployments[i]
		in, out, ok := priceOf(d)
		if !ok {
			continue
		}
		if slices.Contains(placed, d.Name) {
			b.priced = true
		}
		// Provisioned capacity is paid per unit-hour; its tokens cost nothing more.
		if d.Capacity.ProvisionedUnits == 0 {
			b.price[d.Name] = [2]float64{in, out}
		}
	}
	return nil
}

// twinStat is one statistic of a replication.
type twinStat struct {
	id, name, unit string
	get            func(a *twinAgg) float64
}

func meanOf(sum float64, n int64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

func classCount(xs []int64, cls int) float64 {
	if cls < len(xs) {
		return float64(xs[cls])
	}
	return 0
}

func (b *twinBuilder) stats(meas *twinAgg) []twinStat {
	out := []twinStat{}
	for _, m := range []struct {
		id, name string
		h        func(a *twinAgg) *hdrhistogram.Histogram
		sum      func(a *twinAgg) float64
	}{
		{"ttft", "TTFT", func(a *twinAgg) *hdrhistogram.Histogram { return a.ttft }, func(a *twinAgg) float64 { return a.sumTTFT }},
		{"e2e", "E2E", func(a *twinAgg) *hdrhistogram.Histogram { return a.e2e }, func(a *twinAgg) float64 { return a.sumE2E }},
	} {
		for _, q := range []struct {
			stat string
			q    float64
		}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}} {
			out = append(out, twinStat{m.id + "." + q.stat, m.name + " " + q.stat, "s", func(a *twinAgg) float64 { return quantile(m.h(a), q.q) }})
		}
		out = append(out, twinStat{m.id + ".mean", m.name + " mean", "s", func(a *twinAgg) float64 { return meanOf(m.sum(a), a.ok) / 1e9 }})
	}
	if !meas.waitUnknown {
		out = append(out, twinStat{"wait.mean", "queue wait mean", "s", func(a *twinAgg) float64 { return meanOf(a.sumWait, a.ok) / 1e9 }})
	}
	out = append(out, twinStat{"attempts.mean", "attempts per request", "attempts", func(a *twinAgg) float64 { return meanOf(float64(a.tries), a.requests) }})
	for cls, name := range b.classes {
		out = append(out,
			twinStat{"failures." + name, "failures (" + name + ")", "requests", func(a *twinAgg) float64 { return classCount(a.fail, cls) }},
			twinStat{"throttles." + name, "throttled or rejected (" + name + ")", "requests", func(a *twinAgg) float64 { return classCount(a.thr, cls) }},
			twinStat{"timeouts." + name, "timeouts (" + name + ")", "requests", func(a *twinAgg) float64 { return classCount(a.tmo, cls) }})
	}
	if b.priced {
		out = append(out, twinStat{"cost.total", "token cost", "USD", func(a *twinAgg) float64 { return a.cost }})
	}
	return out
}

func (b *twinBuilder) metrics(reps []*twinAgg, sim0, meas *twinAgg, tol Tolerance) []TwinMetric {
	var out []TwinMetric
	for _, st := range b.stats(meas) {
		vals := make([]float64, len(reps))
		for i, a := range reps {
			vals[i] = st.get(a)
		}
		iv := results.CI95(vals)
		pred, got := st.get(sim0), st.get(meas)
		m := TwinMetric{ID: st.id, Name: st.name, Unit: st.unit, Predicted: results.Num(pred), PredictedCI95: iv.CI(), Measured: results.Num(got)}
		if iv.Defined() && !math.IsNaN(got) {
			in := iv.Contains(got)
			m.MeasuredInCI95 = &in
		}
		m.relErr = relError(pred, got)
		m.RelativeError = results.Num(m.relErr)
		bound, ok := tol.lookup(st.id)
		m.Tolerance = results.Num(bound)
		switch {
		case !ok:
			m.Verdict = MetricNoTolerance
		case math.IsNaN(m.relErr):
			m.Verdict = MetricUndefined
		case math.Abs(m.relErr) <= bound:
			m.Verdict = VerdictPass
		default:
			m.Verdict = VerdictFail
		}
		out = append(out, m)
	}
	return out
}

// relError is (got − pred) / pred: 0 when both are 0, ±Inf when only pred
// is 0, NaN when either is undefined.
func relError(pred, got float64) float64 {
	switch {
	case math.IsNaN(pred) || math.IsNaN(got):
		return math.NaN()
	case pred == 0 && got == 0:
		return 0
	case pred == 0:
		return math.Copysign(math.Inf(1), got)
	}
	return (got - pred) / math.Abs(pred)
}

// pair matches the requests of both runs by ID: residuals of those
// completed in both, and those whose outcome differs.
func (r *TwinReport) pair(b *twinBuilder, simReqs, loadReqs map[uint64]twinReq) {
	ids := make([]uint64, 0, max(len(simReqs), len(loadReqs)))
	for id := range simReqs {
		ids = append(ids, id)
	}
	for id := range loadReqs {
		if _, ok := simReqs[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var ttft, e2e []float64
	d := &r.Differences
	d.Listed = []OutcomeDifference{}
	for _, id := range ids {
		s, inSim := simReqs[id]
		l, inLoad := loadReqs[id]
		var differs []string
		switch {
		case !inLoad:
			r.Pairing.OnlyInSimulation++
			d.OnlyInSimulation++
			differs = append(differs, "missing")
		case !inSim:
			r.Pairing.OnlyInLoadTest++
			d.OnlyInLoadTest++
			differs = append(differs, "missing")
		default:
			r.Pairing.Paired++
			if s.ttft >= 0 && l.ttft >= 0 {
				r.Pairing.CompletedInBoth++
				ttft = append(ttft, float64(l.ttft-s.ttft))
				e2e = append(e2e, float64(l.e2e-s.e2e))
			}
			if s.status != l.status {
				d.Status++
				differs = append(differs, "status")
				if s.status == results.StatusOK && b.names[l.errClass] == "connection" {
					r.Pairing.Unanswered++
				}
			}
			if s.dep != l.dep {
				d.Deployment++
				differs = append(differs, "deployment")
			}
			if s.attempts != l.attempts {
				d.Attempts++
				differs = append(differs, "attempts")
			}
		}
		if len(differs) == 0 {
			continue
		}
		d.Count++
		if len(d.Listed) < TwinListed {
			od := OutcomeDifference{RequestID: id, Differs: differs}
			if inSim {
				od.Predicted, od.Class = b.outcome(s), b.classes[s.cls]
			}
			if inLoad {
				od.Measured, od.Class = b.outcome(l), b.classes[l.cls]
			}
			d.Listed = append(d.Listed, od)
		}
	}
	r.Residuals.TTFT = residualStats(ttft)
	r.Residuals.E2E = residualStats(e2e)
}

func (b *twinBuilder) outcome(q twinReq) *TwinOutcome {
	o := &TwinOutcome{Status: q.status.String(), ErrorClass: b.names[q.errClass], Deployment: b.names[q.dep], Attempts: q.attempts,
		TTFTSeconds: results.Unknown, E2ESeconds: results.Unknown}
	if q.ttft >= 0 {
		o.TTFTSeconds, o.E2ESeconds = results.Num(float64(q.ttft)/1e9), results.Num(float64(q.e2e)/1e9)
	}
	return o
}

// residualBins is the residual histogram's bin count.
const residualBins = 40

func residualStats(xs []float64) ResidualStats {
	st := ResidualStats{N: int64(len(xs)), MedianNS: results.Unknown, MeanNS: results.Unknown, P1NS: results.Unknown, P99NS: results.Unknown,
		MaxAbsNS: results.Unknown, Histogram: ResidualHistogram{Bins: []ResidualBin{}}}
	if len(xs) == 0 {
		return st
	}
	slices.Sort(xs)
	var sum float64
	for _, x := range xs {
		sum += x
	}
	st.MeanNS = results.Num(sum / float64(len(xs)))
	st.MedianNS = results.Num(quantile7(xs, 0.5))
	st.P1NS, st.P99NS = results.Num(quantile7(xs, 0.01)), results.Num(quantile7(xs, 0.99))
	st.MaxAbsNS = results.Num(math.Max(math.Abs(xs[0]), math.Abs(xs[len(xs)-1])))
	lo, hi := quantile7(xs, 0.005), quantile7(xs, 0.995)
	if hi-lo < 1e3 { // all (or nearly all) equal: a 1 µs-wide range around them
		mid := (lo + hi) / 2
		lo, hi = mid-500, mid+500
	}
	w := (hi - lo) / residualBins
	h := &st.Histogram
	for i := range residualBins {
		h.Bins = append(h.Bins, ResidualBin{LoNS: lo + float64(i)*w, HiNS: lo + float64(i+1)*w})
	}
	h.Bins[residualBins-1].HiNS = hi
	for _, x := range xs {
		switch {
		case x < lo:
			h.Below++
		case x > hi:
			h.Above++
		default:
			h.Bins[min(int((x-lo)/w), residualBins-1)].Count++
		}
	}
	return st
}

// validity checks the load generator's send lag and the fakes' lag
// against their bounds.
func validity(load *results.Run, sendLag, fakeLag []float64, opt TwinOptions) TwinValidity {
	v := TwinValidity{SendLagP99Seconds: results.Unknown, SendLagMaxSeconds: results.Unknown, FakeLagP99Seconds: results.Unknown,
		FakeLagMaxSeconds: results.Unknown, MaxSendLagSeconds: results.Unknown, MaxFakeLagSeconds: results.Unknown, Problems: []string{}}
	if opt.MaxSendLag > 0 {
		v.MaxSendLagSeconds = results.Num(opt.MaxSendLag.Seconds())
	}
	if opt.MaxFakeLag > 0 {
		v.MaxFakeLagSeconds = results.Num(opt.MaxFakeLag.Seconds())
	}
	if len(sendLag) > 0 {
		var problem string
		v.SendLagP99Seconds, v.SendLagMaxSeconds, problem = lagBound(sendLag, opt.MaxSendLag, "send lag", "--max-send-lag",
			"the load generator could not send on schedule")
		if problem != "" {
			v.Problems = append(v.Problems, problem)
		}
	}
	if len(fakeLag) > 0 {
		var problem string
		v.FakeLagReported = true
		v.FakeLagP99Seconds, v.FakeLagMaxSeconds, problem = lagBound(fakeLag, opt.MaxFakeLag, "fake lag", "--max-fake-lag",
			"the fakes could not keep their planned clock")
		if problem != "" {
			v.Problems = append(v.Problems, problem)
		}
	}
	if l := load.Summary.Load; l != nil {
		v.Scheduled, v.Sent = l.Scheduled, l.Sent
		if l.Sent < l.Scheduled {
			v.Problems = append(v.Problems, fmt.Sprintf("the load generator sent %d of the %d requests scheduled", l.Sent, l.Scheduled))
		}
	}
	if load.Summary.Interrupted {
		v.Problems = append(v.Problems, "the load test was interrupted before its stream ended")
	}
	v.Valid = len(v.Problems) == 0
	return v
}

// lagBound returns the p99 and the largest of lags (ns, sorted in place)
// in seconds, and the problem to report when the p99 is beyond bound
// (none when bound is 0).
func lagBound(lags []float64, bound time.Duration, what, flag, why string) (p99, largest results.Num, problem string) {
	slices.Sort(lags)
	q, mx := quantile7(lags, 0.99)/1e9, lags[len(lags)-1]/1e9
	if bound > 0 && q > bound.Seconds() {
		problem = fmt.Sprintf("%s p99 %s is beyond %s %s: %s", what, secs(q), flag, bound, why)
	}
	return results.Num(q), results.Num(mx), problem
}

// decide sets the verdict: error (nothing to judge) takes precedence, then
// invalid, then fail if any metric is outside its tolerance, else pass.
func (r *TwinReport) decide() {
	r.Reasons = []string{}
	if n := r.Pairing.Unanswered; n > 0 {
		r.Verdict = VerdictError
		r.Reasons = append(r.Reasons, fmt.Sprintf("the target did not answer %d of the requests the simulator completed (connection errors): is it running, and is it the scenario's fake?", n))
		return
	}
	toleranced, checked := 0, 0
	for _, m := range r.Metrics {
		if m.Verdict != MetricNoTolerance {
			toleranced++
		}
		if m.Verdict == VerdictPass || m.Verdict == VerdictFail {
			checked++
		}
	}
	if toleranced > 0 && checked == 0 {
		r.Verdict = VerdictError
		r.Reasons = append(r.Reasons, "no metric with a tolerance could be computed (nothing completed on one side?)")
		return
	}
	if !r.Validity.Valid {
		r.Verdict = VerdictInvalid
		r.Reasons = append(r.Reasons, r.Validity.Problems...)
		return
	}
	r.Verdict = VerdictPass
	for _, m := range r.Metrics {
		if m.Verdict == VerdictFail {
			r.Verdict = VerdictFail
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s: measured %s against predicted %s, %s, beyond ±%s",
				m.ID, fmtMetric(float64(m.Measured), m.Unit), fmtMetric(float64(m.Predicted), m.Unit), signedPct(m.relErr), pct(float64(m.Tolerance))))
		}
	}
}

// fmtMetric formats a metric's value in its unit.
func fmtMetric(x float64, unit string) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case unit == "s":
		return secs(x)
	case unit == "USD":
		return usd(x)
	case unit == "attempts":
		return num(x, 3)
	}
	return num(x, 0)
}

// signedPct writes a relative error with its sign ("+2.31%", "−∞").
func signedPct(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case math.IsInf(x, 1):
		return "+∞"
	case math.IsInf(x, -1):
		return "−∞"
	case x > 0:
		return "+" + pct(x)
	}
	return pct(x)
}

// Metric returns the metric with the given ID, or nil.
func (r *TwinReport) Metric(id string) *TwinMetric {
	for i := range r.Metrics {
		if r.Metrics[i].ID == id {
			return &r.Metrics[i]
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON (twin.json).
func (r *TwinReport) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Summary is a one-line account of the verdict.
func (r *TwinReport) Summary() string {
	switch r.Verdict {
	case VerdictError:
		return "no verdict: " + strings.Join(r.Reasons, "; ")
	case VerdictInvalid:
		return "invalid measurement: " + strings.Join(r.Reasons, "; ")
	case VerdictFail:
		return "fail: the simulator disagrees with the measurement: " + strings.Join(r.Reasons, "; ")
	}
	n := 0
	for _, m := range r.Metrics {
		if m.Verdict == VerdictPass {
			n++
		}
	}
	if n == 0 {
		return "pass (no metric has a tolerance)"
	}
	return fmt.Sprintf("pass: %d metric%s within tolerance", n, plural(n, "", "s"))
}
