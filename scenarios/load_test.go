package scenarios

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the testdata/bad/*.want files from the loader's output")

// loadErrors loads path and returns its problems with File set to the base
// name, so expectations do not depend on where the tests run.
func loadErrors(t *testing.T, path string) Errors {
	t.Helper()
	s, err := Load(path)
	require.Error(t, err)
	require.Nil(t, s)
	var errs Errors
	require.True(t, errors.As(err, &errs), "want Errors, got %T: %v", err, err)
	require.NotEmpty(t, errs)
	for _, e := range errs {
		e.File = filepath.Base(path)
	}
	return errs
}

var wantRE = regexp.MustCompile(`^# want (\d+)`)

// TestBadCorpus loads every scenario in testdata/bad and compares the error
// lines with the .want file next to it. The "# want N" header says how many
// problems the file holds: each must be reported exactly once.
func TestBadCorpus(t *testing.T) {
	files, err := filepath.Glob("../testdata/bad/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 15)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			errs := loadErrors(t, path)
			got := errs.Error() + "\n"
			wantFile := strings.TrimSuffix(path, ".yaml") + ".want"
			if *update {
				require.NoError(t, os.WriteFile(wantFile, []byte(got), 0o644))
			}
			want, err := os.ReadFile(wantFile)
			require.NoError(t, err, "run go test -update to create it")
			assert.Equal(t, string(want), got)

			data, err := os.ReadFile(path)
			require.NoError(t, err)
			n := 1 // an empty or binary file is one problem
			if m := wantRE.FindSubmatch(data); m != nil {
				n, _ = strconv.Atoi(string(m[1]))
			}
			assert.Len(t, errs, n, "one error per problem")
			for _, e := range errs {
				assert.NotEmpty(t, e.Msg)
				if len(data) > 0 {
					assert.Positive(t, e.Line, "every problem in a non-empty file has a line: %v", e)
				}
			}
		})
	}
}

// TestGoodScenarios checks that the scenarios in testdata/good load.
func TestGoodScenarios(t *testing.T) {
	files, err := filepath.Glob("../testdata/good/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := Load(path)
			require.NoError(t, err)
			assert.Equal(t, path, s.Source)
			assert.Equal(t, filepath.Dir(path), s.Dir)
			assert.Empty(t, Validate(s), "a loaded scenario validates again")
		})
	}
}

func TestLoadMulticloud(t *testing.T) {
	s, err := Load("../testdata/good/multicloud.yaml")
	require.NoError(t, err)
	assert.Equal(t, uint64(42), s.Seed)
	assert.Equal(t, Count(20000), s.Run.Requests)
	assert.Equal(t, Duration(2*time.Hour), s.Run.Horizon)
	assert.InDelta(t, 0.1, s.Run.Warmup.Fraction, 1e-12)
	require.Len(t, s.Providers, 2)
	assert.Equal(t, Region{Name: "swedencentral", Tags: []string{"eu-data-zone"}}, s.Providers[0].Regions[1])
	assert.Equal(t, "us-east-1", s.Providers[1].Regions[0].Name)

	east := s.Deployments[0]
	assert.Equal(t, LayerModel, east.Layer, "layer defaults to model")
	require.NotNil(t, east.Capacity.Queue)
	assert.Equal(t, 200, *east.Capacity.Queue)
	assert.InDelta(t, 2e6/60, float64(east.Capacity.Quota.Tokens), 1e-9)
	assert.InDelta(t, 200, float64(east.Capacity.Quota.Requests), 1e-9)
	assert.Equal(t, DefaultTokenWindow, east.Capacity.Quota.TokenWindow)
	assert.Equal(t, LogNormal, east.Latency.TTFT.Kind)
	assert.InDelta(t, 0.4, east.Latency.TTFT.Quantile(0.5), 1e-9)
	assert.Nil(t, s.Deployments[1].Capacity.Queue, "no queue: unbounded")
	require.NotNil(t, s.Deployments[2].Capacity.Queue)
	assert.Zero(t, *s.Deployments[2].Capacity.Queue, "queue: 0 is a loss system")
	assert.InDelta(t, 5.0, s.Deployments[2].Capacity.Quota.OutputBurn, 0)

	chat := s.Workloads[0]
	assert.Equal(t, Count(2000), chat.MaxTokens)
	assert.Equal(t, Uniform, chat.OutputTokens.Kind)
	office := s.Workloads[2].Arrival
	assert.Equal(t, DefaultPeriod, office.Period)
	assert.Equal(t, DefaultPeakAt, office.PeakAt)
	assert.Equal(t, ConstDist(DefaultInputTokens), s.Workloads[1].InputTokens.Dist)
	assert.Equal(t, ConstDist(DefaultOutputTokens), s.Workloads[1].OutputTokens.Dist)
	assert.Equal(t, Count(DefaultMaxTokens), s.Workloads[1].MaxTokens)

	split := s.Strategies[1].Routing
	assert.Equal(t, Weights{"aoai-east": 3, "claude-east": 1, "agents": 1}, split.Weights,
		"placed deployments without a weight get 1")
	assert.Equal(t, DefaultMaxAttempts, split.MaxAttempts)
	assert.Equal(t, PolicyFailover, s.Strategies[0].Routing.Policy)
}

// TestStreamFromLoaded checks that the request stream runs on a loaded
// scenario: the loader's defaults and checks are what it relies on.
func TestStreamFromLoaded(t *testing.T) {
	s, err := Load("../testdata/good/multicloud.yaml")
	require.NoError(t, err)
	st, err := NewStream(s, 0)
	require.NoError(t, err)
	defer st.Close()
	var r Request
	n := 0
	for n < 1000 && st.Next(&r) {
		n++
	}
	require.NoError(t, st.Err())
	assert.Equal(t, 1000, n)
}

func TestErrorFormat(t *testing.T) {
	e := &FieldError{File: "scenario.yaml", Line: 14, Column: 7, Path: "deployments[2].capacity.concurrency", Msg: "must be > 0, got -3"}
	assert.Equal(t, "scenario.yaml:14:7: deployments[2].capacity.concurrency: must be > 0, got -3", e.Error())
	assert.Equal(t, "f.yaml:3: invalid YAML: x", (&FieldError{File: "f.yaml", Line: 3, Msg: "invalid YAML: x"}).Error())
	assert.Equal(t, "f.yaml: file is empty", (&FieldError{File: "f.yaml", Msg: "file is empty"}).Error())
	assert.Equal(t, "run: bad", (&FieldError{Path: "run", Msg: "bad"}).Error())
	errs := Errors{e, {File: "f", Line: 1, Column: 2, Msg: "m"}}
	assert.Equal(t, e.Error()+"\nf:1:2: m", errs.Error())
}

func TestPaths(t *testing.T) {
	assert.Equal(t, "name", keyPath("", "name"))
	assert.Equal(t, "strategies[0].placement.model", keyPath(indexPath("strategies", 0)+".placement", "model"))
	w := keyPath("strategies[1].routing.weights", "anthropic.claude[v2]")
	assert.Equal(t, `strategies[1].routing.weights["anthropic.claude[v2]"]`, w)
	assert.Equal(t, "strategies[1].routing.weights", parentPath(w))
	assert.Equal(t, "deployments[2].capacity", parentPath("deployments[2].capacity.concurrency"))
	assert.Equal(t, "deployments[2]", parentPath("deployments[2].capacity"))
	assert.Equal(t, "deployments", parentPath("deployments[2]"))
	assert.Equal(t, "", parentPath("deployments"))
}

const minimal = `name: m
providers: [{name: azure, kind: azure, regions: [eastus2]}]
deployments:
  - {name: d, provider: azure, region: eastus2, capacity: {concurrency: 4}, latency: {ttft: 100ms}}
workloads:
  - {name: w, arrival: {process: poisson, rate: 1/s}}
strategies:
  - {name: s, placement: {model: [d]}}
`

func parseErrors(t *testing.T, src string) Errors {
	t.Helper()
	_, err := Parse("x.yaml", []byte(src))
	require.Error(t, err)
	var errs Errors
	require.True(t, errors.As(err, &errs), "want Errors, got %T", err)
	return errs
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse("m.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, "m.yaml", s.Source)
	assert.Equal(t, uint64(DefaultSeed), s.Seed)
	assert.Equal(t, DefaultReplications, s.Replications)
	assert.Equal(t, Count(DefaultRequests), s.Run.Requests)
	d := s.Deployments[0]
	assert.Equal(t, DefaultRequestWindow, d.Capacity.Quota.RequestWindow)
	assert.InDelta(t, DefaultOutputBurn, d.Capacity.Quota.OutputBurn, 0)
	assert.InDelta(t, DefaultLoadFactor, d.Latency.LoadFactor, 0)
	assert.Equal(t, PolicyFailover, s.Strategies[0].Routing.Policy)
	assert.Nil(t, s.Strategies[0].Routing.Weights, "failover gets no weights")

	// A horizon alone bounds the run: no request limit is invented.
	s, err = Parse("m.yaml", []byte(minimal+"run: {horizon: 1h}\n"))
	require.NoError(t, err)
	assert.Zero(t, s.Run.Requests)

	// An explicit seed of 0 is a seed, not an omission.
	s, err = Parse("m.yaml", []byte(minimal+"seed: 0\n"))
	require.NoError(t, err)
	assert.Zero(t, s.Seed)
}

func TestApplyDefaultsIdempotent(t *testing.T) {
	s, err := Parse("m.yaml", []byte(minimal))
	require.NoError(t, err)
	before := *s
	ApplyDefaults(s)
	assert.Equal(t, before, *s)

	var empty Scenario
	ApplyDefaults(&empty)
	assert.Equal(t, 5, empty.Replications)
}

func TestExplicitZeroIsValidated(t *testing.T) {
	errs := parseErrors(t, minimal+"replications: 0\n")
	require.Len(t, errs, 1)
	assert.Equal(t, "x.yaml:9:1: replications: must be between 1 and 10000, got 0", errs[0].Error())
}

func TestMissingFieldPointsAtParent(t *testing.T) {
	src := strings.Replace(minimal, "capacity: {concurrency: 4}, ", "", 1)
	errs := parseErrors(t, src)
	require.Len(t, errs, 1)
	assert.Equal(t, "x.yaml:4:5: deployments[0].capacity.concurrency: is required and must be > 0", errs[0].Error())
}

func TestUnitTyposAllReported(t *testing.T) {
	src := strings.Replace(minimal, "ttft: 100ms", "ttft: 100 ms, tpot: 2 s", 1)
	src = strings.Replace(src, "rate: 1/s", "rate: 1/sec0", 1)
	errs := parseErrors(t, src)
	require.Len(t, errs, 3, errs.Error())
	assert.Equal(t, []string{"deployments[0].latency.ttft", "deployments[0].latency.tpot", "workloads[0].arrival.rate"},
		[]string{errs[0].Path, errs[1].Path, errs[2].Path})
	assert.Equal(t, 4, errs[0].Line)
	line4 := strings.Split(src, "\n")[3]
	assert.Equal(t, strings.Index(line4, "100 ms")+1, errs[0].Column)
	assert.Greater(t, errs[1].Column, errs[0].Column)
}

func TestUnknownFieldSuggestion(t *testing.T) {
	errs := parseErrors(t, minimal+"strategis: []\n")
	require.Len(t, errs, 1)
	assert.Equal(t, `x.yaml:9:1: strategis: unknown field "strategis"; did you mean strategies?`, errs[0].Error())
}

func TestUnknownFieldInMergedAnchor(t *testing.T) {
	src := strings.Replace(minimal, "deployments:\n", "deployments:\n  - &base {name: b, provider: azure, region: eastus2, capacity: {concurrency: 4}, latency: {ttft: 1ms}}\n  - {<<: *base, name: c}\n", 1)
	s, err := Parse("x.yaml", []byte(src))
	require.NoError(t, err)
	require.Len(t, s.Deployments, 3)
	assert.Equal(t, "eastus2", s.Deployments[1].Region, "merge keys work")
}

func TestWeightsPathQuoted(t *testing.T) {
	src := strings.Replace(minimal, "placement: {model: [d]}", `placement: {model: [d]}, routing: {policy: weighted, weights: {d: 1, "a.b": 2}}`, 1)
	errs := parseErrors(t, src)
	require.Len(t, errs, 1)
	assert.Equal(t, `strategies[0].routing.weights["a.b"]`, errs[0].Path)
	assert.Contains(t, errs[0].Msg, `deployment "a.b" is not placed by this strategy; placed: d`)
}

func TestNoPanicOnOddInput(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	deepMap := strings.Repeat("a: {", 5000) + strings.Repeat("}", 5000)
	bomb := `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
name: *h
`
	cases := map[string]string{
		"empty":        "",
		"comment only": "# nothing here\n",
		"null":         "~\n",
		"scalar":       "hello\n",
		"list":         "- a\n- b\n",
		"nul bytes":    "name: a\x00b\n",
		"bad utf8":     "name: \xff\xfe\n",
		"tabs":         "name:\n\t- x\n",
		"deep list":    deep,
		"deep map":     deepMap,
		"alias bomb":   bomb,
		"self alias":   "providers: &p [*p]\n",
		"huge":         "name: x\ndescription: " + strings.Repeat("y", MaxFileSize) + "\n",
		"complex key":  "? [a, b]\n: c\n",
		"nulls":        "name:\nproviders:\n  -\ndeployments: ~\n",
		"wrong nesting": "providers:\n  - name: {a: [b, {c: d}]}\n    regions: [[x]]\n" +
			"deployments: [{capacity: {quota: {tokens: [1]}}}]\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			var s *Scenario
			var err error
			require.NotPanics(t, func() { s, err = Parse("x.yaml", []byte(src)) })
			require.Error(t, err)
			assert.Nil(t, s)
			var errs Errors
			require.True(t, errors.As(err, &errs))
			require.NotEmpty(t, errs)
			assert.NotContains(t, errs.Error(), "\n\n")
		})
	}
}

func TestSingleErrorCases(t *testing.T) {
	for src, want := range map[string]string{
		"":                  "x.yaml: file is empty; expected a scenario mapping (name, providers, deployments, workloads, strategies)",
		"- a\n":             "x.yaml:1:1: expected a mapping with the scenario's fields (name, providers, deployments, workloads, strategies), got a list",
		"name: a\x00\n":     "x.yaml:1: not a YAML text file (binary or non-UTF-8 data)",
		"a: 1\n---\nb: 2\n": "x.yaml:2:1: a scenario file holds one YAML document, found a second one",
	} {
		errs := parseErrors(t, src)
		require.Len(t, errs, 1)
		assert.Equal(t, want, errs[0].Error())
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist))
}

func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(path, make([]byte, MaxFileSize+10), 0o644))
	_, err := Load(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than 1 MiB, the limit")
	// The size to raise the limit to is the file's, not what was read of it.
	assert.Contains(t, err.Error(), fmt.Sprintf("MCBENCH_LIMITS=file_size=%d", MaxFileSize+10))
}

func TestTraceRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	src := strings.Replace(minimal, "{process: poisson, rate: 1/s}", "{process: trace, file: t.csv}", 1)
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	_, err := Load(path)
	require.Error(t, err, "the trace does not exist yet")
	assert.Contains(t, err.Error(), `workloads[0].arrival.file: trace file "t.csv" does not exist`)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "t.csv"), []byte("0,w,10,10\n"), 0o644))
	s, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, dir, s.Dir)
}

func TestValidateProgrammatic(t *testing.T) {
	s, err := Parse("m.yaml", []byte(minimal))
	require.NoError(t, err)
	s.Deployments[0].Capacity.Concurrency = -1
	s.Strategies[0].Placement["model"] = []string{"d", "zz"}
	errs := Validate(s)
	require.Len(t, errs, 2)
	assert.Equal(t, "deployments[0].capacity.concurrency: must be > 0, got -1", errs[0].Error())
	assert.Equal(t, `strategies[0].placement.model[1]: deployment "zz" is not declared; declared: d`, errs[1].Error())
}

func TestExplicitZeroKeptWhereMeaningful(t *testing.T) {
	src := strings.Replace(minimal, "{process: poisson, rate: 1/s}", "{process: diurnal, rate: 1/s, peak: 2/s, peak_at: 0s}", 1)
	s, err := Parse("x.yaml", []byte(src))
	require.NoError(t, err)
	assert.Zero(t, s.Workloads[0].Arrival.PeakAt, "a peak at the start is meaningful")
	assert.Equal(t, DefaultPeriod, s.Workloads[0].Arrival.Period)
}

func TestRegionShapes(t *testing.T) {
	src := strings.Replace(minimal, "regions: [eastus2]", "regions: [eastus2, [x]]", 1)
	errs := parseErrors(t, src)
	require.Len(t, errs, 1)
	col := strings.Index(strings.Split(src, "\n")[1], "[x]") + 1
	assert.Equal(t, fmt.Sprintf("x.yaml:2:%d: providers[0].regions[1]: expected a region name or a mapping {name, tags}", col), errs[0].Error())
}

func TestLinkNeedsLatency(t *testing.T) {
	errs := parseErrors(t, minimal+"links: [{from: eastus2, to: eastus2}]\n")
	require.Len(t, errs, 2)
	assert.Equal(t, "x.yaml:9:9: links[0].latency: is required: the one-way latency between the regions", errs[0].Error())
	assert.Equal(t, "links[0]", errs[1].Path)
	assert.Contains(t, errs[1].Msg, "with itself")
}

func TestTokenCountsFitRequests(t *testing.T) {
	src := strings.Replace(minimal, "{process: poisson, rate: 1/s}}", "{process: poisson, rate: 1/s}, input_tokens: 5G}", 1)
	errs := parseErrors(t, src)
	require.Len(t, errs, 1)
	assert.Equal(t, "workloads[0].input_tokens: must be at most 2147483647 tokens, got 5e+09", errs[0].Path+": "+errs[0].Msg)
}
