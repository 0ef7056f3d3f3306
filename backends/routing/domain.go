package routing

import "fmt"

// FailureDomain says which deployments fail together. Gateways eject, cool
// down and trip breakers per deployment (LiteLLM's cooldowns, Envoy's
// outlier detection, Portkey's circuit breaker), so none of them knows that
// all Azure deployments in one region fail together; with a
// region or provider domain, the evidence against one deployment takes its
// whole domain out, so the next attempt does not walk into the same
// regional incident.
type FailureDomain string

// Failure domains.
const (
	// DomainDeployment: every deployment is its own domain (the gateways'
	// behaviour, and the default).
	DomainDeployment FailureDomain = "deployment"
	// DomainRegion: deployments in the same region fail together.
	DomainRegion FailureDomain = "region"
	// DomainProvider: deployments of the same provider fail together.
	DomainProvider FailureDomain = "provider"
)

// domains is the reusable failure-domain helper of outlier ejection, the
// circuit breaker and the cooldown policies. It knows two ways of taking a
// domain out:
//
//   - eject(dep, until): timed, for every member (outlier ejection,
//     cooldowns): the domain is out until the instant given.
//   - hold(dep) / release(dep): for as long as dep's own state says so (an
//     open or half-open breaker), for every member except dep, whose own
//     state machine keeps deciding for it (so its half-open probes still
//     reach it).
//
// With DomainDeployment every domain has one member, eject is a plain
// per-deployment ejection and hold has no effect on others.
type domains struct {
	of      []int   // candidate → domain
	members [][]int // domain → its candidates, in placement order
	until   []int64 // domain → out until (exclusive)
	holder  []int   // domain → candidate holding it out (-1: none)
}

// newDomains groups cands by mode ("" means DomainDeployment).
func newDomains(mode FailureDomain, cands []Candidate) (*domains, error) {
	d := &domains{of: make([]int, len(cands))}
	key := func(c *Candidate, i int) string {
		switch mode {
		case DomainRegion:
			return "r\x00" + c.Provider + "\x00" + c.Region
		case DomainProvider:
			return "p\x00" + c.Provider
		}
		return "d\x00" + fmt.Sprint(i)
	}
	switch mode {
	case "", DomainDeployment, DomainRegion, DomainProvider:
	default:
		return nil, fmt.Errorf("routing: unknown failure domain %q (deployment, region or provider)", mode)
	}
	ids := map[string]int{}
	for i := range cands {
		k := key(&cands[i], i)
		id, ok := ids[k]
		if !ok {
			id = len(d.members)
			ids[k] = id
			d.members = append(d.members, nil)
		}
		d.of[i] = id
		d.members[id] = append(d.members[id], i)
	}
	d.until = make([]int64, len(d.members))
	d.holder = make([]int, len(d.members))
	for i := range d.holder {
		d.holder[i] = -1
	}
	return d, nil
}

// eject takes dep's domain out until the given instant (an earlier one
// never shortens an ejection in force).
func (d *domains) eject(dep int, until int64) {
	g := d.of[dep]
	d.until[g] = max(d.until[g], until)
}

// hold takes dep's domain out for every other member until release(dep).
func (d *domains) hold(dep int) { d.holder[d.of[dep]] = dep }

// release ends a hold dep placed (a hold by another member stays).
func (d *domains) release(dep int) {
	if g := d.of[dep]; d.holder[g] == dep {
		d.holder[g] = -1
	}
}

// out reports whether dep may not be tried at now because of its domain.
func (d *domains) out(now int64, dep int) bool {
	g := d.of[dep]
	return now < d.until[g] || (d.holder[g] >= 0 && d.holder[g] != dep)
}

// count returns how many candidates are out at now.
func (d *domains) count(now int64) int {
	n := 0
	for i := range d.of {
		if d.out(now, i) {
			n++
		}
	}
	return n
}

// size returns how many candidates share dep's domain.
func (d *domains) size(dep int) int { return len(d.members[d.of[dep]]) }

// prepare does what every constructor of a failure-domain policy does first:
// refuse an empty candidate list, check the config, and build the domains.
func prepare(check func() error, domain FailureDomain, cands []Candidate) (*domains, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if err := check(); err != nil {
		return nil, err
	}
	return newDomains(domain, cands)
}
