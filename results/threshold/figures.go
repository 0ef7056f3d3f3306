// Package threshold parses and evaluates k6-style thresholds such as
// "e2e.p99<2s" or "error_rate<1%" against a strategy's results.Result, and
// owns the one table of the figures they can name (Figures): each figure's
// name, unit and how to read it from a result. Anything else that names a
// figure of a result (the optimizer's objectives) reads it through this
// table, so a name means the same number everywhere.
package threshold

import (
	"math"
	"slices"
	"strings"

	"github.com/mcbench/mcbench/results"
)

// Unit is what a figure measures, which decides the values a threshold on
// it may be written with.
type Unit int

// Units of figures.
const (
	// Seconds: a duration; values such as 2s, 250ms, 1m30s or a plain
	// number of seconds.
	Seconds Unit = iota
	// Fraction: a share between 0 and 1; values such as 1% or 0.01.
	Fraction
	// USD: an amount in US dollars; values such as 0.01 or $0.01.
	USD
	// PerSecond: a rate; a plain number.
	PerSecond
	// Count: a number of requests; a plain number.
	Count
)

var unitNames = [...]string{"seconds", "fraction", "USD", "per second", "count"}

// String names the unit.
func (u Unit) String() string { return unitNames[u] }

// Figure is one number a threshold (or an objective) can name.
type Figure struct {
	// Name is the figure's name, as in summary.json where it has one
	// there: "e2e.p99" is e2e_seconds.p99.
	Name string
	// Aliases are other accepted spellings: summary.json's own field
	// paths, such as "e2e_seconds.p99".
	Aliases []string
	Unit    Unit
	// Doc says what the figure is, in a few words, for --help and errors.
	Doc string
	// Read returns the figure's value in r: NaN when r did not measure it
	// (no completed request for a latency, no prices for a cost, a queue
	// wait a live endpoint does not report).
	Read func(r *results.Result) float64
}

// latency returns the figures of a latency block: mean, p50, p90, p99 and
// max, NaN without a completed request (the block then holds zeros, not
// measurements).
func latency(name, field, what string, get func(r *results.Result) *results.Latency) []Figure {
	stats := []struct {
		stat string
		of   func(l *results.Latency) float64
	}{
		{"mean", func(l *results.Latency) float64 { return l.Mean }},
		{"p50", func(l *results.Latency) float64 { return l.P50 }},
		{"p90", func(l *results.Latency) float64 { return l.P90 }},
		{"p99", func(l *results.Latency) float64 { return l.P99 }},
		{"max", func(l *results.Latency) float64 { return l.Max }},
	}
	fs := make([]Figure, len(stats))
	for i, st := range stats {
		fs[i] = Figure{
			Name: name + "." + st.stat, Aliases: []string{field + "." + st.stat}, Unit: Seconds,
			Doc: st.stat + " " + what + " of completed requests",
			Read: func(r *results.Result) float64 {
				l := get(r)
				if l == nil || r.Completed == 0 {
					return math.NaN()
				}
				return st.of(l)
			},
		}
	}
	return fs
}

// share is n/of, NaN when of is 0.
func share(n, of int64) float64 {
	if of == 0 {
		return math.NaN()
	}
	return float64(n) / float64(of)
}

