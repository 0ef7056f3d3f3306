// Package tabletest reads a report's CSV and Parquet tables back with
// Apache Arrow, a reader independent of the writer (parquet-go and
// encoding/csv), for tests: the tables must be what a notebook (pandas,
// polars, DuckDB, Arrow) sees as typed columns. It is imported by tests
// only.
package tabletest

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Column is one column of a table as Arrow read it from the Parquet file.
type Column struct {
	Name string
	Type arrow.DataType
	// Nulls is the number of nulls (the same in the CSV: empty fields).
	Nulls int
	// Values are the rows' values: nil, int64, float64, string, or
	// arrow.Date32.
	Values []any
}

// Table is one table of a report, read back.
type Table struct {
	ID      string
	Rows    int
	Columns []Column
}

// Column returns the named column, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ReadDir reads every table of a report directory written in both the csv
// and parquet formats (csv/ID.csv and parquet/ID.parquet) and checks that:
// column names are snake_case ([a-z0-9_], no spaces, no upper case) and
// unique within a table; every Parquet column is int64, float64, string or
// date32 as Arrow reads it; the CSV has the same header, and Arrow's
// type-inferring CSV reader, given a column's non-empty fields, infers the
// Parquet column's type; the whole CSV reads with that schema ("" as null)
// to the same nulls and values as the Parquet file. It returns the tables
// by ID.
func ReadDir(t testing.TB, dir string) map[string]*Table {
	t.Helper()
	csvs, err := filepath.Glob(filepath.Join(dir, "csv", "*.csv"))
	require.NoError(t, err)
	require.NotEmpty(t, csvs, "no CSV tables in %s", dir)
	out := map[string]*Table{}
	for _, path := range csvs {
		id := strings.TrimSuffix(filepath.Base(path), ".csv")
		tbl := readParquet(t, filepath.Join(dir, "parquet", id+".parquet"))
		tbl.ID = id
		checkCSV(t, path, tbl)
		out[id] = tbl
	}
	return out
}

// readParquet reads a Parquet table with pqarrow and checks its names and
// types.
func readParquet(t testing.TB, path string) *Table {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	at, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(b), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	require.NoError(t, err, path)
	defer at.Release()
	tbl := &Table{Rows: int(at.NumRows())}
	seen := map[string]bool{}
	for i := 0; i < int(at.NumCols()); i++ {
		f := at.Schema().Field(i)
		assert.Regexp(t, nameRE, f.Name, "%s: column name", path)
		assert.False(t, seen[f.Name], "%s: column %s twice", path, f.Name)
		seen[f.Name] = true
		switch f.Type.ID() {
		case arrow.INT64, arrow.FLOAT64, arrow.STRING, arrow.DATE32:
		default:
			t.Errorf("%s: column %s is %s, not int64, float64, string or date32", path, f.Name, f.Type)
		}
		col := Column{Name: f.Name, Type: f.Type}
		for _, ch := range at.Column(i).Data().Chunks() {
			col.Nulls += ch.NullN()
			col.Values = append(col.Values, values(ch)...)
		}
		tbl.Columns = append(tbl.Columns, col)
	}
	return tbl
}

// values returns an Arrow array's values (nil for null).
func values(a arrow.Array) []any {
	out := make([]any, a.Len())
	for i := range out {
		if a.IsNull(i) {
			continue
		}
		switch a := a.(type) {
		case *array.Int64:
			out[i] = a.Value(i)
		case *array.Float64:
			out[i] = a.Value(i)
		case *array.String:
			out[i] = a.Value(i)
		case *array.Date32:
			out[i] = a.Value(i)
		default:
			out[i] = a.ValueStr(i)
		}
	}
	return out
}

