package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// nodeError reports a problem with node n from a custom unmarshaler. It is a
// *yaml.TypeError on purpose: yaml.v3 collects those and keeps decoding the
// rest of the document (any other error aborts it), so several bad fields are
// all reported. The message carries the line and column, which the loader
// parses back ("line L, column C: msg") to attach the field path.
func nodeError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d, column %d: %s", n.Line, n.Column, msg)}}
}

// UnmarshalYAML accepts a bare region name or a mapping {name, tags}.
func (r *Region) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		r.Name = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nodeError(n, "expected a region name or a mapping {name, tags}")
	}
	type plain Region
	var p plain
	err := decodeStrict(n, &p)
	*r = Region(p)
	return err
}

// UnmarshalYAML reads a mapping of deployment name to weight, each a
// number or a percentage (parsePercent). Every bad weight is reported, at
// its own line and column.
func (w *Weights) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nodeError(n, "expected a mapping of deployment name to weight, such as {aoai-east: 3, bedrock: 2} or {aoai-east: 60%, bedrock: 40%}")
	}
	out := make(Weights, len(n.Content)/2)
	te := &yaml.TypeError{}
	bad := func(n *yaml.Node, msg string) {
		te.Errors = append(te.Errors, nodeError(n, msg).(*yaml.TypeError).Errors...)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if k.Kind != yaml.ScalarNode {
			bad(k, "expected a deployment name")
			continue
		}
		if _, dup := out[k.Value]; dup {
			bad(k, fmt.Sprintf("deployment %q has two weights", k.Value))
			continue
		}
		x, err := parsePercent(v.Value)
		switch {
		case v.Kind != yaml.ScalarNode || err != nil:
			bad(v, fmt.Sprintf("the weight of %q must be a number or a percentage (3, 0.5, 20%%)", k.Value))
			continue
		case math.IsNaN(x) || math.IsInf(x, 0):
			bad(v, fmt.Sprintf("the weight of %q must be a finite number, got %s", k.Value, v.Value))
			continue
		}
		out[k.Value] = x
	}
	*w = out
	if len(te.Errors) > 0 {
		return te
	}
	return nil
}

// UnmarshalYAML accepts a fraction of requests ("10%", "0.1") or a duration ("5m").
func (w *Warmup) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, "expected a fraction of requests (10%) or a duration (5m)")
	}
	s := strings.TrimSpace(n.Value)
	if f, err := ParseFraction(s); err == nil {
		*w = Warmup{Fraction: float64(f)}
		return nil
	}
	if d, err := ParseDuration(s); err == nil {
		*w = Warmup{Duration: d}
		return nil
	}
	return nodeError(n, fmt.Sprintf("%q is neither a fraction of requests (10%%, 0.1) nor a duration (5m)", s))
}

// UnmarshalYAML decodes a strategy's routing. A large weights mapping is
// decoded here, pair by pair: yaml.v3 checks each mapping's keys for
// duplicates pairwise, so a strategy weighting 25,000 deployments would
// cost 300 million comparisons (the index reports duplicate keys itself,
// in one pass). Everything else decodes as it would without this method.
func (r *Routing) UnmarshalYAML(n *yaml.Node) error {
	type plain Routing
	rest, weights := splitWeights(n)
	p := (*plain)(r)
	err := decodeStrict(rest, p)
	if weights == nil {
		return err
	}
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else if err != nil {
		return err
	}
	// The same parser as a small mapping's (Weights.UnmarshalYAML), so a
	// bad weight reads the same whatever the mapping's size.
	var ws Weights
	if err := ws.UnmarshalYAML(weights); err != nil {
		if !errors.As(err, &te) {
			return err
		}
		msgs = append(msgs, te.Errors...)
	}
	r.Weights = ws
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	return nil
}

// bigMapping is the size from which splitWeights takes a weights mapping
// out of yaml.v3's hands; below it the pairwise check costs nothing.
const bigMapping = 64

// splitWeights returns routing mapping n without its weights pair, and the
// weights mapping, when that is large and plain (scalar keys, no merge key,
// no alias); otherwise n itself and nil.
func splitWeights(n *yaml.Node) (*yaml.Node, *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return n, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, w := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value != "weights" || isMerge(k) {
			continue
		}
		if w.Kind != yaml.MappingNode || len(w.Content) < 2*bigMapping {
			return n, nil
		}
		for j := 0; j < len(w.Content); j += 2 {
			if wk := w.Content[j]; wk.Kind != yaml.ScalarNode || isMerge(wk) {
				return n, nil
			}
		}
		rest := *n
		rest.Content = append(slices.Clone(n.Content[:i]), n.Content[i+2:]...)
		return &rest, w
	}
	return n, nil
}

