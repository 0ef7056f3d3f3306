package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mcbench/mcbench/results"
)

// Objective is a criterion the Answer ranks strategies on.
type Objective struct {
	// Key names it on the command line (--objectives slo,cost,…).
	Key string
	// Name is how sentences name it; Stat names the per-replication
	// statistic its differences are taken on (see repStats).
	Name, Stat string
	// LowerIsBetter says which way is better.
	LowerIsBetter bool
	// figure is the strategy's value and the 95% interval of its
	// per-replication values, exactly as the strategy table prints it.
	figure func(m *StrategyMetrics) results.Interval
	format func(float64) string
	// diffFormat formats a difference (percentage points for rates).
	diffFormat func(float64) string
}

// Objectives are the criteria an Answer can rank on, by Key.
var Objectives = []Objective{
	{Key: "slo", Name: "SLO attainment", Stat: "SLO attainment",
		figure: func(m *StrategyMetrics) results.Interval { return m.GoodRate }, format: pct, diffFormat: pp},
	{Key: "availability", Name: "availability (completed share)", Stat: "success rate",
		figure: func(m *StrategyMetrics) results.Interval { return m.SuccessRate }, format: pct, diffFormat: pp},
	{Key: "cost", Name: "cost per successful request", Stat: "cost per successful request", LowerIsBetter: true,
		figure: func(m *StrategyMetrics) results.Interval { return withMean(m.Cost.PerSuccessCI, m.Cost.PerSuccess) }, format: usd, diffFormat: usd},
	{Key: "concentration", Name: "model-layer concentration (HHI by traffic share)", Stat: "model-layer HHI by traffic", LowerIsBetter: true,
		figure: modelHHI, format: hhiText, diffFormat: hhiText},
	{Key: "ttft-p99", Name: "TTFT p99", Stat: "p99 TTFT", LowerIsBetter: true,
		figure: func(m *StrategyMetrics) results.Interval { return withMean(m.TTFT.P99CI, m.TTFT.P99) }, format: secs, diffFormat: secs},
	{Key: "e2e-p99", Name: "E2E p99", Stat: "p99 E2E", LowerIsBetter: true,
		figure: func(m *StrategyMetrics) results.Interval { return withMean(m.E2E.P99CI, m.E2E.P99) }, format: secs, diffFormat: secs},
}

// DefaultObjectives is the order an Answer ranks on unless told otherwise:
// meet the SLO first, then pay least for each request that succeeded, then
// depend least on one model provider.
var DefaultObjectives = []string{"slo", "cost", "concentration"}

// ObjectiveKeys lists the keys --objectives accepts.
func ObjectiveKeys() []string {
	out := make([]string, len(Objectives))
	for i, o := range Objectives {
		out[i] = o.Key
	}
	return out
}

// ParseObjectives resolves objective keys in priority order. It refuses an
// unknown or repeated key, naming the ones it accepts.
func ParseObjectives(keys []string) ([]Objective, error) {
	if len(keys) == 0 {
		keys = DefaultObjectives
	}
	var out []Objective
	for _, k := range keys {
		k = strings.TrimSpace(k)
		i := slices.IndexFunc(Objectives, func(o Objective) bool { return o.Key == k })
		if i < 0 {
			return nil, fmt.Errorf("objective %q is not one of %s", k, strings.Join(ObjectiveKeys(), ", "))
		}
		if slices.ContainsFunc(out, func(o Objective) bool { return o.Key == k }) {
			return nil, fmt.Errorf("objective %q is named twice", k)
		}
		out = append(out, Objectives[i])
	}
	return out, nil
}

