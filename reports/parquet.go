package reports

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/mcbench/mcbench/results"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// Parquet output: every table of a document as one Parquet file, and the
// run's outcome records as parquet/outcomes.parquet, for notebooks
// (pandas.read_parquet, polars, DuckDB, Spark) that want typed columns
// rather than CSV text.

// ParquetDir is the folder of a report directory that holds the Parquet files.
const ParquetDir = "parquet"

// OutcomesParquetFile is the name of the outcome records' Parquet file in
// ParquetDir (Document.Write refuses a table with the ID "outcomes").
const OutcomesParquetFile = "outcomes.parquet"

// DefaultOutcomeRowGroupRows is the number of outcome records per Parquet row
// group, the row-group size pyarrow writes by default. The writer holds one
// row group's compressed pages in memory (about 15 MB for a million records),
// so its memory does not grow with the number of records.
const DefaultOutcomeRowGroupRows = 1 << 20

// parquetCompression is the codec of every column: zstd is read by pyarrow
// (pandas), polars, DuckDB and Spark, and shrinks the outcome records to a
// fraction of their CSV size.
var parquetCompression = &parquet.Zstd

// WriteTableParquet writes one table as a Parquet file with one optional
// column per machine column (Table.Fields), in order: INT64 for counts,
// DOUBLE for measures, STRING for text, DATE for dates; a missing value is
// null. The table's title, its display labels and each column's unit are
// kept in the file's key/value metadata ("title", "labels", "units": JSON
// objects keyed by column name).
func WriteTableParquet(w io.Writer, t *Table) error {
	fields := t.Fields()
	cols := make(orderedGroup, len(fields))
	labels, units := map[string]string{}, map[string]string{}
	for i, f := range fields {
		var leaf parquet.Node
		switch f.Type {
		case TypeInt:
			leaf = parquet.Int(64)
		case TypeFloat:
			leaf = parquet.Leaf(parquet.DoubleType)
		case TypeDate:
			leaf = parquet.Date()
		default:
			leaf = parquet.String()
		}
		cols[i] = &namedNode{Node: parquet.Optional(leaf), name: f.Name}
		labels[f.Name] = f.Label
		if f.Unit != "" {
			units[f.Name] = f.Unit
		}
	}
	lj, err := json.Marshal(labels)
	if err != nil {
		return err
	}
	uj, err := json.Marshal(units)
	if err != nil {
		return err
	}
	pw := parquet.NewWriter(w,
		parquet.NewSchema(t.ID, cols),
		parquet.Compression(parquetCompression),
		parquet.KeyValueMetadata("title", t.Title),
		parquet.KeyValueMetadata("labels", string(lj)),
		parquet.KeyValueMetadata("units", string(uj)),
	)
	rows := make([]parquet.Row, 0, len(t.Rows))
	for _, r := range t.Rows {
		row := make(parquet.Row, len(fields))
		for i := range fields {
			row[i] = parquet.NullValue().Level(0, 0, i)
			if fields[i].col >= len(r) {
				continue
			}
			switch v := fields[i].machine(r[fields[i].col]).(type) {
			case int64:
				row[i] = parquet.Int64Value(v).Level(0, 1, i)
			case float64:
				row[i] = parquet.DoubleValue(v).Level(0, 1, i)
			case string:
				if fields[i].Type == TypeDate {
					d, _ := time.Parse(time.DateOnly, v)
					row[i] = parquet.Int32Value(int32(d.Unix()/86400)).Level(0, 1, i)
				} else {
					row[i] = parquet.ByteArrayValue([]byte(v)).Level(0, 1, i)
				}
			}
		}
		rows = append(rows, row)
	}
	if _, err := pw.WriteRows(rows); err != nil {
		return err
	}
	return pw.Close()
}

var spelled = map[rune]string{
	'/': "per", '%': "pct", 'Δ': "delta", 'π': "pi", '−': "minus", '≥': "ge", '≤': "le",
	'–': "to", '±': "pm", '#': "n", '$': "usd", '€': "eur", '&': "and", '+': "plus", 'µ': "u",
}

