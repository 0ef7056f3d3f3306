package reports

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func demoDocument(t *testing.T) (*Analysis, *Document) {
	t.Helper()
	sc := smallDemo(t)
	an := analyzeFixture(t, &fixture{sc: sc, records: synthRecords(sc, 3, 3000, 11)}, DefaultOptions())
	return an, an.Document()
}

var imgRE = regexp.MustCompile(`<img id="plot-([a-z0-9-]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"`)

// TestEveryPlotIsPresent: the HTML report embeds every figure as a PNG
// that decodes, and the Markdown report links each one.
func TestEveryPlotIsPresent(t *testing.T) {
	_, doc := demoDocument(t)
	var html bytes.Buffer
	require.NoError(t, WriteHTML(&html, doc))
	found := map[string]bool{}
	for _, m := range imgRE.FindAllStringSubmatch(html.String(), -1) {
		b, err := base64.StdEncoding.DecodeString(m[2])
		require.NoError(t, err, m[1])
		img, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err, m[1])
		assert.Greater(t, img.Bounds().Dx(), 300, m[1])
		found[m[1]] = true
	}
	for _, id := range AllFigures {
		assert.True(t, found[id], "figure %s missing from the HTML", id)
	}
	assert.Len(t, found, len(AllFigures))

	dir := t.TempDir()
	files, err := doc.Write(dir, []string{FormatMarkdown})
	require.NoError(t, err)
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	for _, id := range AllFigures {
		assert.Contains(t, string(md), "](plots/"+id+".png)")
		assert.Contains(t, files, filepath.Join(dir, "plots", id+".png"))
	}
}

func TestReportHasTheThreeAudiencesAndMethodology(t *testing.T) {
	an, doc := demoDocument(t)
	var ids []string
	for _, s := range doc.Sections {
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []string{SecAnswer, SecArchitects, SecPerformance, SecRegulators, SecMethodology}, ids)
	var md bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, doc))
	for _, want := range []string{an.Run.Summary.ScenarioSHA256, "verified against run.json", "seed", "2026-07-24", "replications", "95% Student t",
		"regenerate this report", "Pareto", "H\\* by traffic", "Choose ", "failover coverage", "blast radius", "time to recover", "exclusivity"} {
		assert.Contains(t, md.String(), want)
	}
}

// TestScenarioStringsAreEscaped: names and descriptions come from user
// files; none may become markup, script or a spreadsheet formula.
func TestScenarioStringsAreEscaped(t *testing.T) {
	sc := smallDemo(t)
	evil := `<script>alert("x")</script>`
	sc.Name = `demo"><img src=x onerror=alert(1)>`
	sc.Strategies[0].Name = evil
	sc.Strategies[0].Description = "=HYPERLINK(\"http://evil\")|*bold*"
	sc.Strategies[1].Name = "=cmd|' /C calc'!A0"
	an := analyzeFixture(t, &fixture{sc: sc, records: synthRecords(sc, 1, 400, 1)}, DefaultOptions())
	doc := an.Document()

	var html bytes.Buffer
	require.NoError(t, WriteHTML(&html, doc))
	h := html.String()
	assert.NotContains(t, h, "<script")
	assert.NotContains(t, h, "<img src=x")
	assert.Contains(t, h, "&lt;script&gt;")
	assert.Contains(t, h, "&lt;img src=x onerror=alert(1)&gt;")

	var md bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, doc))
	assert.NotRegexp(t, `(^|[^\\])<script`, md.String(), "only escaped angle brackets")
	assert.Contains(t, md.String(), `\<script\>`)

	var out bytes.Buffer
	var strategies *Table
	for _, tb := range doc.Tables() {
		if tb.ID == "strategies" {
			strategies = tb
		}
	}
	require.NotNil(t, strategies)
	require.NoError(t, WriteCSV(&out, strategies))
	recs, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	var names []string
	for _, r := range recs[1:] {
		names = append(names, r[0])
	}
	assert.Contains(t, names, "'=cmd|' /C calc'!A0", "formula defused")
	assert.Equal(t, "'-x", csvSafe("-x"))
	assert.Equal(t, "'-1.5", csvSafe("-1.5"), "csvSafe is for text: a text cell reading -1.5 is quoted")

	// Numbers are typed values, never quoted: a negative number is
	// written as one.
	out.Reset()
	neg := &Table{ID: "cost-components", Columns: []string{"strategy", "total", "billed input tokens"},
		Rows: [][]Cell{{txt("-neg"), usdc(-1.5), intc(-2)}, {txt("+plus"), usdc(math.NaN()), txt("-")}}}
	require.NoError(t, WriteCSV(&out, neg))
	assert.Equal(t, "strategy,total_spend_usd,billed_input_tokens\n'-neg,-1.5,-2\n'+plus,,\n", out.String())
}

