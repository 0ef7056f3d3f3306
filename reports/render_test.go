package reports

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcbench/mcbench/results"
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
	assert.Equal(t, []string{SecArchitects, SecPerformance, SecRegulators, SecMethodology}, ids)
	var md bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, doc))
	for _, want := range []string{an.Run.Summary.ScenarioSHA256, "verified against run.json", "seed", "2026-07-24", "replications", "95% Student t",
		"regenerate this report", "Pareto", "H\\* (normalised)", "failover coverage", "blast radius", "time to recover", "exclusivity"} {
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

// TestHTMLRendersInChromium loads the report in headless Chromium and
// fails on any console message (the report has no script, so any message
// is an error: a blocked resource, a parse failure). It skips only when
// the chromium binary is absent: .ci/run installs it (apt-get install -y
// chromium), so CI always runs it.
func TestHTMLRendersInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if bin, err = exec.LookPath("chromium-browser"); err != nil {
			t.Skip("chromium is not installed (.ci/run installs it)")
		}
	}
	_, doc := demoDocument(t)
	dir := t.TempDir()
	_, err = doc.Write(dir, []string{FormatHTML})
	require.NoError(t, err)
	page := "file://" + filepath.Join(dir, "report.html")
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(args ...string) (stdout, stderr string) {
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
			"--disable-sync", "--no-first-run", "--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
		cmd := exec.CommandContext(ctx, bin, append(append(base, args...), page)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		require.NoError(t, cmd.Run(), e.String())
		return o.String(), e.String()
	}
	dom, logs := run("--dump-dom")
	for _, line := range strings.Split(logs, "\n") {
		assert.NotContains(t, line, ":CONSOLE", "console message while rendering the report")
		assert.NotContains(t, line, "Uncaught")
		assert.NotContains(t, line, "ERR_FILE_NOT_FOUND")
	}
	for _, id := range []string{SecArchitects, SecPerformance, SecRegulators, SecMethodology} {
		assert.Contains(t, dom, `id="`+id+`"`)
	}
	for _, id := range AllFigures {
		assert.Contains(t, dom, `id="plot-`+id+`"`)
	}
	_, _ = run("--window-size=1400,3000", "--screenshot="+shot)
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 1400, img.Bounds().Dx())
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