// MarshalText writes the warm-up as a percentage or a duration.
func (w Warmup) MarshalText() ([]byte, error) {
	if w.Duration > 0 {
		return []byte(w.Duration.String()), nil
	}
	return []byte(fmt.Sprintf("%g%%", w.Fraction*100)), nil
}

// IsZero reports whether no warm-up is deleted.
func (w Warmup) IsZero() bool { return w.Fraction == 0 && w.Duration == 0 }

// decodeStrict decodes n into v, rejecting keys v has no field for. yaml.v3's
// Node.Decode does not inherit the decoder's KnownFields setting, so custom
// unmarshalers that decode sub-nodes go through here. Every problem is
// returned in one *yaml.TypeError so decoding of the document goes on.
func decodeStrict(n *yaml.Node, v any) error {
	var msgs []string
	var te *yaml.TypeError
	if err := checkKnownFields(n, v); errors.As(err, &te) {
		msgs = append(msgs, te.Errors...)
	}
	if err := n.Decode(v); err != nil {
		if !errors.As(err, &te) {
			return err
		}
		msgs = append(msgs, te.Errors...)
	}
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	return nil
}

// checkKnownFields reports every key of mapping n that struct v (a pointer)
// has no yaml field for.
func checkKnownFields(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	known := yamlFields(reflect.TypeOf(v).Elem())
	var msgs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; known[k.Value] == nil && !isMerge(k) {
			msgs = append(msgs, nodeError(k, unknownFieldMsg(k.Value, known)).(*yaml.TypeError).Errors...)
		}
	}
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	return nil
}

// yamlFields maps the yaml names of struct t's fields to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	known := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" && f.IsExported() {
			known[name] = f.Type
		}
	}
	return known
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// unknownFieldMsg says a key is not a field and suggests the nearest one.
func unknownFieldMsg(key string, known map[string]reflect.Type) string {
	if s := suggest(key, known); s != "" {
		return fmt.Sprintf("unknown field %q; did you mean %s?", key, s)
	}
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	slices.Sort(names)
	return fmt.Sprintf("unknown field %q (fields: %s)", key, strings.Join(names, ", "))
}

