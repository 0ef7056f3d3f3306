//go:build unix

package results

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A named pipe where a run file should be is refused at once: nobody
// writes to it, so reading it would block forever.
func TestRunFileFIFOIsRefusedWithoutBlocking(t *testing.T) {
	for _, name := range []string{SummaryFile, RunInfoFile, OutcomesFile, SessionsFile} {
		t.Run(name, func(t *testing.T) {
			dir := copyRun(t)
			p := filepath.Join(dir, name)
			if name != SessionsFile {
				replace(t, dir, name, func(string) error { return nil })
			}
			require.NoError(t, syscall.Mkfifo(p, 0o644))
			done := make(chan error, 1)
			go func() { done <- outcomesOf(t, dir) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				// Unblock the reader so the test binary can exit.
				t.Fatalf("reading a run directory with a FIFO %s blocked", name)
			}
			fe := formatError(t, err)
			assert.Equal(t, p, fe.File)
			assert.Contains(t, fe.Msg, "named pipe")
		})
	}

	// OpenRunFile refuses a FIFO even when asked for it directly.
	p := filepath.Join(t.TempDir(), OutcomesFile)
	require.NoError(t, syscall.Mkfifo(p, 0o644))
	done := make(chan error, 1)
	go func() {
		f, err := OpenRunFile(p)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		assert.Contains(t, formatError(t, err).Msg, "named pipe")
	case <-time.After(30 * time.Second):
		t.Fatal("OpenRunFile blocked on a FIFO")
	}
}
