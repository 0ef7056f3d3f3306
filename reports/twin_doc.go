package reports

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mcbench/mcbench/results"
)

// Twin figure IDs.
const (
	FigTwinTTFT      = "twin-ttft-cdf"
	FigTwinE2E       = "twin-e2e-cdf"
	FigTwinQQ        = "twin-qq"
	FigTwinResiduals = "twin-residuals"
)

// Twin section IDs.
const (
	SecTwinMetrics  = "twin-metrics"
	SecTwinRequests = "twin-requests"
	SecTwinValidity = "twin-validity"
)

// Lines returns the one-line findings: the verdict, the residual medians,
// the outcome differences and the validity.
func (r *TwinReport) Lines() []string {
	out := []string{"verdict: " + r.Summary()}
	out = append(out, fmt.Sprintf("residuals (measured − predicted) over %s requests completed in both: TTFT median %s, p99 %s; E2E median %s, p99 %s",
		grouped(r.Pairing.CompletedInBoth), signedSecs(float64(r.Residuals.TTFT.MedianNS)/1e9), signedSecs(float64(r.Residuals.TTFT.P99NS)/1e9),
		signedSecs(float64(r.Residuals.E2E.MedianNS)/1e9), signedSecs(float64(r.Residuals.E2E.P99NS)/1e9)))
	d := r.Differences
	out = append(out, fmt.Sprintf("outcome differs for %s of %s requests (status %s, deployment %s, attempts %s; only simulated %s, only measured %s)",
		grouped(d.Count), grouped(r.Pairing.Paired+r.Pairing.OnlyInSimulation+r.Pairing.OnlyInLoadTest), grouped(d.Status), grouped(d.Deployment),
		grouped(d.Attempts), grouped(d.OnlyInSimulation), grouped(d.OnlyInLoadTest)))
	out = append(out, r.ValidityLine())
	return out
}

// ValidityLine says what the validity check found, in one line.
func (r *TwinReport) ValidityLine() string {
	v := r.Validity
	fake := "not reported"
	if v.FakeLagReported {
		fake = secs(float64(v.FakeLagP99Seconds))
	}
	state := "valid"
	if !v.Valid {
		state = "INVALID"
	}
	return fmt.Sprintf("validity: send lag p99 %s (bound %s), fake lag p99 %s (bound %s), sent %s of %s scheduled: %s",
		secs(float64(v.SendLagP99Seconds)), boundText(v.MaxSendLagSeconds), fake, boundText(v.MaxFakeLagSeconds), grouped(int64(v.Sent)), grouped(int64(v.Scheduled)), state)
}

func boundText(b results.Num) string {
	if math.IsNaN(float64(b)) {
		return "none"
	}
	return time.Duration(math.Round(float64(b) * 1e9)).String() // as the flag takes it
}

// boundc is a lag bound: its flag form for people, seconds for machines.
func boundc(b results.Num) Cell {
	if math.IsNaN(float64(b)) {
		return nac(boundText(b))
	}
	return valCell(boundText(b), float64(b), "s")
}

func signedSecs(s float64) string {
	if s > 0 {
		return "+" + secs(s)
	}
	return secs(s)
}

// IntervalText formats a metric's 95% interval in its unit ("-" when
// undefined).
func (m *TwinMetric) IntervalText() string {
	if !m.PredictedCI95.Defined() {
		return "-"
	}
	return "[" + fmtMetric(m.PredictedCI95[0], m.Unit) + ", " + fmtMetric(m.PredictedCI95[1], m.Unit) + "]"
}

// Texts returns the metric's predicted, measured, relative error and
// tolerance as text.
func (m *TwinMetric) Texts() (predicted, measured, relErr, tolerance string) {
	tolerance = "-"
	if !math.IsNaN(float64(m.Tolerance)) {
		tolerance = "±" + pct(float64(m.Tolerance))
	}
	return fmtMetric(float64(m.Predicted), m.Unit), fmtMetric(float64(m.Measured), m.Unit), signedPct(m.relErr), tolerance
}

func metricCell(x float64, unit string) Cell {
	return valCell(fmtMetric(x, unit), x, unit)
}

