package scenarios

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// bigScenario writes a scenario with n deployments, all placed by one
// weighted strategy that weights every one. With broken set, every
// deployment has a problem (concurrency 0) and the placement also lists n
// undeclared names: the shape that used to cost problems × paths.
func bigScenario(n int, broken bool) []byte {
	var b strings.Builder
	b.WriteString("name: big\nrun: {requests: 1000}\nproviders:\n  - {name: p, kind: generic, regions: [r]}\ndeployments:\n")
	conc := 10
	if broken {
		conc = 0
	}
	for i := range n {
		fmt.Fprintf(&b, "  - {name: d%d, provider: p, region: r, capacity: {concurrency: %d}, latency: {ttft: 300ms}}\n", i, conc)
	}
	b.WriteString("workloads:\n  - {name: w, origin: r, arrival: {process: poisson, rate: 30/s}}\nstrategies:\n  - name: all\n    placement:\n      model: [")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "d%d", i)
		if broken {
			fmt.Fprintf(&b, ", x%d", i)
		}
	}
	b.WriteString("]\n    routing:\n      policy: weighted\n      weights: {")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "d%d: 1", i)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// raised is DefaultLimits with room for n deployments.
func raised(n int) Limits {
	l := DefaultLimits()
	l.Deployments, l.Nodes, l.FileBytes = n, 100*n, 1<<30
	return l
}

func TestBigScenarioParses(t *testing.T) {
	s, err := parseWith("big.yaml", "", bigScenario(1000, false), DefaultLimits())
	require.NoError(t, err)
	assert.Len(t, s.Deployments, 1000)

	_, err = parseWith("big.yaml", "", bigScenario(50, true), DefaultLimits())
	var errs Errors
	require.ErrorAs(t, err, &errs)
	// One per deployment and one per undeclared name, each listing at
	// most listedNames of the declared deployments.
	require.Len(t, errs, 100)
	assert.Contains(t, errs.Error(), `deployment "x0" is not declared; declared: d0, d1, d10,`)
	assert.Contains(t, errs.Error(), "… (50 in all)")
}

// allocated returns the bytes parseWith allocates on data.
func allocated(t *testing.T, data []byte, lim Limits) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _ = parseWith("big.yaml", "", data, lim)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestValidationScalesLinearly checks, by bytes allocated rather than by
// time, that twice the deployments cost about twice the work, with and
// without a problem in every deployment. A message per problem that lists
// every declared name, the quadratic shape this guards against, makes the
// ratio near 4. (The CPU-only quadratic loops fixed with it, path lookups
// and duplicate checks, are timed by BenchmarkParseDeployments.)
func TestValidationScalesLinearly(t *testing.T) {
	for _, broken := range []bool{false, true} {
		small := allocated(t, bigScenario(1000, broken), raised(2000))
		large := allocated(t, bigScenario(2000, broken), raised(2000))
		ratio := float64(large) / float64(small)
		t.Logf("broken=%v: %d → %d bytes (×%.2f)", broken, small, large, ratio)
		assert.Less(t, ratio, 2.6, "broken=%v", broken)
	}
}

