package results

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/scenarios"
)

// copyRun copies the legacy load run (summary.json, run.json,
// outcomes.csv) into a fresh directory and returns it.
func copyRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{SummaryFile, RunInfoFile, OutcomesFile} {
		b, err := os.ReadFile(filepath.Join(legacyDir, "load", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir
}

// replace turns dir/name into what make creates in its place.
func replace(t *testing.T, dir, name string, make func(path string) error) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.Remove(p))
	require.NoError(t, make(p))
	return p
}

func outcomesOf(t *testing.T, dir string) error {
	t.Helper()
	r, err := OpenRun(dir)
	if err != nil {
		return err
	}
	return r.Outcomes(func(*Outcome) error { return nil })
}

func TestOpenRunReadsTheCopy(t *testing.T) {
	dir := copyRun(t)
	r, err := OpenRun(dir)
	require.NoError(t, err)
	assert.True(t, r.HasOutcomes)
	require.NoError(t, outcomesOf(t, dir))
}

// A symbolic link to a file outside the run directory is refused, naming
// the link and where it leads; one to a file inside it is followed.
func TestRunFileSymlinkOutsideIsRefused(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.json")
	b, err := os.ReadFile(filepath.Join(legacyDir, "load", SummaryFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(secret, b, 0o644))

	for _, name := range []string{SummaryFile, RunInfoFile, OutcomesFile} {
		t.Run(name, func(t *testing.T) {
			dir := copyRun(t)
			target := filepath.Join(outside, name)
			require.NoError(t, os.Rename(filepath.Join(dir, name), target))
			require.NoError(t, os.Symlink(target, filepath.Join(dir, name)))
			err := outcomesOf(t, dir)
			fe := formatError(t, err)
			assert.Equal(t, filepath.Join(dir, name), fe.File, "names the link")
			assert.Contains(t, err.Error(), "outside the run directory")
			assert.Contains(t, err.Error(), target)
		})
	}

	// A relative link climbing out is refused too.
	dir := copyRun(t)
	rel, err := filepath.Rel(dir, secret)
	require.NoError(t, err)
	replace(t, dir, SummaryFile, func(p string) error { return os.Symlink(rel, p) })
	_, err = OpenRun(dir)
	assert.Contains(t, formatError(t, err).Msg, "outside the run directory")

	// A link inside the directory is followed.
	dir = copyRun(t)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "keep"), 0o755))
	require.NoError(t, os.Rename(filepath.Join(dir, OutcomesFile), filepath.Join(dir, "keep", OutcomesFile)))
	require.NoError(t, os.Symlink(filepath.Join("keep", OutcomesFile), filepath.Join(dir, OutcomesFile)))
	require.NoError(t, outcomesOf(t, dir))

	// The run directory itself may be reached through a link.
	dir = copyRun(t)
	via := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.Symlink(dir, via))
	require.NoError(t, outcomesOf(t, via))
}

// A symbolic link loop says so, for a file and for the directory, instead
// of "has no summary.json".
func TestRunFileSymlinkLoop(t *testing.T) {
	dir := copyRun(t)
	replace(t, dir, SummaryFile, func(p string) error { return os.Symlink("loop2", p) })
	require.NoError(t, os.Symlink(SummaryFile, filepath.Join(dir, "loop2")))
	_, err := OpenRun(dir)
	fe := formatError(t, err)
	assert.Equal(t, filepath.Join(dir, SummaryFile), fe.File)
	assert.Contains(t, fe.Msg, "symbolic link loop")
	assert.NotContains(t, err.Error(), "has no")

	loop := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.Symlink(loop, loop))
	_, err = OpenRun(loop)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNotRunDir)
	assert.Contains(t, err.Error(), "symbolic link loop")

	// A link to nothing is not a missing file either.
	dir = copyRun(t)
	replace(t, dir, RunInfoFile, func(p string) error { return os.Symlink("gone.json", p) })
	_, err = OpenRun(dir)
	assert.Contains(t, formatError(t, err).Msg, "gone.json, which does not exist")
}

// A directory where a file should be is named once, not
// "read x: read x: is a directory".
func TestRunFileDirectoryErrorNamesTheFileOnce(t *testing.T) {
	for _, name := range []string{SummaryFile, RunInfoFile, OutcomesFile} {
		dir := copyRun(t)
		p := replace(t, dir, name, func(p string) error { return os.Mkdir(p, 0o755) })
		err := outcomesOf(t, dir)
		fe := formatError(t, err)
		assert.Equal(t, p, fe.File)
		assert.Contains(t, fe.Msg, "is a directory")
		assert.Equal(t, 1, strings.Count(err.Error(), name), "%s: %v", name, err)
	}

	// A reader failing with a path error (a directory opened as a file)
	// names the file once too.
	dir := t.TempDir()
	f, err := os.Open(dir)
	require.NoError(t, err)
	defer f.Close()
	err = ReadOutcomes(f, dir, func(*Outcome) error { return nil })
	fe := formatError(t, err)
	assert.Equal(t, dir, fe.File)
	assert.Equal(t, 1, strings.Count(err.Error(), dir), "%v", err)
}

// A NaN or infinite cost is refused with the file, line, column and
// field, never read into a report (where it would print "$NaN").
func TestOutcomeNonFiniteCostIsRefused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(legacyDir, "load", OutcomesFile))
	require.NoError(t, err)
	lines := strings.SplitAfter(string(b), "\n")
	head := strings.Split(strings.TrimSpace(lines[0]), ",")
	costCol := -1
	for i, h := range head {
		if h == "cost_usd" {
			costCol = i
		}
	}
	require.GreaterOrEqual(t, costCol, 0)
	for _, bad := range []string{"NaN", "nan", "Inf", "-Inf", "+Infinity", "1e400"} {
		row := strings.Split(strings.TrimRight(lines[3], "\n"), ",")
		col := 1 + len(strings.Join(row[:costCol], ",")) + 1 // 1-based byte column
		row[costCol] = bad
		text := lines[0] + lines[1] + lines[2] + strings.Join(row, ",") + "\n" + strings.Join(lines[4:], "")
		err := ReadOutcomes(strings.NewReader(text), "x/outcomes.csv", func(*Outcome) error { return nil })
		fe := formatError(t, err)
		assert.Equal(t, "x/outcomes.csv", fe.File, bad)
		assert.Equal(t, 4, fe.Line, bad)
		assert.Equal(t, col, fe.Column, bad)
		assert.Equal(t, "cost_usd", fe.Path, bad)
		assert.Contains(t, fe.Msg, "not a finite number", bad)
	}
	// A malformed number gets its column too.
	text := strings.Replace(string(b), ",ok,,0,0\n", ",ok,,0,zero\n", 1)
	err = ReadOutcomes(strings.NewReader(text), "y.csv", func(*Outcome) error { return nil })
	fe := formatError(t, err)
	assert.Equal(t, "cost_usd", fe.Path)
	assert.Positive(t, fe.Column)
}

func TestRunFileErrorsAreFieldErrors(t *testing.T) {
	var fe *scenarios.FieldError
	dir := copyRun(t)
	replace(t, dir, SummaryFile, func(p string) error { return os.Mkdir(p, 0o755) })
	_, err := OpenRun(dir)
	assert.True(t, errors.As(err, &fe))
}
