package reports

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Comparison figure IDs.
const (
	FigCompareTTFT = "compare-ttft-cdf"
	FigCompareE2E  = "compare-e2e-cdf"
)

// SideBySide is one metric's value in both runs.
type SideBySide struct {
	Metric string
	// Unit is the unit of the values' machine form ("s", "USD",
	// "fraction", …).
	Unit string
	A, B Cell
}

// Rows returns the point values compared side by side.
func (c *Comparison) Rows() []SideBySide {
	a, b := c.SA, c.SB
	row := func(name, unit string, f func(m *StrategyMetrics) Cell) SideBySide {
		return SideBySide{Metric: name, Unit: unit, A: f(a), B: f(b)}
	}
	hhi := func(m *StrategyMetrics) Cell {
		lc := m.Concentration.layer("model")
		if lc == nil {
			return nac("-")
		}
		return numc(lc.TrafficHHI, 0)
	}
	return []SideBySide{
		row("replications", "count", func(m *StrategyMetrics) Cell { return intc(int64(m.Replications)) }),
		row("requests", "count", func(m *StrategyMetrics) Cell { return intc(m.Requests) }),
		row("completed", "fraction", func(m *StrategyMetrics) Cell { return ivc(m.SuccessRate, pct) }),
		row("within SLO", "fraction", func(m *StrategyMetrics) Cell { return ivc(m.GoodRate, pct) }),
		row("TTFT p50", "s", func(m *StrategyMetrics) Cell { return secc(m.TTFT.P50) }),
		row("TTFT p99", "s", func(m *StrategyMetrics) Cell { return ivc(withMean(m.TTFT.P99CI, m.TTFT.P99), secs) }),
		row("E2E mean", "s", func(m *StrategyMetrics) Cell { return ivc(withMean(m.E2E.MeanCI, m.E2E.Mean), secs) }),
		row("E2E p99", "s", func(m *StrategyMetrics) Cell { return ivc(withMean(m.E2E.P99CI, m.E2E.P99), secs) }),
		row("throughput (req/s)", "req/s", func(m *StrategyMetrics) Cell {
			return ivc(m.ThroughputRPS, func(x float64) string { return num(x, 1) })
		}),
		row("cost per successful request", "USD", func(m *StrategyMetrics) Cell { return ivc(withMean(m.Cost.PerSuccessCI, m.Cost.PerSuccess), usd) }),
		row("cost per 1M tokens", "USD", func(m *StrategyMetrics) Cell { return usdc(m.Cost.PerMTokens) }),
		row("cost per SLO-met request", "USD", func(m *StrategyMetrics) Cell { return usdc(m.Cost.PerGoodRequest) }),
		row("model-layer HHI by traffic", "HHI", hhi),
		row("portability index", "index 0–1", func(m *StrategyMetrics) Cell { return numc(m.LockIn.PortabilityIndex, 2) }),
		row("multi-cloud tax", "fraction", func(m *StrategyMetrics) Cell { return pctc(m.LockIn.MultiCloudTax) }),
	}
}