var externalRef = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)

// TestHTMLIsSelfContained: nothing to fetch, nothing to run.
func TestHTMLIsSelfContained(t *testing.T) {
	_, doc := demoDocument(t)
	var html bytes.Buffer
	require.NoError(t, WriteHTML(&html, doc))
	for _, m := range externalRef.FindAllStringSubmatch(html.String(), -1) {
		ref := m[1]
		assert.True(t, strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "#"), "external reference %q", ref)
	}
	assert.NotContains(t, strings.ToLower(html.String()), "<script")
	assert.NotContains(t, html.String(), "@import")
}

// chromiumForTest is the browser the Chromium tests use. They skip only
// when none is installed: .ci/run installs chromium (apt-get install -y
// chromium), so CI always runs them.
func chromiumForTest(t *testing.T) string {
	t.Helper()
	bin, err := FindChromium("")
	if err != nil {
		t.Skip("chromium is not installed (.ci/run installs it)")
	}
	return bin
}

func openForTest(t *testing.T, bin, file string) *chromiumPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	p, err := openPage(ctx, bin, file)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// TestHTMLRendersInChromium loads the report in headless Chromium and
// fails on any console message, uncaught exception or browser-log entry
// (the report has no script, so any message is an error: a blocked
// resource, a parse failure), and on a figure that does not decode. A page
// with a missing image and a console error shows that the capture works.
func TestHTMLRendersInChromium(t *testing.T) {
	bin := chromiumForTest(t)
	_, doc := demoDocument(t)
	dir := t.TempDir()
	_, err := doc.Write(dir, []string{FormatHTML})
	require.NoError(t, err)
	p := openForTest(t, bin, filepath.Join(dir, "report.html"))
	type page struct {
		IDs    []string
		Images []struct {
			ID    string
			Width int
		}
	}
	got, err := chromedp.Run(p.ctx, chromedp.Evaluate[page](`({
		IDs: [...document.querySelectorAll("[id]")].map(e => e.id),
		Images: [...document.images].map(i => ({ID: i.id, Width: i.complete ? i.naturalWidth : 0})),
	})`))
	require.NoError(t, err)
	for _, id := range []string{SecArchitects, SecPerformance, SecRegulators, SecMethodology} {
		assert.Contains(t, got.IDs, id)
	}
	for _, id := range AllFigures {
		assert.Contains(t, got.IDs, "plot-"+id)
	}
	require.Len(t, got.Images, len(AllFigures))
	for _, img := range got.Images {
		assert.Greater(t, img.Width, 300, "%s did not decode", img.ID)
	}
	msgs, err := p.Console()
	require.NoError(t, err)
	assert.Empty(t, msgs, "console messages while rendering the report")

	// The control: a page that does log.
	bad := filepath.Join(dir, "bad.html")
	require.NoError(t, os.WriteFile(bad, []byte(`<!DOCTYPE html><title>x</title><img src="missing.png"><script>console.error("boom"); null.x</script>`), 0o644))
	msgs, err = openForTest(t, bin, bad).Console()
	require.NoError(t, err)
	all := strings.Join(msgs, "\n")
	assert.Contains(t, all, "console.error: boom")
	assert.Contains(t, all, "exception: Uncaught")
	assert.Contains(t, all, "ERR_FILE_NOT_FOUND")
}

// wideDocument is the report with the widest tables: the demo with a third
// strategy (the strategy and concentration tables grow a row each, the
// deployments table has 15 columns) and warnings.
func wideDocument(t *testing.T) *Document {
	t.Helper()
	sc := smallDemo(t)
	sc.Strategies = append(sc.Strategies, scenarios.Strategy{Name: "bedrock-then-azure-sweden-failover",
		Placement: map[string][]string{"model": {"bedrock-use1", "aoai-swedencentral"}}, Routing: sc.Strategies[0].Routing})
	an := analyzeFixture(t, &fixture{sc: sc, records: synthRecords(sc, 2, 1500, 11)}, DefaultOptions())
	return an.Document()
}

// overflowJS lists what sticks out of the page: a table wider than its
// box or than the page, a figure wider than the page.
const overflowJS = `(() => {
	const w = document.documentElement.clientWidth, out = [];
	for (const t of document.querySelectorAll("table")) {
		const box = t.parentElement, r = t.getBoundingClientRect();
		if (t.scrollWidth > w || r.right > w + 0.5 || box.scrollWidth > box.clientWidth)
			out.push(t.id + ": " + t.rows[0].cells.length + " columns, " + t.scrollWidth + " px wide for " + w);
	}
	for (const i of document.images)
		if (i.getBoundingClientRect().right > w + 0.5) out.push(i.id + ": " + i.getBoundingClientRect().width + " px wide for " + w);
	return out;
})()`

