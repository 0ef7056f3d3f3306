package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// PartsDir is the hidden folder of a run directory where part files wait
// to be merged.
const PartsDir = ".parts"

// Parts gives each (strategy, replication) of a simulation its own part
// files, since replications run in parallel, and merges them into one
// outcomes.csv (and sessions.csv) in a fixed order, so the files are the
// same on every run whatever the scheduling.
type Parts struct {
	dir      string
	mu       sync.Mutex
	outcomes map[string]string // sort key -> part path
	sessions map[string]string // sort key -> session part path, where sessions were written
}

// NewParts prepares dir/.parts for part files.
func NewParts(dir string) (*Parts, error) {
	if err := os.MkdirAll(filepath.Join(dir, PartsDir), 0o755); err != nil {
		return nil, err
	}
	return &Parts{dir: dir, outcomes: map[string]string{}, sessions: map[string]string{}}, nil
}

// Part is one (strategy, replication)'s part files: outcome records, and
// session records once the first one is written. It is used by one
// goroutine at a time.
type Part struct {
	p        *Parts
	key      string
	f        *os.File
	w        *OutcomeWriter
	sessPath string
	sessF    *os.File
	sessW    *SessionWriter
}

// Open creates the part files of one strategy's replication.
func (p *Parts) Open(strategy string, rep int) (*Part, error) {
	path := filepath.Join(p.dir, PartsDir, fmt.Sprintf("%s-%05d.csv", sanitize(strategy), rep))
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewOutcomeWriter(f, false)
	if err != nil {
		f.Close()
		return nil, err
	}
	// Merge orders parts by strategy name, then replication.
	key := fmt.Sprintf("%s\x00%05d", strategy, rep)
	p.mu.Lock()
	p.outcomes[key] = path
	p.mu.Unlock()
	return &Part{p: p, key: key, f: f, w: w, sessPath: strings.TrimSuffix(path, ".csv") + ".sessions.csv"}, nil
}

// Write appends one outcome record.
func (pt *Part) Write(o *Outcome) error { return pt.w.Write(o) }

// WriteSession appends one session record.
func (pt *Part) WriteSession(r *SessionRecord) error {
	if pt.sessW == nil {
		f, err := os.Create(pt.sessPath)
		if err != nil {
			return err
		}
		pt.sessF = f
		if pt.sessW, err = NewSessionWriter(f, false); err != nil {
			return err
		}
		pt.p.mu.Lock()
		pt.p.sessions[pt.key] = pt.sessPath
		pt.p.mu.Unlock()
	}
	return pt.sessW.Write(r)
}

// Close flushes and closes the part files.
func (pt *Part) Close() error {
	err := pt.w.Flush()
	if pt.sessW != nil {
		err = errors.Join(err, pt.sessW.Flush(), pt.sessF.Close())
	}
	return errors.Join(err, pt.f.Close())
}

// Merge concatenates the parts into outcomes.csv (and sessions.csv, if
// sessions were written) under one header each, and removes them.
func (p *Parts) Merge() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := concatParts(filepath.Join(p.dir, OutcomesFile), p.outcomes, func(w io.Writer) error {
		hw, err := NewOutcomeWriter(w, true)
		if err == nil {
			err = hw.Flush()
		}
		return err
	})
	if err == nil && len(p.sessions) > 0 {
		err = concatParts(filepath.Join(p.dir, SessionsFile), p.sessions, func(w io.Writer) error {
			sw, err := NewSessionWriter(w, true)
			if err == nil {
				err = sw.Flush()
			}
			return err
		})
	}
	if err == nil {
		err = os.RemoveAll(filepath.Join(p.dir, PartsDir))
	}
	return err
}

// concatParts writes path: the header, then the part files in the order
// of their sort keys.
func concatParts(path string, parts map[string]string, header func(io.Writer) error) error {
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return writeFile(path, func(out io.Writer) error {
		bw := bufio.NewWriter(out)
		if err := header(bw); err != nil {
			return err
		}
		for _, k := range keys {
			f, err := os.Open(parts[k])
			if err != nil {
				return err
			}
			_, err = io.Copy(bw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

// sanitize keeps a strategy name usable as a file name.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
