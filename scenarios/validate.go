package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// layers are the layers a deployment can serve, in the order messages list them.
var layers = []string{LayerModel, LayerOrchestration, LayerApplication, LayerState}

// Limits on counts that keep a typo from asking for a run that never ends.
// MaxReplications is the default of Limits.Replications.
const (
	MaxReplications = 10000
	MaxAttempts     = 100
)

// Validate checks a decoded and defaulted scenario and returns every problem
// found (nil if none), with Path and Msg set; positions are left at zero
// because s carries none (Parse and Load add them). Relative trace paths are
// resolved against s.Dir. The limits are CurrentLimits' (DefaultLimits if
// LimitsEnv cannot be read). Test the result with len: a nil Errors stored
// in an error interface is not a nil error.
func Validate(s *Scenario) Errors {
	lim, _ := CurrentLimits()
	return validateWith(s, nil, nil, lim)
}

// validator collects problems. present says whether the source spells out a
// path, so a missing required field reads "is required" rather than "got 0".
// tainted says whether something at or under a path failed to decode: a name
// there may be lost, so "not declared" for a reference to that list would be
// a consequence of a problem already reported, not a second one.
type validator struct {
	s       *Scenario
	present func(string) bool
	tainted func(string) bool
	lim     Limits
	errs    Errors
	// listed caches "declared: a, b" lists by the map they list, so that
	// a problem in each of thousands of items does not list the names
	// thousands of times over.
	listed map[uintptr]string
}

// declared returns sortedKeys(m), computed once per map (m is not
// changed once messages about it are written).
func declared[V any](v *validator, m map[string]V) string {
	if len(m) == 0 {
		return sortedKeys(m)
	}
	key := reflect.ValueOf(m).Pointer()
	if s, ok := v.listed[key]; ok {
		return s
	}
	if v.listed == nil {
		v.listed = map[uintptr]string{}
	}
	s := sortedKeys(m)
	v.listed[key] = s
	return s
}

func (v *validator) isTainted(paths ...string) bool {
	if v.tainted == nil {
		return false
	}
	for _, p := range paths {
		if v.tainted(p) {
			return true
		}
	}
	return false
}

func (v *validator) addf(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) missing(path string) bool { return v.present != nil && !v.present(path) }

// positive reports a problem unless x > 0. What describes x in the message.
func (v *validator) positive(path string, x float64, what string) {
	switch {
	case x > 0:
	case v.missing(path):
		v.addf(path, "is required and must be > 0")
	default:
		v.addf(path, "must be > 0, got %s", what)
	}
}

// nonNegative reports a problem unless x >= 0.
func (v *validator) nonNegative(path string, x float64, what string) {
	if !(x >= 0) {
		v.addf(path, "must be >= 0, got %s", what)
	}
}

// oneOf reports a problem unless val is one of allowed.
func (v *validator) oneOf(path, val string, allowed ...string) bool {
	if slices.Contains(allowed, val) {
		return true
	}
	if val == "" && v.missing(path) {
		v.addf(path, "is required; one of %s", strings.Join(allowed, ", "))
	} else {
		v.addf(path, "must be one of %s; got %q", strings.Join(allowed, ", "), val)
	}
	return false
}

// names checks that the name at path is set and unique among seen, which
// maps names to the path of their first use.
func (v *validator) name(path, name, what string, seen map[string]string) {
	switch first, dup := seen[name]; {
	case name == "":
		v.addf(path, "is required: every %s needs a name", what)
	case dup:
		v.addf(path, "duplicate %s name %q (first at %s)", what, name, first)
	default:
		seen[name] = parentPath(path)
	}
}

func validateWith(s *Scenario, present, tainted func(string) bool, lim Limits) Errors {
	v := &validator{s: s, present: present, tainted: tainted, lim: lim}
	if s.Name == "" {
		v.addf("name", "is required: name the scenario for reports")
	}
	switch {
	case s.Replications < 1:
		v.addf("replications", "must be between 1 and %d, got %d", lim.Replications, s.Replications)
	case s.Replications > lim.Replications:
		v.addf("replications", "must be at most %d, the limit, got %d; %s", lim.Replications, s.Replications, Raise("replications", float64(s.Replications)))
	}
	if !v.counts() {
		// Checking thousands of items past a limit is the work the limit
		// exists to spare.
		return v.errs
	}
	v.run()
	regions := v.providers()
	v.links(regions)
	deps := v.deployments(regions)
	v.workloads(regions)
	v.strategies(deps)
	v.faults(regions)
	v.constraints(regions)
	return v.errs
}

