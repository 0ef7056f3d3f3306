package scenarios

import (
	"fmt"
	"slices"
	"strings"
)

// Constraints are rules every strategy's placement must keep: exclusivity
// contracts (a layer may run only on some providers, as foundation models
// only on Azure) and residency or compliance regimes (traffic tagged
// fedramp-high or eu-data-zone may be served only in regions with that tag).
// A strategy that breaks one fails validation unless it sets what_if: true;
// then it runs and its summary lists every violation.
type Constraints struct {
	// Exclusivity maps a layer to the providers allowed to serve it.
	Exclusivity map[string][]string `yaml:"exclusivity,omitempty" json:"exclusivity,omitempty"`
	// Residency lists the workload tags that are enforced: a workload
	// carrying one may be placed only on deployments in regions that carry
	// the same tag.
	Residency []string `yaml:"residency,omitempty" json:"residency,omitempty"`
}

// Violation is one way a strategy's placement breaks a constraint.
type Violation struct {
	// Path is the placement entry at fault ("strategies[1].placement.model[0]").
	Path string `json:"path"`
	// Constraint names the rule ("constraints.exclusivity.model").
	Constraint string `json:"constraint"`
	// Message says what is wrong.
	Message string `json:"message"`
}

func (v Violation) String() string { return v.Path + ": " + v.Message + " (" + v.Constraint + ")" }

// Violations returns every constraint the strategy at index i breaks.
func Violations(s *Scenario, i int) []Violation {
	c := s.Constraints
	if c == nil {
		return nil
	}
	st := &s.Strategies[i]
	deps := map[string]*Deployment{}
	for j := range s.Deployments {
		deps[s.Deployments[j].Name] = &s.Deployments[j]
	}
	regionTags := map[string][]string{}
	for _, p := range s.Providers {
		for _, r := range p.Regions {
			regionTags[r.Name] = r.Tags
		}
	}
	var out []Violation
	for _, layer := range sortedMapKeys(st.Placement) {
		for j, name := range st.Placement[layer] {
			d := deps[name]
			if d == nil {
				continue
			}
			path := indexPath(keyPath(keyPath(indexPath("strategies", i), "placement"), layer), j)
			if allowed, ok := c.Exclusivity[layer]; ok && !slices.Contains(allowed, d.Provider) {
				out = append(out, Violation{Path: path, Constraint: "constraints.exclusivity." + layer,
					Message: fmt.Sprintf("deployment %q runs on provider %q, but layer %s may run only on %s", name, d.Provider, layer, strings.Join(allowed, ", "))})
			}
			for _, w := range s.Workloads {
				if !slices.Contains(w.Layers(), layer) {
					continue
				}
				for _, tag := range w.Tags {
					if slices.Contains(c.Residency, tag) && !slices.Contains(regionTags[d.Region], tag) {
						out = append(out, Violation{Path: path, Constraint: "constraints.residency",
							Message: fmt.Sprintf("workload %q is tagged %s, but deployment %q is in region %q, which is not", w.Name, tag, name, d.Region)})
					}
				}
			}
		}
	}
	return out
}
