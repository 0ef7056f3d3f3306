package scenarios

import "time"

// Default values filled in by ApplyDefaults. They are the values a scenario
// author most often means when leaving a field out; every one is documented
// on the field it fills.
const (
	DefaultSeed          = 1
	DefaultReplications  = 5
	DefaultRequests      = 100000
	DefaultTokenWindow   = Duration(60 * time.Second)
	DefaultRequestWindow = Duration(10 * time.Second)
	DefaultOutputBurn    = 1.0
	DefaultLoadFactor    = 1.0
	DefaultMaxTokens     = 4096
	DefaultInputTokens   = 1000
	DefaultOutputTokens  = 250
	DefaultPeriod        = Duration(24 * time.Hour)
	DefaultPeakAt        = Duration(14 * time.Hour)
	DefaultMaxAttempts   = 3
)

// ApplyDefaults fills in the fields a scenario author may leave out. A field
// is filled only when it holds its zero value, so it is idempotent and never
// overrides what the author wrote. Fields whose zero value is meaningful
// (Capacity.Queue: nil means unbounded, a pointer to 0 a loss system; quota
// rates: 0 means unlimited; Routing.Backoff and Timeout: 0 means none) are left
// alone.
//
// Load and Parse use the same rules but only for fields absent from the file,
// so that an explicit zero ("replications: 0") is reported by validation
// instead of being silently replaced.
func ApplyDefaults(s *Scenario) { applyDefaults(s, nil) }

// applyDefaults fills zero fields that present (a field path lookup, see
// FieldError for the path convention) says the author did not write; with a
// nil present every zero field counts as omitted.
func applyDefaults(s *Scenario, present func(path string) bool) {
	missing := func(path string) bool { return present == nil || !present(path) }
	if s.Seed == 0 && missing("seed") {
		s.Seed = DefaultSeed
	}
	if s.Replications == 0 && missing("replications") {
		s.Replications = DefaultReplications
	}
	if s.Run.Requests == 0 && s.Run.Horizon == 0 && missing("run.requests") && missing("run.horizon") {
		s.Run.Requests = DefaultRequests
	}
	for i := range s.Deployments {
		d := &s.Deployments[i]
		p := indexPath("deployments", i)
		if d.Layer == "" && missing(p+".layer") {
			d.Layer = LayerModel
		}
		q := &d.Capacity.Quota
		qp := p + ".capacity.quota"
		if q.TokenWindow == 0 && missing(qp+".token_window") {
			q.TokenWindow = DefaultTokenWindow
		}
		if q.RequestWindow == 0 && missing(qp+".request_window") {
			q.RequestWindow = DefaultRequestWindow
		}
		if q.OutputBurn == 0 && missing(qp+".output_burn") {
			q.OutputBurn = DefaultOutputBurn
		}
		if d.Latency.LoadFactor == 0 && missing(p+".latency.load_factor") {
			d.Latency.LoadFactor = DefaultLoadFactor
		}
	}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		p := indexPath("workloads", i)
		if w.Layer == "" && missing(p+".layer") {
			w.Layer = LayerModel
		}
		if w.MaxTokens == 0 && missing(p+".max_tokens") {
			w.MaxTokens = DefaultMaxTokens
		}
		if w.InputTokens.IsZero() && missing(p+".input_tokens") {
			w.InputTokens = CountDist{ConstDist(DefaultInputTokens)}
		}
		if w.OutputTokens.IsZero() && missing(p+".output_tokens") {
			w.OutputTokens = CountDist{ConstDist(DefaultOutputTokens)}
		}
		if a := &w.Arrival; a.Process == ProcDiurnal {
			if a.Period == 0 && missing(p+".arrival.period") {
				a.Period = DefaultPeriod
			}
			if a.PeakAt == 0 && missing(p+".arrival.peak_at") {
				a.PeakAt = DefaultPeakAt
			}
		}
	}
	for i := range s.Strategies {
		st := &s.Strategies[i]
		r := &st.Routing
		p := indexPath("strategies", i) + ".routing"
		if r.Policy == "" && missing(p+".policy") {
			r.Policy = PolicyFailover
		}
		if r.MaxAttempts == 0 && missing(p+".max_attempts") {
			r.MaxAttempts = DefaultMaxAttempts
		}
		if r.Policy == PolicyWeighted {
			// Every placed deployment takes part in the split unless the
			// author weighted it explicitly (a weight of 0 keeps it as a
			// failover target only).
			for _, names := range st.Placement {
				for _, name := range names {
					if _, ok := r.Weights[name]; !ok {
						if r.Weights == nil {
							r.Weights = map[string]float64{}
						}
						r.Weights[name] = 1
					}
				}
			}
		}
	}
}
