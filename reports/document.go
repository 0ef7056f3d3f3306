package reports

import (
	"encoding/base64"
	"html/template"
)

// Document is a report laid out once and rendered as HTML, Markdown, CSV or
// Parquet tables: every format shows the same sections, tables and figures.
type Document struct {
	Title, Subtitle string
	// Warnings are shown first: what a reader must know before any number.
	Warnings []string
	// Glance are one-line findings shown before the sections (compare and
	// twin documents; a run report puts them in its Answer section).
	Glance   []string
	Sections []Section
	// Generator names the program and version that wrote the document.
	Generator string
	// OutcomesCSV, when set, is the run's outcomes.csv: the Parquet format
	// also converts it to parquet/outcomes.parquet.
	OutcomesCSV string
}

// Section is a part of the document, written for one audience.
type Section struct {
	ID, Title string
	// Audience says who the section is for ("architects", …).
	Audience string
	Blocks   []Block
}

// Block is one element of a section: a paragraph, a list, a table or a figure.
type Block struct {
	Heading string
	Text    string
	List    []string
	Table   *Table
	Figure  *Figure
}

// Table is a table with formatted cells (and raw values for CSV).
type Table struct {
	// ID names the CSV and Parquet files (ID + ".csv", ID + ".parquet")
	// and the HTML anchor.
	ID, Title string
	Columns   []string
	Rows      [][]Cell
	Notes     []string
}

// Cell is a table cell: Text for reading (HTML, Markdown), Val for
// machines (CSV, Parquet). A cell built by txt has no machine value: its
// Text is the value, and it is text.
type Cell struct {
	Text string
	// Num right-aligns the cell.
	Num bool
	// Val is the cell's typed value for CSV and Parquet, set by the cell
	// constructors of format.go (intc, secc, usdc, pctc, ivc, diffc, …).
	Val Value
}

// ValueKind is what a cell's machine value is.
type ValueKind uint8

// Kinds of machine value. The zero ValueKind is text: the cell's Text.
const (
	// ValText: the value is the cell's Text ("" and "-" are missing).
	ValText ValueKind = iota
	// ValNull: the value is missing (an undefined statistic, no objective,
	// a placeholder such as "n/a" or "not within the window").
	ValNull
	// ValFloat: F, with a 95% interval or a range in Lo and Hi when the
	// column has bounds.
	ValFloat
	// ValInt: I, a count.
	ValInt
)

// Value is a cell's machine value: typed, in SI units or US dollars, with
// ratios as fractions (0–1).
type Value struct {
	Kind ValueKind
	F    float64
	I    int64
	// Bounded: Lo and Hi bound the value (a 95% interval beside the
	// point F, or a range with no point, F NaN); either may be NaN.
	Bounded bool
	Lo, Hi  float64
	// Unit is the unit the constructor knows ("s", "USD", "fraction",
	// "count"); empty when it does not. A test checks it against the
	// column's registered unit.
	Unit string
}

// Figure is a plot rendered to PNG, or the reason it could not be drawn.
type Figure struct {
	ID, Title, Caption string
	PNG                []byte
	// Missing, when set, replaces the image: why there is nothing to plot.
	Missing string
	// File is the PNG's file name when written next to a Markdown report.
	File string
}

// SrcAttr is the figure's src attribute with a PNG data: URI, typed as
// trusted for html/template: base64 has no character that could end the
// attribute, and passing it whole keeps html/template from entity-encoding
// every '+' of the image.
func (f *Figure) SrcAttr() template.HTMLAttr {
	return template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(f.PNG) + `"`)
}

// Figures lists every figure of the document.
func (d *Document) Figures() []*Figure {
	var out []*Figure
	for i := range d.Sections {
		for j := range d.Sections[i].Blocks {
			if f := d.Sections[i].Blocks[j].Figure; f != nil {
				out = append(out, f)
			}
		}
	}
	return out
}

// Tables lists every table of the document.
func (d *Document) Tables() []*Table {
	var out []*Table
	for i := range d.Sections {
		for j := range d.Sections[i].Blocks {
			if t := d.Sections[i].Blocks[j].Table; t != nil {
				out = append(out, t)
			}
		}
	}
	return out
}

// add appends blocks to a section.
func (s *Section) text(t string)   { s.Blocks = append(s.Blocks, Block{Text: t}) }
func (s *Section) head(h string)   { s.Blocks = append(s.Blocks, Block{Heading: h}) }
func (s *Section) list(l []string) { s.Blocks = append(s.Blocks, Block{List: l}) }
func (s *Section) table(t *Table) {
	if t != nil && len(t.Rows) > 0 {
		s.Blocks = append(s.Blocks, Block{Table: t})
	}
}
func (s *Section) figure(f *Figure) { s.Blocks = append(s.Blocks, Block{Figure: f}) }

func (t *Table) row(cells ...Cell) { t.Rows = append(t.Rows, cells) }