var printCSS = regexp.MustCompile(`(?s)@media print\{.*?\n\}\n`)

// TestPrintedTablesFit lays the widest report out as Chromium prints it
// (print media, the width of an A4 page inside its margins) and checks
// that no table or figure is wider than the page: nothing is cut or behind
// a scrollbar on paper. Without the print stylesheet the same page does
// not fit, so the check can fail. Then it prints the PDF.
func TestPrintedTablesFit(t *testing.T) {
	bin := chromiumForTest(t)
	doc := wideDocument(t)
	dir := t.TempDir()
	_, err := doc.Write(dir, []string{FormatHTML})
	require.NoError(t, err)
	htmlPath := filepath.Join(dir, "report.html")

	p := openForTest(t, bin, htmlPath)
	require.NoError(t, p.EmulatePrint())
	width, err := chromedp.Run(p.ctx, chromedp.Evaluate[int64](`document.documentElement.clientWidth`))
	require.NoError(t, err)
	assert.Equal(t, PrintContentWidthPx(), width)
	cols, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`Math.max(...[...document.querySelectorAll("table")].map(t => t.rows[0].cells.length))`))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, cols, 14, "the fixture has the report's widest tables")
	over, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](overflowJS))
	require.NoError(t, err)
	assert.Empty(t, over, "cut on paper")

	// The control: without the print rules, tables are cut.
	html, err := os.ReadFile(htmlPath)
	require.NoError(t, err)
	require.True(t, printCSS.Match(html), "the template has an @media print block")
	screenOnly := filepath.Join(dir, "screen-only.html")
	require.NoError(t, os.WriteFile(screenOnly, printCSS.ReplaceAll(html, nil), 0o644))
	q := openForTest(t, bin, screenOnly)
	require.NoError(t, q.EmulatePrint())
	over, err = chromedp.Run(q.ctx, chromedp.Evaluate[[]string](overflowJS))
	require.NoError(t, err)
	assert.NotEmpty(t, over, "without the print stylesheet the widest tables do not fit")

	// The PDF: A4 pages, no console message.
	pdfPath := filepath.Join(dir, "report.pdf")
	console, err := PrintPDF(context.Background(), bin, htmlPath, pdfPath)
	require.NoError(t, err)
	assert.Empty(t, console)
	pdf, err := os.ReadFile(pdfPath)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	pages := pdfPages(pdf)
	assert.Greater(t, len(pages), 3, "a report of many tables and figures takes pages")
	for _, mb := range pages {
		assert.InDelta(t, 595, mb[0], 1, "A4 width in points")
		assert.InDelta(t, 842, mb[1], 1, "A4 height in points")
	}
}

var mediaBox = regexp.MustCompile(`/Type\s*/Page\b[^s][\s\S]*?/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]`)

// pdfPages returns the width and height of each page object of a PDF
// (Chromium writes them uncompressed).
func pdfPages(pdf []byte) [][2]float64 {
	var out [][2]float64
	for _, m := range mediaBox.FindAllSubmatch(pdf, -1) {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		h, _ := strconv.ParseFloat(string(m[2]), 64)
		out = append(out, [2]float64{w, h})
	}
	return out
}

