package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mcbench/mcbench/scenarios"
)

// Files of a run directory.
const (
	SummaryFile  = "summary.json"
	RunInfoFile  = "run.json"
	OutcomesFile = "outcomes.csv"
	SessionsFile = "sessions.csv"
)

// CurrentSchema is the "MAJOR.MINOR" layout this build writes. A reader of
// major M reads every minor of M (a newer minor only adds fields, which it
// ignores) and migrates the layouts before it that it knows; it refuses a
// newer major.
//
// History: 0.0 is the layout before schema_version existed (the load
// test's pacer, rate, duration and warm-up at the top level, zeros where a
// load test measured nothing); 1.0 moves them into the load block and
// writes null for what an engine cannot observe; 1.1 adds the fakes' lag
// (outcomes.csv column lag_ns, the load block's fake_lag_seconds) and the
// load block's schedule_seconds. 1.2:
//   - books requests into fault windows by exposure (any attempt in flight
//     during the window) instead of arrival, redefines the windows' time to
//     fail over and to recover and cost (see FaultResult), and adds their
//     failed_over, baseline_requests and baseline_failed (FaultTimesSchema);
//   - adds each result's token_cost_per_successful_request_usd and its
//     interval;
//   - changes what a simulation's deployments[] counts: attempts of
//     measured requests only, booked once when they end (1.1 and before
//     counted the warm-up's attempts too, and counted an attempt when it
//     reached its deployment, so a hedge cancelled on its way was missing),
//     and measures a session's model calls by their own arrival, as load
//     tests and reports do. Those fields are unchanged in shape, so older
//     files read as they are with the old meaning. A load test's
//     deployments[] already left the warm-up out.
//
// 1.3 adds each result's thresholds (the --threshold expressions with
// their values and verdicts) and the load block's unanswered count; older
// files read without thresholds and with unanswered 0.
const CurrentSchema = "1.3"

// currentMajor and currentMinor are CurrentSchema's parts.
const currentMajor, currentMinor = 1, 3

// ErrNotRunDir is returned (wrapped) when a directory is not a run directory.
var ErrNotRunDir = errors.New("not a run directory")

// Problems with a run directory's files (not JSON, truncated, a field of
// the wrong type, an unknown field, a schema version from a newer mcbench,
// a damaged CSV row) are *scenarios.FieldError, the error every input file
// of mcbench reports: it names the file and, where one is to blame, the
// line, column and field (a JSON path such as "results.requests", or a CSV
// column).

// regenerate is the advice given with a summary this build cannot read.
const regenerate = "regenerate it with this mcbench: the command that wrote it is in run.json (\"command\")"

