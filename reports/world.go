package reports

import (
	"fmt"
	"slices"
	"time"

	"github.com/mcbench/mcbench/scenarios"
)

// Layers in report order. Network is not a scenario layer: it collects the
// transfer (egress) spend, which belongs to no deployment.
var Layers = []string{scenarios.LayerModel, scenarios.LayerOrchestration, scenarios.LayerApplication, scenarios.LayerState, LayerNetwork}

// LayerNetwork is the pseudo-layer of data-transfer spend.
const LayerNetwork = "network"

func layerIndex(l string) int {
	if i := slices.Index(Layers, l); i >= 0 {
		return i
	}
	return 0
}

// world indexes a scenario for the streaming aggregation: names become
// small integers once, so the per-record work is slice indexing.
type world struct {
	sc        *scenarios.Scenario
	providers []providerInfo
	regions   []regionInfo
	deps      []depInfo
	classes   []classInfo
	depIndex  map[string]int
	classIdx  map[string]int
	stratIdx  map[string]int
	strats    []string
	faults    []faultInfo
	// capable[l] is the set of providers with a deployment of layer l.
	capable [][]bool
}

type providerInfo struct{ name, kind string }

type regionInfo struct {
	name     string
	provider int // -1 if the region is not declared
	tags     []string
}

type depInfo struct {
	name, model, layer string
	provider, region   int
	layerIdx           int
	units              float64
	token              *TokenPrice
	prov               *ProvisionedPrice
	// declared is false for a deployment found in the records but not in
	// the scenario (the report warns about it).
	declared bool
}

type classInfo struct {
	name      string
	origin    int // region index, -1 off-cloud
	ttft, e2e int64
	layer     int
	// session: the class's requests are agentic sessions' model calls,
	// sent from the orchestration region rather than the origin; their
	// cross-cloud bytes are recorded by the simulator, not estimated.
	session bool
}

type faultInfo struct {
	scenarios.Fault
	start, end int64
	// hit[d] is true when the fault targets deployment d.
	hit       []bool
	providers []int
}

func newWorld(sc *scenarios.Scenario, p *Pricing) *world {
	w := &world{sc: sc, depIndex: map[string]int{}, classIdx: map[string]int{}, stratIdx: map[string]int{}}
	regionIdx := map[string]int{}
	for pi, pr := range sc.Providers {
		w.providers = append(w.providers, providerInfo{name: pr.Name, kind: pr.Kind})
		for _, r := range pr.Regions {
			regionIdx[r.Name] = len(w.regions)
			w.regions = append(w.regions, regionInfo{name: r.Name, provider: pi, tags: r.Tags})
		}
	}
	for _, d := range sc.Deployments {
		w.addDeployment(d, regionIdx, p, true)
	}
	for _, c := range sc.Workloads {
		ci := classInfo{name: c.Name, origin: -1, ttft: int64(c.SLO.TTFT), e2e: int64(c.SLO.E2E), layer: layerIndex(c.Layer), session: c.Session != nil}
		if i, ok := regionIdx[c.Origin]; ok {
			ci.origin = i
		}
		w.classIdx[c.Name] = len(w.classes)
		w.classes = append(w.classes, ci)
	}
	for _, s := range sc.Strategies {
		w.strategy(s.Name)
	}
	w.capable = make([][]bool, len(Layers))
	for l := range Layers {
		w.capable[l] = make([]bool, len(w.providers))
	}
	for _, d := range w.deps {
		if d.provider >= 0 {
			w.capable[d.layerIdx][d.provider] = true
		}
	}
	for _, f := range sc.Faults {
		fi := faultInfo{Fault: f, start: int64(f.Start), end: int64(f.Start) + int64(f.Duration), hit: make([]bool, len(w.deps))}
		for di, d := range w.deps {
			if d.name == f.Target || (d.region >= 0 && w.regions[d.region].name == f.Target) ||
				(d.provider >= 0 && w.providers[d.provider].name == f.Target) {
				fi.hit[di] = true
				if !slices.Contains(fi.providers, d.provider) {
					fi.providers = append(fi.providers, d.provider)
				}
			}
		}
		w.faults = append(w.faults, fi)
	}
	return w
}

