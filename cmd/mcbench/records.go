package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/mcbench/mcbench/backends"
	"github.com/mcbench/mcbench/sim"
)

// recordFiles gives each (strategy, replication) its own part file, since
// replications run in parallel, and merges the parts into one outcomes.csv
// in a fixed order so the file is the same on every run.
type recordFiles struct {
	dir      string
	mu       sync.Mutex
	parts    map[string]string // sort key -> path
	sessions map[string]string // sort key -> path of the session part, where sessions were written
}

func newRecordFiles(dir string) (*recordFiles, error) {
	parts := filepath.Join(dir, ".parts")
	if err := os.MkdirAll(parts, 0o755); err != nil {
		return nil, err
	}
	return &recordFiles{dir: dir, parts: map[string]string{}, sessions: map[string]string{}}, nil
}

type csvPart struct {
	f *os.File
	w *backends.CSVWriter
	// The session part is opened on the first session record.
	r        *recordFiles
	key      string
	sessF    *os.File
	sessW    *csv.Writer
	sessPath string
}

func (p *csvPart) Write(o *backends.Outcome) error { return p.w.Write(o) }

// WriteSession implements sim.SessionSink: one row of sessions.csv.
func (p *csvPart) WriteSession(r *sim.SessionRecord) error {
	if p.sessW == nil {
		f, err := os.Create(p.sessPath)
		if err != nil {
			return err
		}
		p.sessF, p.sessW = f, csv.NewWriter(f)
		p.r.mu.Lock()
		p.r.sessions[p.key] = p.sessPath
		p.r.mu.Unlock()
	}
	return sim.WriteSessionCSV(p.sessW, r)
}

func (p *csvPart) Close() error {
	err := p.w.Flush()
	if p.sessW != nil {
		p.sessW.Flush()
		err = errors.Join(err, p.sessW.Error(), p.sessF.Close())
	}
	return errors.Join(err, p.f.Close())
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
	key := fmt.Sprintf("%s\x00%05d", strategy, rep)
	r.parts[key] = path
	return &csvPart{f: f, w: w, r: r, key: key, sessPath: strings.TrimSuffix(path, ".csv") + ".sessions.csv"}, nil
}

// merge concatenates the parts into outcomes.csv (and sessions.csv, if
// sessions were written) and removes them.
func (r *recordFiles) merge() error {
	err := concatParts(filepath.Join(r.dir, "outcomes.csv"), r.parts, func(w io.Writer) error {
		hw, err := backends.NewCSVWriter(w, true)
		if err == nil {
			err = hw.Flush()
		}
		return err
	})
	if err == nil && len(r.sessions) > 0 {
		err = concatParts(filepath.Join(r.dir, "sessions.csv"), r.sessions, func(w io.Writer) error {
			cw := csv.NewWriter(w)
			if err := cw.Write(sim.SessionCSVHeader); err != nil {
				return err
			}
			cw.Flush()
			return cw.Error()
		})
	}
	if err == nil {
		err = os.RemoveAll(filepath.Join(r.dir, ".parts"))
	}
	return err
}

// concatParts writes path: the header, then the part files in the order
// of their sort keys, so the file is the same on every run.
func concatParts(path string, parts map[string]string, header func(io.Writer) error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(out)
	err = header(bw)
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err != nil {
			break
		}
		var f *os.File
		if f, err = os.Open(parts[k]); err != nil {
			break
		}
		_, err = io.Copy(bw, f)
		f.Close()
	}
	return errors.Join(err, bw.Flush(), out.Close())
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
