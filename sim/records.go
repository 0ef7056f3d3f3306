package sim

import (
	"encoding/csv"
	"strconv"

	"github.com/mcbench/mcbench/backends"
)

// fillRecord writes the fields attempt and request records share.
func (e *engine) fillRecord(rs *reqState, kind backends.Kind) *backends.Outcome {
	dm := &e.m.deps[rs.dep]
	o := &e.rec
	*o = backends.Outcome{
		Kind:         kind,
		Replication:  int32(e.rep),
		RequestID:    rs.r.ID,
		Attempt:      rs.attempt,
		Class:        e.m.classes[rs.r.Class].name,
		Strategy:     e.m.strategy.Name,
		Provider:     dm.provider,
		Region:       dm.region,
		Deployment:   dm.name,
		InputTokens:  rs.r.InputTokens,
		Status:       rs.status,
		ErrorClass:   errClassNames[rs.errClass],
		Done:         e.now,
		OutputTokens: 0,
	}
	if rs.status == backends.StatusOK {
		o.OutputTokens = rs.r.OutputTokens
		o.FirstToken = rs.firstTok + rs.netBack
		o.FirstByte = o.FirstToken
	}
	return o
}

func (e *engine) writeAttempt(rs *reqState) {
	o := e.fillRecord(rs, backends.KindAttempt)
	o.Attempt = rs.attNo
	o.Intended, o.Sent = rs.sent, rs.sent
	o.Queued = rs.qAtt
	o.CrossCloudBytes = rs.xbytes
	e.emit(o)
}

func (e *engine) writeRequest(rs *reqState) {
	o := e.fillRecord(rs, backends.KindRequest)
	o.Intended, o.Sent = rs.r.At, rs.r.At
	o.Queued = rs.wait
	e.emit(o)
}

func (e *engine) emit(o *backends.Outcome) {
	if e.sinkErr != nil {
		return
	}
	if err := e.sink.Write(o); err != nil {
		e.sinkErr = err
	}
}

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
	Status      backends.Status
	ErrorClass  string
	// Steps is the model calls made; Attempts their attempts, retries and
	// hedges included; Failovers the moves to another orchestrator.
	Steps, Attempts, Failovers int32
	// Bytes moved across regions of one provider and across providers
	// (model-call payloads and state), and all state read and written.
	CrossRegionBytes, CrossCloudBytes, StateBytes int64
}

// SessionSink is implemented by record sinks that also take one record per
// agentic session. The simulator reuses the record it passes.
type SessionSink interface {
	WriteSession(r *SessionRecord) error
}

func (e *engine) writeSession(sk SessionSink, ss *sessState) {
	if e.sinkErr != nil {
		return
	}
	r := &e.sessRec
	*r = SessionRecord{Replication: int32(e.rep), SessionID: ss.id, Class: e.m.classes[ss.class].name,
		Strategy: e.m.strategy.Name, Orchestrator: e.m.deps[e.orchDep(ss)].name, Start: ss.at, Done: e.now,
		Status: ss.status, ErrorClass: errClassNames[ss.errClass], Steps: ss.step, Attempts: ss.calls,
		Failovers: ss.failovers, CrossRegionBytes: ss.xRegion, CrossCloudBytes: ss.xCloud, StateBytes: ss.stateBytes}
	if err := sk.WriteSession(r); err != nil {
		e.sinkErr = err
	}
}

// SessionCSVHeader names the columns of sessions.csv, which the simulator
// and the load generator both write.
var SessionCSVHeader = []string{"replication", "session_id", "class", "strategy", "orchestrator", "start_ns", "done_ns", "status",
	"error_class", "steps", "attempts", "failovers", "cross_region_bytes", "cross_cloud_bytes", "state_bytes"}

// WriteSessionCSV writes r as one row of sessions.csv.
func WriteSessionCSV(w *csv.Writer, r *SessionRecord) error {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	return w.Write([]string{i(int64(r.Replication)), strconv.FormatUint(r.SessionID, 10), r.Class, r.Strategy, r.Orchestrator,
		i(r.Start), i(r.Done), r.Status.String(), r.ErrorClass, i(int64(r.Steps)), i(int64(r.Attempts)), i(int64(r.Failovers)),
		i(r.CrossRegionBytes), i(r.CrossCloudBytes), i(r.StateBytes)})
}
