package reports

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/reports/tabletest"
	"github.com/mcbench/mcbench/results"
)

// fixtureDocuments builds every kind of document from fixtures: a
// simulation report with a state inventory (exit tables), a load-test
// report of one strategy, a comparison and a twin report with differing
// requests.
func fixtureDocuments(t *testing.T) map[string]*Document {
	t.Helper()
	docs := map[string]*Document{}
	sc := smallDemo(t)
	opt := DefaultOptions()
	opt.State = []StateHolding{
		{Strategy: "*", Provider: "aws", Region: "us-east-1", Class: StateProprietary, GB: 50_000},
		{Strategy: "*", Provider: "aws", Class: StateRegenerable, GB: 1_000},
		{Strategy: "*", Provider: "azure", Class: StateOpen, GB: 50_000},
	}
	recs := synthRecords(sc, 3, 2000, 11)
	sim := analyzeFixture(t, &fixture{sc: sc, records: recs}, opt)
	docs["sim"] = sim.Document()

	var loadRecs []results.Outcome
	for _, o := range synthRecords(sc, 1, 2000, 5) {
		if o.Strategy == "azure-bedrock-split" {
			loadRecs = append(loadRecs, o)
		}
	}
	load := analyzeFixture(t, &fixture{sc: sc, source: "load", records: loadRecs, loadWarmup: 1}, DefaultOptions())
	docs["load"] = load.Document()

	other := analyzeFixture(t, &fixture{sc: sc, records: recs}, DefaultOptions())
	c, err := Compare(sim, other, "azure-failover", "azure-bedrock-split")
	require.NoError(t, err)
	docs["compare"] = c.Document()

	measured := baseSpecs(0, 120)
	for i := range measured {
		if i%7 == 3 {
			measured[i].status, measured[i].errClass = results.StatusFailed, "server_error"
		}
		measured[i].ttft += int64(3 * time.Millisecond)
	}
	docs["twin"] = twinOf(t, simReps(120), measured, TwinOptions{Tolerance: defaultTol(t)}).Document()
	return docs
}

var machineName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// TestColumnRegistry: one definition per machine name, each well formed,
// and no two definitions claim the same label in the same table.
func TestColumnRegistry(t *testing.T) {
	byName := map[string]string{}
	for i := range columnDefs {
		d := &columnDefs[i]
		assert.NotEmpty(t, d.Labels, d.Name)
		assert.NotEmpty(t, d.Desc, d.Name)
		assert.Contains(t, []ColumnType{TypeText, TypeInt, TypeFloat, TypeDate}, d.Type, d.Name)
		if d.Type != TypeText && d.Type != TypeDate {
			assert.NotEmpty(t, d.Unit, "%s: a number has a unit", d.Name)
		}
		for _, f := range d.fields() {
			assert.Regexp(t, machineName, f.Name)
			if prev, ok := byName[f.Name]; ok {
				t.Errorf("machine name %s defined twice (%s and %s)", f.Name, prev, d.Name)
			}
			byName[f.Name] = d.Name
		}
		// The unit is in the name.
		for _, su := range [][2]string{{"_req_per_s", "req/s"}, {"_usd_per_gb", "USD/GB"}, {"_hour_usd", "USD/h"}, {"_s", "s"}, {"_usd", "USD"},
			{"_fraction", "fraction"}, {"_hhi", "HHI"}, {"_gb", "GB"}, {"_bytes_per_session", "bytes"}} {
			if strings.HasSuffix(d.Name, su[0]) {
				assert.Equal(t, su[1], d.Unit, d.Name)
				break
			}
		}
		if d.Unit == "fraction" {
			assert.True(t, strings.HasSuffix(d.Name, "_fraction"), "%s: every ratio is a fraction named _fraction", d.Name)
		}
	}
	// Overlapping labels need disjoint table scopes.
	for i := range columnDefs {
		for j := i + 1; j < len(columnDefs); j++ {
			a, b := &columnDefs[i], &columnDefs[j]
			for _, l := range a.Labels {
				if !slices.Contains(b.Labels, l) {
					continue
				}
				overlap := len(a.Tables) == 0 && len(b.Tables) == 0
				for _, tb := range a.Tables {
					overlap = overlap || slices.Contains(b.Tables, tb)
				}
				assert.False(t, overlap, "label %q is %s and %s in the same tables", l, a.Name, b.Name)
			}
		}
	}
}