func (w *world) addDeployment(d scenarios.Deployment, regionIdx map[string]int, p *Pricing, declared bool) int {
	di := depInfo{name: d.Name, model: d.Model, layer: d.Layer, provider: -1, region: -1, units: float64(d.Capacity.ProvisionedUnits), declared: declared}
	if di.layer == "" {
		di.layer = scenarios.LayerModel
	}
	di.layerIdx = layerIndex(di.layer)
	if i, ok := regionIdx[d.Region]; ok {
		di.region = i
	}
	for pi, pr := range w.providers {
		if pr.name == d.Provider {
			di.provider = pi
		}
	}
	if di.provider >= 0 && p != nil {
		kind := w.providers[di.provider].kind
		var tags []string
		if di.region >= 0 {
			tags = w.regions[di.region].tags
		}
		di.token = p.TokenPriceFor(kind, d.Model, d.Region, tags)
		if di.units > 0 {
			di.prov = p.ProvisionedFor(kind, d.Model, d.Region, tags)
		}
	}
	w.depIndex[d.Name] = len(w.deps)
	w.deps = append(w.deps, di)
	return len(w.deps) - 1
}

// deployment returns the index of a deployment named in a record, adding
// an undeclared one (priced as unknown) the first time it is seen.
func (w *world) deployment(name, provider, region string) int {
	if i, ok := w.depIndex[name]; ok {
		return i
	}
	regionIdx := map[string]int{}
	for i, r := range w.regions {
		regionIdx[r.name] = i
	}
	i := w.addDeployment(scenarios.Deployment{Name: name, Provider: provider, Region: region}, regionIdx, nil, false)
	for fi := range w.faults {
		w.faults[fi].hit = append(w.faults[fi].hit, false)
	}
	return i
}

func (w *world) class(name string) int {
	if i, ok := w.classIdx[name]; ok {
		return i
	}
	w.classIdx[name] = len(w.classes)
	w.classes = append(w.classes, classInfo{name: name, origin: -1})
	return len(w.classes) - 1
}

func (w *world) strategy(name string) int {
	if i, ok := w.stratIdx[name]; ok {
		return i
	}
	w.stratIdx[name] = len(w.strats)
	w.strats = append(w.strats, name)
	return len(w.strats) - 1
}

func (w *world) strategyDef(name string) *scenarios.Strategy {
	for i := range w.sc.Strategies {
		if w.sc.Strategies[i].Name == name {
			return &w.sc.Strategies[i]
		}
	}
	return nil
}

// placed returns the deployments a strategy places, per layer index.
func (w *world) placed(strategy string) [][]int {
	out := make([][]int, len(Layers))
	st := w.strategyDef(strategy)
	if st == nil {
		return out
	}
	for layer, names := range st.Placement {
		li := layerIndex(layer)
		for _, n := range names {
			if i, ok := w.depIndex[n]; ok {
				out[li] = append(out[li], i)
			}
		}
	}
	return out
}

func (w *world) providerName(i int) string {
	if i < 0 {
		return "(unknown)"
	}
	return w.providers[i].name
}

func (w *world) regionName(i int) string {
	if i < 0 {
		return "(off-cloud)"
	}
	return w.regions[i].name
}

// nCapable is n_l: how many providers can serve layer l in the scenario.
func (w *world) nCapable(l int) int {
	n := 0
	for _, c := range w.capable[l] {
		if c {
			n++
		}
	}
	return n
}

// warmRule decides which requests are measured, the way the writer of the
// run decided, so the report's counts equal the summary's.
type warmRule struct {
	id uint64
	at int64
}

func newWarmRule(sc *scenarios.Scenario, loadWarmup float64, load, includeWarmup bool) warmRule {
	if includeWarmup {
		return warmRule{}
	}
	wu := sc.Run.Warmup
	switch {
	case load:
		// The load generator deletes by intended send time only, with its
		// own --warmup (the scenario's simulated warm-up does not apply).
		return warmRule{at: int64(loadWarmup * 1e9)}
	case wu.Duration > 0:
		return warmRule{at: int64(wu.Duration)}
	case wu.Fraction > 0 && sc.Run.Requests > 0:
		return warmRule{id: uint64(wu.Fraction * float64(sc.Run.Requests))}
	case wu.Fraction > 0:
		return warmRule{at: int64(wu.Fraction * float64(sc.Run.Horizon))}
	}
	return warmRule{}
}

func (r warmRule) measured(id uint64, arrival int64) bool { return id >= r.id && arrival >= r.at }

func (r warmRule) String() string {
	switch {
	case r.id > 0:
		return fmt.Sprintf("requests with id < %d deleted as warm-up", r.id)
	case r.at > 0:
		return fmt.Sprintf("requests arriving before %s deleted as warm-up", time.Duration(r.at))
	}
	return "no warm-up deleted"
}

// isSession reports whether class c is an agentic session workload.
func (w *world) isSession(c int) bool { return c >= 0 && c < len(w.classes) && w.classes[c].session }
