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
