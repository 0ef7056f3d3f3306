package sim

import (
	"context"
	"testing"

	"github.com/mcbench/mcbench/scenarios"
)

// mmc returns an M/M/c scenario in code (no YAML), with mean service 1 s,
// so the benchmark measures the engine alone.
func mmc(c int, lambda float64, requests int) *scenarios.Scenario {
	return &scenarios.Scenario{
		Name: "mmc", Seed: 1, Replications: 1,
		Run:       scenarios.Run{Requests: scenarios.Count(requests)},
		Providers: []scenarios.Provider{{Name: "p", Kind: scenarios.KindGeneric, Regions: []scenarios.Region{{Name: "r"}}}},
		Deployments: []scenarios.Deployment{{
			Name: "d", Provider: "p", Region: "r", Layer: scenarios.LayerModel,
			Capacity: scenarios.Capacity{Concurrency: c},
			Latency:  scenarios.Latency{TTFT: scenarios.TimeDist{Dist: scenarios.Dist{Kind: scenarios.Exponential, A: 1}}, LoadFactor: 1},
		}},
		Workloads: []scenarios.Workload{{
			Name: "w", Layer: scenarios.LayerModel, MaxTokens: 4096,
			Arrival: scenarios.Arrival{Process: scenarios.ProcPoisson, Rate: scenarios.Rate(lambda)},
		}},
		Strategies: []scenarios.Strategy{{
			Name: "s", Placement: map[string][]string{scenarios.LayerModel: {"d"}},
			Routing: scenarios.Routing{Policy: scenarios.PolicyFailover, MaxAttempts: 1},
		}},
	}
}

// BenchmarkMMc10 simulates an M/M/10 queue at ρ = 0.9; one op is one
// simulated request. It reports simulated requests/s and events/s.
func BenchmarkMMc10(b *testing.B) {
	s := mmc(10, 9, b.N)
	m, err := compile(s, &s.Strategies[0])
	if err != nil {
		b.Fatal(err)
	}
	e := benchEngine(b, m)
	b.ReportAllocs()
	b.ResetTimer()
	e.run(context.Background())
	b.StopTimer()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(e.st.Requests)/sec, "requests/s")
	b.ReportMetric(float64(e.eventCount)/sec, "events/s")
	b.ReportMetric(float64(e.eventCount)/float64(b.N), "events/request")
	// Memory is flat in the run length: request slots are reused, so this
	// stays near the most requests ever in flight, whatever b.N is.
	b.ReportMetric(float64(len(e.reqs)), "request-slots")
	b.ReportMetric(float64(cap(e.h.ev)), "queue-capacity")
}

// BenchmarkQueueHold is the classic hold benchmark on the event queue: pop the
// minimum, push it back later, at a steady population of 1,000 events.
func BenchmarkQueueHold(b *testing.B) {
	var h eventQueue
	r := scenarios.NewRand(1, 0, "bench", "")
	for i := range 1000 {
		h.push(event{at: int64(r.ExpFloat64() * 1e9), seq: uint64(i)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e := h.pop()
		e.at += int64(r.ExpFloat64() * 1e9)
		e.seq = uint64(i + 1000)
		h.push(e)
	}
}

// BenchmarkFederated simulates the library's federated scenario (chat,
// agent sessions and batch, cross-cloud links, an outage, a throttling storm
// and a link fault, four routing policies including hedging) through the
// engine, as BenchmarkMMc10 does: one op is one replication of every
// strategy; calls/s counts simulated model calls (session steps included).
// Run's fault-free baseline replications are left out: they are the same
// work again.
func BenchmarkFederated(b *testing.B) {
	s, err := scenarios.Open("federated")
	if err != nil {
		b.Fatal(err)
	}
	models := make([]*model, len(s.Strategies))
	for i := range s.Strategies {
		if models[i], err = compile(s, &s.Strategies[i]); err != nil {
			b.Fatal(err)
		}
	}
	var calls, events int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, m := range models {
			e := benchEngine(b, m)
			e.run(context.Background())
			calls += e.arrivals
			events += e.eventCount
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(calls)/sec, "calls/s")
	b.ReportMetric(float64(events)/sec, "events/s")
	b.ReportMetric(float64(events)/float64(calls), "events/call")
}

// benchEngine returns an engine for replication 0 of a compiled model.
func benchEngine(b *testing.B, m *model) *engine {
	stream, err := scenarios.NewStream(m.s, 0)
	if err != nil {
		b.Fatal(err)
	}
	e, err := newEngine(m, 0, stream)
	if err != nil {
		b.Fatal(err)
	}
	return e
}