// BenchmarkParseDeployments parses scenarios of growing size; ns/deployment
// stays flat when parsing and validation are linear:
//
//	go test -run '^$' -bench ParseDeployments ./scenarios/
func BenchmarkParseDeployments(b *testing.B) {
	for _, broken := range []bool{false, true} {
		for _, n := range []int{1000, 5000, 10000} {
			data := bigScenario(n, broken)
			b.Run(fmt.Sprintf("n=%d/broken=%v", n, broken), func(b *testing.B) {
				for range b.N {
					_, _ = parseWith("big.yaml", "", data, raised(n))
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/deployment")
			})
		}
	}
}

// TestPathSetMatchesScan checks the path set against the plain scan it
// replaced, on paths that nest, share prefixes and quote keys.
func TestPathSetMatchesScan(t *testing.T) {
	paths := []string{"", "deployments", "deployments[1]", "deployments[1].name", "deployments[10]", "deployments[10].capacity.queue",
		"strategies[0].routing.weights", `strategies[0].routing.weights["a.b"]`, `strategies[0].routing.weights["a.b"].x`, "strategies", "providers[0].regions[2]", "run.requests", "run"}
	scanTaints := func(bad []string, p string) bool {
		for _, b := range bad {
			if b == p || within(b, p) {
				return true
			}
		}
		return false
	}
	scanSuppresses := func(bad []string, p string) bool {
		for _, b := range bad {
			if p == b || within(p, b) || (p != "" && within(b, p)) {
				return true
			}
		}
		return false
	}
	for i := range paths {
		for j := i; j < len(paths); j++ {
			bad := []string{paths[i], paths[j]}
			if i == 0 {
				bad = bad[1:] // also sets without the root
			}
			set := newPathSet(bad)
			for _, p := range paths {
				assert.Equal(t, scanTaints(bad, p), set.taints(p), "bad %q, taints(%q)", bad, p)
				assert.Equal(t, scanSuppresses(bad, p), set.suppresses(p), "bad %q, suppresses(%q)", bad, p)
			}
		}
	}
}

// limitErr parses data under lim and returns the only problem reported.
func limitErr(t *testing.T, data string, lim Limits) *FieldError {
	t.Helper()
	_, err := parseWith("x.yaml", "", []byte(data), lim)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	require.Len(t, errs, 1, "%v", errs)
	return errs[0]
}

func TestListLimits(t *testing.T) {
	lim := DefaultLimits()
	lim.Deployments, lim.Strategies, lim.Workloads, lim.Providers, lim.Regions, lim.Faults, lim.Links = 3, 3, 3, 3, 3, 3, 3
	item := map[string]string{
		"deployments": "{name: d, provider: p, region: r}",
		"strategies":  "{name: s}",
		"workloads":   "{name: w}",
		"providers":   "{name: p, kind: generic, regions: [r]}",
		"faults":      "{kind: outage, target: r}",
		"links":       "{from: r, to: r}",
	}
	for list, it := range item {
		// Every item is broken (duplicate names, missing fields): the only
		// problem reported is the count, so nothing was validated.
		data := "name: x\n" + list + ":\n" + strings.Repeat("  - "+it+"\n", 4)
		e := limitErr(t, data, lim)
		assert.Equal(t, fmt.Sprintf("x.yaml:2:1: %s: 4 %s, more than the limit of 3; raise it with MCBENCH_LIMITS=%s=4", list, list, list), e.Error())
	}
	e := limitErr(t, "name: x\nproviders:\n  - {name: a, regions: [r1, r2]}\n  - {name: b, regions: [r3, r4]}\n", lim)
	assert.Equal(t, "x.yaml:2:1: providers: 4 regions over all providers, more than the limit of 3; raise it with MCBENCH_LIMITS=regions=4", e.Error())

	// A scenario built in code is held to the same limits.
	s, err := Parse("demo", mustLibrary(t, "demo"))
	require.NoError(t, err)
	s.Deployments = append(s.Deployments, make([]Deployment, 2000)...)
	errs := Validate(s)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "deployments: 2003 deployments, more than the limit of 1000; raise it with MCBENCH_LIMITS=deployments=2003")
}

func mustLibrary(t *testing.T, name string) []byte {
	t.Helper()
	data, err := LibraryFile(name)
	require.NoError(t, err)
	return data
}

// TestCapBeforeDecoding checks that a scenario over a list limit is refused
// from the lengths of its top-level lists: no node is walked, nothing is
// decoded or validated (every deployment here is broken, and none of that
// is reported).
func TestCapBeforeDecoding(t *testing.T) {
	data := bigScenario(5000, true)
	lim := DefaultLimits()
	lim.FileBytes, lim.Nodes = 1<<30, 1<<30
	root, err := parseNode(data)
	require.NoError(t, err)
	fe, visits := checkShape(root, lim)
	require.NotNil(t, fe)
	assert.Equal(t, "deployments: 5000 deployments, more than the limit of 1000; raise it with MCBENCH_LIMITS=deployments=5000", fe.Path+": "+fe.Msg)
	assert.Zero(t, visits, "the lists are measured before any node is walked")
	e := limitErr(t, string(data), lim)
	assert.Equal(t, "deployments", e.Path)
}