// Document lays the twin report out: metrics, residuals, outcome
// differences, validity and methodology.
func (r *TwinReport) Document() *Document {
	d := &Document{
		Title: fmt.Sprintf("mcbench twin: %s on %s", r.Strategy, r.Scenario),
		Subtitle: fmt.Sprintf("verdict %s: simulation (replication 0 of %d) against a load test (target %s) of the same %s requests",
			strings.ToUpper(r.Verdict), r.Simulation.Replications, orDash(r.LoadTest.Target), grouped(r.Simulation.Requests)),
		Generator: "mcbench " + r.Version,
	}
	if !r.Validity.Valid {
		for _, p := range r.Validity.Problems {
			d.Warnings = append(d.Warnings, "invalid measurement: "+p+". Rerun on a quieter machine or at a lower rate.")
		}
	}
	d.Glance = r.Lines()

	s := Section{ID: SecTwinMetrics, Title: "Prediction against measurement", Audience: "architects and performance engineers"}
	s.text("Predicted is the simulation's replication 0: the request stream the load test sent, at the same arrival times. The 95% interval is the Student-t interval of the statistic's mean over the simulation's replications (independent request streams of the same scenario): how precisely the simulator pins the statistic down, not the range one stream's value must fall in, so replication 0 itself may lie outside it. The relative error is (measured − predicted) / predicted; a metric with a tolerance passes when |error| is within it.")
	t := &Table{ID: "twin-metrics", Title: "Metrics", Columns: []string{"metric", "id", "unit", "predicted", "95% interval (replications)", "measured", "error", "tolerance", "verdict", "measured in interval"}}
	for i := range r.Metrics {
		m := &r.Metrics[i]
		in := "-"
		if m.MeasuredInCI95 != nil {
			in = map[bool]string{true: "yes", false: "no"}[*m.MeasuredInCI95]
		}
		_, _, rel, tol := m.Texts()
		iv := nac(m.IntervalText())
		if m.PredictedCI95.Defined() {
			iv = rangec(m.IntervalText(), m.PredictedCI95[0], m.PredictedCI95[1], m.Unit)
		}
		t.row(txt(m.Name), txt(m.ID), txt(m.Unit), metricCell(float64(m.Predicted), m.Unit), iv, metricCell(float64(m.Measured), m.Unit),
			valCell(rel, m.relErr, "fraction"), valCell(tol, float64(m.Tolerance), "fraction"), txt(m.Verdict), txt(in))
	}
	t.Notes = []string{"Latencies run from the intended send time (the request's arrival): TTFT to the first token, E2E to the last byte, over completed requests. Percentiles from HdrHistograms (3 significant figures).",
		"Throttled or rejected counts requests that ended throttled (quota) or rejected (capacity); queue wait is the time completed requests waited for a slot, summed over their attempts."}
	s.table(t)
	s.figure(r.cdfFigure(FigTwinTTFT, "Time to first token: predicted and measured", r.simTTFT, r.loadTTFT))
	s.figure(r.cdfFigure(FigTwinE2E, "End-to-end latency: predicted and measured", r.simE2E, r.loadE2E))
	s.figure(r.qqFigure())

	q := Section{ID: SecTwinRequests, Title: "Request by request", Audience: "performance engineers"}
	q.text(fmt.Sprintf("Both runs sent the same requests (paired by request ID): %s in both, %s only in the simulation, %s only in the load test. Residuals are measured − predicted for the %s requests completed in both.",
		grouped(r.Pairing.Paired), grouped(r.Pairing.OnlyInSimulation), grouped(r.Pairing.OnlyInLoadTest), grouped(r.Pairing.CompletedInBoth)))
	rt := &Table{ID: "twin-residuals", Title: "Residuals, measured − predicted", Columns: []string{"latency", "requests", "median", "mean", "p1", "p99", "max |residual|"}}
	for _, x := range []struct {
		name string
		st   ResidualStats
	}{{"TTFT", r.Residuals.TTFT}, {"E2E", r.Residuals.E2E}} {
		c := func(ns results.Num) Cell {
			return valCell(signedSecs(float64(ns)/1e9), float64(ns)/1e9, "s")
		}
		rt.row(txt(x.name), intc(x.st.N), c(x.st.MedianNS), c(x.st.MeanNS), c(x.st.P1NS), c(x.st.P99NS), c(x.st.MaxAbsNS))
	}
	rt.Notes = []string{"CSV and Parquet values in seconds. Percentiles interpolate between order statistics (Hyndman–Fan type 7)."}
	q.table(rt)
	q.figure(r.residualFigure())
	dd := r.Differences
	dt := &Table{ID: "twin-outcome-differences", Title: "Requests whose outcome differs", Columns: []string{"difference", "requests"}}
	for _, kv := range []struct {
		k string
		n int64
	}{{"any (each request counted once)", dd.Count}, {"status", dd.Status}, {"deployment of the deciding attempt", dd.Deployment}, {"number of attempts", dd.Attempts},
		{"only in the simulation", dd.OnlyInSimulation}, {"only in the load test", dd.OnlyInLoadTest}} {
		dt.row(txt(kv.k), intc(kv.n))
	}
	q.table(dt)
	if len(dd.Listed) > 0 {
		lt := &Table{ID: "twin-differing-requests", Title: fmt.Sprintf("The first %d of %s differing requests, by request ID", len(dd.Listed), grouped(dd.Count)),
			Columns: []string{"request", "class", "differs", "predicted", "measured"}}
		for _, od := range dd.Listed {
			lt.row(intc(int64(od.RequestID)), txt(od.Class), txt(strings.Join(od.Differs, ", ")), txt(outcomeText(od.Predicted)), txt(outcomeText(od.Measured)))
		}
		q.table(lt)
	} else {
		q.text("Every paired request ended the same way in both runs: same status, same deployment, same number of attempts.")
	}

	v := Section{ID: SecTwinValidity, Title: "Validity of the measurement", Audience: "everyone"}
	v.text("A load test measures the model only if the load generator sent each request on time and the fakes kept their planned clock. Beyond either bound the machine, not the model, is being measured: the twin says so (exit code 3) instead of reporting a disagreement.")
	vt := &Table{ID: "twin-validity", Title: "Validity", Columns: []string{"check", "p99", "max", "bound", "within"}}
	within := func(p99, bound results.Num) string {
		switch {
		case math.IsNaN(float64(p99)):
			return "-"
		case math.IsNaN(float64(bound)):
			return "no bound"
		case float64(p99) <= float64(bound):
			return "yes"
		}
		return "NO"
	}
	vv := r.Validity
	vt.row(txt("send lag (sent − intended)"), secc(float64(vv.SendLagP99Seconds)), secc(float64(vv.SendLagMaxSeconds)), boundc(vv.MaxSendLagSeconds), txt(within(vv.SendLagP99Seconds, vv.MaxSendLagSeconds)))
	if vv.FakeLagReported {
		vt.row(txt("fake lag (delivered − planned)"), secc(float64(vv.FakeLagP99Seconds)), secc(float64(vv.FakeLagMaxSeconds)), boundc(vv.MaxFakeLagSeconds), txt(within(vv.FakeLagP99Seconds, vv.MaxFakeLagSeconds)))
	} else {
		vt.row(txt("fake lag (delivered − planned)"), txt("not reported"), txt("not reported"), boundc(vv.MaxFakeLagSeconds), txt("not checked"))
	}
	vt.row(txt("requests sent of scheduled"), txt(grouped(int64(vv.Sent))+" of "+grouped(int64(vv.Scheduled))), txt(""), txt("all"), txt(map[bool]string{true: "yes", false: "NO"}[vv.Sent >= vv.Scheduled]))
	v.table(vt)
	if len(vv.Problems) > 0 {
		v.list(vv.Problems)
	}

	meth := Section{ID: SecMethodology, Title: "Methodology", Audience: "everyone"}
	meth.list([]string{
		"Both engines ran the same resolved scenario (same SHA-256 and seed) with no warm-up: both start empty and see the same requests, so every request is compared.",
		"The load test sent replication 0's request stream with the replay pacer (each request at its own arrival time, the same classes and token counts); the simulation's replication 0 is that stream, so request IDs pair the two runs.",
		"Times are nanoseconds from each run's start; TTFT = first token − intended send and E2E = done − intended send, for requests that completed.",
		"Predicted values are replication 0's; intervals are 95% Student-t over the simulation's replications, computed from per-replication values (one HdrHistogram per replication).",
		"Token cost prices each attempt's billed tokens (results.Billed) at its deployment's pay-as-you-go price from the pricing tables; provisioned deployments add no token cost.",
		"Verdict: error when the target did not answer requests the simulator completed, or no metric with a tolerance could be computed (this takes precedence); else invalid when the send lag or the fakes' lag p99 is beyond its bound, or the load test did not send every request; else fail when any metric with a tolerance is outside it; else pass. Exit codes: 0 pass, 1 fail, 2 usage, 3 invalid, 4 error.",
	})
	mt := &Table{ID: "twin-runs", Title: "Runs", Columns: []string{"item", "simulation", "load test"}}
	mt.row(txt("directory"), txt(r.Simulation.Dir), txt(r.LoadTest.Dir))
	mt.row(txt("scenario"), txt(r.Scenario), txt(r.Scenario))
	mt.row(txt("scenario SHA-256"), txt(r.ScenarioSHA256), txt(r.ScenarioSHA256))
	mt.row(txt("seed"), txt(fmt.Sprint(r.Seed)), txt(fmt.Sprint(r.Seed)))
	mt.row(txt("replications"), intc(int64(r.Simulation.Replications)), intc(1))
	mt.row(txt("requests (replication 0)"), intc(r.Simulation.Requests), intc(r.LoadTest.Requests))
	mt.row(txt("completed"), intc(r.Simulation.Completed), intc(r.LoadTest.Completed))
	mt.row(txt("run command"), txt(orDash(r.Simulation.Command)), txt(orDash(r.LoadTest.Command)))
	mt.row(txt("tolerance"), txt(r.Tolerance.String()), txt(""))
	mt.row(txt("twin command"), txt(orDash(r.Command)), txt(""))
	meth.table(mt)

	d.Sections = []Section{s, q, v, meth}
	return d
}