// TestEveryTableColumnIsRegistered: every column of every table of every
// fixture document has a definition, machine names are unique within a
// table, and every cell agrees with its column: a number is never text
// (it would be lost as a placeholder), a cell's unit is its column's (or
// its row's, where the unit is per row).
func TestEveryTableColumnIsRegistered(t *testing.T) {
	for kind, doc := range fixtureDocuments(t) {
		for _, tbl := range doc.Tables() {
			seen := map[string]bool{}
			for _, f := range tbl.Fields() {
				assert.True(t, f.Registered, "%s: table %s column %q has no definition in columns.go", kind, tbl.ID, f.Label)
				assert.False(t, seen[f.Name], "%s: table %s has %s twice", kind, tbl.ID, f.Name)
				seen[f.Name] = true
			}
			unitCol := slices.Index(tbl.Columns, "unit")
			for i, label := range tbl.Columns {
				d := columnRegistry.lookup(tbl.ID, label)
				if d == nil {
					continue
				}
				for r, row := range tbl.Rows {
					if i >= len(row) {
						continue
					}
					c := row[i]
					where := kind + ": " + tbl.ID + "." + d.Name + " row " + strconv.Itoa(r)
					if d.Type == TypeInt || d.Type == TypeFloat {
						if c.Val.Kind == ValText {
							_, err := strconv.ParseFloat(strings.NewReplacer(",", "", "%", "", "$", "").Replace(c.Text), 64)
							assert.Error(t, err, "%s: the number %q is text, so machines lose it", where, c.Text)
						}
						if d.Type == TypeInt && c.Val.Kind == ValFloat {
							assert.Equal(t, math.Trunc(c.Val.F), c.Val.F, "%s: a count with a fraction", where)
						}
					}
					if c.Val.Kind == ValText || c.Val.Unit == "" || d.Type == TypeText {
						continue
					}
					switch d.Unit {
					case UnitPerRow:
						if assert.GreaterOrEqual(t, unitCol, 0, "%s: a per-row unit needs a unit column", where) {
							assert.Equal(t, row[unitCol].Text, c.Val.Unit, where)
						}
					case "count", "id":
						assert.Equal(t, "count", c.Val.Unit, where)
					default:
						assert.Equal(t, d.Unit, c.Val.Unit, where)
					}
				}
			}
		}
	}
}

// arrowType is the Arrow type a machine column reads back as.
func arrowType(ct ColumnType) arrow.DataType {
	switch ct {
	case TypeInt:
		return arrow.PrimitiveTypes.Int64
	case TypeFloat:
		return arrow.PrimitiveTypes.Float64
	case TypeDate:
		return arrow.FixedWidthTypes.Date32
	}
	return arrow.BinaryTypes.String
}

// TestTablesReadBackWithArrow writes every fixture document as CSV and
// Parquet and reads both back with Apache Arrow (tabletest.ReadDir: names,
// CSV type inference, CSV and Parquet agree). Each column has its
// registered Arrow type (int64 counts, float64 measures, string text), a
// null exactly where the cell has no value (undefined, a placeholder, an
// empty text), and the cell's value: its count, its number in full
// precision, its interval's bounds.
func TestTablesReadBackWithArrow(t *testing.T) {
	for kind, doc := range fixtureDocuments(t) {
		dir := t.TempDir()
		_, err := doc.Write(dir, []string{FormatCSV, FormatParquet})
		require.NoError(t, err, kind)
		read := tabletest.ReadDir(t, dir)
		require.Len(t, read, len(doc.Tables()), kind)
		for _, tbl := range doc.Tables() {
			rt := read[tbl.ID]
			require.NotNil(t, rt, "%s: %s", kind, tbl.ID)
			require.Equal(t, len(tbl.Rows), rt.Rows)
			fields := tbl.Fields()
			require.Len(t, rt.Columns, len(fields), "%s: %s", kind, tbl.ID)
			if kind == "sim" && tbl.ID == "strategies" {
				t.Logf("strategies.parquet as Arrow reads it:\n%s", rt.Schema())
			}
			for j, f := range fields {
				col := rt.Columns[j]
				where := kind + ": " + tbl.ID + "." + f.Name
				require.Equal(t, f.Name, col.Name, where)
				assert.True(t, arrow.TypeEqual(arrowType(f.Type), col.Type), "%s: Arrow reads %s, registered %s", where, col.Type, f.Type)
				nulls := 0
				for r, row := range tbl.Rows {
					want := expectedValue(row, f)
					if want == nil {
						nulls++
					}
					got := col.Values[r]
					if d, ok := got.(arrow.Date32); ok {
						got = d.ToTime().Format(time.DateOnly)
					}
					assert.Equal(t, want, got, "%s row %d", where, r)
				}
				assert.Equal(t, nulls, col.Nulls, "%s: nulls are the missing cells", where)
			}
		}
		assertTypes(t, kind, read)
	}
}