// billionLaughs is a 1 KB alias bomb: ten levels of ten aliases each,
// over 10^11 nodes once expanded.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("name: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("deployments: [*a10]\n")
	return b.String()
}

func TestAliasBombRefusedUnexpanded(t *testing.T) {
	data := billionLaughs()
	require.Less(t, len(data), 1024)
	root, err := parseNode([]byte(data))
	require.NoError(t, err)
	written := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		written++
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)

	fe, visits := checkShape(root, DefaultLimits())
	require.NotNil(t, fe)
	assert.Equal(t, "the document holds 234567901248 YAML nodes once its aliases are expanded, more than the limit of 200000; raise it with MCBENCH_LIMITS=nodes=234567901248", fe.Msg)
	// Work is bounded by what is written, not by what it expands to.
	assert.LessOrEqual(t, visits, written, "visited %d nodes of %d written", visits, written)

	e := limitErr(t, data, DefaultLimits())
	assert.Contains(t, e.Error(), "x.yaml:1:1: the document holds 234567901248 YAML nodes once its aliases are expanded")

	// An alias to a node that holds it never ends when expanded.
	_, err = parseWith("x.yaml", "", []byte("name: x\nfaults: &f [*f]\n"), DefaultLimits())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "panic")

	// Aliases well within the limit still work.
	s, err := parseWith("ok.yaml", "", []byte(strings.Replace(string(mustLibrary(t, "demo")), "routing: {policy: failover", "routing: &r {policy: failover", 1)), DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, "demo", s.Name)
}

func TestKeysLimit(t *testing.T) {
	lim := DefaultLimits()
	lim.Keys, lim.Deployments = 5, 3
	var b strings.Builder
	b.WriteString("name: x\nstrategies:\n  - name: s\n    routing:\n      weights: {")
	for i := range 6 {
		fmt.Fprintf(&b, "d%d: 1, ", i)
	}
	b.WriteString("}\n")
	e := limitErr(t, b.String(), lim)
	assert.Equal(t, "x.yaml:5:16: a mapping with 6 keys, more than the limit of 5; raise it with MCBENCH_LIMITS=keys=6", e.Error())
	// Raising the deployments limit raises the keys limit with it, so a
	// strategy can weight every deployment.
	lim.Deployments = 6
	_, err := parseWith("x.yaml", "", []byte(b.String()), lim)
	assert.NotContains(t, err.Error(), "keys")
}

func TestRunLimits(t *testing.T) {
	demo := string(mustLibrary(t, "demo"))
	one := func(t *testing.T, data string) string {
		t.Helper()
		_, err := parseWith("demo.yaml", "", []byte(data), DefaultLimits())
		var errs Errors
		require.ErrorAs(t, err, &errs)
		require.Len(t, errs, 1, "%v", errs)
		return errs[0].Error()
	}
	assert.Equal(t, "demo.yaml:19:3: run.requests: must be at most 1000000000 requests per replication, the limit, got 1000000000000; raise it with MCBENCH_LIMITS=requests=1000000000000",
		one(t, strings.Replace(demo, "horizon: 10m", "requests: 1e12", 1)))
	assert.Contains(t, one(t, strings.Replace(demo, "horizon: 10m", "requests: 1e308", 1)), "run.requests: must be at most 1000000000 requests per replication, the limit, got 1e+308; raise it with MCBENCH_LIMITS=requests=1e+308")
	assert.Equal(t, "demo.yaml:19:3: run.horizon: must be at most 720h0m0s, the limit, got 2160h0m0s; raise it with MCBENCH_LIMITS=horizon=2160h0m0s",
		one(t, strings.Replace(demo, "horizon: 10m", "horizon: 90d", 1)))
	// A horizon within its limit can still bring more arrivals than the
	// request limit: 30 days at 35 req/s is about 9e7, at 3,500,000 about 9e12.
	assert.Equal(t, "demo.yaml:19:3: run.horizon: 720h0m0s at the workloads' mean arrival rates brings about 9072000000000 requests per replication, more than the limit of 1000000000; set run.requests to end sooner, or raise it with MCBENCH_LIMITS=requests=9072000000000",
		one(t, strings.NewReplacer("horizon: 10m", "horizon: 30d", "rate: 30/s", "rate: 3M/s", "rate: 5/s", "rate: 500k/s").Replace(demo)))
	_, err := parseWith("demo.yaml", "", []byte(strings.Replace(demo, "horizon: 10m", "horizon: 30d", 1)), DefaultLimits())
	require.NoError(t, err)
}