func outcomeText(o *TwinOutcome) string {
	if o == nil {
		return "not in this run"
	}
	s := o.Status
	if o.ErrorClass != "" {
		s += " (" + o.ErrorClass + ")"
	}
	s += fmt.Sprintf(" at %s after %d attempt%s", orDash(o.Deployment), o.Attempts, plural(int(o.Attempts), "", "s"))
	if !math.IsNaN(float64(o.TTFTSeconds)) {
		s += fmt.Sprintf(", TTFT %s, E2E %s", secs(float64(o.TTFTSeconds)), secs(float64(o.E2ESeconds)))
	}
	return s
}

var twinSides = []string{"predicted (simulation, replication 0)", "measured (load test)"}

func (r *TwinReport) cdfFigure(id, title string, pred, meas *hdrhistogram.Histogram) *Figure {
	p := newPlot(title, "seconds from the intended send", "fraction of completed requests ≤ x")
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = true, true
	lo, hi, n := math.Inf(1), 0.0, 0
	for i, h := range []*hdrhistogram.Histogram{pred, meas} {
		pts := cdf(h, 400)
		if len(pts) == 0 {
			continue
		}
		// Start at 0 under the first value, so a distribution in one
		// bucket (a constant service) still draws as a step.
		xy := make(plotter.XYs, 0, len(pts)+1)
		xy = append(xy, plotter.XY{X: pts[0].X, Y: 0})
		for _, q := range pts {
			xy = append(xy, plotter.XY{X: q.X, Y: q.P})
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			continue
		}
		l.Color, l.Width = r.colour(i), vg.Points(1.5)
		if i == 1 {
			l.Dashes = dashed
		}
		p.Add(l)
		p.Legend.Add(twinSides[i], l)
		lo, hi = math.Min(lo, pts[0].X), math.Max(hi, pts[len(pts)-1].X)
		n++
	}
	if n == 0 {
		return missing(id, title, "no request completed in either run")
	}
	p.X.Min, p.X.Max = latencyAxis(&p.X, lo, hi)
	return figure(id, title, "Empirical CDFs from HdrHistograms (3 significant figures) of the same requests: the simulation's replication 0 (solid) and the load test (dashed).", p, plotW, plotH)
}

