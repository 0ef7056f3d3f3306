package reports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openParquet opens a Parquet file held in memory.
func openParquet(t testing.TB, b []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	return f
}

// colSchema is a column as a test expects it: name, physical type, whether
// it has the STRING logical type and whether it is optional.
type colSchema struct {
	Name     string
	Kind     parquet.Kind
	String   bool
	Optional bool
}

func schemaOfFile(f *parquet.File) []colSchema {
	var out []colSchema
	for _, fl := range f.Schema().Fields() {
		lt := fl.Type().LogicalType()
		isString := false
		if lt != nil {
			_, isString = lt.Value.(*format.StringType)
		}
		out = append(out, colSchema{
			Name:     fl.Name(),
			Kind:     fl.Type().Kind(),
			String:   isString,
			Optional: fl.Optional(),
		})
	}
	return out
}

// readRows reads every row of the file with the generic Rows API.
func readRows(t testing.TB, f *parquet.File) []parquet.Row {
	t.Helper()
	var out []parquet.Row
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 16)
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				out = append(out, r.Clone())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
		}
		require.NoError(t, rows.Close())
	}
	return out
}

// TestSnakeCase: an unregistered column is named after its label.
func TestSnakeCase(t *testing.T) {
	for label, want := range map[string]string{
		"TTFT p99": "ttft_p99", "attempts / request": "attempts_per_request", "throughput (req/s)": "throughput_req_per_s",
		"B − A [95% CI]": "b_minus_a_95_pct_ci", "ΔHHI vs azure-failover": "delta_hhi_vs_azure_failover", "exposed share π": "exposed_share_pi",
		"providers in ≥2 layers": "providers_in_ge_2_layers", "convention?": "convention", "-": "", "firstTokenNS": "first_token_ns", "  Spaced   Out  ": "spaced_out",
	} {
		assert.Equal(t, want, snakeCase(label), label)
	}
}