// expectedValue is what a field should hold for a row, from the cell alone.
func expectedValue(row []Cell, f Field) any {
	if f.col >= len(row) {
		return nil
	}
	c := row[f.col]
	v := c.Val
	finite := func(x float64) any {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	}
	if f.part != partValue {
		if !v.Bounded {
			return nil
		}
		if f.part == partLow {
			return finite(v.Lo)
		}
		return finite(v.Hi)
	}
	switch {
	case v.Kind == ValNull:
		return nil
	case f.Type == TypeInt && v.Kind == ValInt:
		return v.I
	case f.Type == TypeInt && v.Kind == ValFloat:
		return int64(v.F)
	case f.Type == TypeFloat && v.Kind == ValInt:
		return float64(v.I)
	case f.Type == TypeFloat && v.Kind == ValFloat:
		return finite(v.F)
	case f.Type == TypeText && v.Kind == ValInt:
		return strconv.FormatInt(v.I, 10)
	case f.Type == TypeText && v.Kind == ValFloat:
		return formatFloat(v.F)
	case v.Kind == ValText && (f.Type == TypeText || f.Type == TypeDate) && c.Text != "" && c.Text != "-":
		return c.Text
	}
	return nil
}

// assertTypes spot-checks columns an analyst reaches for first.
func assertTypes(t *testing.T, kind string, read map[string]*tabletest.Table) {
	want := map[string]map[string]arrow.DataType{
		"sim": {
			"strategies.requests": arrow.PrimitiveTypes.Int64, "strategies.ttft_p99_s": arrow.PrimitiveTypes.Float64,
			"strategies.ttft_p99_s_ci95_low": arrow.PrimitiveTypes.Float64, "strategies.cost_per_successful_request_usd": arrow.PrimitiveTypes.Float64,
			"strategies.completed_fraction": arrow.PrimitiveTypes.Float64, "request-outcomes.completed_requests": arrow.PrimitiveTypes.Int64,
			"deployments.completed_attempts": arrow.PrimitiveTypes.Int64, "vs-baseline.difference_vs_baseline_ci95_high": arrow.PrimitiveTypes.Float64,
			"concentration.cr1_fraction": arrow.PrimitiveTypes.Float64, "fault-impact.window_start_s": arrow.PrimitiveTypes.Float64,
			"exit.exit_time_s": arrow.PrimitiveTypes.Float64, "exit-reference.case": arrow.BinaryTypes.String,
			"prices-used.price_value_as_of": arrow.FixedWidthTypes.Date32,
		},
		"compare": {"side-by-side.a_value": arrow.PrimitiveTypes.Float64, "differences.b_minus_a_ci95_low": arrow.PrimitiveTypes.Float64},
		"twin":    {"twin-metrics.predicted_mean_ci95_low": arrow.PrimitiveTypes.Float64, "twin-residuals.p99_s": arrow.PrimitiveTypes.Float64},
	}[kind]
	for k, typ := range want {
		id, name, _ := strings.Cut(k, ".")
		tbl := read[id]
		if !assert.NotNil(t, tbl, "%s: no table %s", kind, id) {
			continue
		}
		c := tbl.Column(name)
		if assert.NotNil(t, c, "%s: no column %s", kind, k) {
			assert.True(t, arrow.TypeEqual(typ, c.Type), "%s: %s is %s", kind, k, c.Type)
			assert.Less(t, c.Nulls, tbl.Rows, "%s: %s has values", kind, k)
		}
	}
}

// TestDataDictionary: the dictionary written next to the CSV tables, and
// the report's appendix, describe every machine column of every table.
func TestDataDictionary(t *testing.T) {
	_, doc := demoDocument(t)
	dir := t.TempDir()
	files, err := doc.Write(dir, []string{FormatCSV, FormatHTML, FormatMarkdown})
	require.NoError(t, err)
	path := filepath.Join(dir, "csv", DictionaryFile)
	require.Contains(t, files, path)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(html), `id="data-dictionary"`)
	entries := doc.Dictionary()
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name] = true
		assert.NotEmpty(t, e.Meaning, e.Name)
		assert.Contains(t, string(b), "| `"+e.Name+"` | "+e.Type+" | "+mdCell(e.Unit)+" | ", e.Name)
		assert.Contains(t, string(html), "<td>"+e.Name+"</td>", e.Name)
		assert.Contains(t, string(md), "| "+mdCell(e.Name)+" |", e.Name)
	}
	for _, tbl := range doc.Tables() {
		for _, f := range tbl.Fields() {
			assert.True(t, names[f.Name], "%s.%s is not in the dictionary", tbl.ID, f.Name)
			i := slices.IndexFunc(entries, func(e DictionaryEntry) bool { return e.Name == f.Name })
			assert.Contains(t, entries[i].Tables, tbl.ID, f.Name)
		}
	}
	// One meaning per name: the same name in several tables is one entry.
	i := slices.IndexFunc(entries, func(e DictionaryEntry) bool { return e.Name == "requests" })
	require.GreaterOrEqual(t, i, 0)
	assert.Subset(t, entries[i].Tables, []string{"strategies", "request-outcomes", "classes"})
	assert.Equal(t, "int64", entries[i].Type)
}
