package reports

import (
	"bufio"
	"embed"
	"encoding/csv"
	"fmt"
	htmltemplate "html/template"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	texttemplate "text/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// html/template escapes every scenario-provided string (strategy,
// deployment and region names, descriptions) in its context; figures are
// PNG data URIs, so the document runs no script and loads nothing.
var (
	htmlTmpl = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/report.html.tmpl"))
	mdTmpl   = texttemplate.Must(texttemplate.New("report.md.tmpl").Funcs(texttemplate.FuncMap{"md": mdEscape, "cell": mdCell}).
			ParseFS(templateFS, "templates/report.md.tmpl"))
)

// Formats a report can be written in.
const (
	FormatHTML     = "html"
	FormatMarkdown = "md"
	FormatCSV      = "csv"
	FormatParquet  = "parquet"
)

// Formats lists the supported formats.
var Formats = []string{FormatHTML, FormatMarkdown, FormatCSV, FormatParquet}

// WriteHTML writes the document as one self-contained HTML page.
func WriteHTML(w io.Writer, d *Document) error { return htmlTmpl.Execute(w, d) }

// WriteMarkdown writes the document as Markdown. Figures are linked by
// their File field, which the caller sets to where it wrote the PNGs.
func WriteMarkdown(w io.Writer, d *Document) error { return mdTmpl.Execute(w, d) }

// WriteCSV writes one table as CSV: a header of machine column names
// (Table.Fields), then each row's machine values: integers, floats in full
// precision (always with a point or an exponent), text, and an empty field
// where a value is missing. Only text is guarded against spreadsheet
// formulas (csvSafe); numbers, negative ones included, are written as is.
func WriteCSV(w io.Writer, t *Table) error {
	cw := csv.NewWriter(w)
	fields := t.Fields()
	rec := make([]string, len(fields))
	for i, f := range fields {
		rec[i] = f.Name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for _, r := range t.Rows {
		for i := range fields {
			rec[i] = ""
			if fields[i].col >= len(r) {
				continue
			}
			switch v := fields[i].machine(r[fields[i].col]).(type) {
			case int64:
				rec[i] = strconv.FormatInt(v, 10)
			case float64:
				rec[i] = formatFloat(v)
			case string:
				if fields[i].Type == TypeText {
					v = csvSafe(v)
				}
				rec[i] = v
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas in text: a scenario name starting
// with =, +, - or @ (or a tab or carriage return) would otherwise run as a
// formula when the CSV is opened in a spreadsheet, so it gets a leading '.
// It is applied to text values only, never to numbers.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '+', '-', '\t', '\r':
		return "'" + s
	}
	return s
}

// Write renders the document into dir in the given formats and returns
// the files written: report.html; report.md with its figures in plots/;
// one CSV per table in csv/ and one Parquet file per table in parquet/,
// each folder with the data dictionary (DictionaryFile) describing every
// column, and parquet/outcomes.parquet converted from OutcomesCSV when it
// is set.
func (d *Document) Write(dir string, formats []string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	write := func(name string, fn func(io.Writer) error) error {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(f)
		err = fn(bw)
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		files = append(files, path)
		return nil
	}
	for _, format := range formats {
		var err error
		switch format {
		case FormatHTML:
			err = write("report.html", func(w io.Writer) error { return WriteHTML(w, d) })
		case FormatMarkdown:
			for _, f := range d.Figures() {
				if f.Missing != "" {
					continue
				}
				f.File = "plots/" + f.ID + ".png"
				png := f.PNG
				if err = write(f.File, func(w io.Writer) error { _, e := w.Write(png); return e }); err != nil {
					return files, err
				}
			}
			err = write("report.md", func(w io.Writer) error { return WriteMarkdown(w, d) })
		case FormatCSV:
			for _, t := range d.Tables() {
				t := t
				if err = write(filepath.Join("csv", t.ID+".csv"), func(w io.Writer) error { return WriteCSV(w, t) }); err != nil {
					return files, err
				}
			}
			err = write(filepath.Join("csv", DictionaryFile), func(w io.Writer) error { return WriteDictionary(w, d) })
		case FormatParquet:
			for _, t := range d.Tables() {
				t := t
				if d.OutcomesCSV != "" && t.ID+".parquet" == OutcomesParquetFile {
					return files, fmt.Errorf("table %q would overwrite %s", t.ID, OutcomesParquetFile)
				}
				if err = write(filepath.Join(ParquetDir, t.ID+".parquet"), func(w io.Writer) error { return WriteTableParquet(w, t) }); err != nil {
					return files, err
				}
			}
			if err = write(filepath.Join(ParquetDir, DictionaryFile), func(w io.Writer) error { return WriteDictionary(w, d) }); err != nil {
				return files, err
			}
			if d.OutcomesCSV != "" {
				path := filepath.Join(dir, ParquetDir, OutcomesParquetFile)
				if err = os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return files, err
				}
				if _, err = ConvertOutcomesFile(path, d.OutcomesCSV); err != nil {
					return files, fmt.Errorf("writing %s: %w", path, err)
				}
				files = append(files, path)
			}
		default:
			err = fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
		}
		if err != nil {
			return files, err
		}
	}
	return files, nil
}

// mdEscape escapes the characters Markdown (and the HTML it may embed)
// would interpret, so scenario strings render as written.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '#', '|', '<', '>', '!', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func mdCell(s string) string {
	if s == "" {
		return " "
	}
	return mdEscape(s)
}
