package reports

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
	"github.com/mcbench/mcbench/sim"
)

// TestAnswerAgreesOnTheLibrary simulates every library scenario (shortened)
// and checks the Answer against the figures of its own report.
func TestAnswerAgreesOnTheLibrary(t *testing.T) {
	for _, name := range scenarios.LibraryNames() {
		t.Run(name, func(t *testing.T) {
			sc, err := scenarios.Open(name)
			require.NoError(t, err)
			sc.Run.Requests, sc.Run.Horizon, sc.Replications = 6000, 0, 3
			sc.Run.Warmup = scenarios.Warmup{}
			dir := t.TempDir()
			pricing, err := DefaultPricing()
			require.NoError(t, err)
			parts, err := results.NewParts(dir)
			require.NoError(t, err)
			sum, err := sim.Run(context.Background(), sc, sim.Options{Prices: pricing.TokenPrices(sc),
				Records: func(strategy string, rep int) (sim.RecordSink, error) { return parts.Open(strategy, rep) }})
			require.NoError(t, err)
			require.NoError(t, parts.Merge())
			require.NoError(t, results.WriteSummary(dir, sum))
			require.NoError(t, results.WriteRunInfo(dir, &results.RunInfo{Command: "test", Version: "test", Scenario: sc, Source: sc.Source}))
			run, err := results.OpenRun(dir)
			require.NoError(t, err)
			an, err := Analyze(run, DefaultOptions())
			require.NoError(t, err)
			answerAgrees(t, an.Answer, an.Strategies)
			if an.Answer.Choice != "" && len(an.Strategies) > 1 {
				// No strategy beats the choice at 95% on the first
				// objective: the choice stayed in contention on it.
				d := an.Answer.Rows[0]
				for _, m := range an.Strategies {
					if m.Name == an.Answer.Choice {
						continue
					}
					diff := objectiveDiff(strategyNamed(an, an.Answer.Choice), m, d.Objective, familyLevel(len(an.Strategies)))
					worse := diff.Defined() && (diff.Lo > 0 || diff.Hi < 0) && (diff.Mean < 0) == d.Objective.LowerIsBetter
					require.False(t, worse, "%s beats the choice %s on %s: %v", m.Name, an.Answer.Choice, d.Objective.Name, diff)
				}
			}
			t.Log(an.Answer.Headline)
		})
	}
}

func strategyNamed(an *Analysis, name string) *StrategyMetrics {
	for _, m := range an.Strategies {
		if m.Name == name {
			return m
		}
	}
	return nil
}
