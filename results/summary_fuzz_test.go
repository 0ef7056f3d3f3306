package results_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// FuzzReadSummary: whatever summary.json holds, ReadSummary never panics;
// it either refuses the file with an error that names it, or returns a
// summary that holds together (a source it knows, a strategy for every
// result, no more outcomes than requests) and that survives being written
// and read back: writing what was read and reading it again gives the same
// document, so what mcbench accepts it can also report and re-save.
//
// The seeds are small documents (the two legacy summaries of testdata are
// left to the unit tests): Go's fuzzer minimizes each input that finds new
// coverage with a number of calls growing with the square of its length,
// and a 6 KB seed would keep a worker minimizing for a minute.
func FuzzReadSummary(f *testing.F) {
	for _, s := range []string{
		`{"schema_version":"1.2","scenario":"s","seed":1,"source":"sim","results":[{"strategy":"a","requests":3,"completed":2,"failed":1,"token_cost_usd":null}]}`,
		`{"schema_version":"1.1","source":"load","load":{"pacer":"poisson","rate":2},"results":[]}`,
		`{"schema_version":"1.9","source":"sim","results":[],"later":1}`,
		`{"source":"load","pacer":"constant","rate":5,"duration_seconds":2,"results":[{"strategy":"b","requests":1}]}`,
		`{"schema_version":"2.0","source":"sim","results":[]}`,
		`{"schema_version":"1.2","source":"sim","results":[{"strategy":"","requests":-1}]}`,
		`{"schema_version":1}`, `{"source":"x"}`, `[]`, `null`, ``, `{"schema_version":"1.2","source":"sim"`,
	} {
		f.Add([]byte(s))
	}
	// One worker process runs inputs one at a time: one file is enough.
	path := filepath.Join(fastTempDir(f), results.SummaryFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := results.ReadSummary(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			var fe *scenarios.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("a bad summary gives %T, not a *scenarios.FieldError: %v", err, err)
			}
			return
		}
		if s.Source != "sim" && s.Source != "load" || (s.Source == "load") != (s.Load != nil) || s.Results == nil {
			t.Fatalf("accepted an inconsistent summary: source %q, load block %v, results %v", s.Source, s.Load != nil, s.Results != nil)
		}
		for i, r := range s.Results {
			if r.Strategy == "" || r.Completed+r.Rejected+r.Failed+r.TimedOut > r.Requests {
				t.Fatalf("accepted results[%d] = %+v", i, r)
			}
		}
		var first bytes.Buffer
		if err := results.EncodeSummary(&first, s); err != nil {
			t.Fatalf("accepted a summary it cannot write: %v", err)
		}
		if err := os.WriteFile(path, first.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := results.ReadSummary(path)
		if err != nil {
			t.Fatalf("cannot read back what it wrote: %v\n%s", err, first.Bytes())
		}
		var second bytes.Buffer
		if err := results.EncodeSummary(&second, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("written, read and written again, the summary changed:\n%s\n%s", first.Bytes(), second.Bytes())
		}
	})
}

// fastTempDir is a temporary directory in memory where there is one
// (/dev/shm on Linux), else f.TempDir(). The body rewrites its file twice
// per input: on ext4, rewriting a file in place costs about 3 ms (the
// truncation makes the close flush it), which held the target to a few
// hundred inputs a second; on tmpfs it costs microseconds.
func fastTempDir(f *testing.F) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "mcbench-fuzz-"); err == nil {
			f.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return f.TempDir()
}