// TestTableParquetRoundTrip: a table written as Parquet reads back with
// its machine columns in order, typed INT64, DOUBLE or STRING, an interval
// as point and bounds, and its values and nulls.
func TestTableParquetRoundTrip(t *testing.T) {
	iv := results.Interval{Mean: 0.25, Lo: 0.2, Hi: 0.3, N: 3}
	tbl := &Table{
		ID: "latency", Title: "Latency",
		Columns: []string{"strategy", "requests", "TTFT p99", "SLO TTFT", "fault", "some new thing"},
		Rows: [][]Cell{
			{txt("azure"), intc(1200), ivc(iv, secs), sloc(1.5), txt("ok"), numc(7, 0)},
			// A NaN statistic ("-") and no objective ("none") are nulls in a
			// numeric column; an empty text is a null string.
			{txt("bedrock"), intc(-3), secc(math.NaN()), sloc(0), txt(""), numc(2.5, 1)},
			// A short row: the missing cells are nulls.
			{txt("split"), intc(0)},
			// Text in a numeric column is a placeholder: null. ∞ is null.
			{txt("=1+1"), nac("n/a"), secc(math.Inf(1)), txt("none"), txt("-"), nac("-")},
		},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteTableParquet(&buf, tbl))
	f := openParquet(t, buf.Bytes())

	assert.Equal(t, []colSchema{
		{"strategy", parquet.ByteArray, true, true},
		{"requests", parquet.Int64, false, true},
		{"ttft_p99_s", parquet.Double, false, true},
		{"ttft_p99_s_ci95_low", parquet.Double, false, true},
		{"ttft_p99_s_ci95_high", parquet.Double, false, true},
		{"slo_ttft_s", parquet.Double, false, true},
		{"fault", parquet.ByteArray, true, true},
		{"some_new_thing", parquet.Double, false, true},
	}, schemaOfFile(f))
	title, ok := f.Lookup("title")
	assert.True(t, ok)
	assert.Equal(t, "Latency", title)
	labels, _ := f.Lookup("labels")
	assert.Contains(t, labels, `"ttft_p99_s_ci95_low":"TTFT p99"`)
	units, _ := f.Lookup("units")
	assert.Contains(t, units, `"requests":"count"`)

	// nil stands for null.
	want := [][]any{
		{"azure", int64(1200), 0.25, 0.2, 0.3, 1.5, "ok", 7.0},
		{"bedrock", int64(-3), nil, nil, nil, nil, nil, 2.5},
		{"split", int64(0), nil, nil, nil, nil, nil, nil},
		{"=1+1", nil, nil, nil, nil, nil, nil, nil},
	}
	rows := readRows(t, f)
	require.Len(t, rows, len(want))
	for i, r := range rows {
		require.Len(t, r, len(want[i]))
		for j, v := range r {
			assert.Equal(t, j, v.Column())
			switch w := want[i][j].(type) {
			case nil:
				assert.True(t, v.IsNull(), "row %d column %d: %v is not null", i, j, v)
			case string:
				assert.Equal(t, w, v.String(), "row %d column %d", i, j)
			case int64:
				assert.Equal(t, w, v.Int64(), "row %d column %d", i, j)
			case float64:
				assert.Equal(t, w, v.Double(), "row %d column %d", i, j)
			}
		}
	}

	// The generic reader maps columns to a Go struct by name; nulls are nil.
	type latencyRow struct {
		Strategy *string  `parquet:"strategy,optional"`
		TTFT     *float64 `parquet:"ttft_p99_s,optional"`
		Requests *int64   `parquet:"requests,optional"`
	}
	typed, err := parquet.Read[latencyRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Len(t, typed, 4)
	assert.Equal(t, "bedrock", *typed[1].Strategy)
	assert.Equal(t, int64(-3), *typed[1].Requests)
	assert.Nil(t, typed[1].TTFT)
	assert.Equal(t, 0.25, *typed[0].TTFT)

	var csvOut bytes.Buffer
	require.NoError(t, WriteCSV(&csvOut, tbl))
	assert.Equal(t, "strategy,requests,ttft_p99_s,ttft_p99_s_ci95_low,ttft_p99_s_ci95_high,slo_ttft_s,fault,some_new_thing\n"+
		"azure,1200,0.25,0.2,0.3,1.5,ok,7.0\n"+
		"bedrock,-3,,,,,,2.5\n"+
		"split,0,,,,,,\n"+
		"'=1+1,,,,,,,\n", csvOut.String())
}

func TestEmptyTableParquet(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteTableParquet(&buf, &Table{ID: "none", Columns: []string{"a", "b"}}))
	f := openParquet(t, buf.Bytes())
	assert.Equal(t, int64(0), f.NumRows())
	assert.Len(t, f.Schema().Fields(), 2)
}

func sampleOutcomes() []results.Outcome {
	return []results.Outcome{
		{Kind: results.KindAttempt, Replication: 0, RequestID: 1, Attempt: 1, Class: "chat", Strategy: "azure-failover",
			Provider: "azure", Region: "eastus2", Deployment: "gpt-eastus2", Intended: 10, Sent: 12, FirstByte: 1_000_000,
			FirstToken: 2_000_000, Done: 9_000_000, Queued: 5, InputTokens: 800, OutputTokens: 200, Status: results.StatusOK,
			CrossCloudBytes: 0, CostUSD: 0.00123},
		{Kind: results.KindAttempt, Replication: 2, RequestID: 2, Attempt: 1, Class: "batch", Strategy: "azure-failover",
			Provider: "azure", Region: "eastus2", Deployment: "gpt-eastus2", Intended: 20, Sent: 21, FirstByte: 30,
			Done: 40, InputTokens: 100, Status: results.StatusThrottled, ErrorClass: "quota_tokens"},
		{Kind: results.KindRequest, Replication: 2, RequestID: math.MaxInt64, Attempt: 3, Class: "batch", Strategy: "azure-bedrock-split",
			Provider: "aws", Region: "us-east-1", Deployment: "claude-use1", Intended: -1, Sent: 1 << 62, Done: 1 << 62,
			InputTokens: math.MaxInt32, OutputTokens: -1, Status: results.StatusTimedOut, ErrorClass: "client_timeout",
			CrossCloudBytes: 1 << 40, CostUSD: 1e-12},
		{Kind: results.KindRequest, RequestID: 4, Status: results.StatusClientError, CostUSD: 12.5},
	}
}