func TestLimitsEnv(t *testing.T) {
	t.Setenv(LimitsEnv, "deployments=2, requests=1e10,horizon=90d,file_size=4MiB,workers=10k")
	l, err := CurrentLimits()
	require.NoError(t, err)
	assert.Equal(t, 2, l.Deployments)
	assert.Equal(t, 1e10, l.Requests)
	assert.Equal(t, Duration(90*24*time.Hour), l.Horizon)
	assert.Equal(t, 4<<20, l.FileBytes)
	assert.Equal(t, 10000, l.Workers)
	assert.Equal(t, DefaultLimits().Strategies, l.Strategies)
	_, err = Open("demo")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deployments: 3 deployments, more than the limit of 2; raise it with MCBENCH_LIMITS=deployments=3")

	for spec, want := range map[string]string{
		"deploymnts=5":      `MCBENCH_LIMITS: unknown limit "deploymnts" (limits: deployments, faults, file_size,`,
		"deployments":       `MCBENCH_LIMITS: "deployments" is not NAME=VALUE`,
		"deployments=0":     "MCBENCH_LIMITS: deployments=0: expected a whole number >= 1",
		"deployments=1.5":   "MCBENCH_LIMITS: deployments=1.5: expected a whole number >= 1",
		"horizon=-1h":       "MCBENCH_LIMITS: horizon=-1h: expected a positive duration",
		"file_size=lots":    "MCBENCH_LIMITS: file_size=lots: expected a size",
		"deployments=1e300": "MCBENCH_LIMITS: deployments=1e300: at most 2147483647",
	} {
		t.Setenv(LimitsEnv, spec)
		_, err := CurrentLimits()
		var fe *FieldError
		require.True(t, errors.As(err, &fe), spec)
		assert.Equal(t, LimitsEnv, fe.File)
		assert.Contains(t, err.Error(), want, spec)
		_, err = Open("demo")
		require.Error(t, err)
		assert.Contains(t, err.Error(), want, spec)
	}
}

// TestLargeWeightsDecodeAsSmall checks that a weights mapping decoded pair
// by pair (see Routing.UnmarshalYAML) reads and reports as yaml.v3 does.
func TestLargeWeightsDecodeAsSmall(t *testing.T) {
	for _, n := range []int{bigMapping - 1, bigMapping, 300} {
		s, err := parseWith("big.yaml", "", bigScenario(n, false), DefaultLimits())
		require.NoError(t, err)
		w := s.Strategies[0].Routing.Weights
		require.Len(t, w, n)
		assert.Equal(t, 1.0, w["d0"])
		assert.Equal(t, 1.0, w[fmt.Sprintf("d%d", n-1)])

		bad := strings.Replace(string(bigScenario(n, false)), "d3: 1, ", "d3: heavy, ", 1)
		bad = strings.Replace(bad, "policy: weighted", "policy: weighted\n      max_atempts: 2", 1)
		_, err = parseWith("big.yaml", "", []byte(bad), DefaultLimits())
		var errs Errors
		require.ErrorAs(t, err, &errs)
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Path+": "+e.Msg)
		}
		assert.Equal(t, []string{
			`strategies[0].routing.max_atempts: unknown field "max_atempts"; did you mean max_attempts?`,
			`strategies[0].routing.weights.d3: the weight of "d3" must be a number or a percentage (3, 0.5, 20%)`,
		}, msgs, "n=%d", n)
	}
}