// counts checks the lengths of the scenario's lists against the limits
// (Parse has checked them on the document already; a scenario built in code
// has not) and reports whether they are within them.
func (v *validator) counts() bool {
	s, l := v.s, &v.lim
	regions := 0
	for _, p := range s.Providers {
		regions += len(p.Regions)
	}
	ok := true
	for _, c := range []struct {
		path string
		n    int
		max  int
	}{
		{"providers", len(s.Providers), l.Providers}, {"links", len(s.Links), l.Links},
		{"deployments", len(s.Deployments), l.Deployments}, {"workloads", len(s.Workloads), l.Workloads},
		{"strategies", len(s.Strategies), l.Strategies}, {"faults", len(s.Faults), l.Faults},
	} {
		if c.n > c.max {
			v.addf(c.path, "%d %s, more than the limit of %d; %s", c.n, c.path, c.max, Raise(c.path, float64(c.n)))
			ok = false
		}
	}
	if regions > l.Regions {
		v.addf("providers", "%d regions over all providers, more than the limit of %d; %s", regions, l.Regions, Raise("regions", float64(regions)))
		ok = false
	}
	return ok
}

func (v *validator) run() {
	r := &v.s.Run
	switch {
	case r.Requests != Count(math.Trunc(float64(r.Requests))):
		v.addf("run.requests", "must be a whole number, got %g", float64(r.Requests))
	case float64(r.Requests) > v.lim.Requests:
		v.addf("run.requests", "must be at most %s requests per replication, the limit, got %s; %s",
			fmtCount(v.lim.Requests), fmtCount(float64(r.Requests)), Raise("requests", float64(r.Requests)))
	}
	v.nonNegative("run.horizon", float64(r.Horizon), r.Horizon.String())
	if r.Horizon > v.lim.Horizon {
		v.addf("run.horizon", "must be at most %s, the limit, got %s; raise it with %s=horizon=%s",
			v.lim.Horizon, r.Horizon, LimitsEnv, r.Horizon)
	}
	if r.Requests == 0 && r.Horizon == 0 {
		v.addf("run", "needs requests > 0 or a horizon > 0 (or both), or arrivals never end")
	}
	if n := ExpectedArrivals(v.s); r.Requests == 0 && n > v.lim.Requests {
		v.addf("run.horizon", "%s at the workloads' mean arrival rates brings about %s requests per replication, more than the limit of %s; set run.requests to end sooner, or %s",
			r.Horizon, fmtCount(n), fmtCount(v.lim.Requests), Raise("requests", n))
	}
	switch w := r.Warmup; {
	case w.Fraction >= 1:
		v.addf("run.warmup", "must be less than 100%% of the requests, got %g%%", w.Fraction*100)
	case w.Duration < 0:
		v.addf("run.warmup", "must be >= 0, got %s", w.Duration)
	case w.Duration > 0 && r.Horizon > 0 && w.Duration >= r.Horizon:
		v.addf("run.warmup", "must be shorter than the horizon (%s), got %s", r.Horizon, w.Duration)
	}
}

// providers checks providers and regions and returns each region's provider.
func (v *validator) providers() map[string]string {
	regions := map[string]string{}
	regionAt := map[string]string{}
	if len(v.s.Providers) == 0 {
		v.addf("providers", "at least one provider is required")
	}
	seen := map[string]string{}
	for i, p := range v.s.Providers {
		path := indexPath("providers", i)
		v.name(path+".name", p.Name, "provider", seen)
		v.oneOf(path+".kind", p.Kind, KindAzure, KindBedrock, KindGeneric)
		if len(p.Regions) == 0 {
			v.addf(path+".regions", "at least one region is required")
		}
		for j, r := range p.Regions {
			rp := indexPath(path+".regions", j)
			switch first, dup := regionAt[r.Name]; {
			case r.Name == "":
				v.addf(rp, "region name is required")
			case dup:
				v.addf(rp, "region %q is already declared at %s; region names are unique across the scenario", r.Name, first)
			default:
				regionAt[r.Name] = rp
				regions[r.Name] = p.Name
			}
		}
	}
	return regions
}

