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
	stream, err := scenarios.NewStream(s, 0)
	if err != nil {
		b.Fatal(err)
	}
	e, err := newEngine(m, 0, stream)
	if err != nil {
		b.Fatal(err)
	}
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
	b.ReportMetric(float64(cap(e.h.ev)), "heap-capacity")
}

// BenchmarkHeapHold is the classic hold benchmark on the event heap: pop the
// minimum, push it back later, at a steady population of 1,000 events.
func BenchmarkHeapHold(b *testing.B) {
	var h eventHeap
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

// BenchmarkFederated simulates the library's federated scenario (two
// workloads, cross-cloud links, faults, four routing policies including
// hedging): one op is one replication of every strategy; requests/s counts
// simulated model calls (user-visible requests).
func BenchmarkFederated(b *testing.B) {
	s, err := scenarios.Open("federated")
	if err != nil {
		b.Fatal(err)
	}
	s.Replications = 1
	var requests int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sum, err := Run(context.Background(), s, Options{Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range sum.Results {
			requests += r.PerReplication[0].Arrivals
		}
	}
	b.ReportMetric(float64(requests)/b.Elapsed().Seconds(), "requests/s")
}
