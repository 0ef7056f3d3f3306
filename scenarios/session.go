package scenarios

import "math"

// SessionPlan draws what each agentic session does (how many steps, how long
// it thinks before each, the tokens of each model call), keyed by the
// session's stream ID and the step, so the simulator and the load generator
// run the same sessions, and every strategy sees the same ones.
type SessionPlan struct {
	key     uint64
	classes []sessionClass // by workload index; zero where not a session
}

// sessionClass is one session workload's samplers.
type sessionClass struct {
	w                           *Workload
	steps, think, input, output Sampler
}

// NewSessionPlan returns the session draws of replication rep.
func NewSessionPlan(s *Scenario, rep int) SessionPlan {
	p := SessionPlan{key: StreamKey(s.Seed, rep, "session", ""), classes: make([]sessionClass, len(s.Workloads))}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		if w.Session != nil {
			p.classes[i] = sessionClass{w: w, steps: NewSampler(w.Session.Steps.Dist), think: NewSampler(w.Session.Think.Dist),
				input: NewSampler(w.InputTokens.Dist), output: NewSampler(w.OutputTokens.Dist)}
		}
	}
	return p
}

// Per-step draw slots: think time, input tokens, output tokens, and one for
// the orchestrator's overhead.
const (
	drawThink = iota
	drawInput
	drawOutput
	// DrawOverhead is the per-step draw slot an engine uses for the
	// orchestrator's own overhead (see SessionPlan.U).
	DrawOverhead
	drawsPerStep
)

// U returns the uniform draw in slot k of step step of session id.
func (p *SessionPlan) U(id uint64, step int32, k int) float64 {
	return Draw(p.key, id, 1+uint64(step)*drawsPerStep+uint64(k))
}

// Steps returns how many model calls session id of workload class makes:
// the step distribution's draw, rounded, between 1 and MaxSessionSteps.
func (p *SessionPlan) Steps(class int32, id uint64) int32 {
	x := p.classes[class].steps.Quantile(Draw(p.key, id, 0))
	return int32(math.Round(min(max(x, 1), MaxSessionSteps)))
}

// Think returns the think time before step step, in nanoseconds.
func (p *SessionPlan) Think(class int32, id uint64, step int32) int64 {
	c := &p.classes[class]
	if c.think.IsZero() {
		return 0
	}
	return int64(c.think.Quantile(p.U(id, step, drawThink)) * 1e9)
}

// Call returns the model call of step step of session id of workload
// class, due at at: its ID (SessionCallID) and token counts.
func (p *SessionPlan) Call(class int32, id uint64, step int32, at int64) Request {
	c := &p.classes[class]
	maxTok := int32(c.w.MaxTokens)
	return Request{ID: SessionCallID(id, step), At: at, Class: class, MaxTokens: maxTok,
		InputTokens:  TokenCount(c.input.Quantile(p.U(id, step, drawInput))),
		OutputTokens: min(TokenCount(c.output.Quantile(p.U(id, step, drawOutput))), maxTok)}
}

// SessionCallID is the request ID of step step of session id: apart from
// stream IDs (below 2^40 in any run that fits in memory), unique per step
// (MaxSessionSteps < 2^14), and below 2^63 so records carry it as a signed
// integer too.
func SessionCallID(id uint64, step int32) uint64 { return 1<<62 | id<<14 | uint64(step) }