func (v *validator) links(regions map[string]string) {
	seen := map[[2]string]string{}
	for i, l := range v.s.Links {
		path := indexPath("links", i)
		okFrom := v.region(path+".from", l.From, regions, true)
		okTo := v.region(path+".to", l.To, regions, true)
		if v.missing(path + ".latency") {
			v.addf(path+".latency", "is required: the one-way latency between the regions")
		}
		v.dist(path+".latency", &l.Latency.Dist, durationText)
		if !okFrom || !okTo {
			continue
		}
		if l.From == l.To {
			v.addf(path, "links region %q with itself; a region's latency to itself is always zero", l.From)
			continue
		}
		pair := [2]string{min(l.From, l.To), max(l.From, l.To)}
		if first, dup := seen[pair]; dup {
			v.addf(path, "duplicate link between %q and %q (first at %s); links are symmetric", l.From, l.To, first)
			continue
		}
		seen[pair] = path
	}
}

// region checks that name is a declared region.
func (v *validator) region(path, name string, regions map[string]string, required bool) bool {
	if name == "" {
		if required {
			v.addf(path, "is required: name a declared region")
		}
		return false
	}
	if _, ok := regions[name]; !ok {
		if !v.isTainted("providers") {
			v.addf(path, "region %q is not declared; declared: %s", name, declared(v, regions))
		}
		return false
	}
	return true
}

// deployments checks deployments and returns them by name.
func (v *validator) deployments(regions map[string]string) map[string]*Deployment {
	deps := map[string]*Deployment{}
	providers := map[string]*Provider{}
	for i := range v.s.Providers {
		providers[v.s.Providers[i].Name] = &v.s.Providers[i]
	}
	if len(v.s.Deployments) == 0 {
		v.addf("deployments", "at least one deployment is required")
	}
	seen := map[string]string{}
	for i := range v.s.Deployments {
		d := &v.s.Deployments[i]
		path := indexPath("deployments", i)
		v.name(path+".name", d.Name, "deployment", seen)
		if _, ok := deps[d.Name]; !ok && d.Name != "" {
			deps[d.Name] = d
		}
		switch p := providers[d.Provider]; {
		case v.isTainted("providers"):
		case d.Provider == "":
			v.addf(path+".provider", "is required; declared providers: %s", declared(v, providers))
		case p == nil:
			v.addf(path+".provider", "provider %q is not declared; declared: %s", d.Provider, declared(v, providers))
		case d.Region == "":
			v.addf(path+".region", "is required; regions of provider %q: %s", p.Name, regionNames(p))
		case regions[d.Region] != p.Name:
			v.addf(path+".region", "region %q is not a region of provider %q; its regions: %s", d.Region, p.Name, regionNames(p))
		}
		v.oneOf(path+".layer", d.Layer, layers...)
		if d.Endpoint != "" {
			if u, err := url.Parse(d.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
				v.addf(path+".endpoint", "must be an http(s) base URL such as https://NAME.openai.azure.com, got %q", d.Endpoint)
			}
		}

		c := &d.Capacity
		cp := path + ".capacity"
		if d.Layer != LayerState || c.Concurrency != 0 {
			// A state store's capacity is not modelled (see Session).
			v.positive(cp+".concurrency", float64(c.Concurrency), strconv.Itoa(c.Concurrency))
		}
		if c.Queue != nil && *c.Queue < 0 {
			v.addf(cp+".queue", "must be >= 0 (0 rejects when all slots are busy; leave it out for an unbounded queue), got %d", *c.Queue)
		}
		q := &c.Quota
		qp := cp + ".quota"
		v.nonNegative(qp+".tokens", float64(q.Tokens), rateText(q.Tokens))
		v.nonNegative(qp+".requests", float64(q.Requests), rateText(q.Requests))
		v.positive(qp+".token_window", float64(q.TokenWindow), q.TokenWindow.String())
		v.positive(qp+".request_window", float64(q.RequestWindow), q.RequestWindow.String())
		v.positive(qp+".output_burn", q.OutputBurn, fmtFloat(q.OutputBurn))

		l := &d.Latency
		lp := path + ".latency"
		v.dist(lp+".ttft", &l.TTFT.Dist, durationText)
		v.dist(lp+".tpot", &l.TPOT.Dist, durationText)
		v.nonNegative(lp+".per_input_token", float64(l.PerInputToken), l.PerInputToken.String())
		if !(l.LoadFactor >= 1) {
			v.addf(lp+".load_factor", "must be >= 1 (1: no slowdown under load), got %s", fmtFloat(l.LoadFactor))
		}
		if l.Profile != "" && v.present == nil {
			// Programmatic validation: Parse and Load have read the profile
			// into the fields above already (and reported its problems), but
			// a scenario built in code has not, so at least check that the
			// profile can be read, as trace files are checked.
			full := profilePath(v.s.Dir, l.Profile)
			if _, _, err := loadProfile(full); err != nil {
				for _, msg := range profileProblems(l.Profile, full, err) {
					v.addf(lp+".profile", "%s", msg)
				}
			}
		}
	}
	return deps
}

