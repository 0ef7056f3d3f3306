package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLibraryLoads(t *testing.T) {
	names := LibraryNames()
	require.Contains(t, names, "demo")
	for _, name := range names {
		s, err := Open(name)
		require.NoError(t, err, name)
		assert.Equal(t, LibrarySource+name, s.Source)
		assert.Empty(t, Validate(s))
	}
}

func TestOpenPrefersFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "demo")
	require.NoError(t, os.WriteFile(path, []byte(minimal), 0o644))
	s, err := Open(path)
	require.NoError(t, err)
	assert.Equal(t, "m", s.Name, "an existing file wins over the library")
	assert.Equal(t, dir, s.Dir)
}

func TestOpenErrors(t *testing.T) {
	_, err := Open("no-such-scenario")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"no-such-scenario" is neither a scenario file nor a library scenario (available: `)
	assert.Contains(t, err.Error(), "demo")

	_, err = Open("missing/file.yaml")
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist), "a path is reported as a missing file: %v", err)

	_, err = LibraryFile("nope")
	require.Error(t, err)
}

// TestLibraryCoversTheBrief: each architecture scenario of the library has
// the workloads and faults the brief asks for: diurnal interactive chat,
// agent sessions, batch; a regional outage, a throttling storm and a
// degraded link; several strategies; and a header saying what it assumes.
func TestLibraryCoversTheBrief(t *testing.T) {
	for _, name := range []string{"azure-exclusive", "federated", "multi-home", "gov-fedramp"} {
		s, err := Open(name)
		require.NoError(t, err, name)
		var diurnal, sessions, batch bool
		for _, w := range s.Workloads {
			diurnal = diurnal || w.Arrival.Process == ProcDiurnal
			sessions = sessions || w.Session != nil
			batch = batch || (w.Session == nil && w.Arrival.Process != ProcDiurnal)
		}
		assert.True(t, diurnal && sessions && batch, "%s: chat %v, sessions %v, batch %v", name, diurnal, sessions, batch)
		kinds := map[string]bool{}
		for _, f := range s.Faults {
			kinds[f.Kind] = true
			if f.Kind == FaultOutage {
				assert.Contains(t, []string{"eastus2", "usgovvirginia"}, f.Target, "%s: the outage is an Azure region's", name)
			}
		}
		for _, k := range []string{FaultOutage, FaultThrottle, FaultLink} {
			assert.True(t, kinds[k], "%s has a %s fault", name, k)
		}
		assert.GreaterOrEqual(t, len(s.Strategies), 3, name)
		data, err := LibraryFile(name)
		require.NoError(t, err)
		assert.Contains(t, string(data), "Assumptions (not measurements)", name)
	}
}