// figures is the table, sorted by name (built once, never modified).
var figures = func() []Figure {
	fs := []Figure{
		{Name: "requests", Unit: Count, Doc: "measured requests",
			Read: func(r *results.Result) float64 { return float64(r.Requests) }},
		{Name: "completed", Unit: Count, Doc: "requests that got a full response",
			Read: func(r *results.Result) float64 { return float64(r.Completed) }},
		{Name: "error_rate", Unit: Fraction, Doc: "share of measured requests that did not complete (rejected, failed or timed out)",
			Read: func(r *results.Result) float64 { return share(r.Requests-r.Completed, r.Requests) }},
		{Name: "availability", Unit: Fraction, Doc: "share of measured requests that completed (1 − error_rate)",
			Read: func(r *results.Result) float64 { return share(r.Completed, r.Requests) }},
		{Name: "rejected_rate", Unit: Fraction, Doc: "share of measured requests throttled or refused for capacity",
			Read: func(r *results.Result) float64 { return share(r.Rejected, r.Requests) }},
		{Name: "timed_out_rate", Unit: Fraction, Doc: "share of measured requests that hit the client's timeout",
			Read: func(r *results.Result) float64 { return share(r.TimedOut, r.Requests) }},
		{Name: "attempts_per_request", Unit: Count, Doc: "attempts per measured request (retries and hedges included)",
			Read: func(r *results.Result) float64 { return share(r.Attempts, r.Requests) }},
		{Name: "throughput_rps", Unit: PerSecond, Doc: "completed requests per second",
			Read: func(r *results.Result) float64 { return r.ThroughputRPS }},
		{Name: "p_wait", Unit: Fraction, Doc: "share of measured requests that waited for a slot",
			Read: func(r *results.Result) float64 { return float64(r.PWait) }},
		{Name: "cost_per_successful_request", Aliases: []string{"token_cost_per_successful_request_usd"}, Unit: USD,
			Doc:  "token cost per completed request",
			Read: func(r *results.Result) float64 { return float64(r.TokenCostPerSuccessfulRequest) }},
		{Name: "token_cost_usd", Unit: USD, Doc: "token cost of the measured requests, per replication",
			Read: func(r *results.Result) float64 { return float64(r.TokenCostUSD) }},
		{Name: "token_cost_per_1k_requests", Unit: USD, Doc: "token cost per thousand measured requests",
			Read: func(r *results.Result) float64 { return float64(r.TokenCostPer1kRequests) }},
		{Name: "slo_attainment", Unit: Fraction, Doc: "share of sessions completed within their SLO, over the session workloads that set one",
			Read: sloAttainment},
	}
	fs = append(fs, latency("ttft", "ttft_seconds", "time to first token", func(r *results.Result) *results.Latency { return &r.TTFTSeconds })...)
	fs = append(fs, latency("e2e", "e2e_seconds", "end-to-end latency", func(r *results.Result) *results.Latency { return &r.E2ESeconds })...)
	fs = append(fs, latency("wait", "wait_seconds", "queue wait", func(r *results.Result) *results.Latency { return r.WaitSeconds })...)
	slices.SortFunc(fs, func(a, b Figure) int { return strings.Compare(a.Name, b.Name) })
	return fs
}()

// sloAttainment is the share of sessions within their SLO over every
// session workload with an SLO: each workload's attainment weighted by its
// sessions, which is the share over all of them. NaN without such a
// workload or session.
func sloAttainment(r *results.Result) float64 {
	var in, n float64
	for _, s := range r.Sessions {
		if !s.SLOAttainment.Known() || s.Sessions == 0 {
			continue
		}
		in += float64(s.SLOAttainment) * float64(s.Sessions)
		n += float64(s.Sessions)
	}
	if n == 0 {
		return math.NaN()
	}
	return in / n
}

// byName indexes figures by name and alias.
var byName = func() map[string]*Figure {
	m := make(map[string]*Figure, 2*len(figures))
	for i := range figures {
		f := &figures[i]
		m[f.Name] = f
		for _, a := range f.Aliases {
			m[a] = f
		}
	}
	return m
}()

// Figures returns the table of figures, sorted by name. The slice is a
// copy; the figures' Read functions are safe for concurrent use.
func Figures() []Figure { return slices.Clone(figures) }

// Lookup returns the figure called name (a name or an alias).
func Lookup(name string) (*Figure, bool) {
	f, ok := byName[name]
	return f, ok
}

// Names returns the figures' names (not their aliases), sorted.
func Names() []string {
	names := make([]string, len(figures))
	for i := range figures {
		names[i] = figures[i].Name
	}
	return names
}
