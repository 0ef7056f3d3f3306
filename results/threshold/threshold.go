package threshold

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mcbench/mcbench/results"
)

// Op is a comparison operator.
type Op string

// The operators a threshold may use.
const (
	Less         Op = "<"
	LessEqual    Op = "<="
	Greater      Op = ">"
	GreaterEqual Op = ">="
	Equal        Op = "=="
)

// holds reports whether v op limit.
func (o Op) holds(v, limit float64) bool {
	switch o {
	case Less:
		return v < limit
	case LessEqual:
		return v <= limit
	case Greater:
		return v > limit
	case GreaterEqual:
		return v >= limit
	case Equal:
		return v == limit
	}
	return false
}

// Threshold is one parsed expression: Figure Op Limit.
type Threshold struct {
	// Expr is the expression as given (the summary and the table show it).
	Expr   string
	Figure *Figure
	Op     Op
	// Limit is in the figure's unit as summary.json writes it: seconds,
	// a fraction (1% is 0.01), USD, per second or a count.
	Limit float64
}

// Error is a malformed threshold expression: the expression and the rule
// it breaks.
type Error struct {
	Expr string
	Rule string
}

func (e *Error) Error() string { return fmt.Sprintf("threshold %q: %s", e.Expr, e.Rule) }

// maxExprLen bounds an expression: a threshold is a figure, an operator
// and a value, never a document.
const maxExprLen = 200

// Parse parses "FIGURE OP VALUE", such as "e2e.p99<2s", "error_rate<=1%"
// or "cost_per_successful_request<0.01" (spaces around the operator are
// allowed). FIGURE is a name from Figures; OP is <, <=, >, >= or ==;
// VALUE is written in the figure's unit: a duration (2s, 250ms, 1m30s, or
// plain seconds), a fraction (1% or 0.01), dollars (0.01 or $0.01) or a
// plain number. Errors are *Error.
func Parse(expr string) (Threshold, error) {
	fail := func(format string, a ...any) (Threshold, error) {
		return Threshold{}, &Error{Expr: expr, Rule: fmt.Sprintf(format, a...)}
	}
	if len(expr) > maxExprLen {
		return fail("longer than %d characters; a threshold is FIGURE OP VALUE, such as e2e.p99<2s", maxExprLen)
	}
	i := strings.IndexAny(expr, "<>=!")
	if i < 0 {
		return fail("no comparison: write FIGURE OP VALUE with OP one of < <= > >= ==, such as e2e.p99<2s")
	}
	name, rest := strings.TrimSpace(expr[:i]), expr[i:]
	var op Op
	for _, o := range []Op{LessEqual, GreaterEqual, Equal, Less, Greater} {
		if strings.HasPrefix(rest, string(o)) {
			op = o
			break
		}
	}
	switch {
	case op == "" && strings.HasPrefix(rest, "!="):
		return fail("operator != is not supported: use < <= > >= or ==")
	case op == "":
		return fail("operator %q is not one of < <= > >= == (equality is ==)", rest[:1])
	}
	value := strings.TrimSpace(rest[len(op):])
	if name == "" {
		return fail("no figure before %s: name one of %s", op, strings.Join(Names(), ", "))
	}
	f, ok := Lookup(name)
	if !ok {
		return fail("unknown figure %q: name one of %s", name, strings.Join(Names(), ", "))
	}
	if value == "" {
		return fail("no value after %s", op)
	}
	if strings.ContainsAny(value, "<>=!") {
		return fail("more than one comparison: one threshold is FIGURE OP VALUE; give another --threshold for another bound")
	}
	limit, err := parseValue(f, value)
	if err != nil {
		return fail("%s", err)
	}
	return Threshold{Expr: expr, Figure: f, Op: op, Limit: limit}, nil
}

