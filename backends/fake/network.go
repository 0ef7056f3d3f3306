package fake

import (
	"time"

	"github.com/mcbench/mcbench/scenarios"
)

// network is the scenario's links as one deployment sees them: the one-way
// latency from each origin region to the deployment's region, drawn per
// call as the simulator draws it, and the link faults that slow them.
type network struct {
	key   uint64 // the simulator's "network" stream of replication 0
	links map[string]*scenarios.Sampler
	// faults are the link fault windows between some origin regions and
	// the deployment's region.
	faults []linkWindow
}

type linkWindow struct {
	start, end time.Duration
	factor     float64
	origins    map[string]bool
}

func newNetwork(s *scenarios.Scenario, region string) network {
	n := network{key: scenarios.StreamKey(s.Seed, 0, "network", ""), links: map[string]*scenarios.Sampler{}}
	for i := range s.Links {
		l := &s.Links[i]
		if l.Latency.IsZero() || l.From == l.To {
			continue
		}
		sm := scenarios.NewSampler(l.Latency.Dist)
		switch region {
		case l.From:
			n.links[l.To] = &sm
		case l.To:
			n.links[l.From] = &sm
		}
	}
	regionsOf := func(name string) []string {
		for _, p := range s.Providers {
			for _, r := range p.Regions {
				if r.Name == name {
					return []string{name}
				}
			}
		}
		var out []string
		for _, p := range s.Providers {
			if p.Name == name {
				for _, r := range p.Regions {
					out = append(out, r.Name)
				}
			}
		}
		return out
	}
	for _, f := range s.Faults {
		if f.Kind != scenarios.FaultLink {
			continue
		}
		w := linkWindow{start: f.Start.Std(), end: (f.Start + f.Duration).Std(), factor: f.LatencyFactor, origins: map[string]bool{}}
		a, b := regionsOf(f.Target), regionsOf(f.To)
		for _, pair := range [][2][]string{{a, b}, {b, a}} {
			for _, x := range pair[0] {
				for _, y := range pair[1] {
					if y == region && x != region {
						w.origins[x] = true
					}
				}
			}
		}
		if len(w.origins) > 0 {
			n.faults = append(n.faults, w)
		}
	}
	return n
}

// delay is the one-way latency between origin and the deployment for call
// id's draw counter, at time at on the fault clock: the simulator's
// netDelay for the same request and attempt.
func (n *network) delay(origin string, id, counter uint64, at time.Duration) time.Duration {
	sm := n.links[origin]
	if sm == nil {
		return 0
	}
	x := sm.Quantile(scenarios.Draw(n.key, id, counter)) * 1e9
	for _, w := range n.faults {
		if w.origins[origin] && at >= w.start && at < w.end {
			x *= w.factor
		}
	}
	return time.Duration(x)
}