func (v *validator) workloads(regions map[string]string) {
	if len(v.s.Workloads) == 0 {
		v.addf("workloads", "at least one workload is required")
	}
	seen := map[string]string{}
	for i := range v.s.Workloads {
		w := &v.s.Workloads[i]
		path := indexPath("workloads", i)
		v.name(path+".name", w.Name, "workload", seen)
		v.region(path+".origin", w.Origin, regions, false)
		v.oneOf(path+".layer", w.Layer, layers...)
		v.arrival(path+".arrival", &w.Arrival)
		v.tokens(path+".input_tokens", &w.InputTokens.Dist)
		v.tokens(path+".output_tokens", &w.OutputTokens.Dist)
		switch mt := float64(w.MaxTokens); {
		case mt < 1:
			v.addf(path+".max_tokens", "must be >= 1, got %s", fmtFloat(mt))
		case mt != math.Trunc(mt) || mt > math.MaxInt32:
			v.addf(path+".max_tokens", "must be a whole number of at most %d, got %s", math.MaxInt32, fmtFloat(mt))
		}
		v.nonNegative(path+".slo.ttft", float64(w.SLO.TTFT), w.SLO.TTFT.String())
		v.nonNegative(path+".slo.e2e", float64(w.SLO.E2E), w.SLO.E2E.String())
		if w.Session != nil {
			v.session(path+".session", w)
		}
	}
}

func (v *validator) session(path string, w *Workload) {
	ss := w.Session
	if w.Layer == LayerOrchestration || w.Layer == LayerState {
		v.addf(strings.TrimSuffix(path, ".session")+".layer", "a session's model calls cannot enter layer %s; use model (the default) or application", w.Layer)
	}
	if ss.Steps.IsZero() {
		v.addf(path+".steps", "is required: the number of model calls per session (a count or a distribution)")
	} else {
		v.tokens(path+".steps", &ss.Steps.Dist)
	}
	v.dist(path+".think", &ss.Think.Dist, durationText)
	for _, f := range []struct {
		name string
		n    Count
	}{{"state_read", ss.StateRead}, {"state_write", ss.StateWrite}} {
		if x := float64(f.n); x < 0 || x != math.Trunc(x) {
			v.addf(path+"."+f.name, "must be a whole number of bytes >= 0, got %s", fmtFloat(x))
		}
	}
	v.nonNegative(path+".slo", float64(ss.SLO), ss.SLO.String())
}

