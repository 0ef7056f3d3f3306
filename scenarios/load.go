package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest scenario file accepted. Real scenarios are a few
// kilobytes; the limit keeps a wrong path (a log, a binary) from eating memory.
const MaxFileSize = 4 << 20

// FieldError is one problem in an input file, located in the source: a
// scenario or profile here, and the files of a run directory (package
// results), so every input problem reads the same way and the CLI exits
// with code 2 on any of them.
//
// Path names the field the way the YAML spells it: mapping keys are joined
// with dots and list items are written [i], starting at 0, as in
// "deployments[2].capacity.concurrency". A mapping key that is not a plain
// name (letters, digits, '_' and '-') is written quoted in brackets, as in
// `strategies[0].routing.weights["anthropic.claude-v2"]`. The root is "".
//
// Line and Column are 1-based and point at the field's key (or, for a list
// item, at the item); a missing field points at the mapping that should hold
// it. Zero means unknown (the YAML parser reports syntax errors by line only).
type FieldError struct {
	File         string
	Line, Column int
	Path         string
	Msg          string
}

// Error formats the problem as FILE:LINE:COL: PATH: MSG, leaving out the
// parts that are unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a scenario, in source order. Parse, Load
// and Open return it (never an empty one) so that callers can print each
// problem on its own line and tests can inspect them.
type Errors []*FieldError

// Error joins the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Parse decodes, defaults and validates a scenario, reading the latency
// profiles it names into their deployments' latency. name is used in error
// messages and as Source; relative trace and profile paths resolve against
// the current directory (Load resolves them against the file's directory).
// On failure the error is an Errors holding every problem found.
func Parse(name string, data []byte) (*Scenario, error) {
	return parse(name, "", data)
}

// Load reads, decodes, defaults and validates the scenario file at path,
// reading the latency profiles it names (see Latency.Profile). Source is set
// to path and Dir to its directory. On failure the error is an
// Errors holding every problem found, or the error from opening the file.
func Load(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read one byte past the limit so an oversized file is reported as such
	// without reading all of it.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parse(path, filepath.Dir(path), data)
}

func parse(name, dir string, data []byte) (*Scenario, error) {
	one := func(line, col int, msg string) (*Scenario, error) {
		return nil, Errors{{File: name, Line: line, Column: col, Msg: msg}}
	}
	if len(data) > MaxFileSize {
		return one(0, 0, fmt.Sprintf("file is larger than %d MiB; a scenario file is a few kilobytes of YAML", MaxFileSize>>20))
	}
	if line, ok := binaryAt(data); ok {
		return one(line, 0, "not a YAML text file (binary or non-UTF-8 data)")
	}
	root, err := parseNode(data)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.File = name
			return nil, Errors{fe}
		}
		return one(0, 0, err.Error())
	}
	if root.Kind != yaml.MappingNode {
		return one(root.Line, root.Column, fmt.Sprintf("expected a mapping with the scenario's fields (name, providers, deployments, workloads, strategies), got %s", describe(root)))
	}

	var s Scenario
	x, errs, bad, msg := decodeIndexed(data, root, &s)
	if msg != "" {
		return one(0, 0, msg)
	}
	tainted := func(prefix string) bool {
		return slices.ContainsFunc(bad, func(b string) bool { return b == prefix || within(b, prefix) })
	}

	// Latency profiles fill latency fields before defaults and validation
	// see them. A profile that failed leaves its fields zero, and its path
	// joins bad so that validation does not report them a second time.
	for _, e := range resolveProfiles(&s, dir, x.has, tainted) {
		e.Line, e.Column = x.lookup(e.Path)
		errs = append(errs, e)
		bad = append(bad, e.Path)
	}
	applyDefaults(&s, x.has)
	s.Source, s.Dir = name, dir
	errs = x.place(errs, validate(&s, x.has, tainted), bad)
	if len(errs) > 0 {
		return nil, named(name, errs)
	}
	return &s, nil
}

// binaryAt reports the line of the first NUL byte or invalid UTF-8 sequence.
func binaryAt(data []byte) (int, bool) {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			return 1 + bytes.Count(data[:i], []byte("\n")), true
		}
		i += size
	}
	return 0, false
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parseNode parses data into a YAML node tree and returns the root of its
// only document.
func parseNode(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{Msg: "file is empty; expected a scenario mapping (name, providers, deployments, workloads, strategies)"}
		}
		return nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(err)
		}
		return nil, &FieldError{Line: extra.Line, Column: extra.Column, Msg: "a scenario file holds one YAML document, found a second one"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &FieldError{Msg: "file holds no YAML document"}
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, &FieldError{Line: root.Line, Column: root.Column, Msg: "file holds no scenario; expected a mapping (name, providers, deployments, workloads, strategies)"}
	}
	return root, nil
}

// syntaxError turns a yaml.v3 parse error ("yaml: line 3: msg") into a
// FieldError. yaml.v3 reports scanner errors by their 1-based line but
// parser errors ("did not find expected key", ...) by a 0-based one, usually
// that of the start of the enclosing list or mapping; the line is corrected
// to 1-based, and the message says the problem may lie further on.
func syntaxError(err error) *FieldError {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		text := m[2]
		if strings.HasPrefix(text, "did not find expected") || strings.HasPrefix(text, "found undefined tag handle") ||
			strings.HasPrefix(text, "found duplicate %") || strings.HasPrefix(text, "found incompatible YAML document") {
			line++
			text += " (at or after this line)"
		}
		return &FieldError{Line: line, Msg: "invalid YAML: " + text}
	}
	return &FieldError{Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float", "!!bool":
			return n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// suppressed reports whether a validation problem at path is a consequence of
// a decoding problem at one of the paths in bad: the same field, a field
// inside it, or the list or mapping holding it (a list with an item that did
// not decode has the wrong length). Reporting it again would be noise.
func suppressed(path string, bad []string) bool {
	for _, b := range bad {
		if path == b || within(path, b) || (path != "" && within(b, path)) {
			return true
		}
	}
	return false
}

// within reports whether path p is strictly inside path q.
func within(p, q string) bool {
	if q == "" {
		return p != ""
	}
	return strings.HasPrefix(p, q) && len(p) > len(q) && (p[len(q)] == '.' || p[len(q)] == '[')
}

// containsAt reports whether errs holds a problem at e's position, which the
// decoder and the key checker both report for an unknown or duplicate key.
func containsAt(errs []*FieldError, e *FieldError) bool {
	for _, o := range errs {
		if o.Line == e.Line && (o.Column == e.Column && e.Column > 0 || e.Column == 0 && o.Msg == e.Msg) {
			return true
		}
	}
	return false
}

// indexPath returns the path of item i of the list at path list.
func indexPath(list string, i int) string { return list + "[" + strconv.Itoa(i) + "]" }

// keyPath returns the path of key in the mapping at path (see FieldError).
func keyPath(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// parentPath returns the path of the mapping or list holding path.
func parentPath(path string) string {
	last, quoted := 0, false
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '.' || c == '['):
			last = i
		}
	}
	return path[:last]
}
