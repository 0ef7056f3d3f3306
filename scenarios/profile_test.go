package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodProfile = `# fitted by hand
ttft: {dist: lognormal, median: 200ms, p99: 600ms}
per_input_token: 40us
tpot: 20ms
`

// profiled is a scenario whose deployment's latency is LATENCY.
const profiled = `name: p
providers: [{name: azure, kind: azure, regions: [eastus2]}]
deployments:
  - name: d
    provider: azure
    region: eastus2
    capacity: {concurrency: 4}
    latency: LATENCY
workloads: [{name: w, arrival: {process: poisson, rate: 1/s}}]
strategies: [{name: s, placement: {model: [d]}}]
`

// writeScenario writes a scenario with the given latency mapping and the
// files (name → content) next to it, and returns its path.
func writeScenario(t *testing.T, latency string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(profiled, "LATENCY", latency, 1)), 0o644))
	return path
}

func TestProfileFillsLatency(t *testing.T) {
	path := writeScenario(t, "{profile: prof/p.yaml, load_factor: 2}", map[string]string{"prof/p.yaml": goodProfile})
	s, err := Load(path)
	require.NoError(t, err)
	l := s.Deployments[0].Latency
	assert.Equal(t, "prof/p.yaml", l.Profile, "the path is kept to say where the model came from")
	assert.InDelta(t, 0.2, l.TTFT.Quantile(0.5), 1e-9)
	assert.InDelta(t, 0.6, l.TTFT.Quantile(0.99), 1e-9)
	assert.InDelta(t, 40e-6, l.PerInputToken.Seconds(), 1e-12)
	assert.Equal(t, ConstDist(0.02), l.TPOT.Dist)
	assert.Equal(t, 2.0, l.LoadFactor, "load_factor may sit beside a profile that leaves it out")
	assert.Empty(t, Validate(s), "a loaded scenario revalidates")

	// A profile's load_factor is used, and the default applies without one.
	path = writeScenario(t, "{profile: p.yaml}", map[string]string{"p.yaml": goodProfile + "load_factor: 1.5\n"})
	s, err = Load(path)
	require.NoError(t, err)
	assert.Equal(t, 1.5, s.Deployments[0].Latency.LoadFactor)
	path = writeScenario(t, "{profile: p.yaml}", map[string]string{"p.yaml": goodProfile})
	s, err = Load(path)
	require.NoError(t, err)
	assert.Equal(t, 1.0, s.Deployments[0].Latency.LoadFactor)
}

