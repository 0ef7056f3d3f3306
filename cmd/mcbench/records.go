package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/mcbench/mcbench/backends"
	"github.com/mcbench/mcbench/sim"
)

// recordFiles gives each (strategy, replication) its own part file, since
// replications run in parallel, and merges the parts into one outcomes.csv
// in a fixed order so the file is the same on every run.
type recordFiles struct {
	dir   string
	mu    sync.Mutex
	parts map[string]string // sort key -> path
}

func newRecordFiles(dir string) (*recordFiles, error) {
	parts := filepath.Join(dir, ".parts")
	if err := os.MkdirAll(parts, 0o755); err != nil {
		return nil, err
	}
	return &recordFiles{dir: dir, parts: map[string]string{}}, nil
}

type csvPart struct {
	f *os.File
	w *backends.CSVWriter
}

func (p *csvPart) Write(o *backends.Outcome) error { return p.w.Write(o) }
func (p *csvPart) Close() error {
	if err := p.w.Flush(); err != nil {
		p.f.Close()
		return err
	}
	return p.f.Close()
}

func (r *recordFiles) open(strategy string, rep int) (sim.RecordSink, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	path := filepath.Join(r.dir, ".parts", fmt.Sprintf("%s-%05d.csv", sanitize(strategy), rep))
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := backends.NewCSVWriter(f, false)
	if err != nil {
		f.Close()
		return nil, err
	}
	// merge orders parts by strategy name, then replication.
	r.parts[fmt.Sprintf("%s\x00%05d", strategy, rep)] = path
	return &csvPart{f: f, w: w}, nil
}

// merge concatenates the parts into outcomes.csv and removes them.
func (r *recordFiles) merge() error {
	out, err := os.Create(filepath.Join(r.dir, "outcomes.csv"))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(out)
	hw, err := backends.NewCSVWriter(bw, true)
	if err == nil {
		err = hw.Flush()
	}
	keys := make([]string, 0, len(r.parts))
	for k := range r.parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err != nil {
			break
		}
		var f *os.File
		if f, err = os.Open(r.parts[k]); err != nil {
			break
		}
		_, err = io.Copy(bw, f)
		f.Close()
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.RemoveAll(filepath.Join(r.dir, ".parts"))
	}
	return err
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