func TestCompareSharedStreamIsPaired(t *testing.T) {
	sc := smallDemo(t)
	recs := synthRecords(sc, 3, 2000, 5)
	a := analyzeFixture(t, &fixture{sc: sc, records: recs}, DefaultOptions())
	b := analyzeFixture(t, &fixture{sc: sc, records: recs}, DefaultOptions())
	c, err := Compare(a, b, "azure-failover", "azure-bedrock-split")
	require.NoError(t, err)
	assert.True(t, c.SharedStream)
	require.NotEmpty(t, c.Diffs)
	assert.True(t, c.Diffs[0].Paired)
	assert.Equal(t, 3, c.Diffs[0].Delta.N)
	doc := c.Document()
	var html bytes.Buffer
	require.NoError(t, WriteHTML(&html, doc))
	assert.Contains(t, html.String(), "paired")

	// Same run compared with itself and no names: ambiguous.
	_, err = Compare(a, a, "", "")
	assert.ErrorContains(t, err, "--a and --b")

	// A different seed: unpaired.
	sc2 := smallDemo(t)
	sc2.Seed = 99
	b2 := analyzeFixture(t, &fixture{sc: sc2, records: synthRecords(sc2, 3, 2000, 6)}, DefaultOptions())
	c, err = Compare(a, b2, "", "")
	require.NoError(t, err, "both runs have azure-failover: paired by name")
	assert.False(t, c.SharedStream)
	assert.False(t, c.Diffs[0].Paired)
	assert.Equal(t, "azure-failover", c.SA.Name)
	assert.Equal(t, "azure-failover", c.SB.Name)

	// The same scenario and seed, but B is a load test: one measurement of
	// replication 0's stream, so the differences are unpaired, and the
	// note points to mcbench twin for the request-by-request pairing.
	var loadRecs []results.Outcome
	for _, o := range synthRecords(sc, 1, 2000, 5) {
		if o.Strategy == "azure-failover" {
			loadRecs = append(loadRecs, o)
		}
	}
	lt := analyzeFixture(t, &fixture{sc: sc, source: "load", records: loadRecs}, DefaultOptions())
	c, err = Compare(a, lt, "azure-failover", "azure-failover")
	require.NoError(t, err)
	assert.False(t, c.SharedStream, "a simulation against a load test is never paired per replication")
	require.NotEmpty(t, c.Diffs)
	assert.False(t, c.Diffs[0].Paired)
	notes := strings.Join(c.Notes, "\n")
	assert.Contains(t, notes, "one measurement of replication 0's request stream")
	assert.Contains(t, notes, "mcbench twin")
	assert.NotContains(t, notes, "paired per replication (common random numbers)")
	html.Reset()
	require.NoError(t, WriteHTML(&html, c.Document()))
	assert.Contains(t, html.String(), "unpaired (Welch)")
}

func TestDocumentWriteAllFormats(t *testing.T) {
	_, doc := demoDocument(t)
	dir := t.TempDir()
	files, err := doc.Write(dir, Formats)
	require.NoError(t, err)
	for _, want := range []string{"report.html", "report.md", "csv/strategies.csv", "csv/concentration.csv", "csv/fault-impact.csv", "csv/prices-used.csv",
		"parquet/strategies.parquet", "parquet/prices-used.parquet", "parquet/outcomes.parquet"} {
		assert.Contains(t, files, filepath.Join(dir, want))
	}
	_, err = doc.Write(dir, []string{"pdf"})
	assert.ErrorContains(t, err, `unknown format "pdf"`)

	// Parquet files are byte-for-byte reproducible, like the other formats.
	again := t.TempDir()
	_, err = doc.Write(again, []string{FormatParquet})
	require.NoError(t, err)
	for _, name := range []string{"strategies.parquet", "outcomes.parquet"} {
		a, err := os.ReadFile(filepath.Join(dir, "parquet", name))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(again, "parquet", name))
		require.NoError(t, err)
		assert.NotEmpty(t, a, name)
		assert.True(t, bytes.Equal(a, b), name)
	}
}

// TestReportIsDeterministic: the same run gives the same bytes (no
// timestamps, no map-order effects), so reports can be diffed.
func TestReportIsDeterministic(t *testing.T) {
	sc := smallDemo(t)
	dir := (&fixture{sc: sc, records: synthRecords(sc, 2, 1500, 4)}).write(t)
	var pages [2]bytes.Buffer
	for i := range pages {
		run, err := results.OpenRun(dir)
		require.NoError(t, err)
		an, err := Analyze(run, DefaultOptions())
		require.NoError(t, err)
		require.NoError(t, WriteHTML(&pages[i], an.Document()))
	}
	assert.True(t, bytes.Equal(pages[0].Bytes(), pages[1].Bytes()))
}

// TestPrintPDFIsBounded: a browser that never answers makes PrintPDF fail
// with a clear error when its time is up, instead of hanging.
func TestPrintPDFIsBounded(t *testing.T) {
	dir := t.TempDir()
	stuck := filepath.Join(dir, "stuck-chromium")
	require.NoError(t, os.WriteFile(stuck, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755))
	html := filepath.Join(dir, "r.html")
	require.NoError(t, os.WriteFile(html, []byte("<!DOCTYPE html><title>r</title>"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := PrintPDF(ctx, stuck, html, filepath.Join(dir, "r.pdf"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Chromium did not finish")
	assert.Contains(t, err.Error(), stuck)
	assert.NoFileExists(t, filepath.Join(dir, "r.pdf"))

	_, err = FindChromium(filepath.Join(dir, "nothing-here"))
	assert.ErrorContains(t, err, "nothing-here")
}
