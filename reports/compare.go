package reports

import (
	"fmt"
	"math"
	"slices"

	"github.com/mcbench/mcbench/results"
)

// Diff is the difference B − A of one per-replication statistic between
// two strategies (or two runs).
type Diff struct {
	Metric, Unit string
	// A and B are the means over replications.
	A, B float64
	// Delta is B − A with its 95% interval: paired (the mean of
	// per-replication differences, Student t) when both sides ran the same
	// request stream, else Welch's interval on independent samples.
	Delta  results.Interval
	Paired bool
	// LowerIsBetter says which sign of Delta is an improvement.
	LowerIsBetter bool
}

// Significant reports whether the interval excludes zero.
func (d Diff) Significant() bool { return d.Delta.Defined() && (d.Delta.Lo > 0 || d.Delta.Hi < 0) }

type repStat struct {
	name, unit string
	lower      bool
	get        func(RepMetrics) float64
}

var repStats = []repStat{
	{"mean TTFT", "s", true, func(r RepMetrics) float64 { return r.MeanTTFT }},
	{"p99 TTFT", "s", true, func(r RepMetrics) float64 { return r.P99TTFT }},
	{"mean E2E", "s", true, func(r RepMetrics) float64 { return r.MeanE2E }},
	{"p99 E2E", "s", true, func(r RepMetrics) float64 { return r.P99E2E }},
	{"success rate", "ratio", false, func(r RepMetrics) float64 { return r.SuccessRate }},
	{"SLO attainment", "ratio", false, func(r RepMetrics) float64 { return r.GoodRate }},
	{"cost per successful request", "USD", true, func(r RepMetrics) float64 { return r.CostPerSuccess }},
	{"cost per replication", "USD", true, func(r RepMetrics) float64 { return r.CostUSD }},
	{"model-layer HHI by traffic", "HHI", true, func(r RepMetrics) float64 { return r.ModelHHI }},
}

// PairedDiffs compares two strategies that ran the same request stream
// (same scenario hash and seed): replication r of A and replication r of
// B saw the same requests, so each replication gives one difference and the
// interval is over those differences (common random numbers). Replications
// present on one side only are left out.
func PairedDiffs(a, b *StrategyMetrics) []Diff {
	out := make([]Diff, 0, len(repStats))
	for _, st := range repStats {
		as, bs := pairedValues(a, b, st)
		out = append(out, Diff{Metric: st.name, Unit: st.unit, A: meanOr(as), B: meanOr(bs), Delta: results.PairedCI(as, bs, 0.95), Paired: true, LowerIsBetter: st.lower})
	}
	return out
}

// pairedValues are st's values of the replications a and b both have
// (replications present on one side only, or undefined on either, are left out).
func pairedValues(a, b *StrategyMetrics, st repStat) (as, bs []float64) {
	bByRep := map[int32]RepMetrics{}
	for _, r := range b.Reps {
		bByRep[r.Rep] = r
	}
	for _, ra := range a.Reps {
		rb, ok := bByRep[ra.Rep]
		if !ok {
			continue
		}
		x, y := st.get(ra), st.get(rb)
		if math.IsNaN(x) || math.IsNaN(y) {
			continue
		}
		as, bs = append(as, x), append(bs, y)
	}
	return as, bs
}

// UnpairedDiffs compares two strategies with independent request streams.
func UnpairedDiffs(a, b *StrategyMetrics) []Diff {
	out := make([]Diff, 0, len(repStats))
	for _, st := range repStats {
		var as, bs []float64
		for _, r := range a.Reps {
			as = append(as, st.get(r))
		}
		for _, r := range b.Reps {
			bs = append(bs, st.get(r))
		}
		out = append(out, Diff{Metric: st.name, Unit: st.unit, A: meanOr(results.Finite(as)), B: meanOr(results.Finite(bs)), Delta: results.WelchCI(as, bs, 0.95), LowerIsBetter: st.lower})
	}
	return out
}

func meanOr(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return results.CI95(xs).Mean
}

// Comparison puts two runs (or two strategies of one run) side by side.
type Comparison struct {
	A, B *Analysis
	// SA and SB are the strategies compared.
	SA, SB *StrategyMetrics
	// SharedStream is true when both runs are simulations with the same
	// scenario hash and seed: replication r of each saw the same request
	// stream and draws, so the differences are paired per replication. A
	// load test is one measurement of replication 0's stream, not a set of
	// replications: against a simulation it is compared unpaired
	// (`mcbench twin` pairs it with the simulation request by request).
	SharedStream bool
	// Diffs are B − A per statistic.
	Diffs []Diff
	// Notes qualify the comparison (why it is unpaired, what differs).
	Notes []string
}

