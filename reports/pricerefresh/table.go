package pricerefresh

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The tables as text, for rewriting in place.

type rawTable struct {
	name    string // tokens, egress, ...
	path    string
	lines   []string
	col     map[string]int
	rows    []*rawRow
	changed bool
}

type rawRow struct {
	t           *rawTable
	rec         []string
	first, last int // 0-based line indexes, inclusive
}

func readRawTable(path string) (*rawTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &rawTable{name: strings.TrimSuffix(filepath.Base(path), ".csv"), path: path,
		lines: strings.Split(string(data), "\n"), col: map[string]int{}}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, h := range head {
		t.col[strings.TrimSpace(h)] = i
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		first, _ := cr.FieldPos(0)
		last, _ := cr.FieldPos(len(rec) - 1)
		last += strings.Count(rec[len(rec)-1], "\n")
		t.rows = append(t.rows, &rawRow{t: t, rec: rec, first: first - 1, last: last - 1})
	}
}

func (r *rawRow) get(col string) string {
	if i, ok := r.t.col[col]; ok && i < len(r.rec) {
		return r.rec[i]
	}
	return ""
}

func (r *rawRow) set(col, v string) {
	if i, ok := r.t.col[col]; ok && i < len(r.rec) {
		r.rec[i] = v
	}
}

// describe names the row as pricing list does: provider, item, region.
func (r *rawRow) describe() string {
	item := r.get("model")
	switch r.t.name {
	case "egress":
		item = fmt.Sprintf("%s %s–%s GB", r.get("path"), r.get("from_gb"), orDefault(r.get("to_gb"), "∞"))
	case "storage":
		item = r.get("service")
	case "provisioned":
		item += " (" + r.get("unit") + ")"
	case "exit":
		item = r.get("regime") + " from " + r.get("applies_from")
	}
	return fmt.Sprintf("%s %s (%s)", r.get("provider_kind"), item, orDefault(r.get("region"), "*"))
}

func orDefault(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}

func (r *rawRow) skip(reason string) RowSkip {
	return RowSkip{File: r.t.path, Line: r.first + 1, Row: r.describe(), Reason: reason}
}

// apiNoteRE finds a note's clause from an earlier refresh, which a new
// refresh replaces.
var apiNoteRE = regexp.MustCompile(`(?:; )?retrieved from the (?:` + azureAPIName + `|` + awsAPIName + `)(?: \([^)]*\))?(?: via [^;]*)?`)

// unverifiedNote is the clause an unverified row's note carries.
const unverifiedNote = "value not yet checked against the first-party page"

// refreshedNote drops the unverified clause and any earlier API clause
// from note and appends clause.
func refreshedNote(note, clause string) string {
	note = apiNoteRE.ReplaceAllString(note, "")
	note = strings.ReplaceAll(note, "; "+unverifiedNote, "")
	note = strings.ReplaceAll(note, unverifiedNote, "")
	note = strings.Trim(strings.TrimSpace(note), ";")
	note = strings.TrimSpace(note)
	if note == "" {
		return clause
	}
	return note + "; " + clause
}

// apply writes m into the row and its table's lines.
func (r *rawRow) apply(m *refreshMatch, now time.Time) RowUpdate {
	u := RowUpdate{File: r.t.path, Line: r.first + 1, Row: r.describe(), SourceURL: m.url,
		OldText: strings.Join(r.t.lines[r.first:r.last+1], "\n")}
	for _, col := range []string{"input_usd_per_mtok", "cached_input_usd_per_mtok", "output_usd_per_mtok", "usd_per_gb", "usd_per_gb_month"} {
		v, ok := m.values[col]
		if !ok {
			continue
		}
		old := r.get(col)
		if ov, err := strconv.ParseFloat(old, 64); err == nil && math.Abs(ov-v) < 1e-12 {
			continue // same figure: keep its spelling ("2.50")
		}
		u.Changes = append(u.Changes, ValueChange{Column: col, Old: old, New: formatPrice(v)})
		r.set(col, formatPrice(v))
	}
	r.set("source_url", m.url)
	r.set("retrieved", now.UTC().Format(time.DateOnly))
	clause := "retrieved from the " + m.api
	if m.detail != "" {
		clause += " (" + strings.ReplaceAll(strings.ReplaceAll(m.detail, "(", "["), ")", "]") + ")"
	}
	if m.via != "" {
		clause += " via " + strings.ReplaceAll(m.via, ";", ",")
	}
	r.set("note", refreshedNote(r.get("note"), clause))
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(r.rec) // a bytes.Buffer does not fail
	w.Flush()
	u.NewText = strings.TrimSuffix(b.String(), "\n")
	newLines := strings.Split(u.NewText, "\n")
	r.t.lines = slices.Concat(r.t.lines[:r.first], newLines, r.t.lines[r.last+1:])
	// Later rows of the table move with the lines.
	shift := len(newLines) - (r.last - r.first + 1)
	for _, o := range r.t.rows {
		if o.first > r.first {
			o.first += shift
			o.last += shift
		}
	}
	r.last = r.first + len(newLines) - 1
	r.t.changed = true
	return u
}