func TestProfileErrors(t *testing.T) {
	for _, c := range []struct {
		name, latency string
		files         map[string]string
		want          []string // each problem, as "LINE:COL: PATH: MSG" after the file name
	}{
		{"missing file", "{profile: nope.yaml}", nil,
			[]string{`8:15: deployments[0].latency.profile: latency profile "nope.yaml" does not exist (looked for DIR/nope.yaml)`}},
		{"beside ttft and tpot", "{profile: p.yaml, ttft: 1s, tpot: 5ms}", map[string]string{"p.yaml": goodProfile},
			[]string{
				`8:32: deployments[0].latency.ttft: is given by the latency profile "p.yaml"; remove it here or drop the profile`,
				`8:42: deployments[0].latency.tpot: is given by the latency profile "p.yaml"; remove it here or drop the profile`,
			}},
		{"load_factor twice", "{profile: p.yaml, load_factor: 2}", map[string]string{"p.yaml": goodProfile + "load_factor: 3\n"},
			[]string{`8:32: deployments[0].latency.load_factor: is given both here and by the latency profile "p.yaml"; keep one`}},
		{"invalid profile", "{profile: p.yaml}", map[string]string{"p.yaml": "ttft: {dist: lognormal, median: 1s}\ntpox: 3ms\nload_factor: 0.5\nper_input_token: -1us\n"},
			[]string{
				`8:15: deployments[0].latency.profile: invalid latency profile: DIR/p.yaml:1:7: ttft: a lognormal takes exactly one of: median + p99, median + sigma, mean + cv`,
				`8:15: deployments[0].latency.profile: invalid latency profile: DIR/p.yaml:2:1: tpox: unknown field "tpox"; did you mean tpot?`,
				`8:15: deployments[0].latency.profile: invalid latency profile: DIR/p.yaml:3:1: load_factor: must be >= 1 (1: no slowdown under load), got 0.5`,
				`8:15: deployments[0].latency.profile: invalid latency profile: DIR/p.yaml:4:1: per_input_token: must be >= 0, got -1µs`,
			}},
		{"profile within a profile", "{profile: p.yaml}", map[string]string{"p.yaml": goodProfile + "profile: other.yaml\n"},
			[]string{`8:15: deployments[0].latency.profile: invalid latency profile: DIR/p.yaml:5:1: profile: unknown field "profile" (fields: load_factor, per_input_token, tpot, ttft)`}},
		{"no ttft", "{profile: p.yaml}", map[string]string{"p.yaml": "tpot: 3ms\n"},
			[]string{`8:15: deployments[0].latency.profile: invalid latency profile: DIR/p.yaml:1:1: ttft: is required: a latency profile gives at least the time to first token`}},
		{"empty profile file", "{profile: p.yaml}", map[string]string{"p.yaml": "# nothing\n"},
			[]string{`8:15: deployments[0].latency.profile: invalid latency profile: DIR/p.yaml: file is empty; expected a latency mapping (ttft, per_input_token, tpot, load_factor)`}},
		{"not a mapping", "{profile: p.yaml}", map[string]string{"p.yaml": "- 1s\n"},
			[]string{`8:15: deployments[0].latency.profile: invalid latency profile: DIR/p.yaml:1:1: expected a latency mapping (ttft, per_input_token, tpot, load_factor), got a list`}},
		{"empty name", `{profile: ""}`, nil,
			[]string{`8:15: deployments[0].latency.profile: must name a latency profile file`}},
		{"a directory", "{profile: sub}", map[string]string{"sub/x": ""},
			[]string{`8:15: deployments[0].latency.profile: invalid latency profile: DIR/sub: not a regular file`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeScenario(t, c.latency, c.files)
			_, err := Load(path)
			require.Error(t, err)
			var got []string
			for _, e := range err.(Errors) {
				assert.Equal(t, path, e.File)
				e.File = ""
				got = append(got, strings.TrimPrefix(strings.ReplaceAll(e.Error(), filepath.Dir(path), "DIR"), ":"))
			}
			assert.Equal(t, c.want, got)
		})
	}
}

func TestLoadProfile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(goodProfile), 0o644))
	l, err := LoadProfile(p)
	require.NoError(t, err)
	assert.Zero(t, l.LoadFactor, "left out")
	assert.InDelta(t, 40e-6, l.PerInputToken.Seconds(), 1e-12)
	_, err = LoadProfile(filepath.Join(dir, "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.WriteFile(p, []byte{0, 1, 2}, 0o644))
	_, err = LoadProfile(p)
	assert.ErrorContains(t, err, "not a YAML text file")
}

// TestValidateChecksProfileFile: a scenario built in code has not had its
// profile read, so Validate at least checks it can be.
func TestValidateChecksProfileFile(t *testing.T) {
	s, err := Parse("m.yaml", []byte(minimal))
	require.NoError(t, err)
	s.Dir = t.TempDir()
	s.Deployments[0].Latency.Profile = "gone.yaml"
	errs := Validate(s)
	require.Len(t, errs, 1)
	assert.Equal(t, "deployments[0].latency.profile", errs[0].Path)
	assert.Contains(t, errs[0].Msg, `latency profile "gone.yaml" does not exist`)
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir, "gone.yaml"), []byte(goodProfile), 0o644))
	assert.Empty(t, Validate(s))
}

func TestSchemaProfile(t *testing.T) {
	sch := compileSchema(t)
	doc := func(latency string) any {
		return yamlToJSON(t, []byte(strings.Replace(profiled, "LATENCY", latency, 1)))
	}
	assert.NoError(t, sch.Validate(doc("{profile: p.yaml}")))
	assert.NoError(t, sch.Validate(doc("{profile: p.yaml, load_factor: 2}")))
	assert.Error(t, sch.Validate(doc("{profile: p.yaml, ttft: 1s}")))
	assert.Error(t, sch.Validate(doc("{profile: p.yaml, per_input_token: 1us}")))
	assert.NoError(t, sch.Validate(doc("{ttft: 1s}")))
}