// Document lays the comparison out as a report.
func (c *Comparison) Document() *Document {
	d := &Document{
		Title:     fmt.Sprintf("mcbench compare: %s against %s", c.SB.Name, c.SA.Name),
		Subtitle:  fmt.Sprintf("A = %s in %s (%s); B = %s in %s (%s)", c.SA.Name, c.A.Run.Dir, c.A.Run.Summary.Source, c.SB.Name, c.B.Run.Dir, c.B.Run.Summary.Source),
		Generator: "mcbench " + c.A.Options.Version,
	}
	for _, w := range c.A.Warnings {
		d.Warnings = append(d.Warnings, "A: "+w)
	}
	for _, w := range c.B.Warnings {
		d.Warnings = append(d.Warnings, "B: "+w)
	}
	d.Glance = c.Notes
	s := Section{ID: "comparison", Title: "Side by side", Audience: "architects and performance engineers"}
	t := &Table{ID: "side-by-side", Title: "A and B", Columns: []string{"metric", "unit", "A: " + c.SA.Name, "B: " + c.SB.Name}}
	for _, r := range c.Rows() {
		t.row(txt(r.Metric), txt(r.Unit), r.A, r.B)
	}
	s.table(t)
	if len(c.Diffs) > 0 {
		kind := "unpaired (Welch)"
		if c.SharedStream {
			kind = "paired per replication"
		}
		dt := &Table{ID: "differences", Title: "Differences B − A, " + kind, Columns: []string{"statistic", "unit", "A", "B", "B − A [95% CI]", "replications", "significant"}}
		for _, df := range c.Diffs {
			dt.row(txt(df.Metric), unitc(df.Unit), valc(df.A, df.Unit), valc(df.B, df.Unit), diffc(df.Delta, unitFmt(df.Unit)), intc(int64(df.Delta.N)), txt(verdict(df)))
		}
		s.table(dt)
	}
	s.figure(c.cdf(FigCompareTTFT, "Time to first token: A against B", func(m *StrategyMetrics) []CDFPoint { return m.TTFTCDF }))
	s.figure(c.cdf(FigCompareE2E, "End-to-end latency: A against B", func(m *StrategyMetrics) []CDFPoint { return m.E2ECDF }))
	meth := Section{ID: SecMethodology, Title: "Methodology", Audience: "everyone"}
	mt := &Table{ID: "runs", Title: "Runs", Columns: []string{"item", "A", "B"}}
	for _, kv := range []struct {
		k    string
		f    func(an *Analysis) string
		text bool
	}{
		{"directory", func(an *Analysis) string { return an.Run.Dir }, true},
		{"source", func(an *Analysis) string { return an.Run.Summary.Source }, true},
		{"scenario", func(an *Analysis) string { return an.Run.Summary.Scenario }, true},
		{"scenario SHA-256", func(an *Analysis) string { return an.Run.Summary.ScenarioSHA256 }, true},
		{"seed", func(an *Analysis) string { return fmt.Sprint(an.Run.Summary.Seed) }, true},
		{"version", func(an *Analysis) string { return orDash(an.Run.Summary.Version) }, true},
		{"warm-up", func(an *Analysis) string { return an.WarmupRule }, true},
		{"run command", func(an *Analysis) string { return orDash(an.Run.Info.Command) }, true},
	} {
		mt.row(txt(kv.k), txt(kv.f(c.A)), txt(kv.f(c.B)))
	}
	mt.row(txt("regenerate this comparison"), txt(orDash(c.A.Options.Command)), txt(""))
	meth.table(mt)
	meth.text("Paired differences: when both runs are simulations with the same scenario hash and seed, replication r of each saw the same request stream and draws (common random numbers), so the statistic's per-replication differences are averaged with a Student-t interval. Otherwise Welch's interval compares the two sets of replications. A load test is one measurement of replication 0's stream, not a set of replications, so against a simulation it is always compared unpaired; `mcbench twin` pairs a load test with its simulation request by request. Per-replication statistics come from outcomes.csv request records grouped by replication (summary.json does not keep them).")
	d.Sections = []Section{s, meth}
	return d
}

func (c *Comparison) cdf(id, title string, get func(*StrategyMetrics) []CDFPoint) *Figure {
	p := newPlot(title, "seconds from arrival (log scale)", "fraction of completed requests ≤ x")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = true, true
	lo, hi, n := math.Inf(1), 0.0, 0
	for i, side := range []struct {
		name string
		m    *StrategyMetrics
	}{{"A: " + c.SA.Name, c.SA}, {"B: " + c.SB.Name, c.SB}} {
		pts := get(side.m)
		if len(pts) == 0 {
			continue
		}
		xy := make(plotter.XYs, len(pts))
		for j, q := range pts {
			xy[j] = plotter.XY{X: q.X, Y: q.P}
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			continue
		}
		// Each side in its strategy's colour (from its own run's palette);
		// B dashed, so one strategy against itself still reads as two lines.
		l.Color, l.Width = [2]*Analysis{c.A, c.B}[i].palette().Strategy(side.m.Name), vg.Points(1.5)
		if i == 1 {
			l.Dashes = dashed
		}
		p.Add(l)
		p.Legend.Add(side.name, l)
		lo, hi = math.Min(lo, pts[0].X), math.Max(hi, pts[len(pts)-1].X)
		n++
	}
	if n == 0 {
		return missing(id, title, noRecords)
	}
	p.X.Min, p.X.Max = lo/3, hi*3
	return figure(id, title, "Empirical CDFs from merged HdrHistograms.", p, plotW, plotH)
}
