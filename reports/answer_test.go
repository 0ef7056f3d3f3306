package reports

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// repFigures are one replication's figures for a constructed strategy.
type repFigures struct{ good, costPerSuccess, modelHHI float64 }

// constructed builds a strategy whose headline figures are the
// replication means, as strategyMetrics computes them.
func constructed(name string, reps []repFigures) *StrategyMetrics {
	m := &StrategyMetrics{Name: name, Replications: len(reps)}
	var good, cost, hhi []float64
	for i, r := range reps {
		m.Reps = append(m.Reps, RepMetrics{Rep: int32(i), GoodRate: r.good, CostPerSuccess: r.costPerSuccess, ModelHHI: r.modelHHI})
		good, cost, hhi = append(good, r.good), append(cost, r.costPerSuccess), append(hhi, r.modelHHI)
	}
	m.GoodRate = results.CI95(good)
	m.Cost.PerSuccessCI = results.CI95(cost)
	m.Cost.PerSuccess = m.Cost.PerSuccessCI.Mean
	hi := results.CI95(hhi)
	m.Concentration.Layers = []LayerConcentration{{Layer: scenarios.LayerModel, TrafficHHI: hi.Mean, TrafficHHICI: hi}}
	return m
}

// noisy draws n replications around the given means with common random
// numbers: replication r of every strategy shares the draw z_r, as the
// strategies of one run share a request stream, plus a small own noise.
func noisy(n int, seed uint64, good, cost, hhi, own float64) []repFigures {
	shared := rand.New(rand.NewPCG(seed, 1))
	mine := rand.New(rand.NewPCG(seed, uint64(math.Float64bits(good+cost+hhi))))
	out := make([]repFigures, n)
	for i := range out {
		z := shared.NormFloat64()
		out[i] = repFigures{
			good:           good + 0.01*z + own*0.01*mine.NormFloat64(),
			costPerSuccess: cost * (1 + 0.02*z + own*0.02*mine.NormFloat64()),
			modelHHI:       hhi + 50*z + own*50*mine.NormFloat64(),
		}
	}
	return out
}

// answerAgrees checks that the Answer's text quotes its own rows and that
// the rows are the strategies' figures.
func answerAgrees(t *testing.T, a *Answer, ms []*StrategyMetrics) {
	t.Helper()
	byName := map[string]*StrategyMetrics{}
	for _, m := range ms {
		byName[m.Name] = m
	}
	require.Len(t, a.Sentences, len(a.Objectives))
	for i, r := range a.Rows {
		s := a.Sentences[i]
		assert.Contains(t, s, figureText(r.Objective, r.Leader), "sentence %d quotes the leader's figure", i)
		assert.Contains(t, s, figureText(r.Objective, r.Other), "sentence %d quotes the other's figure", i)
		switch r.Better {
		case 0:
			assert.Contains(t, s, "indistinguishable at 95%")
		case 1:
			assert.Contains(t, s, "is ahead by "+marginText(r))
		case -1:
			assert.Contains(t, s, "is behind by "+marginText(r))
		}
	}
	if a.Choice == "" {
		assert.Contains(t, a.Headline, "indistinguishable at 95%")
		assert.False(t, strings.HasPrefix(a.Headline, "Choose "), a.Headline)
		return
	}
	assert.True(t, strings.HasPrefix(a.Headline, "Choose "+a.Choice+"."), a.Headline)
	assert.Contains(t, a.Headline, "runner-up, "+a.RunnerUp)
	// The deciding row is a significant win of the choice over the
	// runner-up, and its figures are theirs.
	d := a.Rows[a.Decided]
	assert.Equal(t, 1, d.Better)
	assert.Equal(t, d.Objective.figure(byName[a.Choice]), d.Leader)
	assert.Equal(t, d.Objective.figure(byName[a.RunnerUp]), d.Other)
	assert.Contains(t, a.Headline, marginText(d))
	// No objective ranked before the deciding one separates them against
	// the choice.
	for _, r := range a.Rows[:a.Decided] {
		assert.NotEqual(t, -1, r.Better, "%s: the choice is significantly worse on an earlier objective", r.Objective.Name)
	}
}

