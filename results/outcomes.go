package results

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
)

// OutcomeHeader names the columns of outcomes.csv, in order.
var OutcomeHeader = []string{
	"kind", "replication", "request_id", "attempt", "class", "strategy", "provider", "region", "deployment",
	"intended_ns", "sent_ns", "first_byte_ns", "first_token_ns", "done_ns", "queued_ns",
	"input_tokens", "output_tokens", "status", "error_class", "cross_cloud_bytes", "cost_usd", "lag_ns",
}

// outcomeSince11 are the columns schema 1.0 did not have: a reader fills
// them with their "unknown" value when a file lacks them.
var outcomeSince11 = map[string]bool{"lag_ns": true}

// OutcomeWriter writes outcome records as CSV. It reuses one row buffer,
// so writing a record allocates only what strconv must.
type OutcomeWriter struct {
	bw  *bufio.Writer
	w   *csv.Writer
	row []string
}

// NewOutcomeWriter returns a writer that writes the header first when
// header is true (part files have none: Parts.Merge writes one).
func NewOutcomeWriter(w io.Writer, header bool) (*OutcomeWriter, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := &OutcomeWriter{bw: bw, w: csv.NewWriter(bw), row: make([]string, len(OutcomeHeader))}
	if header {
		if err := cw.w.Write(OutcomeHeader); err != nil {
			return nil, err
		}
	}
	return cw, nil
}

// Write appends one record.
func (c *OutcomeWriter) Write(o *Outcome) error {
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
	r[21] = i64(o.Lag)
	return c.w.Write(r)
}

// Flush writes buffered rows to the underlying writer.
func (c *OutcomeWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// ReadOutcomes calls fn for every record of an outcomes.csv written by
// OutcomeWriter; the record is reused between calls. name is the file's
// name for error messages, which give its line and column. Columns are
// found by name, so extra columns (a newer minor layout) are ignored and a
// missing one is an error.
func ReadOutcomes(r io.Reader, name string, fn func(*Outcome) error) error {
	var o Outcome
	return readCSV(r, name, OutcomeHeader, outcomeSince11, func(row csvRow) error {
		o = Outcome{}
		switch k := row.str("kind"); k {
		case "attempt":
			o.Kind = KindAttempt
		case "request":
			o.Kind = KindRequest
		default:
			row.fail("kind", "%q is neither attempt nor request", k)
		}
		o.Replication = int32(row.int("replication", 32))
		o.RequestID = row.uint("request_id")
		o.Attempt = int32(row.int("attempt", 32))
		o.Class, o.Strategy, o.Provider, o.Region, o.Deployment = row.str("class"), row.str("strategy"), row.str("provider"), row.str("region"), row.str("deployment")
		o.Intended, o.Sent, o.FirstByte = row.int("intended_ns", 64), row.int("sent_ns", 64), row.int("first_byte_ns", 64)
		o.FirstToken, o.Done, o.Queued = row.int("first_token_ns", 64), row.int("done_ns", 64), row.int("queued_ns", 64)
		o.InputTokens, o.OutputTokens = int32(row.int("input_tokens", 32)), int32(row.int("output_tokens", 32))
		o.Status, o.ErrorClass = row.status("status"), row.str("error_class")
		o.CrossCloudBytes = row.int("cross_cloud_bytes", 64)
		o.CostUSD = row.float("cost_usd")
		o.Lag = -1
		if row.has("lag_ns") {
			o.Lag = row.int("lag_ns", 64)
		}
		if row.err != nil {
			return row.err
		}
		return fn(&o)
	})
}