// snakeCase names an unregistered column after its label: lower case,
// words joined by "_", "/" read as "per", "%" as "pct", a few symbols
// spelled out ("Δ" delta, "π" pi, "−" minus, "≥" ge, "–" to), other
// punctuation dropped.
func snakeCase(s string) string {
	var words []string
	var cur []rune
	end := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range s {
		switch {
		case spelled[r] != "":
			end()
			words = append(words, spelled[r])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			// A lower-case letter followed by an upper-case one starts a
			// new word (camelCase → camel_case).
			if unicode.IsUpper(r) && unicode.IsLower(prev) {
				end()
			}
			cur = append(cur, unicode.ToLower(r))
		default:
			end()
		}
		prev = r
	}
	end()
	return strings.Join(words, "_")
}

// orderedGroup is the root of a table's Parquet schema. parquet.Group is a
// map and sorts its fields by name, which would shuffle a table's columns;
// this group keeps them in the table's order.
type orderedGroup []parquet.Field

// namedNode is a column of an orderedGroup.
type namedNode struct {
	parquet.Node
	name string
}

func (n *namedNode) Name() string { return n.name }

// Value is only used to write Go values through reflection, which tables
// never are (they write parquet.Rows); a map keyed by column name works.
func (n *namedNode) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(n.name))
	}
	return reflect.Value{}
}

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return parquet.NewSchema("", g).String() }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }

// GoType is the struct type parquet.Group gives the same columns.
func (g orderedGroup) GoType() reflect.Type {
	grp := make(parquet.Group, len(g))
	for _, f := range g {
		grp[f.Name()] = f
	}
	return grp.GoType()
}

// OutcomeRow is a results.Outcome as a row of outcomes.parquet: one column
// per field, named as the outcome CSV's columns (results.OutcomeHeader) and in
// the same order, with kind and status as the CSV writes them ("request",
// "timed_out", …), times in nanoseconds from the start of the run (0 on a
// failed record: the event never happened) and error_class "" when there is
// none. Every integer is an INT64 (as the report tables' counts are), so a
// notebook gets one integer type.
type OutcomeRow struct {
	Kind            string  `parquet:"kind,dict"`
	Replication     int64   `parquet:"replication"`
	RequestID       int64   `parquet:"request_id"`
	Attempt         int64   `parquet:"attempt"`
	Class           string  `parquet:"class,dict"`
	Strategy        string  `parquet:"strategy,dict"`
	Provider        string  `parquet:"provider,dict"`
	Region          string  `parquet:"region,dict"`
	Deployment      string  `parquet:"deployment,dict"`
	IntendedNS      int64   `parquet:"intended_ns"`
	SentNS          int64   `parquet:"sent_ns"`
	FirstByteNS     int64   `parquet:"first_byte_ns"`
	FirstTokenNS    int64   `parquet:"first_token_ns"`
	DoneNS          int64   `parquet:"done_ns"`
	QueuedNS        int64   `parquet:"queued_ns"`
	InputTokens     int64   `parquet:"input_tokens"`
	OutputTokens    int64   `parquet:"output_tokens"`
	Status          string  `parquet:"status,dict"`
	ErrorClass      string  `parquet:"error_class,dict"`
	CrossCloudBytes int64   `parquet:"cross_cloud_bytes"`
	CostUSD         float64 `parquet:"cost_usd"`
	LagNS           int64   `parquet:"lag_ns"`
}