// ParseAll parses each expression, stopping at the first error.
func ParseAll(exprs []string) ([]Threshold, error) {
	ts := make([]Threshold, 0, len(exprs))
	for _, e := range exprs {
		t, err := Parse(e)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// parseValue reads a threshold's value in f's unit.
func parseValue(f *Figure, v string) (float64, error) {
	number := func(s string) (float64, error) {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || strings.ContainsAny(s, "xXpP_") || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("value %q is not a number", s)
		}
		if x < 0 {
			return 0, fmt.Errorf("value %q is negative, and %s never is", s, f.Name)
		}
		return x, nil
	}
	switch f.Unit {
	case Seconds:
		if strings.HasSuffix(v, "%") || strings.HasPrefix(v, "$") {
			return 0, fmt.Errorf("%s is a time: give a duration such as 2s or 250ms, not %q", f.Name, v)
		}
		if _, err := strconv.ParseFloat(v, 64); err == nil || !strings.ContainsAny(v, "nuµmsh") {
			return number(v) // plain seconds
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("value %q is not a duration (examples: 2s, 250ms, 1m30s, or 1.5 for seconds)", v)
		}
		if d < 0 {
			return 0, fmt.Errorf("value %q is negative, and %s never is", v, f.Name)
		}
		return d.Seconds(), nil
	case Fraction:
		if p, ok := strings.CutSuffix(v, "%"); ok {
			x, err := number(strings.TrimSpace(p))
			if err != nil {
				return 0, err
			}
			if x > 100 {
				return 0, fmt.Errorf("%s is a share: %q is more than 100%%", f.Name, v)
			}
			return x / 100, nil
		}
		x, err := number(v)
		if err != nil {
			return 0, fmt.Errorf("%w: %s is a share: write a percentage (1%%) or a fraction (0.01)", err, f.Name)
		}
		if x > 1 {
			return 0, fmt.Errorf("%s is a share between 0 and 1: %q is more than 1 (for a percentage write %s%%)", f.Name, v, v)
		}
		return x, nil
	case USD:
		x, err := number(strings.TrimPrefix(v, "$"))
		if err != nil {
			return 0, fmt.Errorf("%w: %s is in US dollars (examples: 0.01, $0.01)", err, f.Name)
		}
		return x, nil
	default:
		x, err := number(v)
		if err != nil {
			return 0, fmt.Errorf("%w: %s is a plain number (%s)", err, f.Name, f.Unit)
		}
		return x, nil
	}
}

// Check evaluates t against r. A figure r did not measure (NaN) fails:
// nothing shows the threshold holds.
func (t *Threshold) Check(r *results.Result) results.ThresholdResult {
	v := t.Figure.Read(r)
	ok := !math.IsNaN(v) && t.Op.holds(v, t.Limit)
	return results.ThresholdResult{Expression: t.Expr, Value: results.Num(v), Pass: ok}
}

// Evaluate checks every threshold against every result of s, records
// them in each result's Thresholds (replacing what was there) and returns
// how many checks failed. Without thresholds it changes nothing.
func Evaluate(ts []Threshold, s *results.Summary) (failed int) {
	if len(ts) == 0 {
		return 0
	}
	for i := range s.Results {
		r := &s.Results[i]
		r.Thresholds = make([]results.ThresholdResult, len(ts))
		for j := range ts {
			r.Thresholds[j] = ts[j].Check(r)
			if !r.Thresholds[j].Pass {
				failed++
			}
		}
	}
	return failed
}

// Format writes v in f's unit for a table: seconds with a unit that keeps
// three significant figures, fractions as percentages, dollars with four
// significant figures; "not measured" for NaN.
func (f *Figure) Format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "not measured"
	}
	switch f.Unit {
	case Seconds:
		switch {
		case v == 0:
			return "0s"
		case v < 1e-3:
			return strconv.FormatFloat(v*1e6, 'g', 3, 64) + "µs"
		case v < 1:
			return strconv.FormatFloat(v*1e3, 'g', 3, 64) + "ms"
		case v < 1000:
			return strconv.FormatFloat(v, 'g', 3, 64) + "s"
		}
		return strconv.FormatFloat(v, 'f', 0, 64) + "s"
	case Fraction:
		return strconv.FormatFloat(100*v, 'g', 4, 64) + "%"
	case USD:
		return "$" + strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
