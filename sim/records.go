package sim

import (
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