// NewOutcomeRow converts an outcome record to its Parquet row.
func NewOutcomeRow(o *results.Outcome) OutcomeRow {
	return OutcomeRow{
		Kind:            o.Kind.String(),
		Replication:     int64(o.Replication),
		RequestID:       int64(o.RequestID),
		Attempt:         int64(o.Attempt),
		Class:           o.Class,
		Strategy:        o.Strategy,
		Provider:        o.Provider,
		Region:          o.Region,
		Deployment:      o.Deployment,
		IntendedNS:      o.Intended,
		SentNS:          o.Sent,
		FirstByteNS:     o.FirstByte,
		FirstTokenNS:    o.FirstToken,
		DoneNS:          o.Done,
		QueuedNS:        o.Queued,
		InputTokens:     int64(o.InputTokens),
		OutputTokens:    int64(o.OutputTokens),
		Status:          o.Status.String(),
		ErrorClass:      o.ErrorClass,
		CrossCloudBytes: o.CrossCloudBytes,
		CostUSD:         o.CostUSD,
		LagNS:           o.Lag,
	}
}

// outcomeBatch is how many rows OutcomeWriter hands parquet-go at once.
const outcomeBatch = 1024

// OutcomeWriter streams outcome records into a Parquet file (the schema of
// OutcomeRow, zstd-compressed). It writes a row group every rowGroupRows
// records, so its memory is bounded by one row group whatever the number of
// records. Close writes the footer; the file is unreadable without it.
type OutcomeWriter struct {
	w     *parquet.GenericWriter[OutcomeRow]
	batch []OutcomeRow
	rows  int64
}

// NewOutcomeWriter returns a writer of outcome records to w, with
// rowGroupRows records per row group (DefaultOutcomeRowGroupRows when
// rowGroupRows <= 0).
func NewOutcomeWriter(w io.Writer, rowGroupRows int64) *OutcomeWriter {
	if rowGroupRows <= 0 {
		rowGroupRows = DefaultOutcomeRowGroupRows
	}
	return &OutcomeWriter{
		w: parquet.NewGenericWriter[OutcomeRow](w,
			parquet.MaxRowsPerRowGroup(rowGroupRows),
			parquet.Compression(parquetCompression),
		),
		batch: make([]OutcomeRow, 0, outcomeBatch),
	}
}

// Write appends one record.
func (w *OutcomeWriter) Write(o *results.Outcome) error {
	w.batch = append(w.batch, NewOutcomeRow(o))
	w.rows++
	if len(w.batch) == cap(w.batch) {
		return w.flushBatch()
	}
	return nil
}

func (w *OutcomeWriter) flushBatch() error {
	if len(w.batch) == 0 {
		return nil
	}
	_, err := w.w.Write(w.batch)
	clear(w.batch)
	w.batch = w.batch[:0]
	return err
}

// Rows is the number of records written so far.
func (w *OutcomeWriter) Rows() int64 { return w.rows }

// Close writes the buffered records and the file footer. It does not close
// the underlying writer.
func (w *OutcomeWriter) Close() error {
	if err := w.flushBatch(); err != nil {
		return err
	}
	return w.w.Close()
}

// ConvertOutcomesCSV streams an outcome CSV (outcomes.csv, as
// results.ReadOutcomes reads it) into a Parquet file written to dst, with
// rowGroupRows records per row group (DefaultOutcomeRowGroupRows when <= 0),
// and returns the number of records. It holds one row group at a time, never
// the whole file.
func ConvertOutcomesCSV(dst io.Writer, src io.Reader, name string, rowGroupRows int64) (int64, error) {
	ow := NewOutcomeWriter(dst, rowGroupRows)
	if err := results.ReadOutcomes(src, name, ow.Write); err != nil {
		return ow.Rows(), err
	}
	return ow.Rows(), ow.Close()
}

// ConvertOutcomesFile converts the outcome CSV at csvPath to a Parquet file at
// parquetPath (see ConvertOutcomesCSV). A file left half-written by an error
// is removed.
func ConvertOutcomesFile(parquetPath, csvPath string) (n int64, err error) {
	in, err := results.OpenRunFile(csvPath)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.Create(parquetPath)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			err = errors.Join(err, os.Remove(parquetPath))
		}
	}()
	bw := bufio.NewWriterSize(out, 1<<20)
	if n, err = ConvertOutcomesCSV(bw, in, csvPath, 0); err != nil {
		return n, err
	}
	return n, bw.Flush()
}