// checkCSV reads a CSV table with Arrow and compares it with the Parquet
// table read from the same document.
func checkCSV(t testing.TB, path string, pq *Table) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err, path)
	require.NotEmpty(t, recs, path)
	var names []string
	for _, c := range pq.Columns {
		names = append(names, c.Name)
	}
	require.Equal(t, names, recs[0], "%s: the CSV header is the Parquet schema", path)
	require.Len(t, recs[1:], pq.Rows, path)

	// Inference: Arrow's inferring reader types a column from its first
	// row, then parses every other row as that type; feed it a column's
	// non-empty fields.
	for j, c := range pq.Columns {
		var col bytes.Buffer
		w := csv.NewWriter(&col)
		_ = w.Write([]string{c.Name})
		n := 0
		for _, r := range recs[1:] {
			if r[j] != "" {
				_ = w.Write([]string{r[j]})
				n++
			}
		}
		w.Flush()
		if n == 0 {
			continue
		}
		r := arrowcsv.NewInferringReader(bytes.NewReader(col.Bytes()), arrowcsv.WithHeader(true), arrowcsv.WithChunk(-1), arrowcsv.WithNullReader(true, ""))
		for r.Next() {
		}
		if assert.NoError(t, r.Err(), "%s: column %s does not read as one type", path, c.Name) {
			got := r.Schema().Field(0).Type
			assert.True(t, arrow.TypeEqual(c.Type, got), "%s: Arrow infers column %s as %s, Parquet has %s (first value %q)", path, c.Name, got, c.Type, firstNonEmpty(recs[1:], j))
		}
		r.Release()
	}

	// The whole file with the Parquet schema: every field parses, the
	// empty ones are nulls, and the values are the Parquet file's.
	fields := make([]arrow.Field, len(pq.Columns))
	for i, c := range pq.Columns {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
	}
	r := arrowcsv.NewReader(bytes.NewReader(b), arrow.NewSchema(fields, nil), arrowcsv.WithHeader(true), arrowcsv.WithChunk(-1), arrowcsv.WithNullReader(true, ""))
	defer r.Release()
	got := make([][]any, len(fields))
	nulls := make([]int, len(fields))
	for r.Next() {
		rec := r.RecordBatch()
		for i := range fields {
			nulls[i] += rec.Column(i).NullN()
			got[i] = append(got[i], values(rec.Column(i))...)
		}
	}
	require.NoError(t, r.Err(), path)
	for i, c := range pq.Columns {
		assert.Equal(t, c.Nulls, nulls[i], "%s: nulls of %s in CSV and Parquet", path, c.Name)
		if len(got[i]) != len(c.Values) {
			t.Errorf("%s: %s has %d values in CSV, %d in Parquet", path, c.Name, len(got[i]), len(c.Values))
			continue
		}
		for k, v := range c.Values {
			cv := got[i][k]
			if s, ok := v.(string); ok && cv != v {
				// Text that a spreadsheet would run as a formula is
				// quoted in CSV only.
				assert.Equal(t, "'"+s, cv, "%s: %s row %d", path, c.Name, k)
				assert.True(t, s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])), "%s: %s row %d: %q quoted", path, c.Name, k, s)
				continue
			}
			assert.Equal(t, v, cv, "%s: %s row %d", path, c.Name, k)
		}
	}
}

func firstNonEmpty(rows [][]string, j int) string {
	i := slices.IndexFunc(rows, func(r []string) bool { return r[j] != "" })
	if i < 0 {
		return ""
	}
	return rows[i][j]
}

// ReadParquet reads one Parquet file with pqarrow (outcomes.parquet, say)
// and returns its columns' names and Arrow types.
func ReadParquet(t testing.TB, path string) []arrow.Field {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	at, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(b), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	require.NoError(t, err, path)
	defer at.Release()
	return at.Schema().Fields()
}

// Schema formats a table's columns as "name type" lines, for logs.
func (t *Table) Schema() string {
	var b strings.Builder
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "%s %s (nulls %d)\n", c.Name, c.Type, c.Nulls)
	}
	return b.String()
}