func outcomeCSV(t testing.TB, recs []results.Outcome) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := results.NewOutcomeWriter(&buf, true)
	require.NoError(t, err)
	for i := range recs {
		require.NoError(t, w.Write(&recs[i]))
	}
	require.NoError(t, w.Flush())
	return buf.Bytes()
}

// TestOutcomesParquetRoundTrip: outcomes.csv converted to Parquet has one
// typed column per Outcome field, named and ordered as the CSV, and the
// same values.
func TestOutcomesParquetRoundTrip(t *testing.T) {
	recs := sampleOutcomes()
	var buf bytes.Buffer
	n, err := ConvertOutcomesCSV(&buf, bytes.NewReader(outcomeCSV(t, recs)), "outcomes.csv", 0)
	require.NoError(t, err)
	assert.Equal(t, int64(len(recs)), n)
	f := openParquet(t, buf.Bytes())

	str := func(name string) colSchema { return colSchema{name, parquet.ByteArray, true, false} }
	i64 := func(name string) colSchema { return colSchema{name, parquet.Int64, false, false} }
	assert.Equal(t, []colSchema{
		str("kind"), i64("replication"), i64("request_id"), i64("attempt"),
		str("class"), str("strategy"), str("provider"), str("region"), str("deployment"),
		i64("intended_ns"), i64("sent_ns"), i64("first_byte_ns"), i64("first_token_ns"), i64("done_ns"), i64("queued_ns"),
		i64("input_tokens"), i64("output_tokens"), str("status"), str("error_class"), i64("cross_cloud_bytes"),
		{"cost_usd", parquet.Double, false, false}, i64("lag_ns"),
	}, schemaOfFile(f))
	var names []string
	for _, c := range schemaOfFile(f) {
		names = append(names, c.Name)
	}
	assert.Equal(t, results.OutcomeHeader, names, "the Parquet columns are the CSV's")
	assert.Equal(t, reflect.TypeFor[results.Outcome]().NumField(), len(names), "one column per Outcome field")

	got, err := parquet.Read[OutcomeRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Len(t, got, len(recs))
	for i := range recs {
		assert.Equal(t, NewOutcomeRow(&recs[i]), got[i], "record %d", i)
	}
	assert.Equal(t, OutcomeRow{
		Kind: "request", Replication: 2, RequestID: math.MaxInt64, Attempt: 3, Class: "batch", Strategy: "azure-bedrock-split",
		Provider: "aws", Region: "us-east-1", Deployment: "claude-use1", IntendedNS: -1, SentNS: 1 << 62, DoneNS: 1 << 62,
		InputTokens: math.MaxInt32, OutputTokens: -1, Status: "timed_out", ErrorClass: "client_timeout",
		CrossCloudBytes: 1 << 40, CostUSD: 1e-12,
	}, got[2])
	assert.Equal(t, "client_error", got[3].Status)

	// The generic Rows API sees the same values without the Go type.
	rows := readRows(t, f)
	require.Len(t, rows, len(recs))
	assert.Equal(t, "attempt", rows[1][0].String())
	assert.Equal(t, int64(2), rows[1][1].Int64())
	assert.Equal(t, "throttled", rows[1][17].String())
	assert.Equal(t, "quota_tokens", rows[1][18].String())
	assert.Equal(t, 0.00123, rows[0][20].Double())
}

func TestConvertOutcomesCSVErrors(t *testing.T) {
	_, err := ConvertOutcomesCSV(io.Discard, bytes.NewReader([]byte("kind,replication\n")), "outcomes.csv", 0)
	assert.ErrorContains(t, err, "outcomes.csv:1: request_id: the header has no such column")

	bad := outcomeCSV(t, sampleOutcomes())
	bad = append(bad, []byte("attempt,x,1,1,c,s,p,r,d,0,0,0,0,0,0,0,0,ok,,0,0,0\n")...)
	n, err := ConvertOutcomesCSV(io.Discard, bytes.NewReader(bad), "outcomes.csv", 0)
	assert.ErrorContains(t, err, "outcomes.csv:6:9: replication: ") // the bad field starts at byte 9
	assert.Equal(t, int64(4), n)

	// A failed conversion leaves no file behind.
	dir := t.TempDir()
	in := filepath.Join(dir, "outcomes.csv")
	require.NoError(t, os.WriteFile(in, bad, 0o644))
	out := filepath.Join(dir, "outcomes.parquet")
	_, err = ConvertOutcomesFile(out, in)
	assert.ErrorContains(t, err, in)
	assert.NoFileExists(t, out)
}

// streamedOutcome is record i of the streaming test: every field derived
// from i, so the reader can check each row without the writer's copy.
func streamedOutcome(i int) results.Outcome {
	o := results.Outcome{
		Kind: results.Kind(i % 2), Replication: int32(i % 5), RequestID: uint64(i), Attempt: int32(1 + i%3),
		Class: "chat", Strategy: fmt.Sprintf("s%d", i%3), Provider: "azure", Region: "eastus2", Deployment: fmt.Sprintf("d%d", i%7),
		Intended: int64(i) * 1000, Sent: int64(i)*1000 + 7, FirstByte: int64(i)*1000 + 100, FirstToken: int64(i)*1000 + 200,
		Done: int64(i)*1000 + 900, Queued: int64(i % 11), InputTokens: int32(i % 4096), OutputTokens: int32(i % 512),
		Status: results.Status(i % 6), CrossCloudBytes: int64(i % 13), CostUSD: float64(i) / 1e6,
	}
	if o.Status != results.StatusOK {
		o.ErrorClass = "e" + o.Status.String()
	}
	return o
}

// countingWriter records how many records the producer had written when
// the Parquet writer first wrote past the file header: a streaming writer
// flushes its first row group long before the input ends.
type countingWriter struct {
	n        int64
	produced *atomic.Int64
	firstAt  int64
	buf      bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.firstAt == 0 && w.n > 4 {
		w.firstAt = w.produced.Load()
	}
	return w.buf.Write(p)
}

// TestOutcomesParquetStreams converts 200k records fed through a pipe: the
// writer emits a row group every 50k records, while the input is still
// being produced, and every row reads back.
func TestOutcomesParquetStreams(t *testing.T) {
	const total, perGroup = 200_000, 50_000
	var produced atomic.Int64
	pr, pw := io.Pipe()
	go func() {
		w, err := results.NewOutcomeWriter(pw, true)
		for i := 0; i < total && err == nil; i++ {
			o := streamedOutcome(i)
			err = w.Write(&o)
			produced.Add(1)
		}
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
	}()
	out := &countingWriter{produced: &produced}
	n, err := ConvertOutcomesCSV(out, pr, "outcomes.csv", perGroup)
	require.NoError(t, err)
	require.Equal(t, int64(total), n)
	assert.Less(t, out.firstAt, int64(total/2), "the first row group is written while the input is still streaming")

	f := openParquet(t, out.buf.Bytes())
	assert.Equal(t, int64(total), f.NumRows())
	require.Len(t, f.RowGroups(), total/perGroup)
	for _, rg := range f.RowGroups() {
		assert.Equal(t, int64(perGroup), rg.NumRows())
	}

	r := parquet.NewGenericReader[OutcomeRow](f)
	defer r.Close()
	batch := make([]OutcomeRow, 4096)
	i := 0
	for {
		k, err := r.Read(batch)
		for _, got := range batch[:k] {
			want := streamedOutcome(i)
			if w := NewOutcomeRow(&want); got != w {
				require.Equal(t, w, got, "row %d", i)
			}
			i++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, total, i)
}

// TestDocumentWritesParquet: the parquet format writes one file per table
// and outcomes.parquet with every record of outcomes.csv.
func TestDocumentWritesParquet(t *testing.T) {
	an, doc := demoDocument(t)
	require.NotEmpty(t, doc.OutcomesCSV)
	dir := t.TempDir()
	files, err := doc.Write(dir, []string{FormatParquet})
	require.NoError(t, err)
	tables := doc.Tables()
	require.NotEmpty(t, tables)
	assert.Len(t, files, len(tables)+2, "the tables, DICTIONARY.md and outcomes.parquet")
	assert.Contains(t, files, filepath.Join(dir, ParquetDir, DictionaryFile))
	for _, tbl := range tables {
		path := filepath.Join(dir, ParquetDir, tbl.ID+".parquet")
		assert.Contains(t, files, path)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		f := openParquet(t, b)
		assert.Equal(t, int64(len(tbl.Rows)), f.NumRows(), tbl.ID)
		var names []string
		for _, fl := range tbl.Fields() {
			names = append(names, fl.Name)
		}
		assert.Equal(t, names, fieldNames(f), tbl.ID)
	}
	// The strategies table's numbers are numbers.
	b, err := os.ReadFile(filepath.Join(dir, ParquetDir, "strategies.parquet"))
	require.NoError(t, err)
	for _, c := range schemaOfFile(openParquet(t, b)) {
		if c.Name == "requests" {
			assert.Equal(t, parquet.Int64, c.Kind)
		}
		if c.Name == "strategy" {
			assert.True(t, c.String)
		}
	}

	path := filepath.Join(dir, ParquetDir, OutcomesParquetFile)
	assert.Contains(t, files, path)
	csvFile, err := os.Open(filepath.Join(an.Run.Dir, results.OutcomesFile))
	require.NoError(t, err)
	defer csvFile.Close()
	recs, err := csv.NewReader(csvFile).ReadAll()
	require.NoError(t, err)
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, int64(len(recs)-1), openParquet(t, b).NumRows())

	// A table named like the outcomes file is refused rather than lost.
	doc.Sections[0].Blocks = append(doc.Sections[0].Blocks, Block{Table: &Table{ID: "outcomes", Columns: []string{"a"}}})
	_, err = doc.Write(t.TempDir(), []string{FormatParquet})
	assert.ErrorContains(t, err, "would overwrite outcomes.parquet")
}

func fieldNames(f *parquet.File) []string {
	var out []string
	for _, fl := range f.Schema().Fields() {
		out = append(out, fl.Name())
	}
	return out
}

// BenchmarkConvertOutcomes100k measures outcomes.csv → outcomes.parquet.
func BenchmarkConvertOutcomes100k(b *testing.B) {
	recs := make([]results.Outcome, 100_000)
	for i := range recs {
		recs[i] = streamedOutcome(i)
	}
	in := outcomeCSV(b, recs)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ConvertOutcomesCSV(io.Discard, bytes.NewReader(in), "outcomes.csv", 0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOrderedGroup: the schema root keeps its columns' order, where
// parquet.Group would sort them.
func TestOrderedGroup(t *testing.T) {
	g := orderedGroup{
		&namedNode{Node: parquet.Optional(parquet.String()), name: "z"},
		&namedNode{Node: parquet.Optional(parquet.Leaf(parquet.DoubleType)), name: "a"},
	}
	assert.Equal(t, "message {\n\toptional binary z (STRING);\n\toptional double a;\n}", g.String())
	assert.False(t, g.Leaf())
	assert.Equal(t, 2, g.GoType().NumField())
	sorted := parquet.Group{"z": parquet.Optional(parquet.String()), "a": parquet.Optional(parquet.Leaf(parquet.DoubleType))}
	assert.Equal(t, "a", sorted.Fields()[0].Name(), "parquet.Group sorts by name")
	assert.True(t, parquet.SameNodes(g, sorted))
	assert.False(t, parquet.EqualNodes(g, sorted))
}
