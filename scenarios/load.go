package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the default largest scenario file (Limits.FileBytes). Real
// scenarios are a few kilobytes; the limit keeps a wrong path (a log, a
// binary) from eating memory and bounds the work of decoding.
const MaxFileSize = 1 << 20

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
	lim, err := CurrentLimits()
	if err != nil {
		return nil, Errors{err.(*FieldError)}
	}
	// Read one byte past the limit so an oversized file is reported as such
	// without reading all of it.
	data, err := io.ReadAll(io.LimitReader(f, int64(lim.FileBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if st, err := f.Stat(); err == nil && len(data) > lim.FileBytes && st.Mode().IsRegular() {
		return nil, Errors{tooLarge(path, lim, st.Size())}
	}
	return parseWith(path, filepath.Dir(path), data, lim)
}

func parse(name, dir string, data []byte) (*Scenario, error) {
	lim, err := CurrentLimits()
	if err != nil {
		return nil, Errors{err.(*FieldError)}
	}
	return parseWith(name, dir, data, lim)
}

// parseWith is parse under the limits lim. The checks run cheapest first:
// file size, then the shape of the parsed document (nodes after alias
// expansion, keys per mapping, list lengths), and only then decoding and
// validation, whose cost is linear in what the shape check let through.
func parseWith(name, dir string, data []byte, lim Limits) (*Scenario, error) {
	one := func(line, col int, msg string) (*Scenario, error) {
		return nil, Errors{{File: name, Line: line, Column: col, Msg: msg}}
	}
	if len(data) > lim.FileBytes {
		return nil, Errors{tooLarge(name, lim, int64(len(data)))}
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

	if fe, _ := checkShape(root, lim); fe != nil {
		fe.File = name
		return nil, Errors{fe}
	}

	var s Scenario
	x, errs, badList, msg := decodeIndexed(data, root, &s)
	if msg != "" {
		return one(0, 0, msg)
	}
	bad := newPathSet(badList)
	tainted := bad.taints

	// Latency profiles fill latency fields before defaults and validation
	// see them. A profile that failed leaves its fields zero, and its path
	// joins bad so that validation does not report them a second time.
	for _, e := range resolveProfiles(&s, dir, x.has, tainted) {
		e.Line, e.Column = x.lookup(e.Path)
		errs = append(errs, e)
		bad.add(e.Path)
	}
	applyDefaults(&s, x.has)
	s.Source, s.Dir = name, dir
	errs = x.place(errs, validateWith(&s, x.has, tainted, lim), bad)
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

// tooLarge reports a file of size bytes over the file size limit.
func tooLarge(name string, lim Limits, size int64) *FieldError {
	return &FieldError{File: name, Msg: fmt.Sprintf("file is larger than %s, the limit (a scenario file is a few kilobytes of YAML); %s",
		sizeText(lim.FileBytes), Raise("file_size", float64(size)))}
}

// sizeText writes a byte count in MiB or KiB when it is a whole number of them.
func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// pathSet holds the paths where a problem was found (see FieldError for the
// path convention) and answers, in time proportional to a path's depth
// rather than to the number of problems, whether a path is one of them, is
// inside one or holds one. A scenario with a problem in each of thousands
// of deployments would otherwise cost problems × paths.
type pathSet struct {
	exact map[string]bool // the paths themselves
	above map[string]bool // every strict ancestor of a path in exact
}

func newPathSet(paths []string) *pathSet {
	s := &pathSet{exact: map[string]bool{}, above: map[string]bool{}}
	for _, p := range paths {
		s.add(p)
	}
	return s
}

func (s *pathSet) add(p string) {
	if s.exact[p] {
		return
	}
	s.exact[p] = true
	for q := p; q != ""; {
		q = parentPath(q)
		if s.above[q] {
			break // and so are its ancestors
		}
		s.above[q] = true
	}
}

// taints reports whether a problem lies at prefix or inside it.
func (s *pathSet) taints(prefix string) bool { return s.exact[prefix] || s.above[prefix] }

// suppresses reports whether a validation problem at path is a consequence
// of a decoding problem in the set: at the same field, a field holding it,
// or a field inside it (a list with an item that did not decode has the
// wrong length). Reporting it again would be noise.
func (s *pathSet) suppresses(path string) bool {
	if s.exact[path] || (path != "" && s.above[path]) {
		return true
	}
	for q := path; q != ""; {
		q = parentPath(q)
		if s.exact[q] {
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

// posSet holds the positions of problems found so far: the decoder and the
// key checker both report an unknown or duplicate key, once is enough. A
// problem without a column is matched by line and message.
type posSet struct {
	at     map[pos]bool
	lineAt map[lineMsg]bool
}

type lineMsg struct {
	line int
	msg  string
}

func newPosSet(errs []*FieldError) *posSet {
	s := &posSet{at: map[pos]bool{}, lineAt: map[lineMsg]bool{}}
	for _, e := range errs {
		s.add(e)
	}
	return s
}

func (s *posSet) add(e *FieldError) {
	if e.Column > 0 {
		s.at[pos{e.Line, e.Column}] = true
	}
	s.lineAt[lineMsg{e.Line, e.Msg}] = true
}

// has reports whether a problem at e's position is already known.
func (s *posSet) has(e *FieldError) bool {
	if e.Column > 0 {
		return s.at[pos{e.Line, e.Column}]
	}
	return s.lineAt[lineMsg{e.Line, e.Msg}]
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
