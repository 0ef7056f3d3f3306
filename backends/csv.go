package backends

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// CSVHeader is the column list of outcome CSV files, in order.
var CSVHeader = []string{
	"kind", "replication", "request_id", "attempt", "class", "strategy", "provider", "region", "deployment",
	"intended_ns", "sent_ns", "first_byte_ns", "first_token_ns", "done_ns", "queued_ns",
	"input_tokens", "output_tokens", "status", "error_class", "cross_cloud_bytes", "cost_usd",
}

// CSVWriter writes outcome records as CSV with a header row. It reuses one
// row buffer, so writing a record allocates only what strconv must.
type CSVWriter struct {
	bw  *bufio.Writer
	w   *csv.Writer
	row []string
}

// NewCSVWriter returns a writer that writes the header first when header is true.
func NewCSVWriter(w io.Writer, header bool) (*CSVWriter, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := &CSVWriter{bw: bw, w: csv.NewWriter(bw), row: make([]string, len(CSVHeader))}
	if header {
		if err := cw.w.Write(CSVHeader); err != nil {
			return nil, err
		}
	}
	return cw, nil
}

// Write appends one record.
func (c *CSVWriter) Write(o *Outcome) error {
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	r := c.row
	r[0] = o.Kind.String()
	r[1] = i64(int64(o.Replication))
	r[2] = strconv.FormatUint(o.RequestID, 10)
	r[3] = i64(int64(o.Attempt))
	r[4], r[5], r[6], r[7], r[8] = o.Class, o.Strategy, o.Provider, o.Region, o.Deployment
	r[9], r[10], r[11], r[12], r[13], r[14] = i64(o.Intended), i64(o.Sent), i64(o.FirstByte), i64(o.FirstToken), i64(o.Done), i64(o.Queued)
	r[15], r[16] = i64(int64(o.InputTokens)), i64(int64(o.OutputTokens))
	r[17], r[18] = o.Status.String(), o.ErrorClass
	r[19] = i64(o.CrossCloudBytes)
	r[20] = strconv.FormatFloat(o.CostUSD, 'g', -1, 64)
	return c.w.Write(r)
}

// Flush writes buffered rows to the underlying writer.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// ReadCSV calls fn for every record of an outcome CSV file written by
// CSVWriter. Errors name the line and the column.
func ReadCSV(r io.Reader, fn func(*Outcome) error) error {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("outcome CSV: reading header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range CSVHeader {
		if _, ok := col[h]; !ok {
			return fmt.Errorf("outcome CSV: header has no column %q", h)
		}
	}
	var o Outcome
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("outcome CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if err := parseRow(rec, col, &o); err != nil {
			return fmt.Errorf("outcome CSV line %d: %w", line, err)
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
}

func parseRow(rec []string, col map[string]int, o *Outcome) error {
	var err error
	get := func(name string) string { return rec[col[name]] }
	i64 := func(name string) int64 {
		if err != nil {
			return 0
		}
		v, e := strconv.ParseInt(get(name), 10, 64)
		if e != nil {
			err = fmt.Errorf("column %s: %q is not an integer", name, get(name))
		}
		return v
	}
	*o = Outcome{}
	switch get("kind") {
	case "attempt":
		o.Kind = KindAttempt
	case "request":
		o.Kind = KindRequest
	default:
		return fmt.Errorf("column kind: %q is neither attempt nor request", get("kind"))
	}
	o.Replication = int32(i64("replication"))
	o.RequestID = uint64(i64("request_id"))
	o.Attempt = int32(i64("attempt"))
	o.Class, o.Strategy, o.Provider, o.Region, o.Deployment = get("class"), get("strategy"), get("provider"), get("region"), get("deployment")
	o.Intended, o.Sent, o.FirstByte = i64("intended_ns"), i64("sent_ns"), i64("first_byte_ns")
	o.FirstToken, o.Done, o.Queued = i64("first_token_ns"), i64("done_ns"), i64("queued_ns")
	o.InputTokens, o.OutputTokens = int32(i64("input_tokens")), int32(i64("output_tokens"))
	o.CrossCloudBytes = i64("cross_cloud_bytes")
	if err != nil {
		return err
	}
	st, ok := ParseStatus(get("status"))
	if !ok {
		return fmt.Errorf("column status: unknown status %q", get("status"))
	}
	o.Status, o.ErrorClass = st, get("error_class")
	if o.CostUSD, err = strconv.ParseFloat(get("cost_usd"), 64); err != nil {
		return fmt.Errorf("column cost_usd: %q is not a number", get("cost_usd"))
	}
	return nil
}
