package sim

import (
	"fmt"

	"github.com/mcbench/mcbench/backends/behavior"
	"github.com/mcbench/mcbench/backends/routing"
	"github.com/mcbench/mcbench/scenarios"
)

// model is a scenario compiled for one strategy: plain slices indexed by
// integers, shared read-only by that strategy's replications.
type model struct {
	s        *scenarios.Scenario
	strategy *scenarios.Strategy
	deps     []depModel
	classes  []classModel
	groups   []groupModel
	faults   []faultModel
	// links[a][b] is the one-way latency from region a to region b; nil is zero.
	links [][]*scenarios.Dist

	maxAttempts int32
	backoff     int64
	timeout     int64
	// Requests with ID below warmID or arriving before warmAt are warm-up.
	warmID uint64
	warmAt int64
}

type depModel struct {
	name, provider, region, providerKind string
	regionIdx                            int
	concurrency                          int
	queueLimit                           int // -1: unbounded
	latency                              behavior.Latency
	quota                                *scenarios.Quota
}

type classModel struct {
	name      string
	group     int // index into groups
	originIdx int // -1: no origin, no network latency
	tags      []string
	deadline  int64 // the deadline policy's budget (else the SLO's e2e); 0: none
}

// groupModel is the candidate list a strategy places for one layer.
type groupModel struct {
	layer      string
	candidates []int32             // deployment indexes in placement order
	cands      []routing.Candidate // the same, described for the policy
}

type faultModel struct {
	kind       string
	start, end int64
	factor     float64
	deps       []int32
	// recoverUntil bounds the arrivals whose failures count towards this
	// window's time to recover: 10 minutes after it, or the start of the
	// next window, whichever is first.
	recoverUntil int64
}

func compile(s *scenarios.Scenario, st *scenarios.Strategy) (*model, error) {
	m := &model{s: s, strategy: st}
	regionIdx := map[string]int{}
	providerKind := map[string]string{}
	for _, p := range s.Providers {
		providerKind[p.Name] = p.Kind
		for _, r := range p.Regions {
			regionIdx[r.Name] = len(regionIdx)
		}
	}
	depIdx := map[string]int32{}
	for i := range s.Deployments {
		d := &s.Deployments[i]
		ql := -1
		if d.Capacity.Queue != nil {
			ql = *d.Capacity.Queue
		}
		depIdx[d.Name] = int32(i)
		m.deps = append(m.deps, depModel{
			name: d.Name, provider: d.Provider, region: d.Region, providerKind: providerKind[d.Provider],
			regionIdx: regionIdx[d.Region], concurrency: d.Capacity.Concurrency, queueLimit: ql,
			latency: behavior.NewLatency(&d.Latency), quota: &d.Capacity.Quota,
		})
	}
	groupIdx := map[string]int{}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		layer := w.Layer
		if layer == "" {
			layer = scenarios.LayerModel
		}
		g, ok := groupIdx[layer]
		if !ok {
			names := st.Placement[layer]
			if len(names) == 0 {
				return nil, fmt.Errorf("strategy %q places no deployment for layer %q (workload %q)", st.Name, layer, w.Name)
			}
			gm := groupModel{layer: layer}
			for _, n := range names {
				di, ok := depIdx[n]
				if !ok {
					return nil, fmt.Errorf("strategy %q: deployment %q is not declared", st.Name, n)
				}
				gm.candidates = append(gm.candidates, di)
				gm.cands = append(gm.cands, routing.CandidateOf(s, &s.Deployments[di]))
			}
			g = len(m.groups)
			groupIdx[layer] = g
			m.groups = append(m.groups, gm)
		}
		origin := -1
		if w.Origin != "" {
			origin = regionIdx[w.Origin]
		}
		m.classes = append(m.classes, classModel{name: w.Name, group: g, originIdx: origin, tags: w.Tags,
			deadline: routing.DeadlineBudget(&st.Routing, w.SLO.E2E, 0)})
	}
	m.links = make([][]*scenarios.Dist, len(regionIdx))
	for i := range m.links {
		m.links[i] = make([]*scenarios.Dist, len(regionIdx))
	}
	for i := range s.Links {
		l := &s.Links[i]
		a, b := regionIdx[l.From], regionIdx[l.To]
		if !l.Latency.IsZero() {
			m.links[a][b], m.links[b][a] = &l.Latency.Dist, &l.Latency.Dist
		}
	}
	for _, f := range s.Faults {
		fm := faultModel{kind: f.Kind, start: int64(f.Start), end: int64(f.Start + f.Duration)}
		switch f.Kind {
		case scenarios.FaultBrownout:
			fm.factor = f.LatencyFactor
		case scenarios.FaultThrottle:
			fm.factor = f.QuotaFactor
		}
		for i, d := range s.Deployments {
			if d.Name == f.Target || d.Region == f.Target || d.Provider == f.Target {
				fm.deps = append(fm.deps, int32(i))
			}
		}
		m.faults = append(m.faults, fm)
	}
	for i := range m.faults {
		f := &m.faults[i]
		f.recoverUntil = f.end + recoveryHorizon
		for _, g := range m.faults {
			if g.start > f.start && g.start < f.recoverUntil {
				f.recoverUntil = max(g.start, f.end)
			}
		}
	}
	r := &st.Routing
	m.maxAttempts = int32(max(r.MaxAttempts, 1))
	m.backoff = int64(r.Backoff)
	m.timeout = int64(r.Timeout)
	w := s.Run.Warmup
	switch {
	case w.Duration > 0:
		m.warmAt = int64(w.Duration)
	case w.Fraction > 0 && s.Run.Requests > 0:
		m.warmID = uint64(w.Fraction * float64(s.Run.Requests))
	case w.Fraction > 0:
		m.warmAt = int64(w.Fraction * float64(s.Run.Horizon))
	}
	return m, nil
}

// newPolicies builds fresh routing state for one replication.
func (m *model) newPolicies() ([]routing.Policy, error) {
	ps := make([]routing.Policy, len(m.groups))
	for i, g := range m.groups {
		p, err := routing.New(&m.strategy.Routing, g.cands)
		if err != nil {
			return nil, fmt.Errorf("strategy %q: %w", m.strategy.Name, err)
		}
		ps[i] = p
	}
	return ps, nil
}
