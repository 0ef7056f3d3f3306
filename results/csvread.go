package results

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"

	"github.com/mcbench/mcbench/scenarios"
)

// readCSV reads a record file with a header row, checks that every column
// of want is present (except the optional ones, which a file of an older
// minor version lacks), and calls fn for each row. Errors are *scenarios.FieldError
// that name the file, the line and the column.
func readCSV(r io.Reader, name string, want []string, optional map[string]bool, fn func(csvRow) error) error {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return &scenarios.FieldError{File: name, Msg: "empty file: no header row (was the run killed before it wrote a record?)"}
	}
	if err != nil {
		return csvError(name, err)
	}
	col := make(map[string]int, len(head))
	for i, h := range head {
		col[h] = i
	}
	for _, h := range want {
		if _, ok := col[h]; !ok && !optional[h] {
			return &scenarios.FieldError{File: name, Line: 1, Path: h, Msg: "the header has no such column"}
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if err := fn(csvRow{rec: rec, col: col, name: name, line: line, cr: cr}); err != nil {
			return err
		}
	}
}

// csvRow reads typed fields of one row; the first bad field sets err,
// which names the file, line and column.
type csvRow struct {
	rec  []string
	col  map[string]int
	name string
	line int
	cr   *csv.Reader // for the position of a bad field
	err  error
}

func (r *csvRow) fail(column, format string, args ...any) {
	if r.err == nil {
		line, col := r.line, 0
		if i, ok := r.col[column]; ok && r.cr != nil {
			line, col = r.cr.FieldPos(i)
		}
		r.err = &scenarios.FieldError{File: r.name, Line: line, Column: col, Path: column, Msg: fmt.Sprintf(format, args...)}
	}
}

// csvError turns the CSV reader's error into a FieldError with its
// position.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = "wrong number of columns (a truncated or damaged row)"
		}
		return &scenarios.FieldError{File: name, Line: pe.Line, Column: pe.Column, Msg: msg}
	}
	// A read error of a file already names it ("read PATH: ..."): name it
	// once.
	var fe *fs.PathError
	if errors.As(err, &fe) {
		return &scenarios.FieldError{File: name, Msg: fe.Err.Error()}
	}
	return &scenarios.FieldError{File: name, Msg: err.Error()}
}

func (r *csvRow) str(column string) string { return r.rec[r.col[column]] }

// has reports whether the file has the (optional) column.
func (r *csvRow) has(column string) bool {
	_, ok := r.col[column]
	return ok
}

func (r *csvRow) int(column string, bits int) int64 {
	v, err := strconv.ParseInt(r.str(column), 10, bits)
	if err != nil {
		r.fail(column, "%q is not an integer of %d bits", r.str(column), bits)
	}
	return v
}

func (r *csvRow) uint(column string) uint64 {
	v, err := strconv.ParseUint(r.str(column), 10, 64)
	if err != nil {
		r.fail(column, "%q is not a non-negative integer", r.str(column))
	}
	return v
}

// float reads a finite number. NaN and ±Inf are refused, not read as
// missing: every float column (cost_usd) is one the writers always fill
// with a finite amount, so a non-finite one is damage, and letting it
// through would print "$NaN" in a report or break its JSON.
func (r *csvRow) float(column string) float64 {
	v, err := strconv.ParseFloat(r.str(column), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		r.fail(column, "%q is not a number", r.str(column))
	case math.IsNaN(v) || math.IsInf(v, 0):
		r.fail(column, "%q is not a finite number", r.str(column))
	}
	return v
}

func (r *csvRow) status(column string) Status {
	st, ok := ParseStatus(r.str(column))
	if !ok {
		r.fail(column, "unknown status %q", r.str(column))
	}
	return st
}
