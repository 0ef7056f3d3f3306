package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mcbench/mcbench/scenarios"
)

// DefaultTolerance is the tolerance `mcbench twin` checks when none is
// given: 2% at the median and 5% at the 99th percentile of TTFT and E2E.
const DefaultTolerance = "ttft.p50=2%,ttft.p99=5%,e2e.p50=2%,e2e.p99=5%"

// ToleranceRule bounds the relative error (measured − predicted) /
// predicted of one twin metric: |error| ≤ Relative passes.
type ToleranceRule struct {
	// Metric is the metric's ID, as in TwinMetric.ID ("ttft.p99",
	// "failures.chat").
	Metric string `json:"metric"`
	// Relative is the bound as a fraction (0.05 for 5%).
	Relative float64 `json:"relative"`
}

// Tolerance is the set of rules a twin check holds the measurement to.
// Metrics without a rule are reported with no verdict.
type Tolerance []ToleranceRule

// twinStatistics lists, per metric family, the statistics a tolerance may
// name; the other families (failures, throttles, timeouts) are counted per
// workload, whose name is their statistic.
var twinStatistics = map[string][]string{
	"ttft":     {"p50", "p90", "p99", "mean"},
	"e2e":      {"p50", "p90", "p99", "mean"},
	"wait":     {"mean"},
	"attempts": {"mean"},
	"cost":     {"total"},
}

var twinFamilies = []string{"ttft", "e2e", "wait", "attempts", "cost", "failures", "throttles", "timeouts"}

// ParseTolerance reads a tolerance such as "ttft.p50=2%,e2e.p99=5%": a
// comma-separated list of METRIC.STATISTIC=PERCENT rules. Metrics and
// their statistics: ttft and e2e (p50, p90, p99, mean), wait (mean, the
// queue wait), attempts (mean, per request), cost (total), and failures,
// throttles and timeouts, whose statistic is a workload (class) name of s
// (not checked when s is nil). "" and "none" give no rule. An error names
// the offending rule.
func ParseTolerance(spec string, s *scenarios.Scenario) (Tolerance, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return nil, nil
	}
	var out Tolerance
	for _, rule := range strings.Split(spec, ",") {
		rule = strings.TrimSpace(rule)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%q: %s", rule, fmt.Sprintf(format, args...))
		}
		if rule == "" {
			return nil, fmt.Errorf("%q: empty rule (rules are separated by single commas, e.g. %s)", spec, DefaultTolerance)
		}
		key, val, ok := strings.Cut(rule, "=")
		if !ok {
			return nil, bad("want METRIC.STATISTIC=PERCENT, e.g. ttft.p99=5%%")
		}
		key = strings.TrimSpace(key)
		family, stat, ok := strings.Cut(key, ".")
		if !ok {
			return nil, bad("%q names no statistic (want METRIC.STATISTIC, e.g. ttft.p99)", key)
		}
		if !slices.Contains(twinFamilies, family) {
			return nil, bad("unknown metric %q (use %s)", family, orList(twinFamilies))
		}
		if stats, fixed := twinStatistics[family]; fixed {
			if !slices.Contains(stats, stat) {
				return nil, bad("unknown statistic %q (use %s)", stat, orList(stats))
			}
		} else if s != nil {
			var classes []string
			for _, w := range s.Workloads {
				classes = append(classes, w.Name)
			}
			if !slices.Contains(classes, stat) {
				return nil, bad("scenario %q has no workload %q (%s are counted per workload: use %s)", s.Name, stat, family, orList(classes))
			}
		}
		val = strings.TrimSpace(val)
		num, isPct := strings.CutSuffix(val, "%")
		if !isPct {
			return nil, bad("%q is not a percentage (write e.g. 2%%)", val)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad("%q is not a percentage ≥ 0 (write e.g. 2%%)", val)
		}
		if slices.ContainsFunc(out, func(r ToleranceRule) bool { return r.Metric == key }) {
			return nil, bad("%s has a tolerance already", key)
		}
		out = append(out, ToleranceRule{Metric: key, Relative: f / 100})
	}
	return out, nil
}

// String writes the tolerance back in ParseTolerance's syntax ("none"
// when empty).
func (t Tolerance) String() string {
	if len(t) == 0 {
		return "none"
	}
	parts := make([]string, len(t))
	for i, r := range t {
		parts[i] = r.Metric + "=" + strconv.FormatFloat(100*r.Relative, 'g', -1, 64) + "%"
	}
	return strings.Join(parts, ",")
}

// lookup returns the bound for a metric ID.
func (t Tolerance) lookup(id string) (float64, bool) {
	for _, r := range t {
		if r.Metric == id {
			return r.Relative, true
		}
	}
	return math.NaN(), false
}

// orList writes "a, b or c".
func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return "none"
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}
