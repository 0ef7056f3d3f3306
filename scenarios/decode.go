package scenarios

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PosError is a decoding error at a position in the YAML source. The loader
// adds the file name and the field path.
type PosError struct {
	Line, Column int
	Msg          string
}

func (e *PosError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

func nodeError(n *yaml.Node, msg string) error {
	return &PosError{Line: n.Line, Column: n.Column, Msg: msg}
}

// UnmarshalYAML accepts a bare region name or a mapping {name, tags}.
func (r *Region) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		r.Name = n.Value
		return nil
	}
	type plain Region
	var p plain
	if err := decodeStrict(n, &p); err != nil {
		return err
	}
	*r = Region(p)
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
// unmarshalers that decode sub-nodes go through here.
func decodeStrict(n *yaml.Node, v any) error {
	if err := checkKnownFields(n, v); err != nil {
		return err
	}
	return n.Decode(v)
}

// checkKnownFields reports the first key of mapping n that struct v (a
// pointer) has no yaml field for.
func checkKnownFields(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	t := reflect.TypeOf(v).Elem()
	known := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			known[name] = true
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !known[k.Value] {
			return nodeError(k, fmt.Sprintf("unknown field %q", k.Value))
		}
	}
	return nil
}
