package scenarios

import (
	"embed"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
	"github.com/mcbench/mcbench/internal/godoc"
)

// The type declarations are embedded so that the schema's descriptions come
// from the Go doc comments in any build, not only where the source is.
//
//go:embed types.go units.go dist.go routing_params.go constraints.go
var typeSources embed.FS

// Patterns of the unit scalars. They follow ParseDuration, ParseRate and
// ParseCount closely enough for editors; the loader stays the authority.
const (
	amountPattern   = `(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?`
	durationPattern = `^\s*(?:0|` + amountPattern + `d|(?:` + amountPattern + `(?:ns|us|µs|μs|ms|s|m|h))+)\s*$`
	ratePattern     = `^\s*` + amountPattern + `[kKMG]?\s*(?:/\s*(?:s|sec|second|m|min|minute|h|hr|hour|d|day)\s*)?$`
	countPattern    = `^\s*` + amountPattern + `[kKMG]?\s*$`
	percentPattern  = `^\s*` + amountPattern + `%\s*$`
)

// JSONSchema returns the JSON Schema (draft 2020-12) of scenario files, for
// editors and CI checks of YAML scenarios. Field names are the YAML names,
// unknown fields are rejected, unit scalars have patterns, and descriptions
// are the Go doc comments of the types. It checks shape only: cross
// references and value rules are the loader's (see Validate).
func JSONSchema() ([]byte, error) {
	comments, err := godoc.TypeComments(typeSources)
	if err != nil {
		return nil, err
	}
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true, // required fields are set below: most fields have defaults
		ExpandedStruct:             true,
		Mapper:                     refUnitType,
		LookupComment: func(t reflect.Type, field string) string {
			if field != "" {
				return comments[t.Name()+"."+field]
			}
			return comments[t.Name()]
		},
	}
	s := r.Reflect(&Scenario{})
	s.Title = "mcbench scenario"
	for _, t := range unitTypes {
		s.Definitions[t.Name()] = unitSchema(t, comments)
	}
	s.Required = []string{"name", "providers", "deployments", "workloads", "strategies"}
	refine := func(def string, required []string, enums map[string][]any) error {
		d := s.Definitions[def]
		if d == nil {
			return fmt.Errorf("schema: no definition %s", def)
		}
		d.Required = required
		for prop, values := range enums {
			p, ok := d.Properties.Get(prop)
			if !ok {
				return fmt.Errorf("schema: %s has no property %s", def, prop)
			}
			p.Enum = values
		}
		return nil
	}
	layerEnum := []any{LayerModel, LayerOrchestration, LayerApplication, LayerState}
	for _, e := range []struct {
		def      string
		required []string
		enums    map[string][]any
	}{
		{"Provider", []string{"name", "kind", "regions"}, map[string][]any{"kind": {KindAzure, KindBedrock, KindGeneric}}},
		{"Link", []string{"from", "to", "latency"}, nil},
		{"Deployment", []string{"name", "provider", "region"}, map[string][]any{"layer": layerEnum}},
		{"Capacity", []string{"concurrency"}, nil},
		{"Workload", []string{"name", "arrival"}, map[string][]any{"layer": layerEnum}},
		{"Session", []string{"steps"}, nil},
		{"Arrival", []string{"process"}, map[string][]any{"process": {ProcPoisson, ProcConstant, ProcMMPP, ProcDiurnal, ProcRamp, ProcTrace}}},
		{"Strategy", []string{"name", "placement"}, nil},
		{"Routing", nil, map[string][]any{"policy": anys(Policies), "failure_domain": {DomainDeployment, DomainRegion, DomainProvider}}},
		{"OutlierParams", nil, map[string][]any{"preset": {PresetEnvoyDefault, PresetAIGatewayDoc}}},
		{"FallbackParams", nil, map[string][]any{"preset": {PresetLiteLLM}, "groups": {"each", "one"}}},
		{"Fault", []string{"kind", "target", "duration"}, map[string][]any{"kind": anys(FaultKinds)}},
	} {
		if err := refine(e.def, e.required, e.enums); err != nil {
			return nil, err
		}
	}
	// A placement maps layers, not arbitrary keys, to deployment lists.
	if p, ok := s.Definitions["Strategy"].Properties.Get("placement"); ok {
		props := jsonschema.NewProperties()
		for _, l := range layerEnum {
			props.Set(l.(string), &jsonschema.Schema{Type: "array", Items: &jsonschema.Schema{Type: "string"}})
		}
		p.Properties, p.AdditionalProperties = props, jsonschema.FalseSchema
	}
	// A latency profile replaces ttft, per_input_token and tpot.
	if l := s.Definitions["Latency"]; l != nil {
		var given []*jsonschema.Schema
		for _, f := range profileFields {
			given = append(given, &jsonschema.Schema{Required: []string{f}})
		}
		l.DependentSchemas = map[string]*jsonschema.Schema{"profile": {Not: &jsonschema.Schema{AnyOf: given}}}
	}
	if p, ok := s.Definitions["Routing"].Properties.Get("weights"); ok {
		// Inline, as a plain map: the Weights type exists for its YAML syntax.
		p.Ref, p.Type = "", "object"
		delete(s.Definitions, "Weights")
		p.AdditionalProperties = &jsonschema.Schema{OneOf: []*jsonschema.Schema{
			{Type: "number", Minimum: "0"}, {Type: "string", Pattern: percentPattern, Examples: []any{"20%"}},
		}}
	}
	if d := s.Definitions["ErrorClassParams"]; d != nil {
		if p, ok := d.Properties.Get("actions"); ok {
			p.PropertyNames = &jsonschema.Schema{Enum: anys(ErrorKinds)}
			p.AdditionalProperties = &jsonschema.Schema{Type: "string", Enum: anys(RoutingActions)}
		}
	}
	return json.MarshalIndent(s, "", "  ")
}