func (v *validator) arrival(path string, a *Arrival) {
	procs := []string{ProcPoisson, ProcConstant, ProcMMPP, ProcDiurnal, ProcRamp, ProcTrace}
	if !v.oneOf(path+".process", a.Process, procs...) {
		return
	}
	need := func(field string, x float64, what string) {
		p := path + "." + field
		switch {
		case x > 0:
		case v.missing(p):
			v.addf(p, "is required by a %s process and must be > 0", a.Process)
		default:
			v.addf(p, "must be > 0 for a %s process, got %s", a.Process, what)
		}
	}
	switch a.Process {
	case ProcPoisson, ProcConstant:
		need("rate", float64(a.Rate), rateText(a.Rate))
	case ProcMMPP:
		switch {
		case len(a.Rates) != 2:
			v.addf(path+".rates", "an mmpp process needs exactly 2 rates (one per state), got %d", len(a.Rates))
		case !(a.Rates[0] > 0 || a.Rates[1] > 0):
			v.addf(path+".rates", "at least one of the 2 rates must be > 0")
		}
		for j, r := range a.Rates {
			v.nonNegative(indexPath(path+".rates", j), float64(r), rateText(r))
		}
		if len(a.Sojourn) != 2 {
			v.addf(path+".sojourn", "an mmpp process needs exactly 2 sojourn times (mean time in each state), got %d", len(a.Sojourn))
		} else {
			for j, d := range a.Sojourn {
				v.positive(indexPath(path+".sojourn", j), float64(d), d.String())
			}
		}
	case ProcDiurnal:
		v.nonNegative(path+".rate", float64(a.Rate), rateText(a.Rate))
		need("peak", float64(a.Peak), rateText(a.Peak))
		if a.Peak > 0 && a.Peak < a.Rate {
			v.addf(path+".peak", "must be >= rate (the trough, %s), got %s", rateText(a.Rate), rateText(a.Peak))
		}
		need("period", float64(a.Period), a.Period.String())
		v.nonNegative(path+".peak_at", float64(a.PeakAt), a.PeakAt.String())
	case ProcRamp:
		need("over", float64(a.Over), a.Over.String())
		v.nonNegative(path+".rate", float64(a.Rate), rateText(a.Rate))
		v.nonNegative(path+".peak", float64(a.Peak), rateText(a.Peak))
		if !(a.Rate > 0 || a.Peak > 0) {
			v.addf(path+".peak", "a ramp needs rate (start) or peak (end) > 0")
		}
	case ProcTrace:
		v.traceFile(path+".file", a.File)
	}
}

// traceFile checks that a trace exists and can be read, so that a run does
// not fail minutes in.
func (v *validator) traceFile(path, file string) {
	if file == "" {
		v.addf(path, "is required by a trace process: a CSV of timestamp, class, input_tokens, output_tokens")
		return
	}
	full := file
	if !filepath.IsAbs(full) {
		full = filepath.Join(v.s.Dir, full)
	}
	f, err := os.Open(full)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v.addf(path, "trace file %q does not exist (looked for %s)", file, full)
		case errors.Is(err, fs.ErrPermission):
			v.addf(path, "trace file %q cannot be read: permission denied", file)
		default:
			v.addf(path, "trace file %q cannot be opened: %v", file, err)
		}
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		v.addf(path, "trace file %q is not a regular file", file)
	}
}

func (v *validator) strategies(deps map[string]*Deployment) {
	if len(v.s.Strategies) == 0 {
		v.addf("strategies", "at least one strategy is required")
	}
	seen := map[string]string{}
	for i := range v.s.Strategies {
		st := &v.s.Strategies[i]
		path := indexPath("strategies", i)
		v.name(path+".name", st.Name, "strategy", seen)
		pp := path + ".placement"
		if len(st.Placement) == 0 {
			v.addf(pp, "is required: map each layer the workloads use to the deployments serving it")
		}
		placed := map[string]string{} // deployment → layer
		listed := map[string]bool{}   // every name listed, valid or not
		for _, layer := range sortedMapKeys(st.Placement) {
			names := st.Placement[layer]
			lp := keyPath(pp, layer)
			for _, name := range names {
				listed[name] = true
			}
			if !slices.Contains(layers, layer) {
				v.addf(lp, "unknown layer %q; layers: %s", layer, strings.Join(layers, ", "))
				continue
			}
			if len(names) == 0 {
				v.addf(lp, "must list at least one deployment")
			}
			for j, name := range names {
				np := indexPath(lp, j)
				d := deps[name]
				switch first, dup := placed[name]; {
				case d == nil && v.isTainted("deployments"):
				case d == nil:
					v.addf(np, "deployment %q is not declared; declared: %s", name, declared(v, deps))
				case d.Layer != layer && !slices.Contains(layers, d.Layer):
					// Reported at the deployment.
				case d.Layer != layer:
					v.addf(np, "deployment %q serves layer %s, not %s", name, d.Layer, layer)
				case dup:
					v.addf(np, "deployment %q is already placed for layer %s", name, first)
				default:
					placed[name] = layer
				}
			}
		}
		for _, layer := range layers {
			if _, ok := st.Placement[layer]; ok {
				continue
			}
			var users []string
			for _, w := range v.s.Workloads {
				// Sessions enter orchestration; their state layer is optional.
				if w.Layer == layer || (w.Session != nil && layer == LayerOrchestration) {
					users = append(users, strconv.Quote(w.Name))
				}
			}
			if len(users) > 0 && len(st.Placement) > 0 {
				v.addf(pp, "places no deployment for layer %s, which workload %s enters", layer, strings.Join(users, ", "))
			}
		}
		v.routing(path+".routing", &st.Routing, placed, listed)
	}
}