func (r *TwinReport) qqFigure() *Figure {
	title := "Q–Q: measured against predicted quantiles, 1% to 99%"
	p := newPlot(title, "predicted quantile (s)", "measured quantile (s)")
	p.Legend.Top, p.Legend.Left = true, true
	lo, hi, n := math.Inf(1), 0.0, 0
	for i, pair := range []struct {
		name       string
		pred, meas *hdrhistogram.Histogram
	}{{"TTFT", r.simTTFT, r.loadTTFT}, {"E2E", r.simE2E, r.loadE2E}} {
		var xy plotter.XYs
		for k := 1; k <= 99; k++ {
			x, y := quantile(pair.pred, float64(k)/100), quantile(pair.meas, float64(k)/100)
			if math.IsNaN(x) || math.IsNaN(y) || x <= 0 || y <= 0 {
				continue
			}
			xy = append(xy, plotter.XY{X: x, Y: y})
			lo, hi = math.Min(lo, math.Min(x, y)), math.Max(hi, math.Max(x, y))
		}
		if len(xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			continue
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius = r.colour(i), vg.Points(2)
		p.Add(sc)
		p.Legend.Add(pair.name, sc)
		n++
	}
	if n == 0 {
		return missing(FigTwinQQ, title, "no request completed in either run")
	}
	plo, phi := latencyAxis(&p.X, lo, hi)
	latencyAxis(&p.Y, lo, hi)
	lo, hi = plo, phi
	if diag, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}); err == nil {
		diag.Color, diag.Width, diag.Dashes = color.Gray{120}, vg.Points(1), dashed
		p.Add(diag)
		p.Legend.Add("measured = predicted", diag)
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	return figure(FigTwinQQ, title, "Each point is one percentile (1% to 99%) of the predicted distribution against the same percentile measured. Points above the diagonal: the load test was slower than predicted.", p, plotW, plotH)
}

