package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"

	"github.com/mcbench/mcbench/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Figure IDs: the report has every one of them (drawn, or with the reason
// it could not be), and a test checks it.
const (
	FigTTFTCDF        = "ttft-cdf"
	FigE2ECDF         = "e2e-cdf"
	FigTTFTOverTime   = "ttft-over-time"
	FigErrorsOverTime = "errors-over-time"
	FigCostBreakdown  = "cost-by-provider-layer"
	FigCostVsP99      = "cost-vs-p99"
	FigHHIByLayer     = "hhi-by-layer"
	FigFailover       = "failover-timeline"
)

// AllFigures lists the figure IDs in report order.
var AllFigures = []string{FigTTFTCDF, FigE2ECDF, FigTTFTOverTime, FigErrorsOverTime, FigCostBreakdown, FigCostVsP99, FigHHIByLayer, FigFailover}

var (
	faultShade = color.NRGBA{R: 213, G: 94, B: 0, A: 45}
	dashed     = []vg.Length{vg.Points(4), vg.Points(3)}
	plotW      = 18 * vg.Centimeter
	plotH      = 9 * vg.Centimeter
)

const plotDPI = 110

// renderPNG draws into a PNG. gonum/plot panics on some degenerate inputs
// (a log axis over an empty range): a figure that cannot be drawn must not
// take the whole report down, so a panic becomes the figure's error.
func renderPNG(draw func(dc draw.Canvas), w, h vg.Length) (png []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			png, err = nil, fmt.Errorf("plot: %v", r)
		}
	}()
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))
	draw(drawNew(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func drawNew(c *vgimg.Canvas) draw.Canvas { return draw.New(c) }

func figure(id, title, caption string, p *plot.Plot, w, h vg.Length) *Figure {
	f := &Figure{ID: id, Title: title, Caption: caption}
	png, err := renderPNG(p.Draw, w, h)
	if err != nil {
		f.Missing = "rendering failed: " + err.Error()
		return f
	}
	f.PNG = png
	return f
}

func missing(id, title, why string) *Figure { return &Figure{ID: id, Title: title, Missing: why} }

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// Figures draws every figure of the report.
func (an *Analysis) Figures() []*Figure {
	return []*Figure{
		an.cdfFigure(FigTTFTCDF, "Time to first token: CDF per strategy", func(m *StrategyMetrics) []CDFPoint { return m.TTFTCDF }),
		an.cdfFigure(FigE2ECDF, "End-to-end latency: CDF per strategy", func(m *StrategyMetrics) []CDFPoint { return m.E2ECDF }),
		an.ttftOverTime(), an.errorsOverTime(), an.costBreakdown(), an.costVsP99(), an.hhiByLayer(), an.failoverTimeline(),
	}
}

func (an *Analysis) withRecords() []*StrategyMetrics {
	var out []*StrategyMetrics
	for _, m := range an.Strategies {
		if !m.FromSummary {
			out = append(out, m)
		}
	}
	return out
}

const noRecords = "no outcome records in this run (simulate with --records)"

func (an *Analysis) cdfFigure(id, title string, get func(*StrategyMetrics) []CDFPoint) *Figure {
	ms := an.withRecords()
	if len(ms) == 0 {
		return missing(id, title, noRecords)
	}
	p := newPlot(title, "seconds from arrival (log scale)", "fraction of completed requests ≤ x")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = true, true
	n := 0
	lo, hi := math.Inf(1), 0.0
	for _, m := range ms {
		pts := get(m)
		if len(pts) == 0 {
			continue
		}
		lo, hi = math.Min(lo, pts[0].X), math.Max(hi, pts[len(pts)-1].X)
		xy := make(plotter.XYs, len(pts))
		for j, c := range pts {
			xy[j] = plotter.XY{X: c.X, Y: c.P}
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			continue
		}
		l.Color, l.Width = an.palette().Strategy(m.Name), vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(m.Name, l)
		n++
	}
	if n == 0 {
		return missing(id, title, "no request completed")
	}
	// A log axis needs a positive, non-empty range; pad half a decade.
	p.X.Min, p.X.Max = lo/3, hi*3
	return figure(id, title, "Empirical CDF from HdrHistograms merged over replications (3 significant figures); latency measured from the intended send time.", p, plotW, plotH)
}

// timeScale picks minutes for long runs.
func (an *Analysis) timeScale() (div float64, unit string) {
	end := 0.0
	for _, m := range an.Strategies {
		if n := len(m.Series); n > 0 {
			end = math.Max(end, m.Series[n-1].Start+an.BucketSeconds)
		}
	}
	if end > 300 {
		return 60, "minutes since start"
	}
	return 1, "seconds since start"
}

// shadeFaults frames a time plot: its x axis spans the run and its fault
// windows are shaded.
func (an *Analysis) shadeFaults(p *plot.Plot, ymax, div float64) {
	if an.SpanSeconds > 0 {
		// The axis spans the run (a load test's schedule, not its drain).
		p.X.Min, p.X.Max = 0, an.SpanSeconds/div
	}
	for _, f := range an.Faults {
		poly, err := plotter.NewPolygon(plotter.XYs{{X: f.Start / div, Y: 0}, {X: f.End / div, Y: 0}, {X: f.End / div, Y: ymax}, {X: f.Start / div, Y: ymax}})
		if err != nil {
			continue
		}
		poly.Color = faultShade
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
}

func seriesLine(m *StrategyMetrics, width, div float64, get func(SeriesPoint) float64) plotter.XYs {
	var xy plotter.XYs
	for _, pt := range m.Series {
		v := get(pt)
		if math.IsNaN(v) || pt.Requests == 0 {
			continue
		}
		xy = append(xy, plotter.XY{X: (pt.Start + width/2) / div, Y: v})
	}
	return xy
}

// faultNote ends the caption of every plot with shaded fault windows.
const faultNote = " Shaded: fault windows, from the fault's start to its end."

func (an *Analysis) ttftOverTime() *Figure {
	title := "Time to first token over time (p50 dashed, p99 solid)"
	ms := an.withRecords()
	if len(ms) == 0 {
		return missing(FigTTFTOverTime, title, noRecords)
	}
	div, unit := an.timeScale()
	p := newPlot(title, unit, "TTFT (s)")
	ymax := 0.0
	type ln struct {
		xy   plotter.XYs
		i    int
		name string
		p50  bool
	}
	var lines []ln
	for i, m := range ms {
		p99 := seriesLine(m, an.BucketSeconds, div, func(s SeriesPoint) float64 { return s.TTFTP99 })
		p50 := seriesLine(m, an.BucketSeconds, div, func(s SeriesPoint) float64 { return s.TTFTP50 })
		for _, v := range p99 {
			ymax = math.Max(ymax, v.Y)
		}
		lines = append(lines, ln{p99, i, m.Name + " p99", false}, ln{p50, i, m.Name + " p50", true})
	}
	if ymax == 0 {
		return missing(FigTTFTOverTime, title, "no request completed")
	}
	ymax *= 1.05
	p.Y.Min, p.Y.Max = 0, ymax
	an.shadeFaults(p, ymax, div)
	for _, l := range lines {
		if len(l.xy) == 0 {
			continue
		}
		line, err := plotter.NewLine(l.xy)
		if err != nil {
			continue
		}
		line.Color, line.Width = an.palette().Strategy(ms[l.i].Name), vg.Points(1.2)
		if l.p50 {
			line.Dashes = dashed
		}
		p.Add(line)
		p.Legend.Add(l.name, line)
	}
	p.Legend.Top = true
	return figure(FigTTFTOverTime, title, fmt.Sprintf("Requests bucketed by the time they ended (%s buckets), pooled over replications: a request a fault held up or cut is drawn when it ended, inside the fault's band, not when it arrived; the timeline stops at the last arrival (the drain after it holds only stragglers).%s", secs(an.BucketSeconds), faultNote), p, plotW, plotH)
}

func (an *Analysis) errorsOverTime() *Figure {
	title := "Error rate over time (SLO-breach rate dashed)"
	ms := an.withRecords()
	if len(ms) == 0 {
		return missing(FigErrorsOverTime, title, noRecords)
	}
	div, unit := an.timeScale()
	p := newPlot(title, unit, "% of requests ending in the bucket")
	p.Y.Min, p.Y.Max = 0, 100
	an.shadeFaults(p, 100, div)
	for _, m := range ms {
		for _, breach := range []bool{false, true} {
			xy := seriesLine(m, an.BucketSeconds, div, func(s SeriesPoint) float64 {
				if breach {
					return 100 * s.BreachRate
				}
				return 100 * s.ErrorRate
			})
			if len(xy) == 0 {
				continue
			}
			line, err := plotter.NewLine(xy)
			if err != nil {
				continue
			}
			line.Color, line.Width = an.palette().Strategy(m.Name), vg.Points(1.2)
			name := m.Name + " errors"
			if breach {
				line.Dashes, name = dashed, m.Name+" SLO breaches"
			}
			p.Add(line)
			p.Legend.Add(name, line)
		}
	}
	p.Legend.Top = true
	return figure(FigErrorsOverTime, title, fmt.Sprintf("Errors are requests that did not complete; SLO breaches add completed requests over their class's TTFT or E2E objective. %s buckets by the time requests ended (completed or failed), pooled over replications, so requests a fault caught in flight count inside its band; the timeline stops at the last arrival.%s", secs(an.BucketSeconds), faultNote), p, plotW, plotH)
}

func (an *Analysis) costBreakdown() *Figure {
	title := "Cost by provider and layer (mean USD per replication)"
	ms := an.withRecords()
	if len(ms) == 0 {
		return missing(FigCostBreakdown, title, noRecords)
	}
	type seg struct{ p, l int }
	var segs []seg
	for p := range an.Providers {
		for l := range Layers {
			for _, m := range ms {
				if m.Cost.ByProviderLayer[p][l] > 0 {
					segs = append(segs, seg{p, l})
					break
				}
			}
		}
	}
	if len(segs) == 0 {
		return missing(FigCostBreakdown, title, "no priced spend (every deployment is unpriced)")
	}
	p := newPlot(title, "", "USD per replication")
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	p.NominalX(names...)
	var prev *plotter.BarChart
	for _, sg := range segs {
		vals := make(plotter.Values, len(ms))
		for i, m := range ms {
			vals[i] = m.Cost.ByProviderLayer[sg.p][sg.l] / float64(max(m.Replications, 1))
		}
		bc, err := plotter.NewBarChart(vals, vg.Points(40))
		if err != nil {
			continue
		}
		bc.Color, bc.LineStyle.Width = ProviderLayer(an.Providers[sg.p].Kind, Layers[sg.l]), 0
		if prev != nil {
			bc.StackOn(prev)
		}
		prev = bc
		p.Add(bc)
		p.Legend.Add(an.Providers[sg.p].Name+" / "+Layers[sg.l], bc)
	}
	p.Legend.Top = true
	p.Y.Min = 0
	return figure(FigCostBreakdown, title, "List prices from the pricing tables; network is data-transfer spend; unpriced deployments count as 0.", p, plotW, plotH)
}

// ParetoFront returns the indices of the points no other point beats on
// both coordinates (lower is better on both), ordered by x.
func ParetoFront(xs, ys []float64) []int {
	idx := make([]int, 0, len(xs))
	for i := range xs {
		if !math.IsNaN(xs[i]) && !math.IsNaN(ys[i]) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := cmpFloat(xs[a], xs[b]); c != 0 {
			return c
		}
		return cmpFloat(ys[a], ys[b])
	})
	var front []int
	best := math.Inf(1)
	for _, i := range idx {
		if ys[i] < best {
			front = append(front, i)
			best = ys[i]
		}
	}
	return front
}

func (an *Analysis) costVsP99() *Figure {
	title := "Cost per successful request against p99 end-to-end latency"
	ms := an.withRecords()
	if len(ms) == 0 {
		return missing(FigCostVsP99, title, noRecords)
	}
	xs, ys := make([]float64, len(ms)), make([]float64, len(ms))
	for i, m := range ms {
		xs[i], ys[i] = m.Cost.PerSuccess, m.E2E.P99
	}
	front := ParetoFront(xs, ys)
	if len(front) == 0 {
		return missing(FigCostVsP99, title, "no strategy has both a cost and a p99 latency")
	}
	p := newPlot(title, "USD per successful request", "p99 E2E (s)")
	var fxy plotter.XYs
	for _, i := range front {
		fxy = append(fxy, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if len(fxy) > 1 {
		if l, err := plotter.NewLine(fxy); err == nil {
			l.Color, l.Width, l.Dashes = color.Gray{120}, vg.Points(1), dashed
			p.Add(l)
			p.Legend.Add("Pareto front", l)
		}
	}
	labels := plotter.XYLabels{}
	for i, m := range ms {
		if math.IsNaN(xs[i]) || math.IsNaN(ys[i]) {
			continue
		}
		sc, err := plotter.NewScatter(plotter.XYs{{X: xs[i], Y: ys[i]}})
		if err != nil {
			continue
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius = an.palette().Strategy(m.Name), vg.Points(5)
		sc.GlyphStyle.Shape = draw.RingGlyph{}
		if slices.Contains(front, i) {
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
		}
		p.Add(sc)
		labels.XYs = append(labels.XYs, plotter.XY{X: xs[i], Y: ys[i]})
		labels.Labels = append(labels.Labels, "  "+m.Name)
	}
	if lb, err := plotter.NewLabels(labels); err == nil {
		p.Add(lb)
	}
	pad := func(lo, hi float64) (float64, float64) {
		d := hi - lo
		if d == 0 {
			d = math.Max(math.Abs(hi)*0.2, 1e-9)
		}
		return math.Max(0, lo-0.15*d), hi + 0.35*d
	}
	p.X.Min, p.X.Max = pad(slices.Min(results.Finite(xs)), slices.Max(results.Finite(xs)))
	p.Y.Min, p.Y.Max = pad(slices.Min(results.Finite(ys)), slices.Max(results.Finite(ys)))
	p.Legend.Top = true
	return figure(FigCostVsP99, title, "Filled markers are Pareto-optimal: no other strategy is both cheaper and faster at p99. Lower-left is better.", p, plotW, plotH)
}

func (an *Analysis) hhiByLayer() *Figure {
	title := "HHI per layer by traffic share against the US and EU bands"
	ms := an.withRecords()
	if len(ms) == 0 {
		return missing(FigHHIByLayer, title, noRecords)
	}
	var layers []string
	for _, l := range Layers {
		for _, m := range ms {
			if lc := m.Concentration.layer(l); lc != nil && !math.IsNaN(lc.HeadlineHHI()) {
				layers = append(layers, l)
				break
			}
		}
	}
	if len(layers) == 0 {
		return missing(FigHHIByLayer, title, "no traffic or spend")
	}
	p := newPlot(title, "", "HHI (traffic shares; network: spend shares)")
	p.NominalX(layers...)
	p.Y.Min, p.Y.Max = 0, 14500 // headroom for the legend above 10,000
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 1000, Label: "1,000"}, {Value: 1800, Label: "1,800"},
		{Value: 5000, Label: "5,000"}, {Value: 10000, Label: "10,000"}}
	n := float64(len(layers))
	for _, band := range []struct {
		lo, hi float64
		c      color.Color
	}{{0, 1000, color.NRGBA{R: 0, G: 158, B: 115, A: 40}}, {1000, 1800, color.NRGBA{R: 230, G: 159, B: 0, A: 50}}, {1800, 10000, color.NRGBA{R: 213, G: 94, B: 0, A: 40}}} {
		poly, err := plotter.NewPolygon(plotter.XYs{{X: -0.5, Y: band.lo}, {X: n - 0.5, Y: band.lo}, {X: n - 0.5, Y: band.hi}, {X: -0.5, Y: band.hi}})
		if err == nil {
			poly.Color, poly.LineStyle.Width = band.c, 0
			p.Add(poly)
		}
	}
	for _, th := range []struct {
		y    float64
		name string
		eu   bool
	}{{1000, "US 1,000 / EU 1,000", false}, {1800, "US 1,800 (highly concentrated)", false}, {2000, "EU 2,000 screen", true}} {
		l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: th.y}, {X: n - 0.5, Y: th.y}})
		if err != nil {
			continue
		}
		l.Color, l.Width = color.Gray{90}, vg.Points(0.8)
		if th.eu {
			l.Dashes = dashed
		}
		p.Add(l)
		p.Legend.Add(th.name, l)
	}
	w := vg.Points(14)
	for i, m := range ms {
		vals := make(plotter.Values, len(layers))
		for j, l := range layers {
			if lc := m.Concentration.layer(l); lc != nil && !math.IsNaN(lc.HeadlineHHI()) {
				vals[j] = lc.HeadlineHHI()
			}
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			continue
		}
		bc.Color, bc.LineStyle.Width = an.palette().Strategy(m.Name), 0
		bc.Offset = w * vg.Length(float64(i)-float64(len(ms)-1)/2)
		p.Add(bc)
		p.Legend.Add(m.Name, bc)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	return figure(FigHHIByLayer, title, "Bands: green <1,000, amber 1,000–1,800, red >1,800 (US 2023 Merger Guidelines); dashed: the EU 2,000 screen. These are market thresholds applied to one workload's suppliers, an analogue only: with 2 capable providers the lowest possible HHI is 5,000 (see the normalised H* in the table).", p, plotW, plotH)
}

func (c *Concentration) layer(name string) *LayerConcentration {
	for i := range c.Layers {
		if c.Layers[i].Layer == name {
			return &c.Layers[i]
		}
	}
	return nil
}

func (an *Analysis) failoverTimeline() *Figure {
	title := "Failover timeline: attempts per second by deployment (completed solid, failed dashed)"
	ms := an.withRecords()
	if len(ms) == 0 {
		return missing(FigFailover, title, noRecords)
	}
	div, unit := an.timeScale()
	var plots [][]*plot.Plot
	for _, m := range ms {
		reps := float64(max(m.Replications, 1))
		p := newPlot(m.Name, unit, "attempts/s")
		type ser struct {
			xy     plotter.XYs
			i      int
			name   string
			failed bool
		}
		var ss []ser
		ymax := 0.0
		for d, name := range m.SeriesDeployments {
			for _, failed := range []bool{false, true} {
				var xy plotter.XYs
				any := false
				for _, pt := range m.Series {
					v := 0.0
					src := pt.ServedBy
					if failed {
						src = pt.FailedAt
					}
					if d < len(src) {
						v = float64(src[d]) / an.BucketSeconds / reps
					}
					any = any || v > 0
					ymax = math.Max(ymax, v)
					xy = append(xy, plotter.XY{X: (pt.Start + an.BucketSeconds/2) / div, Y: v})
				}
				if any {
					ss = append(ss, ser{xy, d, name, failed})
				}
			}
		}
		if ymax == 0 {
			ymax = 1
		}
		ymax *= 1.08
		p.Y.Min, p.Y.Max = 0, ymax
		an.shadeFaults(p, ymax, div)
		for _, s := range ss {
			l, err := plotter.NewLine(s.xy)
			if err != nil {
				continue
			}
			l.Color, l.Width = an.palette().Deployment(s.name), vg.Points(1.2)
			name := s.name
			if s.failed {
				l.Dashes, name = dashed, s.name+" failed"
			}
			p.Add(l)
			p.Legend.Add(name, l)
		}
		p.Legend.Top = true
		plots = append(plots, []*plot.Plot{p})
	}
	h := vg.Length(len(plots)) * 7 * vg.Centimeter
	f := &Figure{ID: FigFailover, Title: title, Caption: "One panel per strategy; rates are per replication (pooled counts divided by replications), by the time each attempt ended (an attempt a fault cut is drawn when it was cut)." + faultNote}
	png, err := renderPNG(func(dc draw.Canvas) {
		t := draw.Tiles{Rows: len(plots), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(10)}
		canvases := plot.Align(plots, t, dc)
		for i := range plots {
			plots[i][0].Draw(canvases[i][0])
		}
	}, plotW, h)
	if err != nil {
		f.Missing = "rendering failed: " + err.Error()
		return f
	}
	f.PNG = png
	return f
}
