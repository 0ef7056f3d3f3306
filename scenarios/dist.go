package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DistKind names a family of probability distributions.
type DistKind uint8

// The distribution families a scenario can use.
const (
	Constant DistKind = iota
	Exponential
	LogNormal
	Uniform
	Empirical
)

var distNames = [...]string{"constant", "exponential", "lognormal", "uniform", "empirical"}

// String returns the name used in YAML.
func (k DistKind) String() string { return distNames[k] }

// Dist is a distribution of non-negative values, sampled by inverse transform
// from one uniform draw so that two strategies given the same draw get the same
// value (common random numbers). Parameters are stored in base units: seconds
// for time distributions, plain numbers for counts.
type Dist struct {
	Kind DistKind
	// A and B are the family's parameters: constant value; exponential mean;
	// lognormal mu and sigma of the underlying normal; uniform min and max.
	A, B float64
	// Values holds the sorted sample of an empirical distribution.
	Values []float64
}

// ConstDist returns a distribution that always yields v.
func ConstDist(v float64) Dist { return Dist{Kind: Constant, A: v} }

// Quantile returns the value at cumulative probability u in [0, 1).
func (d *Dist) Quantile(u float64) float64 {
	switch d.Kind {
	case Constant:
		return d.A
	case Exponential:
		return -d.A * math.Log1p(-u)
	case LogNormal:
		return math.Exp(d.A + d.B*normQuantile(u))
	case Uniform:
		return d.A + (d.B-d.A)*u
	case Empirical:
		return d.Values[int(u*float64(len(d.Values)))]
	}
	return 0
}

// Mean returns the distribution's expected value.
func (d *Dist) Mean() float64 {
	switch d.Kind {
	case Constant, Exponential:
		return d.A
	case LogNormal:
		return math.Exp(d.A + d.B*d.B/2)
	case Uniform:
		return (d.A + d.B) / 2
	case Empirical:
		s := 0.0
		for _, v := range d.Values {
			s += v
		}
		return s / float64(len(d.Values))
	}
	return 0
}

// SecondMoment returns E[X²], used by the Pollaczek–Khinchine formula.
func (d *Dist) SecondMoment() float64 {
	switch d.Kind {
	case Constant:
		return d.A * d.A
	case Exponential:
		return 2 * d.A * d.A
	case LogNormal:
		return math.Exp(2*d.A + 2*d.B*d.B)
	case Uniform:
		return (d.A*d.A + d.A*d.B + d.B*d.B) / 3
	case Empirical:
		s := 0.0
		for _, v := range d.Values {
			s += v * v
		}
		return s / float64(len(d.Values))
	}
	return 0
}

// IsZero reports whether d always yields zero.
func (d *Dist) IsZero() bool { return d.Kind == Constant && d.A == 0 }

// normQuantile is the standard normal inverse CDF.
func normQuantile(u float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*u) }

// z99 is the standard normal 0.99 quantile, used to fit a lognormal to a median and a p99.
var z99 = normQuantile(0.99)

// TimeDist is a distribution of durations. In YAML it is either a duration
// (a constant) or a mapping:
//
//	{dist: exponential, mean: 1s}
//	{dist: lognormal, median: 400ms, p99: 2s}   # or mean + cv
//	{dist: uniform, min: 100ms, max: 300ms}
//	{dist: empirical, values: [120ms, 180ms, 2s]}
type TimeDist struct{ Dist }

// UnmarshalYAML decodes a time distribution.
func (d *TimeDist) UnmarshalYAML(n *yaml.Node) error {
	return decodeDist(n, &d.Dist, func(s string) (float64, error) {
		v, err := ParseDuration(s)
		return v.Seconds(), err
	})
}

// CountDist is a distribution of counts (tokens, steps). In YAML it is either a
// number (a constant) or a mapping like TimeDist's with plain numbers. Samples
// are rounded to whole numbers by the user of the distribution.
type CountDist struct{ Dist }

// UnmarshalYAML decodes a count distribution.
func (d *CountDist) UnmarshalYAML(n *yaml.Node) error {
	return decodeDist(n, &d.Dist, func(s string) (float64, error) {
		v, err := ParseCount(s)
		return float64(v), err
	})
}

var distKeys = map[string][]string{
	"constant":    {"value"},
	"exponential": {"mean"},
	"lognormal":   {"median", "p99", "mean", "cv", "sigma"},
	"uniform":     {"min", "max"},
	"empirical":   {"values"},
}