// ScenarioHash is the SHA-256 of the resolved scenario's JSON encoding:
// scenario_sha256 in summary.json. The resolved scenario round-trips
// through JSON unchanged, so a report can check a run directory by hashing
// the scenario in run.json.
func ScenarioHash(s *scenarios.Scenario) string {
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// EncodeSummary writes s as indented JSON (what `--json` prints and
// summary.json holds), stamping it with CurrentSchema.
func EncodeSummary(w io.Writer, s *Summary) error {
	s.SchemaVersion = CurrentSchema
	return encodeIndented(w, s)
}

// WriteSummary writes dir/summary.json, creating dir if needed.
func WriteSummary(dir string, s *Summary) error {
	return writeFile(filepath.Join(dir, SummaryFile), func(w io.Writer) error { return EncodeSummary(w, s) })
}

// WriteRunInfo writes dir/run.json, stamping it with CurrentSchema.
func WriteRunInfo(dir string, ri *RunInfo) error {
	ri.SchemaVersion = CurrentSchema
	return writeFile(filepath.Join(dir, RunInfoFile), func(w io.Writer) error { return encodeIndented(w, ri) })
}

func encodeIndented(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeFile writes path through a temporary file renamed into place, so a
// crash never leaves half a summary behind.
func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(0o644) // CreateTemp makes 0600; run files are for sharing
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ReadSummary reads a summary.json written by any mcbench whose schema
// major version this build knows.
//
// Unknown fields are refused when the file's version is this build's or
// older: every field of those layouts is known, so an unknown one is a typo
// or a damaged file, and reading on would silently drop what it says. They
// are ignored when the file has a newer minor version of the same major,
// whose additions are by definition safe to skip. A newer major is
// refused. A 0.0 summary (written before schema_version existed) is
// migrated to the current layout (see CurrentSchema); SchemaVersion keeps
// the version the file had.
func ReadSummary(path string) (*Summary, error) {
	b, major, minor, err := readVersioned(path)
	if err != nil {
		return nil, err
	}
	if major == 0 {
		return readLegacySummary(path, b)
	}
	var s Summary
	strict := minor <= currentMinor
	if err := decodeJSON(path, b, &s, strict); err != nil {
		return nil, err
	}
	if minor < 2 {
		nullCostPerSuccess(&s)
	}
	markUnmeasured(&s)
	if err := checkSummary(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// nullCostPerSuccess marks the cost per successful request, which layouts
// before 1.2 did not write, as not measured (rather than $0).
func nullCostPerSuccess(s *Summary) {
	for i := range s.Results {
		s.Results[i].TokenCostPerSuccessfulRequest, s.Results[i].TokenCostPerSuccessfulRequestCI95 = Unknown, NoCI
	}
}

// legacySummary is the 0.0 layout: the load test's description sat at the
// top level beside its "load" block of measurements.
type legacySummary struct {
	Summary
	Load            *Load   `json:"load"`
	Pacer           string  `json:"pacer"`
	Rate            float64 `json:"rate"`
	DurationSeconds float64 `json:"duration_seconds"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
}

// readLegacySummary reads and migrates a 0.0 summary. A 0.0 load summary
// wrote zeros for what it did not measure (queue wait, Little's law,
// session failovers and bytes); they become null, as 1.0 writes them.
func readLegacySummary(path string, b []byte) (*Summary, error) {
	var l legacySummary
	if err := decodeJSON(path, b, &l, true); err != nil {
		return nil, err
	}
	s := l.Summary
	s.SchemaVersion = "0.0"
	nullCostPerSuccess(&s)
	if s.Source == "load" {
		s.Load = l.Load
		if s.Load == nil {
			s.Load = &Load{}
		}
		s.Load.Pacer, s.Load.Rate, s.Load.DurationSeconds, s.Load.WarmupSeconds = l.Pacer, l.Rate, l.DurationSeconds, l.WarmupSeconds
		for i := range s.Results {
			r := &s.Results[i]
			r.WaitSeconds, r.Little = nil, nil
			for j := range r.Sessions {
				x := &r.Sessions[j]
				x.FailoversPerSession, x.CrossRegionBytesPerSession, x.CrossCloudBytesPerSession, x.StateBytesPerSession = Unknown, Unknown, Unknown, Unknown
				x.CrossCloudBytes = nil
			}
		}
	}
	if err := checkSummary(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// checkSummary refuses summaries whose fields decode but cannot be right.
func checkSummary(path string, s *Summary) error {
	bad := func(field, format string, args ...any) error {
		return &scenarios.FieldError{File: path, Path: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch s.Source {
	case "sim":
		if s.Load != nil {
			return bad("load", "a simulation's summary has no load block")
		}
	case "load":
		if s.Load == nil {
			return bad("load", "a load test's summary needs its load block")
		}
	default:
		return bad("source", "must be \"sim\" or \"load\", got %q", s.Source)
	}
	if s.Results == nil {
		return bad("results", "missing: the file is incomplete (%s)", regenerate)
	}
	for i := range s.Results {
		r := &s.Results[i]
		if r.Strategy == "" {
			return bad(fmt.Sprintf("results[%d].strategy", i), "missing")
		}
		if r.Completed+r.Rejected+r.Failed+r.TimedOut > r.Requests {
			return bad(fmt.Sprintf("results[%d]", i), "completed, rejected, failed and timed out add up to more than the %d requests", r.Requests)
		}
	}
	return nil
}

// ReadRunInfo reads a run.json. Unknown fields are refused as in
// ReadSummary; the embedded scenario is the one the run resolved.
func ReadRunInfo(path string) (*RunInfo, error) {
	b, major, minor, err := readVersioned(path)
	if err != nil {
		return nil, err
	}
	var ri RunInfo
	if err := decodeJSON(path, b, &ri, minor <= currentMinor || major < currentMajor); err != nil {
		return nil, err
	}
	if ri.Scenario == nil {
		return nil, &scenarios.FieldError{File: path, Path: "scenario", Msg: "missing: a run directory keeps the resolved scenario (" + regenerate + ")"}
	}
	if major == 0 {
		ri.SchemaVersion = "0.0"
	}
	return &ri, nil
}

// readFile reads a run file (see OpenRunFile for what is refused).
func readFile(path string) ([]byte, error) {
	f, err := OpenRunFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s (give the directory written by `mcbench sim --out` or `mcbench load --out`)",
			ErrNotRunDir, filepath.Dir(path), filepath.Base(path))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, runFileError(path, err)
	}
	return b, nil
}

// readVersioned reads a run file and its schema version.
func readVersioned(path string) (b []byte, major, minor int, err error) {
	if b, err = readFile(path); err != nil {
		return nil, 0, 0, err
	}
	major, minor, err = schemaOf(path, b)
	return b, major, minor, err
}

// schemaOf returns the file's schema version (0.0 when it has none) and
// refuses a major version newer than this build's.
func schemaOf(path string, b []byte) (major, minor int, err error) {
	var head struct {
		SchemaVersion *string `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		// Let the full decode report where and what.
		if derr := decodeJSON(path, b, &map[string]any{}, false); derr != nil {
			return 0, 0, derr
		}
		return 0, 0, &scenarios.FieldError{File: path, Path: "schema_version", Msg: "must be a string such as \"" + CurrentSchema + "\""}
	}
	if head.SchemaVersion == nil {
		return 0, 0, nil
	}
	v := *head.SchemaVersion
	maj, min, ok := strings.Cut(v, ".")
	a, errA := strconv.Atoi(maj)
	c, errC := strconv.Atoi(min)
	if !ok || errA != nil || errC != nil || a < 0 || c < 0 {
		line, col := keyPosition(b, "schema_version")
		return 0, 0, &scenarios.FieldError{File: path, Line: line, Column: col, Path: "schema_version", Msg: fmt.Sprintf("%q is not MAJOR.MINOR (this build writes %q)", v, CurrentSchema)}
	}
	line, col := keyPosition(b, "schema_version")
	switch {
	case a == 0:
		return 0, 0, &scenarios.FieldError{File: path, Line: line, Column: col, Path: "schema_version",
			Msg: fmt.Sprintf("%q: layouts before 1.0 carry no version; the field is damaged", v)}
	case a > currentMajor:
		return 0, 0, &scenarios.FieldError{File: path, Line: line, Column: col, Path: "schema_version",
			Msg: fmt.Sprintf("written by a newer mcbench (schema %d.%d); this build reads schema %s and older: upgrade mcbench to read it", a, c, CurrentSchema)}
	}
	return a, c, nil
}

// decodeJSON decodes one JSON value from b into v and turns the decoder's
// errors into FieldErrors that name the file, position and field.
func decodeJSON(path string, b []byte, v any, disallowUnknown bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if disallowUnknown {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			line, col := position(b, int(dec.InputOffset()))
			return &scenarios.FieldError{File: path, Line: line, Column: col, Msg: "more than one JSON value"}
		}
		return nil
	}
	fe := &scenarios.FieldError{File: path}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		fe.Line, fe.Column = position(b, len(b))
		fe.Msg = "the file ends too soon: it is truncated (was the run killed while writing it? " + regenerate + ")"
	case errors.As(err, &syn):
		fe.Line, fe.Column = position(b, int(syn.Offset))
		fe.Msg = "not valid JSON: " + strings.TrimPrefix(syn.Error(), "json: ")
	case errors.As(err, &typ):
		fe.Line, fe.Column = position(b, int(typ.Offset))
		fe.Path = typ.Field
		fe.Msg = fmt.Sprintf("got a JSON %s, want %s", typ.Value, jsonKind(typ.Type.String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		fe.Path = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		fe.Line, fe.Column = keyPosition(b, fe.Path)
		fe.Msg = "unknown field: schema " + CurrentSchema + " has no such field (a typo, or a file from another tool?)"
	default:
		fe.Msg = strings.TrimPrefix(err.Error(), "json: ")
	}
	return fe
}

// jsonKind names a Go type as the JSON value it decodes from.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"), goType == "results.Num":
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "["), goType == "results.CI":
		return "an array"
	}
	return "an object (" + goType + ")"
}

// keyPosition locates the first occurrence of key as an object key in b
// (0, 0 when absent): the decoder does not say where an unknown field or a
// field it read whole stands.
func keyPosition(b []byte, key string) (line, col int) {
	i := bytes.Index(b, []byte(`"`+key+`":`))
	if i < 0 {
		i = bytes.Index(b, []byte(`"`+key+`" :`))
	}
	if i < 0 {
		return 0, 0
	}
	return position(b, i)
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int) (line, col int) {
	off = min(max(off, 0), len(b))
	line = 1 + bytes.Count(b[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(b[:off], '\n')
	return line, col
}