func (r *TwinReport) residualFigure() *Figure {
	title := "Residuals per request, measured − predicted"
	var plots [][]*plot.Plot
	for _, x := range []struct {
		name string
		st   ResidualStats
	}{{"TTFT", r.Residuals.TTFT}, {"E2E", r.Residuals.E2E}} {
		if x.st.N == 0 {
			continue
		}
		p := newPlot(x.name, "residual (ms)", "requests")
		h := &plotter.Histogram{FillColor: r.colour(0), LineStyle: draw.LineStyle{Color: color.Gray{80}, Width: vg.Points(0.5)}}
		for _, b := range x.st.Histogram.Bins {
			h.Bins = append(h.Bins, plotter.HistogramBin{Min: b.LoNS / 1e6, Max: b.HiNS / 1e6, Weight: float64(b.Count)})
		}
		if len(h.Bins) > 0 {
			h.Width = h.Bins[0].Max - h.Bins[0].Min
		}
		p.Add(h)
		if zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: maxWeight(h.Bins)}}); err == nil && len(h.Bins) > 0 &&
			h.Bins[0].Min <= 0 && h.Bins[len(h.Bins)-1].Max >= 0 {
			zero.Color, zero.Dashes = color.Gray{60}, dashed
			p.Add(zero)
		}
		p.Y.Min = 0
		plots = append(plots, []*plot.Plot{p})
	}
	if len(plots) == 0 {
		return missing(FigTwinResiduals, title, "no request completed in both runs")
	}
	f := &Figure{ID: FigTwinResiduals, Title: title, Caption: fmt.Sprintf("Requests completed in both runs; %d equal bins from the 0.5th to the 99.5th percentile of the residuals (the rest are counted in the residuals table's tails). Dashed: zero.", residualBins)}
	png, err := renderPNG(func(dc draw.Canvas) {
		t := draw.Tiles{Rows: len(plots), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(10)}
		canvases := plot.Align(plots, t, dc)
		for i := range plots {
			plots[i][0].Draw(canvases[i][0])
		}
	}, plotW, vg.Length(len(plots))*7*vg.Centimeter)
	if err != nil {
		f.Missing = "rendering failed: " + err.Error()
		return f
	}
	f.PNG = png
	return f
}

// latencyAxis picks a log scale for latencies spanning a decade or more
// and a linear one otherwise (a log axis over less than a decade shows
// almost no tick labels), and returns the padded range.
func latencyAxis(a *plot.Axis, lo, hi float64) (float64, float64) {
	if hi >= 10*lo {
		a.Scale = plot.LogScale{}
		a.Tick.Marker = plot.LogTicks{Prec: -1}
		a.Label.Text += " (log scale)"
		return lo / 1.5, hi * 1.5
	}
	pad := math.Max((hi-lo)*0.1, hi*0.02)
	return math.Max(0, lo-pad), hi + pad
}

func maxWeight(bins []plotter.HistogramBin) float64 {
	m := 0.0
	for _, b := range bins {
		m = math.Max(m, b.Weight)
	}
	return m
}