// Compare pairs strategy sa of run a with strategy sb of run b. Empty names
// pick the obvious pair: the one strategy of a single-strategy run, or the
// first strategy both runs have.
func Compare(a, b *Analysis, sa, sb string) (*Comparison, error) {
	var err error
	if sa == "" || sb == "" {
		sa, sb, err = defaultPair(a, b, sa, sb)
		if err != nil {
			return nil, err
		}
	}
	c := &Comparison{A: a, B: b}
	if c.SA = a.strategy(sa); c.SA == nil {
		return nil, fmt.Errorf("run A (%s) has no strategy %q (it has: %v)", a.Run.Dir, sa, a.strategyNames())
	}
	if c.SB = b.strategy(sb); c.SB == nil {
		return nil, fmt.Errorf("run B (%s) has no strategy %q (it has: %v)", b.Run.Dir, sb, b.strategyNames())
	}
	sumA, sumB := a.Run.Summary, b.Run.Summary
	sameStream := sumA.ScenarioSHA256 == sumB.ScenarioSHA256 && sumA.Seed == sumB.Seed && sumA.ScenarioSHA256 != ""
	bothSims := sumA.Source == "sim" && sumB.Source == "sim"
	c.SharedStream = sameStream && bothSims
	switch {
	case c.SA.FromSummary || c.SB.FromSummary:
		c.Notes = append(c.Notes, "a run has no outcome records: per-replication statistics, and so differences with intervals, need `mcbench sim --records`")
	case c.SharedStream:
		c.Diffs = PairedDiffs(c.SA, c.SB)
		c.Notes = append(c.Notes, "both runs are simulations with the same scenario hash and seed: replication r of both saw the same request stream and draws, so differences are paired per replication (common random numbers)")
		if n := c.Diffs[0].Delta.N; n < 2 {
			c.Notes = append(c.Notes, fmt.Sprintf("only %d replication is common to both runs: differences have no interval", n))
		}
	case sameStream:
		c.Diffs = UnpairedDiffs(c.SA, c.SB)
		c.Notes = append(c.Notes, "same scenario hash and seed, but a load test is one measurement of replication 0's request stream, not a set of replications: differences are unpaired (Welch), and have no interval since a load test has one replication. `mcbench twin` pairs a load test with its simulation request by request")
		for _, r := range []*Analysis{a, b} {
			if r.Run.IsLoad() && r.Run.Summary.Load != nil && r.Run.Summary.Load.Pacer != "replay" {
				c.Notes = append(c.Notes, fmt.Sprintf("%s is a load test with the %s pacer: it shares the requests' token draws but not their arrival times (use --pacer replay for the simulator's arrivals)", r.Run.Dir, r.Run.Summary.Load.Pacer))
			}
		}
	default:
		c.Diffs = UnpairedDiffs(c.SA, c.SB)
		c.Notes = append(c.Notes, "different scenario hash or seed: the runs saw different request streams, so differences are unpaired (Welch intervals over replications)")
	}
	wa := c.SA.WindowHours / float64(max(c.SA.Replications, 1))
	wb := c.SB.WindowHours / float64(max(c.SB.Replications, 1))
	if wa > 0 && wb > 0 && math.Abs(wa-wb) > 0.1*math.Max(wa, wb) {
		c.Notes = append(c.Notes, fmt.Sprintf("the measured windows differ (A %s, B %s per replication): compare rates and per-request figures, not per-replication totals",
			secs(wa*3600), secs(wb*3600)))
	}
	if sumA.Source != sumB.Source {
		c.Notes = append(c.Notes, fmt.Sprintf("A is a %s run and B a %s run: prediction against measurement", sumA.Source, sumB.Source))
	}
	return c, nil
}

func (an *Analysis) strategy(name string) *StrategyMetrics {
	i := slices.IndexFunc(an.Strategies, func(m *StrategyMetrics) bool { return m.Name == name })
	if i < 0 {
		return nil
	}
	return an.Strategies[i]
}

func defaultPair(a, b *Analysis, sa, sb string) (string, string, error) {
	switch {
	case sa != "" && sb == "":
		if b.strategy(sa) != nil {
			return sa, sa, nil
		}
		if len(b.Strategies) == 1 {
			return sa, b.Strategies[0].Name, nil
		}
	case sb != "" && sa == "":
		if a.strategy(sb) != nil {
			return sb, sb, nil
		}
		if len(a.Strategies) == 1 {
			return a.Strategies[0].Name, sb, nil
		}
	case len(a.Strategies) == 1 && len(b.Strategies) == 1:
		return a.Strategies[0].Name, b.Strategies[0].Name, nil
	default:
		for _, m := range a.Strategies {
			if b.strategy(m.Name) != nil {
				if a.Run.Dir == b.Run.Dir {
					break
				}
				return m.Name, m.Name, nil
			}
		}
	}
	return "", "", fmt.Errorf("cannot tell which strategies to compare (A has %v, B has %v): name them with --a and --b", a.strategyNames(), b.strategyNames())
}