// suggest returns the known name closest to key by edit distance, if it is
// close enough to be a typo (at most a third of the longer name changed).
func suggest(key string, known map[string]reflect.Type) string {
	best, bestD := "", 0
	for name := range known {
		d := editDistance(strings.ToLower(key), name)
		if d*3 <= max(len(key), len(name)) && (best == "" || d < bestD || d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// pos is a 1-based line and column in the source.
type pos struct{ line, col int }

func nodePos(n *yaml.Node) pos { return pos{n.Line, n.Column} }

// lineNode is a node found on a source line, with the path it stands for.
type lineNode struct {
	n    *yaml.Node
	path string
	key  bool
	typ  reflect.Type // the Go type the node decodes into, if known
}

// index maps field paths (see FieldError) to source positions and back. It
// is built by walking the node tree alongside the Go types, which also finds
// unknown and duplicate keys with their exact positions.
type index struct {
	paths    map[string]pos     // path → position of its key (or list item)
	at       map[pos]string     // node position → path; the outermost node wins
	lines    map[int][]lineNode // nodes by line, for yaml.v3's line-only errors
	errs     []*FieldError
	suppress []string // paths whose validation problems are consequences of errs
	visits   int
	active   map[*yaml.Node]bool // alias targets being walked, to stop cycles
}

// maxVisits bounds the walk through aliases, which can expand exponentially.
// checkShape refuses such documents first (Limits.Nodes); this is a second
// fence.
const maxVisits = 1 << 20

func newIndex() *index {
	return &index{paths: map[string]pos{}, at: map[pos]string{}, lines: map[int][]lineNode{}, active: map[*yaml.Node]bool{}}
}

// has reports whether the source spells out the field at path.
func (x *index) has(path string) bool {
	_, ok := x.paths[path]
	return ok
}

// lookup returns the position of path, or of its nearest ancestor present in
// the source (a missing field is reported at the mapping that lacks it).
func (x *index) lookup(path string) (line, col int) {
	for p := path; ; p = parentPath(p) {
		if q, ok := x.paths[p]; ok {
			return q.line, q.col
		}
		if p == "" {
			return 0, 0
		}
	}
}

func (x *index) add(n *yaml.Node, path string, key bool, t reflect.Type) {
	if _, ok := x.at[nodePos(n)]; !ok {
		x.at[nodePos(n)] = path
	}
	x.lines[n.Line] = append(x.lines[n.Line], lineNode{n, path, key, t})
}

func (x *index) fail(n *yaml.Node, path, msg string) {
	x.errs = append(x.errs, &FieldError{Line: n.Line, Column: n.Column, Path: path, Msg: msg})
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// walk indexes node n standing for a value of type t (nil: not checked) at
// path. In shadow mode (content reached through an alias or a merge key) it
// records only which paths are present: positions and key problems belong
// to where the anchor is written.
func (x *index) walk(n *yaml.Node, t reflect.Type, path string, shadow bool) {
	x.visits++
	if x.visits > maxVisits {
		return
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, ok := x.paths[path]; !ok {
		x.paths[path] = nodePos(n)
	}
	if !shadow {
		x.add(n, path, false, t)
		x.scalar(n, t, path)
	}
	switch n.Kind {
	case yaml.AliasNode:
		// An anchor may contain an alias to itself ("&a [*a]").
		if a := n.Alias; a != nil && !x.active[a] {
			x.active[a] = true
			x.walk(a, t, path, true)
			delete(x.active, a)
		}
	case yaml.SequenceNode:
		var et reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			et = t.Elem()
		}
		for i, item := range n.Content {
			x.walk(item, et, indexPath(path, i), shadow)
		}
	case yaml.MappingNode:
		x.mapping(n, t, path, shadow)
	}
}

// scalar catches what yaml.v3 lets through silently: it truncates a float
// such as 8.5 into an integer field.
func (x *index) scalar(n *yaml.Node, t reflect.Type, path string) {
	if t == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!float" {
		return
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if f, err := strconv.ParseFloat(n.Value, 64); err != nil || f != math.Trunc(f) {
			x.fail(n, path, fmt.Sprintf("expected a whole number, got %s", n.Value))
		}
	}
}

func (x *index) mapping(n *yaml.Node, t reflect.Type, path string, shadow bool) {
	var fields map[string]reflect.Type // nil: keys are not checked
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	case t.Kind() == reflect.Struct && (t == reflect.TypeFor[Region]() || t == reflect.TypeFor[Routing]() || !reflect.PointerTo(t).Implements(unmarshalerType)):
		// Types with their own unmarshaler (durations, distributions) check
		// their own keys; Region's mapping form and Routing are plain
		// structs.
		fields = yamlFields(t)
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					x.walk(m, t, path, true)
				}
			} else {
				x.walk(v, t, path, true)
			}
			continue
		}
		p := keyPath(path, k.Value)
		ft := elem
		if fields != nil {
			ft = fields[k.Value]
		}
		if !shadow {
			x.add(k, p, true, nil)
			if first, dup := seen[k.Value]; dup {
				x.fail(k, p, fmt.Sprintf("duplicate key %q (first at line %d)", k.Value, first.Line))
				// yaml.v3 drops a mapping with a duplicate key whole, so
				// what was decoded cannot be validated without noise.
				x.suppress = append(x.suppress, "")
				continue
			}
			seen[k.Value] = k
			switch {
			case k.Kind != yaml.ScalarNode:
				x.fail(k, path, fmt.Sprintf("expected a field name, got %s", describe(k)))
				x.suppress = append(x.suppress, path)
				continue
			case fields != nil && ft == nil:
				x.fail(k, p, unknownFieldMsg(k.Value, fields))
				if s := suggest(k.Value, fields); s != "" {
					x.suppress = append(x.suppress, keyPath(path, s))
				}
			}
		}
		if _, ok := x.paths[p]; !ok {
			x.paths[p] = nodePos(k)
		}
		x.walk(v, ft, p, shadow)
	}
}

// yaml.v3's decoding error messages, which the loader locates and rewrites.
var (
	posMsgRE   = regexp.MustCompile(`^line (\d+), column (\d+): (.*)$`)
	notFoundRE = regexp.MustCompile(`^line (\d+): field (.*) not found in type \S+$`)
	dupKeyRE   = regexp.MustCompile(`^line (\d+): mapping key (".*") already defined at line (\d+)$`)
	cannotRE   = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `.*`)? into (.+)$")
	lineMsgRE  = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// decodeError turns one of yaml.v3's collected decoding messages into a
