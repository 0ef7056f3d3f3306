package reports

import (
	"testing"

	"github.com/mcbench/mcbench/results"
)

// BenchmarkReport100k measures a whole report of a 100k-row run: read and
// aggregate outcomes.csv, draw every figure, render HTML, Markdown and CSV.
func BenchmarkReport100k(b *testing.B) {
	sc := smallDemo(b)
	sc.Replications = 2
	// Two strategies × two replications × 12,500 requests × ~2 rows.
	recs := synthRecords(sc, 2, 12_500, 1)
	dir := (&fixture{sc: sc, records: recs}).write(b)
	out := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		run, err := results.OpenRun(dir)
		if err != nil {
			b.Fatal(err)
		}
		an, err := Analyze(run, DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := an.Document().Write(out, []string{FormatHTML, FormatMarkdown, FormatCSV}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs)), "rows")
}