// routing checks a strategy's routing; placed maps the validly placed
// deployments to their layer, listed holds every name the placement lists
// (a weight for a badly placed deployment is not a second problem).
func (v *validator) routing(path string, r *Routing, placed map[string]string, listed map[string]bool) {
	v.oneOf(path+".policy", r.Policy, Policies...)
	wp := path + ".weights"
	if len(r.Weights) > 0 && r.Policy != PolicyWeighted && slices.Contains(Policies, r.Policy) {
		v.addf(wp, "weights are used only by the weighted policy; set policy: weighted or remove them")
	}
	if r.Policy == PolicyWeighted {
		positive := map[string]bool{} // layer → some weight > 0
		invalid := map[string]bool{}  // layer → some weight reported as bad
		for _, name := range sortedMapKeys(r.Weights) {
			w := r.Weights[name]
			p := keyPath(wp, name)
			layer, ok := placed[name]
			switch {
			case !ok && listed[name]:
			case !ok:
				v.addf(p, "deployment %q is not placed by this strategy; placed: %s", name, sortedKeys(placed))
			case !(w >= 0) || math.IsInf(w, 0):
				v.addf(p, "must be a number >= 0, got %s", fmtFloat(w))
				invalid[layer] = true
			case w > 0:
				positive[layer] = true
			}
		}
		layers := map[string]bool{}
		for _, l := range placed {
			layers[l] = true
		}
		for _, l := range sortedMapKeys(layers) {
			if !positive[l] && !invalid[l] {
				v.addf(wp, "every deployment placed for layer %s has weight 0; at least one must be > 0", l)
			}
		}
	}
	if r.MaxAttempts < 1 || r.MaxAttempts > MaxAttempts {
		v.addf(path+".max_attempts", "must be between 1 and %d, got %d", MaxAttempts, r.MaxAttempts)
	}
	v.nonNegative(path+".backoff", float64(r.Backoff), r.Backoff.String())
	v.nonNegative(path+".timeout", float64(r.Timeout), r.Timeout.String())
	v.routingParams(path, r) // routing_params.go
}

func (v *validator) faults(regions map[string]string) {
	targets := map[string]bool{}
	for _, p := range v.s.Providers {
		targets[p.Name] = true
	}
	for r := range regions {
		targets[r] = true
	}
	ends := maps.Clone(targets) // regions and providers
	for _, d := range v.s.Deployments {
		targets[d.Name] = true
	}
	for i, f := range v.s.Faults {
		path := indexPath("faults", i)
		v.oneOf(path+".kind", f.Kind, FaultKinds...)
		switch {
		case f.Target == "" && f.Kind == FaultLink:
			v.addf(path+".target", "is required: name the region or provider at one end of the link")
		case f.Target == "":
			v.addf(path+".target", "is required: name a deployment, region or provider")
		case f.Kind == FaultLink && !ends[f.Target] && !v.isTainted("providers"):
			v.addf(path+".target", "%q is not a declared region or provider (a link fault names the ends of a link)", f.Target)
		case !targets[f.Target] && !v.isTainted("providers", "deployments"):
			v.addf(path+".target", "%q is not a declared deployment, region or provider", f.Target)
		}
		switch {
		case f.Kind == FaultLink && f.To == "":
			v.addf(path+".to", "is required for a link fault: name the region or provider at the other end")
		case f.Kind == FaultLink && !ends[f.To] && !v.isTainted("providers"):
			v.addf(path+".to", "%q is not a declared region or provider", f.To)
		case f.Kind != FaultLink && f.To != "":
			v.addf(path+".to", "is used only by link faults; remove it or set kind: link")
		}
		v.nonNegative(path+".start", float64(f.Start), f.Start.String())
		v.positive(path+".duration", float64(f.Duration), f.Duration.String())
		switch f.Kind {
		case FaultBrownout, FaultLink:
			v.positive(path+".latency_factor", f.LatencyFactor, fmtFloat(f.LatencyFactor))
		case FaultThrottle:
			v.nonNegative(path+".quota_factor", f.QuotaFactor, fmtFloat(f.QuotaFactor))
		}
	}
}