func defaultObjectives(t *testing.T) []Objective {
	objs, err := ParseObjectives(nil)
	require.NoError(t, err)
	return objs
}

func TestAnswerClearWinner(t *testing.T) {
	a := constructed("a", noisy(8, 1, 0.99, 0.004, 5200, 0.2))
	b := constructed("b", noisy(8, 1, 0.80, 0.003, 10000, 0.2))
	ms := []*StrategyMetrics{b, a}
	ans := NewAnswer(ms, defaultObjectives(t))
	assert.Equal(t, "a", ans.Choice)
	assert.Equal(t, "b", ans.RunnerUp)
	assert.Equal(t, 0, ans.Decided, "decided on SLO attainment")
	answerAgrees(t, ans, ms)
	assert.Contains(t, ans.Sentences[1], "Not needed")
}

func TestAnswerTieWithinIntervals(t *testing.T) {
	// Same means; independent noise of the same size: no objective
	// separates them.
	a := constructed("a", noisy(5, 2, 0.95, 0.004, 6000, 3))
	b := constructed("b", noisy(5, 3, 0.95, 0.004, 6000, 3))
	ms := []*StrategyMetrics{a, b}
	ans := NewAnswer(ms, defaultObjectives(t))
	assert.Empty(t, ans.Choice)
	assert.ElementsMatch(t, []string{"a", "b"}, ans.Tied)
	answerAgrees(t, ans, ms)
	for _, r := range ans.Rows {
		assert.Equal(t, 0, r.Better, r.Objective.Name)
		assert.True(t, r.Diff.Defined() && r.Diff.Lo <= 0 && r.Diff.Hi >= 0, "%s: %v", r.Objective.Name, r.Diff)
	}
}

// TestAnswerCheaperStrategyThatFailsMore: a strategy whose cost per
// request is lower only because its failed requests cost nothing is not
// chosen, and is not cheaper per successful request.
func TestAnswerCheaperStrategyThatFailsMore(t *testing.T) {
	// Both pay the same per completed call (same model, and replication r
	// of each saw the same requests); "flaky" fails 10.66% of its
	// requests, which cost nothing, so its spend per request is lower.
	mk := func(name string, fail float64) *StrategyMetrics {
		var reps []repFigures
		for r := 0; r < 6; r++ {
			reps = append(reps, repFigures{good: 1 - fail - 0.002*float64(r%3), costPerSuccess: 0.00805 * (1 + 0.01*float64(r%2)), modelHHI: 10000})
		}
		return constructed(name, reps)
	}
	steady, flaky := mk("steady", 0.001), mk("flaky", 0.1066)
	perRequest := func(m *StrategyMetrics) float64 { return m.Cost.PerSuccess * m.GoodRate.Mean }
	require.Less(t, perRequest(flaky), perRequest(steady), "flaky is cheaper per request")
	ms := []*StrategyMetrics{flaky, steady}
	ans := NewAnswer(ms, defaultObjectives(t))
	assert.Equal(t, "steady", ans.Choice)
	answerAgrees(t, ans, ms)
	assert.InDelta(t, steady.Cost.PerSuccess, flaky.Cost.PerSuccess, 1e-4*steady.Cost.PerSuccess, "per successful request they cost the same")

	// Cost first: still not cheaper per success, so the tie on cost passes
	// the decision to the next objective.
	objs, err := ParseObjectives([]string{"cost", "slo"})
	require.NoError(t, err)
	ans = NewAnswer(ms, objs)
	assert.Equal(t, "steady", ans.Choice)
	assert.Equal(t, 1, ans.Decided, "cost does not separate them")
	answerAgrees(t, ans, ms)
}

func TestAnswerOneStrategyAndBadObjectives(t *testing.T) {
	a := constructed("only", noisy(3, 4, 0.9, 0.01, 10000, 1))
	ans := NewAnswer([]*StrategyMetrics{a}, defaultObjectives(t))
	assert.Contains(t, ans.Headline, "nothing to choose between")
	assert.Len(t, ans.Sentences, 3)
	_, err := ParseObjectives([]string{"slo", "price"})
	assert.ErrorContains(t, err, `"price" is not one of slo, availability, cost`)
	_, err = ParseObjectives([]string{"slo", "slo"})
	assert.ErrorContains(t, err, "named twice")
}