// FieldError with a column and a path where the index can find them.
func (x *index) decodeError(msg string) *FieldError {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if m := posMsgRE.FindStringSubmatch(msg); m != nil {
		p := pos{atoi(m[1]), atoi(m[2])}
		return &FieldError{Line: p.line, Column: p.col, Path: x.at[p], Msg: m[3]}
	}
	if m := notFoundRE.FindStringSubmatch(msg); m != nil {
		if ln, ok := x.find(atoi(m[1]), func(l lineNode) bool { return l.key && l.n.Value == m[2] }); ok {
			return &FieldError{Line: ln.n.Line, Column: ln.n.Column, Path: ln.path, Msg: fmt.Sprintf("unknown field %q", m[2])}
		}
		return &FieldError{Line: atoi(m[1]), Msg: fmt.Sprintf("unknown field %q", m[2])}
	}
	if m := dupKeyRE.FindStringSubmatch(msg); m != nil {
		key, _ := strconv.Unquote(m[2])
		text := fmt.Sprintf("duplicate key %q (first at line %s)", key, m[3])
		if ln, ok := x.find(atoi(m[1]), func(l lineNode) bool { return l.key && l.n.Value == key }); ok {
			return &FieldError{Line: ln.n.Line, Column: ln.n.Column, Path: ln.path, Msg: text}
		}
		return &FieldError{Line: atoi(m[1]), Msg: text}
	}
	if m := cannotRE.FindStringSubmatch(msg); m != nil {
		want := "expected " + goTypeName(m[3])
		// Several nodes on a line may have the tag (flow style); the one
		// decoding into the named type is the culprit.
		ln, ok := x.find(atoi(m[1]), func(l lineNode) bool {
			return !l.key && l.n.ShortTag() == m[2] && l.typ != nil && l.typ.String() == m[3]
		})
		if !ok {
			ln, ok = x.find(atoi(m[1]), func(l lineNode) bool { return !l.key && l.n.ShortTag() == m[2] })
		}
		if !ok {
			return &FieldError{Line: atoi(m[1]), Msg: want}
		}
		return &FieldError{Line: ln.n.Line, Column: ln.n.Column, Path: ln.path, Msg: want + ", got " + shorten(describe(ln.n))}
	}
	if m := lineMsgRE.FindStringSubmatch(msg); m != nil {
		return &FieldError{Line: atoi(m[1]), Msg: m[2]}
	}
	return &FieldError{Msg: msg}
}

// find returns the first node on line that satisfies ok.
func (x *index) find(line int, ok func(lineNode) bool) (lineNode, bool) {
	for _, l := range x.lines[line] {
		if ok(l) {
			return l, true
		}
	}
	return lineNode{}, false
}

// goTypeName says in words what a Go type holds in YAML.
func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "scenarios."):
		return "a mapping"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"):
		return "a whole number"
	case strings.HasPrefix(t, "uint"):
		return "a non-negative whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	}
	return t
}

// shorten caps a quoted value so a pasted blob does not flood the terminal.
func shorten(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// UnmarshalText parses the form MarshalText writes ("10%" or "5m0s").
func (w *Warmup) UnmarshalText(b []byte) error {
	s := string(b)
	if f, err := ParseFraction(s); err == nil {
		*w = Warmup{Fraction: float64(f)}
		return nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("warm-up %q is neither a fraction nor a duration", s)
	}
	*w = Warmup{Duration: d}
	return nil
}

// decodeIndexed decodes a YAML mapping strictly into v (a pointer to T) and
// indexes its nodes by field path. It returns the index, the per-field
// problems found while decoding (placed by the index), and the paths below
// which validation would only repeat them. msg is non-empty when decoding
// failed as a whole (excessive aliasing, say): nothing decoded can be
// trusted then.
func decodeIndexed[T any](data []byte, root *yaml.Node, v *T) (x *index, errs Errors, bad []string, msg string) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var decodeErrs []string
	if err := dec.Decode(v); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, nil, nil, strings.TrimPrefix(err.Error(), "yaml: ")
		}
		decodeErrs = te.Errors
	}
	x = newIndex()
	x.walk(root, reflect.TypeFor[T](), "", false)
	errs = x.errs
	seen := newPosSet(errs)
	for _, m := range decodeErrs {
		if e := x.decodeError(m); !seen.has(e) {
			errs = append(errs, e)
			seen.add(e)
		}
	}
	bad = slices.Clone(x.suppress)
	for _, e := range errs {
		bad = append(bad, e.Path)
	}
	return x, errs, bad, ""
}

// place appends the problems found after decoding (validation) to errs,
// each at its field's position, leaving out those under a path where a
// problem was already found (bad): they are consequences, not news.
func (x *index) place(errs Errors, found []*FieldError, bad *pathSet) Errors {
	for _, e := range found {
		if bad.suppresses(e.Path) {
			continue
		}
		e.Line, e.Column = x.lookup(e.Path)
		errs = append(errs, e)
	}
	return errs
}

// named sets every problem's file and orders the problems by position.
func named(file string, errs Errors) Errors {
	for _, e := range errs {
		e.File = file
	}
	slices.SortStableFunc(errs, func(a, b *FieldError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return errs
}
