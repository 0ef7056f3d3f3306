package sim

import "github.com/mcbench/mcbench/results"

// fillRecord writes the fields attempt and request records share.
func (e *engine) fillRecord(rs *reqState, kind results.Kind) *results.Outcome {
	dm := &e.m.deps[rs.dep]
	o := &e.rec
	*o = results.Outcome{
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
	if rs.status == results.StatusOK {
		o.OutputTokens = rs.r.OutputTokens
		o.FirstToken = rs.firstTok + rs.netBack
		o.FirstByte = o.FirstToken
	}
	return o
}

func (e *engine) writeAttempt(rs *reqState) {
	o := e.fillRecord(rs, results.KindAttempt)
	o.Attempt = rs.attNo
	o.Intended, o.Sent = rs.sent, rs.sent
	o.Queued = rs.qAtt
	o.CrossCloudBytes = rs.xbytes
	o.CostUSD = rs.attCost
	e.emit(o)
}

func (e *engine) writeRequest(rs *reqState) {
	o := e.fillRecord(rs, results.KindRequest)
	o.Intended, o.Sent = rs.r.At, rs.r.At
	o.Queued = rs.wait
	o.CostUSD = rs.reqCost
	e.emit(o)
}

func (e *engine) emit(o *results.Outcome) {
	if e.sinkErr != nil {
		return
	}
	if err := e.sink.Write(o); err != nil {
		e.sinkErr = err
	}
}

// SessionSink is implemented by record sinks that also take one record per
// agentic session. The simulator reuses the record it passes.
type SessionSink interface {
	WriteSession(r *results.SessionRecord) error
}

func (e *engine) writeSession(sk SessionSink, ss *sessState) {
	if e.sinkErr != nil {
		return
	}
	r := &e.sessRec
	*r = results.SessionRecord{Replication: int32(e.rep), SessionID: ss.id, Class: e.m.classes[ss.class].name,
		Strategy: e.m.strategy.Name, Orchestrator: e.m.deps[e.orchDep(ss)].name, Start: ss.at, Done: e.now,
		Status: ss.status, ErrorClass: errClassNames[ss.errClass], Steps: ss.step, Attempts: ss.calls,
		Failovers: ss.failovers, CrossRegionBytes: ss.xRegion, CrossCloudBytes: ss.xCloud, StateBytes: ss.stateBytes}
	if err := sk.WriteSession(r); err != nil {
		e.sinkErr = err
	}
}
