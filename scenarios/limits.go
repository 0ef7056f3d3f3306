package scenarios

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LimitsEnv names the environment variable that raises (or lowers) the
// limits on inputs: a comma-separated list of NAME=VALUE, for example
//
//	MCBENCH_LIMITS=deployments=5000,requests=1e10 mcbench sim big.yaml
//
// NAME is one of the yaml names of Limits' fields; VALUE is a whole number
// (1e10, 10k and 2M are accepted), a duration for horizon, and a byte size
// for file_size (4MiB, 4194304).
const LimitsEnv = "MCBENCH_LIMITS"

// Limits bound every input mcbench accepts, so that a typo or a hostile
// file is refused at once with a message naming the limit, instead of
// running for hours or eating the machine's memory. Every default is
// generous for real use; each can be changed through LimitsEnv.
type Limits struct {
	// FileBytes is the largest scenario file. Real scenarios are a few
	// kilobytes; 1 MiB holds a thousand verbose deployments.
	FileBytes int `yaml:"file_size"`
	// Nodes is the most YAML nodes (scalars, lists, mappings) a scenario
	// may hold once its aliases are expanded. It is checked on the parsed
	// document before anything is decoded, in time linear in what is
	// written, so an alias bomb (a kilobyte that expands to billions of
	// nodes) is refused at once.
	Nodes int `yaml:"nodes"`
	// Keys is the most keys of one YAML mapping. The YAML decoder checks
	// a mapping's keys for duplicates pair by pair, so one mapping of k
	// keys costs k² comparisons; the largest mapping a scenario needs
	// (routing weights) has a key per placed deployment, so the limit in
	// force is never below Deployments.
	Keys int `yaml:"keys"`
	// Counts of the scenario's lists. Regions counts the regions of every
	// provider together.
	Providers   int `yaml:"providers"`
	Regions     int `yaml:"regions"`
	Links       int `yaml:"links"`
	Deployments int `yaml:"deployments"`
	Workloads   int `yaml:"workloads"`
	Strategies  int `yaml:"strategies"`
	Faults      int `yaml:"faults"`
	// Replications is the most replications per strategy (run.replications,
	// sim --replications).
	Replications int `yaml:"replications"`
	// Requests is the most arrivals per replication: run.requests and sim
	// --requests, and the arrivals a horizon alone brings at the workloads'
	// mean rates (see ExpectedArrivals).
	Requests float64 `yaml:"requests"`
	// Horizon is the longest run.horizon (sim --horizon).
	Horizon Duration `yaml:"horizon"`
	// Workers is the most replications simulated at once (sim --workers).
	// More workers than CPUs gain nothing; each holds a replication's
	// state. Default 4 × GOMAXPROCS.
	Workers int `yaml:"workers"`
	// LoadWorkers is the most initial attack workers of a load test (load
	// --workers); each is a goroutine with its own connection.
	LoadWorkers int `yaml:"load_workers"`
	// InFlight is the most requests (and sessions) one simulated
	// replication holds at once. A scenario whose arrival rate exceeds its
	// capacity and whose queues are unbounded grows without end; at this
	// many the replication stops as unstable (see sim.UnstableError).
	InFlight int `yaml:"in_flight"`
}

// DefaultLimits returns the limits in force when LimitsEnv is not set.
func DefaultLimits() Limits {
	return Limits{
		FileBytes:    MaxFileSize,
		Nodes:        200_000,
		Keys:         1000,
		Providers:    100,
		Regions:      1000,
		Links:        10_000,
		Deployments:  1000,
		Workloads:    1000,
		Strategies:   1000,
		Faults:       1000,
		Replications: MaxReplications,
		Requests:     1e9,
		Horizon:      Duration(30 * 24 * time.Hour),
		Workers:      4 * runtime.GOMAXPROCS(0),
		LoadWorkers:  10_000,
		InFlight:     100_000,
	}
}

// CurrentLimits returns DefaultLimits with the changes LimitsEnv asks for.
// A bad LimitsEnv is a *FieldError whose File is LimitsEnv, and the
// defaults come with it.
func CurrentLimits() (Limits, error) {
	l := DefaultLimits()
	spec := strings.TrimSpace(os.Getenv(LimitsEnv))
	if spec == "" {
		return l, nil
	}
	if err := l.Set(spec); err != nil {
		return DefaultLimits(), &FieldError{File: LimitsEnv, Msg: err.Error()}
	}
	return l, nil
}

