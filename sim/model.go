package sim

import (
	"fmt"

	"github.com/mcbench/mcbench/backends/behavior"
	"github.com/mcbench/mcbench/backends/routing"
	"github.com/mcbench/mcbench/results"
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
	// wins are the fault windows as the fault statistics see them, in
	// the order of faults (results.FaultWindows).
	wins []results.FaultWindow
	// links[a][b] is the one-way latency from region a to region b; nil is zero.
	links [][]*scenarios.Sampler
	// regionProvider[r] is the index of region r's provider.
	regionProvider []int
	// orch are the orchestration deployments sessions try, in placement
	// order; state is the session state store (-1: in the orchestrator's
	// region, with no latency of its own).
	orch  []int32
	state int32

	priced bool // token prices are known (Options.Prices)
	// inert keeps the fault windows for accounting but does not apply
	// them: the fault-free counterfactual each fault window is compared with.
	inert       bool
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
	orchestration                        bool // hosts sessions rather than serving model calls
	// Token prices in USD per token (0 for provisioned capacity, whose
	// marginal token is free: it is paid for by the hour).
	priceIn, priceOut float64
}

type classModel struct {
	name      string
	group     int // index into groups
	originIdx int // -1: no origin, no network latency
	tags      []string
	deadline  int64 // the deadline policy's budget (else the SLO's e2e); 0: none
	session   *sessionModel
}

// sessionModel is a session workload's state sizes and SLO; its steps,
// think times and calls come from scenarios.SessionPlan.
type sessionModel struct {
	read, write int64
	slo         int64
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
	links      [][2]int // region pairs a link fault slows, each once
}

func compile(s *scenarios.Scenario, st *scenarios.Strategy) (*model, error) {
	m := &model{s: s, strategy: st}
	regionIdx := map[string]int{}
	providerKind := map[string]string{}
	providerRegions := map[string][]int{}
	for pi, p := range s.Providers {
		providerKind[p.Name] = p.Kind
		for _, r := range p.Regions {
			providerRegions[p.Name] = append(providerRegions[p.Name], len(regionIdx))
			regionIdx[r.Name] = len(regionIdx)
			m.regionProvider = append(m.regionProvider, pi)
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
			orchestration: d.Layer == scenarios.LayerOrchestration,
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
		cm := classModel{name: w.Name, group: g, originIdx: origin, tags: w.Tags,
			deadline: routing.DeadlineBudget(&st.Routing, w.SLO.E2E, 0)}
		if ss := w.Session; ss != nil {
			cm.session = &sessionModel{read: int64(ss.StateRead), write: int64(ss.StateWrite), slo: int64(ss.SLO)}
			if m.orch == nil {
				names := st.Placement[scenarios.LayerOrchestration]
				if len(names) == 0 {
					return nil, fmt.Errorf("strategy %q places no orchestration deployment for session workload %q", st.Name, w.Name)
				}
				for _, n := range names {
					di, ok := depIdx[n]
					if !ok {
						return nil, fmt.Errorf("strategy %q: deployment %q is not declared", st.Name, n)
					}
					m.orch = append(m.orch, di)
				}
			}
		}
		m.classes = append(m.classes, cm)
	}
	m.state = -1
	if names := st.Placement[scenarios.LayerState]; len(names) > 0 {
		di, ok := depIdx[names[0]]
		if !ok {
			return nil, fmt.Errorf("strategy %q: deployment %q is not declared", st.Name, names[0])
		}
		m.state = di
	}
	m.links = make([][]*scenarios.Sampler, len(regionIdx))
	for i := range m.links {
		m.links[i] = make([]*scenarios.Sampler, len(regionIdx))
	}
	for i := range s.Links {
		l := &s.Links[i]
		a, b := regionIdx[l.From], regionIdx[l.To]
		if !l.Latency.IsZero() {
			sm := scenarios.NewSampler(l.Latency.Dist)
			m.links[a][b], m.links[b][a] = &sm, &sm
		}
	}
	for _, f := range s.Faults {
		fm := faultModel{kind: f.Kind, start: int64(f.Start), end: int64(f.Start + f.Duration)}
		switch f.Kind {
		case scenarios.FaultLink:
			fm.factor = f.LatencyFactor
			fm.links = linkPairs(ends(f.Target, regionIdx, providerRegions), ends(f.To, regionIdx, providerRegions))
			m.faults = append(m.faults, fm)
			continue
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
	m.wins = results.FaultWindows(s)
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

// ends returns the regions a link fault's end names: a region, or every
// region of a provider.
func ends(name string, regionIdx map[string]int, providerRegions map[string][]int) []int {
	if r, ok := regionIdx[name]; ok {
		return []int{r}
	}
	return providerRegions[name]
}

// linkPairs returns each unordered pair of distinct regions, one from a and
// one from b, once.
func linkPairs(a, b []int) [][2]int {
	seen := map[[2]int]bool{}
	var out [][2]int
	for _, x := range a {
		for _, y := range b {
			if x == y {
				continue
			}
			p := [2]int{min(x, y), max(x, y)}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// setPrices gives the deployments their token prices and the routing
// candidates theirs.
func (m *model) setPrices(prices routing.Prices) {
	if prices == nil {
		return
	}
	for i := range m.s.Deployments {
		d := &m.s.Deployments[i]
		in, out, ok := prices(d)
		if !ok {
			continue
		}
		m.priced = true
		if d.Capacity.ProvisionedUnits == 0 {
			m.deps[i].priceIn, m.deps[i].priceOut = in/1e6, out/1e6
		}
	}
	for gi := range m.groups {
		g := &m.groups[gi]
		for ci := range g.cands {
			prices.Apply(&g.cands[ci], &m.s.Deployments[g.candidates[ci]])
		}
	}
}

// measured reports whether request r counts in the statistics: it arrived
// after the warm-up, by both bounds. A session's model call is a request of
// its own that arrives when the session makes it, so it is measured by its
// own arrival (its ID, above every stream ID, passes the ID bound), as the
// load generator and the reports (reports.warmRule) measure it; the session
// itself is measured by the session's arrival.
func (m *model) measured(r *scenarios.Request) bool { return r.ID >= m.warmID && r.At >= m.warmAt }
