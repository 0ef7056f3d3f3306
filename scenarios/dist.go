package scenarios

import (
	"fmt"
	"math"
	"math/big"
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
		return exp(d.A + d.B*normQuantile(u))
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

// normQuantile is the standard normal inverse CDF Φ⁻¹(u) for u in [0, 1]
// (±Inf at 0 and 1, NaN outside). It is Wichura's algorithm AS 241
// (PPND16, Applied Statistics 37(3), 1988), with a relative error of about
// 1e-16: a rational function of degree 7 of (u - ½)² in the centre, and of
// √(-log min(u, 1-u)) in the tails.
//
// It evaluates AS 241 on u directly. math.Erfcinv(2u), used before, is the
// same approximation reached through Erfinv(1 - 2u), where 1 - 2u rounds
// away the low bits of a small u that is not a multiple of 2^-53 (random
// draws are): at u = 1e-12 only about six digits of the result survive.
// Lognormal draws are a large share of a simulation's time, so this is
// also written for speed: each polynomial is split into even and odd
// halves (Estrin's scheme), which roughly halves the dependency chain of
// Horner's rule while giving the same value to within an ulp or two.
func normQuantile(u float64) float64 {
	q := u - 0.5
	if math.Abs(q) <= 0.425 {
		r := 0.180625 - q*q
		return q * as241Central(r)
	}
	r := u
	if q > 0 {
		r = 1 - u // exact: u > 0.925
	}
	if !(r > 0) {
		switch {
		case r == 0 && q < 0:
			return math.Inf(-1)
		case r == 0:
			return math.Inf(1)
		}
		return math.NaN()
	}
	r = math.Sqrt(-math.Log(r))
	var z float64
	if r <= 5 {
		z = as241Near(r - 1.6)
	} else {
		z = as241Far(r - 5)
	}
	if q < 0 {
		return -z
	}
	return z
}

// as241Central is AS 241's A(r)/B(r), for |u - ½| <= 0.425.
func as241Central(r float64) float64 {
	r2 := r * r
	r4 := r2 * r2
	num := (3.3871328727963666080e0 + 1.3314166789178437745e+2*r) +
		(1.9715909503065514427e+3+1.3731693765509461125e+4*r)*r2 +
		((4.5921953931549871457e+4+6.7265770927008700853e+4*r)+
			(3.3430575583588128105e+4+2.5090809287301226727e+3*r)*r2)*r4
	den := (1 + 4.2313330701600911252e+1*r) +
		(6.8718700749205790830e+2+5.3941960214247511077e+3*r)*r2 +
		((2.1213794301586595867e+4+3.9307895800092710610e+4*r)+
			(2.8729085735721942674e+4+5.2264952788528545610e+3*r)*r2)*r4
	return num / den
}

// as241Near is AS 241's C(r)/D(r), for √(-log p) in (√-log 0.075, 5].
func as241Near(r float64) float64 {
	r2 := r * r
	r4 := r2 * r2
	num := (1.42343711074968357734e0 + 4.63033784615654529590e0*r) +
		(5.76949722146069140550e0+3.64784832476320460504e0*r)*r2 +
		((1.27045825245236838258e0+2.41780725177450611770e-1*r)+
			(2.27238449892691845833e-2+7.74545014278341407640e-4*r)*r2)*r4
	den := (1 + 2.05319162663775882187e0*r) +
		(1.67638483018380384940e0+6.89767334985100004550e-1*r)*r2 +
		((1.48103976427480074590e-1+1.51986665636164571966e-2*r)+
			(5.47593808499534494600e-4+1.05075007164441684324e-9*r)*r2)*r4
	return num / den
}

// as241Far is AS 241's E(r)/F(r), for √(-log p) > 5 (p < about 1.4e-11).
func as241Far(r float64) float64 {
	r2 := r * r
	r4 := r2 * r2
	num := (6.65790464350110377720e0 + 5.46378491116411436990e0*r) +
		(1.78482653991729133580e0+2.96560571828504891230e-1*r)*r2 +
		((2.65321895265761230930e-2+1.24266094738807843860e-3*r)+
			(2.71155556874348757815e-5+2.01033439929228813265e-7*r)*r2)*r4
	den := (1 + 5.99832206555887937690e-1*r) +
		(1.36929880922735805310e-1+1.48753612908506148525e-2*r)*r2 +
		((7.86869131145613259100e-4+1.84631831751005468180e-5*r)+
			(1.42151175831644588870e-7+2.04426310338993978564e-15*r)*r2)*r4
	return num / den
}

// exp is e^x with an error below 0.52 ulp (math.Exp's amd64 assembly
// errs by up to about 1.6), in about half math.Exp's latency: that
// assembly evaluates a Taylor series and squares four times, one long
// dependency chain, and it was half the cost of a lognormal draw. It
// reduces x = (128k + j)·ln2/128 + r with |r| <= ln2/256, so that
// e^x = 2^k · 2^(j/128) · e^r, takes 2^(j/128) from a table held as a sum
// of two doubles, and e^r from a degree-5 polynomial (truncation error
// below 1e-18). Arguments whose result would overflow or be subnormal,
// and NaN, go to math.Exp.
func exp(x float64) float64 {
	if !(math.Abs(x) <= 708) {
		return math.Exp(x)
	}
	const (
		n      = 1 << expTableBits
		invLn2 = n / math.Ln2
		// ln2/n in two parts: ln2Hi has 32 significant bits, so kd·ln2Hi
		// is exact for the |kd| < 2^17 this range allows (Cody and Waite).
		ln2Hi = 6.93147180369123816490e-01 / n
		ln2Lo = 1.90821492927058770002e-10 / n
		// 1.5·2^52: adding and subtracting it rounds to an integer.
		shift = 0x1.8p52
	)
	kd := x*invLn2 + shift
	kd -= shift
	ki := int64(kd)
	r := x - kd*ln2Hi - kd*ln2Lo
	t := &expTable[ki&(n-1)]
	// 2^k, k = ⌊ki/n⌋ in [-1022, 1021] here: a normal double, so scaling
	// by it is exact.
	scale := math.Float64frombits(uint64(ki>>expTableBits+1023) << 52)
	r2 := r * r
	p := r + r2*((1.0/2+r*(1.0/6))+r2*(1.0/24+r*(1.0/120)))
	return (t.hi + (t.hi*p + t.lo)) * scale
}

// expTableBits is log2 of the number of entries of expTable.
const expTableBits = 7

// expTable holds 2^(j/128) for j in [0, 128) as hi + lo, hi the nearest
// double and lo the remainder rounded, so a table entry adds no error of
// its own worth counting.
var expTable = func() (t [1 << expTableBits]struct{ hi, lo float64 }) {
	// 2^(1/128) is √2 square-rooted six more times, at 128 bits; its
	// powers, at that precision, lose far less than a double's ulp.
	const prec = 128
	step := new(big.Float).SetPrec(prec).SetInt64(2)
	for range expTableBits {
		step.Sqrt(step)
	}
	v := new(big.Float).SetPrec(prec).SetInt64(1)
	rest := new(big.Float).SetPrec(prec)
	for j := range t {
		hi, _ := v.Float64()
		rest.Sub(v, new(big.Float).SetFloat64(hi))
		lo, _ := rest.Float64()
		t[j].hi, t[j].lo = hi, lo
		v.Mul(v, step)
	}
	return t
}()

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