// Set applies a comma-separated list of NAME=VALUE (see LimitsEnv).
func (l *Limits) Set(spec string) error {
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok {
			return fmt.Errorf("%q is not NAME=VALUE (limits: %s)", kv, strings.Join(limitNames(), ", "))
		}
		if err := l.set(name, val); err != nil {
			return err
		}
	}
	return nil
}

func (l *Limits) set(name, val string) error {
	if name == "horizon" {
		d, err := ParseDuration(val)
		if err != nil || d <= 0 {
			return fmt.Errorf("horizon=%s: expected a positive duration such as 90d or 2000h", val)
		}
		l.Horizon = d
		return nil
	}
	var n float64
	if name == "file_size" {
		b, err := parseBytes(val)
		if err != nil {
			return fmt.Errorf("file_size=%s: expected a size such as 4MiB or 4194304", val)
		}
		n = b
	} else {
		c, err := ParseCount(val)
		if err != nil || c < 1 || float64(c) != math.Trunc(float64(c)) {
			return fmt.Errorf("%s=%s: expected a whole number >= 1 such as 5000, 10k or 1e10", name, val)
		}
		n = float64(c)
	}
	if name == "requests" {
		l.Requests = n
		return nil
	}
	p := l.intField(name)
	if p == nil {
		return fmt.Errorf("unknown limit %q (limits: %s)", name, strings.Join(limitNames(), ", "))
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("%s=%s: at most %d", name, val, math.MaxInt32)
	}
	*p = int(n)
	return nil
}

func (l *Limits) intField(name string) *int {
	switch name {
	case "file_size":
		return &l.FileBytes
	case "nodes":
		return &l.Nodes
	case "keys":
		return &l.Keys
	case "providers":
		return &l.Providers
	case "regions":
		return &l.Regions
	case "links":
		return &l.Links
	case "deployments":
		return &l.Deployments
	case "workloads":
		return &l.Workloads
	case "strategies":
		return &l.Strategies
	case "faults":
		return &l.Faults
	case "replications":
		return &l.Replications
	case "workers":
		return &l.Workers
	case "load_workers":
		return &l.LoadWorkers
	case "in_flight":
		return &l.InFlight
	}
	return nil
}

func limitNames() []string {
	names := []string{"file_size", "nodes", "keys", "providers", "regions", "links", "deployments", "workloads",
		"strategies", "faults", "replications", "requests", "horizon", "workers", "load_workers", "in_flight"}
	sort.Strings(names)
	return names
}

// parseBytes reads 1048576, 1MiB, 512KiB, 1MB.
func parseBytes(s string) (float64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"KB", 1e3}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= 1) || f*mult > math.MaxInt32 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return math.Trunc(f * mult), nil
}

// Raise says how to raise the named limit to at least want, for messages.
func Raise(name string, want float64) string {
	return fmt.Sprintf("raise it with %s=%s=%s", LimitsEnv, name, fmtCount(want))
}

