package results

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
)

// SessionRecord is the record written for every agentic session.
type SessionRecord struct {
	Replication int32
	// SessionID is the arrival's position in the request stream; the
	// session's model calls carry request IDs derived from it.
	SessionID uint64
	Class     string
	Strategy  string
	// Orchestrator is the orchestration deployment the session ended on.
	Orchestrator string
	// Start is the arrival at the origin and Done when the answer (or the
	// failure) was back, in nanoseconds from the start of the run.
	Start, Done int64
	Status      Status
	ErrorClass  string
	// Steps is the model calls made; Attempts their attempts, retries and
	// hedges included; Failovers the moves to another orchestrator.
	Steps, Attempts, Failovers int32
	// Bytes moved across regions of one provider and across providers
	// (model-call payloads and state), and all state read and written.
	CrossRegionBytes, CrossCloudBytes, StateBytes int64
}

// SessionHeader names the columns of sessions.csv, in order.
var SessionHeader = []string{"replication", "session_id", "class", "strategy", "orchestrator", "start_ns", "done_ns", "status",
	"error_class", "steps", "attempts", "failovers", "cross_region_bytes", "cross_cloud_bytes", "state_bytes"}

// SessionWriter writes session records as CSV. It reuses one row buffer.
type SessionWriter struct {
	bw  *bufio.Writer
	w   *csv.Writer
	row []string
}

// NewSessionWriter returns a writer that writes the header first when
// header is true (part files have none: Parts.Merge writes one).
func NewSessionWriter(w io.Writer, header bool) (*SessionWriter, error) {
	bw := bufio.NewWriterSize(w, 1<<14)
	sw := &SessionWriter{bw: bw, w: csv.NewWriter(bw), row: make([]string, len(SessionHeader))}
	if header {
		if err := sw.w.Write(SessionHeader); err != nil {
			return nil, err
		}
	}
	return sw, nil
}

// Write appends one record.
func (s *SessionWriter) Write(r *SessionRecord) error {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	row := s.row
	row[0], row[1], row[2], row[3], row[4] = i(int64(r.Replication)), strconv.FormatUint(r.SessionID, 10), r.Class, r.Strategy, r.Orchestrator
	row[5], row[6], row[7], row[8] = i(r.Start), i(r.Done), r.Status.String(), r.ErrorClass
	row[9], row[10], row[11] = i(int64(r.Steps)), i(int64(r.Attempts)), i(int64(r.Failovers))
	row[12], row[13], row[14] = i(r.CrossRegionBytes), i(r.CrossCloudBytes), i(r.StateBytes)
	return s.w.Write(row)
}

// Flush writes buffered rows to the underlying writer.
func (s *SessionWriter) Flush() error {
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		return err
	}
	return s.bw.Flush()
}

// ReadSessions calls fn for every record of a sessions.csv written by
// SessionWriter; the record is reused between calls. name is the file's
// name for error messages, which give its line and column.
func ReadSessions(r io.Reader, name string, fn func(*SessionRecord) error) error {
	return readCSV(r, name, SessionHeader, nil, func(row csvRow) error {
		var s SessionRecord
		s.Replication = int32(row.int("replication", 32))
		s.SessionID = row.uint("session_id")
		s.Class, s.Strategy, s.Orchestrator = row.str("class"), row.str("strategy"), row.str("orchestrator")
		s.Start, s.Done = row.int("start_ns", 64), row.int("done_ns", 64)
		s.Status = row.status("status")
		s.ErrorClass = row.str("error_class")
		s.Steps, s.Attempts, s.Failovers = int32(row.int("steps", 32)), int32(row.int("attempts", 32)), int32(row.int("failovers", 32))
		s.CrossRegionBytes, s.CrossCloudBytes, s.StateBytes = row.int("cross_region_bytes", 64), row.int("cross_cloud_bytes", 64), row.int("state_bytes", 64)
		if row.err != nil {
			return row.err
		}
		return fn(&s)
	})
}