// dist checks that a distribution yields no negative values (a negative
// constant such as "-5ms" gets past the duration parser).
func (v *validator) dist(path string, d *Dist, text func(float64) string) {
	switch d.Kind {
	case Constant, Uniform:
		if !(d.A >= 0) {
			v.addf(path, "must not be negative, got %s", text(d.A))
		}
	case Empirical:
		if len(d.Values) > 0 && !(d.Values[0] >= 0) {
			v.addf(path, "values must not be negative, got %s", text(d.Values[0]))
		}
	}
}

// tokens checks a token count distribution: non-negative and, where it is
// bounded, within the int32 range requests carry.
func (v *validator) tokens(path string, d *Dist) {
	v.dist(path, d, fmtFloat)
	hi := 0.0
	switch d.Kind {
	case Constant:
		hi = d.A
	case Uniform:
		hi = d.B
	case Empirical:
		if len(d.Values) > 0 {
			hi = d.Values[len(d.Values)-1]
		}
	}
	if hi > math.MaxInt32 {
		v.addf(path, "must be at most %d tokens, got %s", math.MaxInt32, fmtFloat(hi))
	}
}

func durationText(sec float64) string { return Duration(sec * 1e9).String() }

func rateText(r Rate) string { return fmtFloat(float64(r)) + "/s" }

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// listedNames is the most names a "declared: a, b" message lists: a
// message per problem that listed all of thousands of names would make the
// report grow with the square of the scenario.
const listedNames = 20

// sortedKeys lists a map's keys for "declared: a, b" messages.
func sortedKeys[V any](m map[string]V) string {
	if len(m) == 0 {
		return "(none)"
	}
	if len(m) > listedNames {
		// Sorting all the keys for each message would be quadratic too;
		// the first names in sorted order are found in one pass.
		keys := make([]string, 0, listedNames+1)
		for k := range m {
			i, _ := slices.BinarySearch(keys, k)
			if i < listedNames {
				keys = slices.Insert(keys, i, k)
				if len(keys) > listedNames {
					keys = keys[:listedNames]
				}
			}
		}
		return fmt.Sprintf("%s, … (%d in all)", strings.Join(keys, ", "), len(m))
	}
	return strings.Join(sortedMapKeys(m), ", ")
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func regionNames(p *Provider) string {
	names := make([]string, len(p.Regions))
	for i, r := range p.Regions {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// constraints checks the rules themselves, then every strategy against them
// (unless it is a what-if).
func (v *validator) constraints(regions map[string]string) {
	c := v.s.Constraints
	if c == nil {
		return
	}
	providers := map[string]bool{}
	for _, p := range v.s.Providers {
		providers[p.Name] = true
	}
	for _, layer := range sortedMapKeys(c.Exclusivity) {
		lp := keyPath("constraints.exclusivity", layer)
		if !slices.Contains(layers, layer) {
			v.addf(lp, "unknown layer %q; layers: %s", layer, strings.Join(layers, ", "))
		}
		for j, p := range c.Exclusivity[layer] {
			if !providers[p] && !v.isTainted("providers") {
				v.addf(indexPath(lp, j), "provider %q is not declared", p)
			}
		}
	}
	tags := map[string]bool{}
	for _, p := range v.s.Providers {
		for _, r := range p.Regions {
			for _, t := range r.Tags {
				tags[t] = true
			}
		}
	}
	for j, t := range c.Residency {
		if !tags[t] {
			v.addf(indexPath("constraints.residency", j), "no region carries tag %q, so traffic tagged with it could go nowhere", t)
		}
	}
	if v.isTainted("strategies", "deployments", "workloads") {
		return
	}
	for i := range v.s.Strategies {
		if v.s.Strategies[i].WhatIf {
			continue
		}
		for _, x := range Violations(v.s, i) {
			v.addf(x.Path, "%s, breaking %s (set what_if: true on the strategy to run it anyway)", x.Message, x.Constraint)
		}
	}
}