func modelHHI(m *StrategyMetrics) results.Interval {
	lc := m.Concentration.layer(Layers[0])
	if lc == nil {
		return results.Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	return withMean(lc.TrafficHHICI, lc.TrafficHHI)
}

func pp(x float64) string      { return num(100*x, 2) + " pp" }
func hhiText(x float64) string { return num(x, 0) }

// Answer is the report's verdict: which strategy to choose under the
// stated objectives, and how sure the run is of it.
//
// Strategies are ranked lexicographically with statistical ties: on the
// first objective, every strategy whose difference from the best one is
// not significant at the family-wise level stays in contention and the rest
// are out; the next objective ranks only those, and so on. A strategy is
// chosen when one remains; when several remain after the last objective
// they are reported as indistinguishable at 95%, not ranked. Differences
// are paired per replication (every strategy of a run saw the same
// requests), with a Bonferroni correction over the comparisons of one
// step, so "ahead at 95%" holds for the step as a whole.
type Answer struct {
	Objectives []Objective
	// Choice is the strategy to choose ("" when no single one can be).
	Choice string
	// Tied are the strategies still indistinguishable after every
	// objective (two or more when Choice is "").
	Tied []string
	// RunnerUp is the strategy that stayed in contention longest after
	// Choice (best on the deciding objective among those it separated).
	RunnerUp string
	// Decided indexes Objectives: where Choice separated from RunnerUp
	// (-1 when nothing was decided).
	Decided int
	// Rows compare Choice (or the first tied strategy) with RunnerUp (or
	// the second) on every objective: the figures the sentences quote.
	Rows []AnswerRow
	// Headline and Sentences are the text, generated from Rows.
	Headline  string
	Sentences []string
}

// AnswerRow is one objective's comparison of the leader with the runner-up.
type AnswerRow struct {
	Objective Objective
	// Leader and Other are the two strategies' figures with 95% intervals.
	Leader, Other results.Interval
	// Diff is Other − Leader at the family-wise level of the step.
	Diff results.Interval
	// Better is +1 when the leader is significantly better on this
	// objective, -1 when significantly worse, 0 when indistinguishable or
	// not measured.
	Better int
}

// leaderboard state: one step of the lexicographic elimination.
type answerStep struct {
	kept, dropped []*StrategyMetrics
	best          *StrategyMetrics
}

// NewAnswer ranks the strategies (those with outcome records) on the
// objectives.
func NewAnswer(ms []*StrategyMetrics, objs []Objective) *Answer {
	a := &Answer{Objectives: objs, Decided: -1}
	if len(ms) == 0 {
		a.Headline = "No strategy has outcome records: nothing to choose between (simulate with --records)."
		return a
	}
	if len(ms) == 1 {
		a.Choice = ms[0].Name
		a.Headline = fmt.Sprintf("One strategy was measured (%s): there is nothing to choose between.", ms[0].Name)
		for _, o := range objs {
			a.Sentences = append(a.Sentences, fmt.Sprintf("%s: %s.", capital(o.Name), figureText(o, o.figure(ms[0]))))
		}
		return a
	}
	// One level for every comparison: the family is the n−1 comparisons of
	// a step's best with the others, largest at the first step.
	level := familyLevel(len(ms))
	cands := ms
	var steps []answerStep
	for _, o := range objs {
		st := eliminate(cands, o, level)
		steps = append(steps, st)
		cands = st.kept
		if len(cands) == 1 {
			break
		}
	}
	var leader, other *StrategyMetrics
	if len(cands) == 1 {
		leader = cands[0]
		a.Choice = leader.Name
		a.Decided = len(steps) - 1
		// The runner-up is the best, on the deciding objective, of those
		// the last step separated from the choice.
		last := steps[len(steps)-1]
		other = bestOf(last.dropped, objs[a.Decided])
		a.RunnerUp = other.Name
	} else {
		for _, m := range cands {
			a.Tied = append(a.Tied, m.Name)
		}
		leader, other = cands[0], cands[1]
	}
	for _, o := range objs {
		row := AnswerRow{Objective: o, Leader: o.figure(leader), Other: o.figure(other), Diff: objectiveDiff(leader, other, o, level)}
		if d := row.Diff; d.Defined() && (d.Lo > 0 || d.Hi < 0) {
			row.Better = 1
			if (d.Mean < 0) == o.LowerIsBetter {
				row.Better = -1
			}
		}
		a.Rows = append(a.Rows, row)
	}
	a.write(leader, other)
	return a
}

// familyLevel is the per-comparison level that keeps a step's comparisons
// of the best strategy with each of the n−1 others at 95% jointly.
func familyLevel(n int) float64 { return results.FamilyLevel(0.95, max(1, n-1)) }

// eliminate keeps the best strategy on o and those indistinguishable from it.
func eliminate(cands []*StrategyMetrics, o Objective, level float64) answerStep {
	best := bestOf(cands, o)
	st := answerStep{best: best}
	for _, m := range cands {
		if m == best {
			st.kept = append(st.kept, m)
			continue
		}
		d := objectiveDiff(best, m, o, level)
		if d.Defined() && (d.Lo > 0 || d.Hi < 0) && (d.Mean > 0) == o.LowerIsBetter {
			st.dropped = append(st.dropped, m)
		} else {
			st.kept = append(st.kept, m)
		}
	}
	return st
}

// bestOf is the strategy with the best point figure on o (the first in
// scenario order on equal figures; an unmeasured figure is never best
// unless all are).
func bestOf(ms []*StrategyMetrics, o Objective) *StrategyMetrics {
	var best *StrategyMetrics
	bv := math.NaN()
	for _, m := range ms {
		v := o.figure(m).Mean
		if math.IsNaN(v) {
			continue
		}
		if best == nil || (o.LowerIsBetter && v < bv) || (!o.LowerIsBetter && v > bv) {
			best, bv = m, v
		}
	}
	if best == nil {
		return ms[0]
	}
	return best
}

// objectiveDiff is b − a on o's per-replication statistic, paired by
// replication (the strategies of one run saw the same requests).
func objectiveDiff(a, b *StrategyMetrics, o Objective, level float64) results.Interval {
	i := slices.IndexFunc(repStats, func(r repStat) bool { return r.name == o.Stat })
	if i < 0 {
		panic("reports: objective " + o.Key + " names no per-replication statistic")
	}
	as, bs := pairedValues(a, b, repStats[i])
	return results.PairedCI(as, bs, level)
}

// write generates the headline and one sentence per objective from Rows.
func (a *Answer) write(leader, other *StrategyMetrics) {
	names := make([]string, len(a.Objectives))
	for i, o := range a.Objectives {
		names[i] = o.Name
	}
	if a.Choice != "" {
		r := a.Rows[a.Decided]
		a.Headline = fmt.Sprintf("Choose %s. It is ahead of the runner-up, %s, on %s by %s at 95%%.",
			a.Choice, a.RunnerUp, r.Objective.Name, marginText(r))
		var tied []string
		for _, r := range a.Rows[:a.Decided] {
			if r.Better == 0 {
				tied = append(tied, r.Objective.Name)
			}
		}
		if len(tied) > 0 {
			a.Headline += fmt.Sprintf(" The two are indistinguishable at 95%% on %s.", strings.Join(tied, " and "))
		}
	} else {
		a.Headline = fmt.Sprintf("No single choice at 95%%: %s are indistinguishable at 95%% on %s. Choose among them on grounds this run does not measure, or run more replications.",
			strings.Join(a.Tied, ", "), strings.Join(names, ", "))
	}
	for i, r := range a.Rows {
		s := fmt.Sprintf("%s (objective %d): %s %s, %s %s", capital(r.Objective.Name), i+1,
			leader.Name, figureText(r.Objective, r.Leader), other.Name, figureText(r.Objective, r.Other))
		switch {
		case math.IsNaN(r.Leader.Mean) || math.IsNaN(r.Other.Mean):
			s += "; not measured for both, so not ranked."
		case r.Better == 0:
			s += "; indistinguishable at 95%"
			if r.Diff.Defined() {
				s += fmt.Sprintf(" (difference %s)", diffText(r))
			} else {
				s += " (no interval: fewer than two replications)"
			}
			s += "."
		default:
			word := "ahead"
			if r.Better < 0 {
				word = "behind"
			}
			s += fmt.Sprintf("; %s is %s by %s.", leader.Name, word, marginText(r))
		}
		switch {
		case a.Choice == "":
		case i == a.Decided:
			s += " This decides."
		case i > a.Decided:
			s += fmt.Sprintf(" Not needed: the choice was made on %s.", a.Objectives[a.Decided].Name)
		}
		a.Sentences = append(a.Sentences, s)
	}
}

// figureText is "98.38% ± 0.12%" or "98.38% (one replication, no interval)".
func figureText(o Objective, iv results.Interval) string {
	if math.IsNaN(iv.Mean) {
		return "not measured"
	}
	if !iv.Defined() {
		return o.format(iv.Mean) + " (no interval)"
	}
	return o.format(iv.Mean) + " ± " + o.format(iv.HalfWidth())
}

// marginText is the leader's advantage as a positive amount with the
// interval of the difference, e.g. "21.44 pp [20.10 pp, 22.80 pp]".
func marginText(r AnswerRow) string {
	d := r.Diff
	lo, hi, m := d.Lo, d.Hi, d.Mean
	if m < 0 {
		lo, hi, m = -d.Hi, -d.Lo, -d.Mean
	}
	return fmt.Sprintf("%s [%s, %s]", r.Objective.diffFormat(m), r.Objective.diffFormat(lo), r.Objective.diffFormat(hi))
}

// diffText is the difference other − leader with its interval.
func diffText(r AnswerRow) string {
	f := r.Objective.diffFormat
	return fmt.Sprintf("%s [%s, %s]", signed(f, r.Diff.Mean), f(r.Diff.Lo), f(r.Diff.Hi))
}

func signed(f func(float64) string, x float64) string {
	if x > 0 {
		return "+" + f(x)
	}
	return f(x)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// answerSection lays the Answer out first in the report.
func (an *Analysis) answerSection() Section {
	s := Section{ID: SecAnswer, Title: "Answer", Audience: "everyone"}
	a := an.Answer
	s.text(a.Headline)
	if len(a.Sentences) > 0 {
		s.list(a.Sentences)
	}
	names := make([]string, len(a.Objectives))
	for i, o := range a.Objectives {
		names[i] = o.Name
	}
	if len(an.withRecords()) > 1 {
		s.text(fmt.Sprintf("How this is decided: objectives in order (%s; change with --objectives). On each, the strategies whose paired difference from the best is not significant (95%% family-wise: Bonferroni over that step's comparisons, Student t over %d replications, common random numbers) stay in contention; a strategy is chosen when one remains, else those left are called indistinguishable rather than ranked. Intervals beside each figure are that strategy's own 95%% interval over replications.",
			strings.Join(names, ", "), an.maxReps()))
	}
	s.head("At a glance")
	s.list(an.glance())
	return s
}

func (an *Analysis) maxReps() int {
	n := 0
	for _, m := range an.Strategies {
		n = max(n, m.Replications)
	}
	return n
}