// TestAnswerAgreesWithTheReportTables: on a run's report, each figure the
// Answer quotes is the one the strategy table prints.
func TestAnswerAgreesWithTheReportTables(t *testing.T) {
	an, doc := demoDocument(t)
	a := an.Answer
	answerAgrees(t, a, an.Strategies)
	var st *Table
	for _, tb := range doc.Tables() {
		if tb.ID == "strategies" {
			st = tb
		}
	}
	require.NotNil(t, st)
	col := func(name string) int {
		for i, c := range st.Columns {
			if c == name {
				return i
			}
		}
		t.Fatalf("strategies table has no column %q", name)
		return -1
	}
	cells := map[string]map[string]string{}
	for _, row := range st.Rows {
		cells[row[0].Text] = map[string]string{"slo": row[col("within SLO")].Text, "cost": row[col("cost / successful request")].Text}
	}
	leader, other := a.Choice, a.RunnerUp
	if leader == "" {
		leader, other = a.Tied[0], a.Tied[1]
	}
	for i, r := range a.Rows {
		if c, ok := cells[leader][r.Objective.Key]; ok {
			assert.Contains(t, a.Sentences[i], leader+" "+c, "the Answer quotes the table's %s", r.Objective.Name)
			assert.Contains(t, a.Sentences[i], other+" "+cells[other][r.Objective.Key])
		}
	}
	// The document opens with the Answer.
	require.Equal(t, SecAnswer, doc.Sections[0].ID)
	assert.Equal(t, a.Headline, doc.Sections[0].Blocks[0].Text)
}

// TestTrafficHHIOfASixtyFortySplit: the concentration headline is by
// traffic share, so a 60/40 split of completed requests is HHI 5,200
// whatever the two providers' prices.
func TestTrafficHHIOfASixtyFortySplit(t *testing.T) {
	sc := smallDemo(t)
	sc.Faults = nil
	dep := map[string]scenarios.Deployment{}
	for _, d := range sc.Deployments {
		dep[d.Name] = d
	}
	var recs []results.Outcome
	for _, st := range sc.Strategies {
		placed := st.Placement["model"]
		for rep := int32(0); rep < 3; rep++ {
			for i := 0; i < 500; i++ {
				d := placed[0]
				if i%5 < 2 {
					d = placed[len(placed)-1]
				}
				at := int64(i) * int64(10*time.Millisecond)
				o := results.Outcome{Kind: results.KindAttempt, Replication: rep, RequestID: uint64(i), Attempt: 1, Class: sc.Workloads[0].Name,
					Strategy: st.Name, Provider: dep[d].Provider, Region: dep[d].Region, Deployment: d, Intended: at, Sent: at,
					FirstByte: at + 3e8, FirstToken: at + 3e8, Done: at + 2e9, InputTokens: 1000, OutputTokens: 100, Status: results.StatusOK}
				req := o
				req.Kind = results.KindRequest
				recs = append(recs, o, req)
			}
		}
	}
	an := analyzeFixture(t, &fixture{sc: sc, records: recs}, DefaultOptions())
	split := an.Strategies[1]
	require.Equal(t, "azure-bedrock-split", split.Name)
	lc := split.Concentration.layer(scenarios.LayerModel)
	require.NotNil(t, lc)
	assert.InDelta(t, 5200, lc.TrafficHHI, 1e-9)
	assert.InDelta(t, 5200, lc.TokenHHI, 1e-9, "equal tokens per request")
	assert.Greater(t, lc.SpendHHI, 8000.0, "Azure's tokens cost more: spend is far more concentrated")
	assert.InDelta(t, 5200, lc.TrafficHHICI.Mean, 1e-9)
	assert.Equal(t, "traffic", lc.Basis)
	assert.Contains(t, modelConcentrationText(lc), "by requests: HHI 5,200")
	// The network pseudo-layer carries cents: listed, not banded.
	for _, l := range split.Concentration.Layers {
		if l.Layer == LayerNetwork {
			assert.True(t, l.Minor)
			assert.Empty(t, l.US.Label)
			assert.Empty(t, l.CR1Band.Label)
		}
	}
}