// fmtCount writes a whole number without an exponent below 1e15.
func fmtCount(x float64) string {
	if x < 1e15 {
		return strconv.FormatFloat(math.Ceil(x), 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// ExpectedArrivals is the mean number of arrivals of one replication whose
// run ends at the horizon only (run.requests 0): the workloads' mean rates
// times the horizon. A trace's arrivals are bounded by its file and are
// not counted. It is what Limits.Requests bounds when no request count is
// set.
func ExpectedArrivals(s *Scenario) float64 {
	rate := 0.0
	for i := range s.Workloads {
		rate += meanRate(&s.Workloads[i].Arrival)
	}
	return rate * s.Run.Horizon.Seconds()
}

// meanRate is an arrival process's long-run mean rate per second.
func meanRate(a *Arrival) float64 {
	switch a.Process {
	case ProcPoisson, ProcConstant:
		return float64(a.Rate)
	case ProcMMPP:
		if len(a.Rates) == 2 && len(a.Sojourn) == 2 && a.Sojourn[0]+a.Sojourn[1] > 0 {
			s0, s1 := float64(a.Sojourn[0]), float64(a.Sojourn[1])
			return (float64(a.Rates[0])*s0 + float64(a.Rates[1])*s1) / (s0 + s1)
		}
	case ProcDiurnal:
		return (float64(a.Rate) + float64(a.Peak)) / 2
	case ProcRamp:
		return math.Max(float64(a.Rate), float64(a.Peak))
	}
	return 0
}

// maxKeys is the keys limit in force: a weights mapping may name every
// deployment the deployments limit allows.
func (l *Limits) maxKeys() int { return max(l.Keys, l.Deployments) }

// listLimits pairs each top-level list with its limit.
func (l *Limits) listLimits() []struct {
	key, name string
	max       int
} {
	return []struct {
		key, name string
		max       int
	}{
		{"providers", "providers", l.Providers},
		{"links", "links", l.Links},
		{"deployments", "deployments", l.Deployments},
		{"workloads", "workloads", l.Workloads},
		{"strategies", "strategies", l.Strategies},
		{"faults", "faults", l.Faults},
	}
}

// checkShape enforces the limits that must hold before a document is
// decoded: nodes after alias expansion, keys per mapping, and the lengths of
// the scenario's lists. It visits every written node once (an alias's
// expansion is counted from its anchor, computed once), so its cost is
// linear in the file whatever the aliases expand to. visits reports the
// nodes it looked at, for tests.
func checkShape(root *yaml.Node, l Limits) (fe *FieldError, visits int) {
	// The lists first: their lengths are read off the top-level mapping
	// and say more than a node count does.
	if fe := checkLists(root, l); fe != nil {
		return fe, 0
	}
	c := shapeCounter{l: l, size: map[*yaml.Node]int{}}
	total := c.count(root)
	if c.err != nil {
		return c.err, c.visits
	}
	if total > l.Nodes {
		return &FieldError{Line: root.Line, Column: root.Column, Msg: fmt.Sprintf(
			"the document holds %s YAML nodes once its aliases are expanded, more than the limit of %d; %s",
			fmtCount(float64(total)), l.Nodes, Raise("nodes", float64(total)))}, c.visits
	}
	return nil, c.visits
}

// checkLists checks the lengths of the scenario's top-level lists.
func checkLists(root *yaml.Node, l Limits) *FieldError {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	regions := 0
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], resolveAlias(root.Content[i+1])
		if v.Kind != yaml.SequenceNode {
			continue
		}
		for _, ll := range l.listLimits() {
			if k.Value == ll.key && len(v.Content) > ll.max {
				return &FieldError{Line: k.Line, Column: k.Column, Path: ll.key, Msg: fmt.Sprintf(
					"%d %s, more than the limit of %d; %s", len(v.Content), ll.name, ll.max, Raise(ll.name, float64(len(v.Content))))}
			}
		}
		if k.Value != "providers" {
			continue
		}
		for _, p := range v.Content {
			if p = resolveAlias(p); p.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(p.Content); j += 2 {
				if r := resolveAlias(p.Content[j+1]); p.Content[j].Value == "regions" && r.Kind == yaml.SequenceNode {
					regions += len(r.Content)
				}
			}
		}
		if regions > l.Regions {
			return &FieldError{Line: k.Line, Column: k.Column, Path: "providers", Msg: fmt.Sprintf(
				"%d regions over all providers, more than the limit of %d; %s", regions, l.Regions, Raise("regions", float64(regions)))}
		}
	}
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// shapeCounter counts the nodes of a document with its aliases expanded.
type shapeCounter struct {
	l      Limits
	size   map[*yaml.Node]int // expanded size of a node reached by an alias; -1 while it is being counted
	visits int
	err    *FieldError
}

// count returns n's expanded size. An anchored node is counted once and
// aliases to it reuse its size, so the work is linear in the written nodes.
func (c *shapeCounter) count(n *yaml.Node) int {
	if c.err != nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		c.visits++
		if n.Alias == nil {
			return 1
		}
		if s, ok := c.size[n.Alias]; ok && s < 0 {
			c.err = &FieldError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("alias *%s refers to a node that contains it", n.Value)}
			return 0
		}
		return c.count(n.Alias)
	}
	if s, ok := c.size[n]; ok && s >= 0 {
		return s
	}
	c.visits++
	if keys := len(n.Content) / 2; n.Kind == yaml.MappingNode && keys > c.l.maxKeys() {
		c.err = &FieldError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(
			"a mapping with %d keys, more than the limit of %d; %s", keys, c.l.maxKeys(), Raise("keys", float64(keys)))}
		return 0
	}
	if n.Anchor != "" {
		c.size[n] = -1
	}
	total := 1
	for _, ch := range n.Content {
		// Saturating: ten levels of ten aliases are 10^10 nodes, a
		// hundred would overflow.
		total = min(total+c.count(ch), math.MaxInt/2)
	}
	if n.Anchor != "" {
		c.size[n] = total
	}
	return total
}