func decodeDist(n *yaml.Node, d *Dist, parse func(string) (float64, error)) error {
	if n.Kind == yaml.ScalarNode {
		v, err := parse(n.Value)
		if err != nil {
			return nodeError(n, err.Error())
		}
		*d = ConstDist(v)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nodeError(n, "expected a value or a mapping such as {dist: exponential, mean: 1s}")
	}
	var kindNode *yaml.Node
	vals := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "dist" {
			kindNode = v
			continue
		}
		vals[k.Value] = k
	}
	if kindNode == nil {
		return nodeError(n, "missing field \"dist\" (one of constant, exponential, lognormal, uniform, empirical)")
	}
	allowed, ok := distKeys[kindNode.Value]
	if !ok {
		return nodeError(kindNode, fmt.Sprintf("unknown distribution %q (use constant, exponential, lognormal, uniform or empirical)", kindNode.Value))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value != "dist" && !slices.Contains(allowed, k.Value) {
			return nodeError(k, fmt.Sprintf("field %q is not allowed in %s distribution (allowed: %s)", k.Value, article(kindNode.Value), strings.Join(allowed, ", ")))
		}
	}
	num := func(key string) (float64, bool, error) {
		k, ok := vals[key]
		if !ok {
			return 0, false, nil
		}
		v := valueAfter(n, k)
		if v.Kind != yaml.ScalarNode {
			return 0, true, nodeError(v, "expected a single value")
		}
		if key == "cv" || key == "sigma" {
			f, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return 0, true, nodeError(v, fmt.Sprintf("%s must be a plain number, got %q", key, v.Value))
			}
			return f, true, nil
		}
		f, err := parse(v.Value)
		if err != nil {
			return 0, true, nodeError(v, err.Error())
		}
		return f, true, nil
	}
	need := func(key string) (float64, error) {
		f, ok, err := num(key)
		if err == nil && !ok {
			err = nodeError(n, fmt.Sprintf("%s distribution needs %q", article(kindNode.Value), key))
		}
		return f, err
	}
	var err error
	switch kindNode.Value {
	case "constant":
		d.Kind = Constant
		d.A, err = need("value")
	case "exponential":
		d.Kind = Exponential
		if d.A, err = need("mean"); err == nil && d.A <= 0 {
			err = nodeError(valueAfter(n, vals["mean"]), "mean must be > 0")
		}
	case "lognormal":
		d.Kind = LogNormal
		err = decodeLogNormal(n, d, num)
	case "uniform":
		d.Kind = Uniform
		if d.A, err = need("min"); err != nil {
			return err
		}
		if d.B, err = need("max"); err == nil && d.B < d.A {
			err = nodeError(valueAfter(n, vals["max"]), "max must be >= min")
		}
	case "empirical":
		d.Kind = Empirical
		k, ok := vals["values"]
		if !ok {
			return nodeError(n, "an empirical distribution needs \"values\"")
		}
		seq := valueAfter(n, k)
		if seq.Kind != yaml.SequenceNode || len(seq.Content) == 0 {
			return nodeError(seq, "values must be a non-empty list")
		}
		d.Values = make([]float64, 0, len(seq.Content))
		for _, item := range seq.Content {
			if item.Kind != yaml.ScalarNode {
				return nodeError(item, "expected a single value")
			}
			f, perr := parse(item.Value)
			if perr != nil {
				return nodeError(item, perr.Error())
			}
			d.Values = append(d.Values, f)
		}
		slices.Sort(d.Values)
	}
	return err
}

// article prefixes a distribution name with "a" or "an".
func article(name string) string {
	if strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

func decodeLogNormal(n *yaml.Node, d *Dist, num func(string) (float64, bool, error)) error {
	median, hasMedian, err := num("median")
	if err != nil {
		return err
	}
	p99, hasP99, err := num("p99")
	if err != nil {
		return err
	}
	mean, hasMean, err := num("mean")
	if err != nil {
		return err
	}
	cv, hasCV, err := num("cv")
	if err != nil {
		return err
	}
	sigma, hasSigma, err := num("sigma")
	if err != nil {
		return err
	}
	switch {
	case hasMedian && hasP99 && !hasMean && !hasCV && !hasSigma:
		if median <= 0 || p99 <= median {
			return nodeError(n, "a lognormal needs 0 < median < p99")
		}
		d.A, d.B = math.Log(median), math.Log(p99/median)/z99
	case hasMedian && hasSigma && !hasMean && !hasCV && !hasP99:
		if median <= 0 || sigma <= 0 {
			return nodeError(n, "a lognormal needs median > 0 and sigma > 0")
		}
		d.A, d.B = math.Log(median), sigma
	case hasMean && hasCV && !hasMedian && !hasP99 && !hasSigma:
		if mean <= 0 || cv <= 0 {
			return nodeError(n, "a lognormal needs mean > 0 and cv > 0")
		}
		d.B = math.Sqrt(math.Log1p(cv * cv))
		d.A = math.Log(mean) - d.B*d.B/2
	default:
		return nodeError(n, "a lognormal takes exactly one of: median + p99, median + sigma, mean + cv")
	}
	return nil
}

// valueAfter returns the value node that follows key k in mapping n.
func valueAfter(n, k *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i] == k {
			return n.Content[i+1]
		}
	}
	return k
}