// unitTypes have their own YAML syntax (a scalar with units, or a scalar or
// a mapping), which reflection cannot see.
var unitTypes = []reflect.Type{
	reflect.TypeFor[Duration](), reflect.TypeFor[Rate](), reflect.TypeFor[Count](), reflect.TypeFor[Fraction](),
	reflect.TypeFor[Warmup](), reflect.TypeFor[TimeDist](), reflect.TypeFor[CountDist](), reflect.TypeFor[Region](),
}

// refUnitType makes the reflector refer to the hand-written definitions of
// the unit types. It returns a new schema on every call because the
// reflector writes the field's description into it.
func refUnitType(t reflect.Type) *jsonschema.Schema {
	for _, u := range unitTypes {
		if t == u {
			return &jsonschema.Schema{Ref: "#/$defs/" + t.Name()}
		}
	}
	return nil
}

// unitSchema returns the definition of one of the unitTypes.
func unitSchema(t reflect.Type, comments map[string]string) *jsonschema.Schema {
	str := func(pattern string, examples ...any) *jsonschema.Schema {
		return &jsonschema.Schema{Type: "string", Pattern: pattern, Examples: examples}
	}
	nonNeg := func() *jsonschema.Schema { return &jsonschema.Schema{Type: "number", Minimum: "0"} }
	desc := comments[t.Name()]
	switch t {
	case reflect.TypeFor[Duration]():
		s := str(durationPattern, "250ms", "2m", "1h30m", "1.5d")
		s.Description = desc
		return s
	case reflect.TypeFor[Rate]():
		return &jsonschema.Schema{Description: desc, OneOf: []*jsonschema.Schema{nonNeg(), str(ratePattern, "200/s", "12000/min", "2M/min")}}
	case reflect.TypeFor[Count]():
		return &jsonschema.Schema{Description: desc, OneOf: []*jsonschema.Schema{nonNeg(), str(countPattern, "1500", "2k", "2M")}}
	case reflect.TypeFor[Fraction]():
		return &jsonschema.Schema{Description: desc, OneOf: []*jsonschema.Schema{
			{Type: "number", Minimum: "0", Maximum: "1"}, str(percentPattern, "10%"),
		}}
	case reflect.TypeFor[Warmup]():
		return &jsonschema.Schema{Description: desc, AnyOf: []*jsonschema.Schema{
			{Type: "number", Minimum: "0", Maximum: "1"}, str(percentPattern, "10%"), str(durationPattern, "5m"),
		}}
	case reflect.TypeFor[TimeDist]():
		return distSchema(desc, func() *jsonschema.Schema { return str(durationPattern) })
	case reflect.TypeFor[CountDist]():
		return distSchema(desc, func() *jsonschema.Schema {
			return &jsonschema.Schema{OneOf: []*jsonschema.Schema{nonNeg(), str(countPattern)}}
		})
	case reflect.TypeFor[Region]():
		props := jsonschema.NewProperties()
		props.Set("name", &jsonschema.Schema{Type: "string", Description: comments["Region.Name"]})
		props.Set("tags", &jsonschema.Schema{Type: "array", Items: &jsonschema.Schema{Type: "string"}, Description: comments["Region.Tags"]})
		return &jsonschema.Schema{Description: desc, OneOf: []*jsonschema.Schema{
			{Type: "string"},
			{Type: "object", Properties: props, Required: []string{"name"}, AdditionalProperties: jsonschema.FalseSchema},
		}}
	}
	return nil
}

// distSchema is a distribution: a constant value, or a mapping whose "dist"
// selects the family and its parameters.
func distSchema(desc string, value func() *jsonschema.Schema) *jsonschema.Schema {
	family := func(name string, required []string, params ...string) *jsonschema.Schema {
		props := jsonschema.NewProperties()
		props.Set("dist", &jsonschema.Schema{Const: name})
		for _, p := range params {
			switch p {
			case "cv", "sigma":
				props.Set(p, &jsonschema.Schema{Type: "number", ExclusiveMinimum: "0"})
			case "values":
				one := uint64(1)
				props.Set(p, &jsonschema.Schema{Type: "array", Items: value(), MinItems: &one})
			default:
				props.Set(p, value())
			}
		}
		return &jsonschema.Schema{Type: "object", Properties: props, Required: append([]string{"dist"}, required...), AdditionalProperties: jsonschema.FalseSchema}
	}
	lognormal := family("lognormal", nil, "median", "p99", "mean", "cv", "sigma")
	lognormal.OneOf = []*jsonschema.Schema{
		{Required: []string{"median", "p99"}},
		{Required: []string{"median", "sigma"}},
		{Required: []string{"mean", "cv"}},
	}
	return &jsonschema.Schema{Description: desc, OneOf: []*jsonschema.Schema{
		value(),
		family("constant", []string{"value"}, "value"),
		family("exponential", []string{"mean"}, "mean"),
		lognormal,
		family("uniform", []string{"min", "max"}, "min", "max"),
		family("empirical", []string{"values"}, "values"),
	}}
}
