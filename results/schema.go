package results

import (
	"embed"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/invopop/jsonschema"

	"github.com/mcbench/mcbench/internal/godoc"
)

// The declarations are embedded so that the schema's descriptions come from
// the Go doc comments in any build, not only where the source is.
//
//go:embed summary.go num.go
var summarySources embed.FS

// SummaryJSONSchema returns the JSON Schema (draft 2020-12) of summary.json
// in the CurrentSchema layout, generated from the Summary type: field
// names, types, which fields may be null, and the doc comments as
// descriptions. Every field is required except those the writer omits
// when empty (the load block of a simulation, a fault's link end,
// sessions and faults where there are none); unknown fields are refused,
// as ReadSummary refuses them. The schema describes this version exactly:
// a summary of a newer minor version validates against the schema of the
// build that wrote it, while ReadSummary reads it by skipping the fields it
// does not know.
func SummaryJSONSchema() ([]byte, error) {
	comments, err := godoc.TypeComments(summarySources)
	if err != nil {
		return nil, err
	}
	r := &jsonschema.Reflector{
		ExpandedStruct: true,
		Mapper:         nullableNumbers,
		LookupComment: func(t reflect.Type, field string) string {
			if field != "" {
				return comments[t.Name()+"."+field]
			}
			return comments[t.Name()]
		},
	}
	s := r.Reflect(&Summary{})
	s.ID = "https://github.com/mcbench/mcbench/results/summary-" + CurrentSchema + ".schema.json"
	s.Title = "mcbench summary.json " + CurrentSchema
	if p, ok := s.Properties.Get("schema_version"); ok {
		p.Pattern = `^` + strconv.Itoa(currentMajor) + `\.[0-9]+$`
	}
	if p, ok := s.Properties.Get("source"); ok {
		p.Enum = []any{"sim", "load"}
	}
	for def, keys := range nullFloats {
		d, ok := s.Definitions[def]
		if !ok {
			return nil, fmt.Errorf("summary schema: no definition %s", def)
		}
		for _, k := range keys {
			p, ok := d.Properties.Get(k)
			if !ok {
				return nil, fmt.Errorf("summary schema: %s has no property %s", def, k)
			}
			p.Type, p.OneOf = "", []*jsonschema.Schema{{Type: "number"}, {Type: "null"}}
		}
	}
	return json.MarshalIndent(s, "", "  ")
}

// nullFloats are the plain float64 fields written as null when undefined
// (results/nulls.go): a strategy an interrupted run never started, say.
var nullFloats = map[string][]string{
	"Result":        {"throughput_rps"},
	"Latency":       {"mean", "p50", "p90", "p99", "max"},
	"LittleCheck":   {"l", "lambda_w"},
	"SessionResult": {"mean_steps", "retries_per_session"},
	"Load":          {"rate", "schedule_seconds", "duration_seconds", "warmup_seconds", "output_tokens_per_second"},
}

// nullableNumbers gives Num and CI their JSON forms: a number or null, and
// a pair of numbers or null.
func nullableNumbers(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[Num]():
		return &jsonschema.Schema{OneOf: []*jsonschema.Schema{{Type: "number"}, {Type: "null"}}}
	case reflect.TypeFor[CI]():
		two := uint64(2)
		return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
			{Type: "array", Items: &jsonschema.Schema{Type: "number"}, MinItems: &two, MaxItems: &two},
			{Type: "null"},
		}}
	}
	return nil
}
