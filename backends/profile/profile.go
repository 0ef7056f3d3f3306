// Package profile fits latency profiles to recordings: from the calls
// `mcbench record` wrote for one deployment it estimates the latency model
// the simulator and the fakes run (scenarios.Latency), and says how well the
// model fits. The profile is written as YAML that a scenario's deployment
// names with `latency: {profile: FILE}`.
//
// The model fitted is the scenario language's:
//
//	TTFT = base + per_input_token × input tokens,   base ~ lognormal
//	TPOT ~ lognormal, one draw per call
//
// per_input_token is the least-squares slope of TTFT on input tokens (clamped
// at 0: prefill never makes a call faster). The base distribution is a
// lognormal through the median and the 99th percentile of the
// residual-adjusted TTFTs (TTFT − per_input_token × input): both are read
// from the data when there are at least 100 calls; with fewer, the p99 comes
// from the median and a spread estimated from the interquartile range, since
// the top 1% of a few dozen values is one value. TPOT is fitted the same way
// to each call's mean time per output token after the first, (last token −
// first token) / (tokens − 1): the fakes and the simulator draw one TPOT per
// call, so that is the quantity whose distribution they need.
//
// Only successful streamed calls are used: a non-streamed call has no first
// token to time.
package profile

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/mcbench/mcbench/backends/record"
)

// MinCalls is the fewest usable calls a fit accepts.
const MinCalls = 10

// Clamps on a fitted lognormal's p99/median ratio. A ratio of 1 is not a
// lognormal (the scenario language needs p99 > median); above 50 the spread
// says the recording mixes regimes (cold starts, throttling) that one
// distribution should not paper over.
const (
	minSpread = 1.01
	maxSpread = 50
)

// Deployment is one deployment (or model id) found in a recording.
type Deployment struct {
	// Name is the Azure deployment or the Bedrock model id.
	Name     string
	Provider string
	// Calls counts its calls; Usable those a fit can use.
	Calls, Usable int
}

// usable reports whether a call can be used for fitting.
func usable(c *record.Call) bool {
	return c.OK() && c.Stream && c.Chunks > 0 && c.TTFTMS > 0
}

// Deployments lists the deployments of a recording in order of first
// appearance.
func Deployments(calls []record.Call) []Deployment {
	var out []Deployment
	idx := map[string]int{}
	for i := range calls {
		c := &calls[i]
		key := c.Provider + "\x00" + c.Name()
		j, ok := idx[key]
		if !ok {
			j = len(out)
			idx[key] = j
			out = append(out, Deployment{Name: c.Name(), Provider: c.Provider})
		}
		out[j].Calls++
		if usable(c) {
			out[j].Usable++
		}
	}
	return out
}

// LogNormal is a fitted lognormal, given by its median and 99th percentile
// as the scenario language writes it.
type LogNormal struct {
	Median, P99 time.Duration
}

// Sigma returns the spread of the underlying normal.
func (l LogNormal) Sigma() float64 {
	return math.Log(float64(l.P99)/float64(l.Median)) / z99
}

// Quantile returns the value at cumulative probability q.
func (l LogNormal) Quantile(q float64) time.Duration {
	return time.Duration(float64(l.Median) * math.Exp(l.Sigma()*normal.Quantile(q)))
}

// CDF returns P(X ≤ d).
func (l LogNormal) CDF(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return normal.CDF(math.Log(float64(d)/float64(l.Median)) / l.Sigma())
}

var normal = distuv.UnitNormal

var z99 = normal.Quantile(0.99)

// Quality is how well a lognormal fits the values it was fitted to.
type Quality struct {
	// N is the number of values.
	N int
	// KS is the Kolmogorov–Smirnov distance between the fitted and the
	// empirical distribution: the largest gap between the two CDFs.
	KS float64
	// P50, P90 and P99 are the relative errors of the fitted quantiles
	// against the empirical ones ((fitted − empirical) / empirical).
	P50, P90, P99 float64
	// Empirical says whether the p99 was read from the data (n ≥ 100) rather
	// than derived from the interquartile range.
	Empirical bool
	// Clamped says the p99/median ratio was clamped to [1.01, 50].
	Clamped bool
}

// Fit is a latency profile fitted to one deployment's calls, with its
// provenance and quality.
type Fit struct {
	Deployment Deployment
	// First and Last are the start times of the first and last call used.
	First, Last time.Time

	// TTFT is the base time to first token (input-independent part).
	TTFT LogNormal
	// PerInputToken is the prefill time per input token, in seconds.
	PerInputToken float64
	// RawPerInputToken is the fitted slope before clamping at zero, and
	// PerInputTokenSE its standard error: a slope within two standard errors
	// of zero is not distinguishable from no prefill cost.
	RawPerInputToken, PerInputTokenSE float64
	// R2 is the TTFT regression's coefficient of determination (0 when the
	// input sizes did not vary, and the slope could not be fitted).
	R2 float64
	// InputVaried says whether the calls' input sizes differed.
	InputVaried bool
	TTFTQuality Quality

	// TPOT is the time per output token, nil when no call had two tokens.
	TPOT        *LogNormal
	TPOTQuality Quality
}

// FitCalls fits the latency profile of the deployment (or model id) name
// from the calls of a recording.
func FitCalls(calls []record.Call, name string) (*Fit, error) {
	f := &Fit{}
	var x, ttft, tpot []float64
	for i := range calls {
		c := &calls[i]
		if c.Name() != name {
			continue
		}
		if f.Deployment.Calls == 0 {
			f.Deployment = Deployment{Name: name, Provider: c.Provider}
		}
		f.Deployment.Calls++
		if !usable(c) {
			continue
		}
		f.Deployment.Usable++
		if f.First.IsZero() || c.Start.Before(f.First) {
			f.First = c.Start
		}
		if c.Start.After(f.Last) {
			f.Last = c.Start
		}
		x = append(x, float64(c.Input()))
		ttft = append(ttft, c.TTFTMS/1e3)
		if g := c.PerTokenMS(); g > 0 {
			tpot = append(tpot, g/1e3)
		}
	}
	switch {
	case f.Deployment.Calls == 0:
		return nil, fmt.Errorf("no calls to %q in the recording", name)
	case len(x) < MinCalls:
		return nil, fmt.Errorf("%q has %d successful streamed calls; a fit needs at least %d (non-streamed and failed calls have no first token to time)",
			name, len(x), MinCalls)
	}

	beta := 0.0
	if stat.Variance(x, nil) > 0 {
		f.InputVaried = true
		var alpha float64
		alpha, beta = stat.LinearRegression(x, ttft, nil, false)
		f.R2 = stat.RSquared(x, ttft, nil, alpha, beta)
		mx := stat.Mean(x, nil)
		var rss, sxx float64
		for i := range x {
			r := ttft[i] - alpha - beta*x[i]
			rss += r * r
			sxx += (x[i] - mx) * (x[i] - mx)
		}
		f.PerInputTokenSE = math.Sqrt(rss / float64(len(x)-2) / sxx)
	}
	f.RawPerInputToken = beta
	f.PerInputToken = max(beta, 0)
	base := make([]float64, len(ttft))
	for i := range ttft {
		base[i] = ttft[i] - f.PerInputToken*x[i]
	}
	f.TTFT, f.TTFTQuality = fitLogNormal(base)
	if len(tpot) >= 2 {
		l, q := fitLogNormal(tpot)
		f.TPOT, f.TPOTQuality = &l, q
	}
	return f, nil
}

// fitLogNormal fits a lognormal by its median and p99 to values in seconds
// (see the package comment) and measures the fit.
func fitLogNormal(v []float64) (LogNormal, Quality) {
	s := slices.Clone(v)
	slices.Sort(s)
	q := Quality{N: len(s), Empirical: len(s) >= 100}
	floor := 1e-6 // 1µs: a residual at or below zero is noise, not a speed
	median := max(quantile(s, 0.5), floor)
	var p99 float64
	if q.Empirical {
		p99 = quantile(s, 0.99)
	} else {
		lo, hi := max(quantile(s, 0.25), floor), max(quantile(s, 0.75), floor)
		sigma := math.Log(hi/lo) / (2 * normal.Quantile(0.75))
		p99 = median * math.Exp(z99*sigma)
	}
	ratio := p99 / median
	if !(ratio >= minSpread && ratio <= maxSpread) {
		q.Clamped = true
		ratio = min(max(ratio, minSpread), maxSpread)
	}
	l := LogNormal{Median: seconds(median), P99: seconds(median * ratio)}

	emp := func(p float64) time.Duration { return seconds(quantile(s, p)) }
	rel := func(fit, emp time.Duration) float64 {
		if emp <= 0 {
			return math.Inf(1)
		}
		return float64(fit-emp) / float64(emp)
	}
	q.P50 = rel(l.Quantile(0.5), emp(0.5))
	q.P90 = rel(l.Quantile(0.9), emp(0.9))
	q.P99 = rel(l.Quantile(0.99), emp(0.99))
	n := float64(len(s))
	for i, val := range s {
		f := l.CDF(seconds(val))
		q.KS = max(q.KS, math.Abs(f-float64(i)/n), math.Abs(f-float64(i+1)/n))
	}
	return l, q
}

// quantile returns the p-quantile of sorted values, interpolating linearly
// between order statistics (type 7 of Hyndman and Fan, R's default).
func quantile(sorted []float64, p float64) float64 {
	h := p * float64(len(sorted)-1)
	i := int(h)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// FormatDuration writes a duration with four significant digits in the unit
// that suits it (ns, us, ms or s), in a form scenarios.ParseDuration reads.
func FormatDuration(d time.Duration) string {
	v, unit := float64(d), "ns"
	switch {
	case d >= time.Second:
		v, unit = v/1e9, "s"
	case d >= time.Millisecond:
		v, unit = v/1e6, "ms"
	case d >= time.Microsecond:
		v, unit = v/1e3, "us"
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + unit
}

// FormatSeconds is FormatDuration for a duration in (possibly fractional)
// seconds, so that sub-nanosecond precision is not lost for per-token costs.
func FormatSeconds(s float64) string {
	if s <= 0 {
		return "0s"
	}
	if s < 1e-6 {
		return strconv.FormatFloat(s*1e9, 'g', 4, 64) + "ns"
	}
	return FormatDuration(time.Duration(math.Round(s * 1e9)))
}

// Source says where a fit came from, for the profile's header comment.
type Source struct {
	// Recording is the recording's path as the user gave it.
	Recording string
	// Command regenerates the profile.
	Command string
}

// YAML renders the fit as a latency profile file: the latency mapping a
// scenario's deployment can name with `profile:`, with comments saying
// where it came from and how well it fits.
func (f *Fit) YAML(src Source) []byte {
	var b strings.Builder
	d := f.Deployment
	kind := "Azure deployment"
	if d.Provider == record.ProviderBedrock {
		kind = "Bedrock model"
	}
	fmt.Fprintf(&b, "# mcbench latency profile of %s %q\n", kind, d.Name)
	fmt.Fprintf(&b, "# fitted from %s: %d of its %d calls used (successful streams),\n", src.Recording, d.Usable, d.Calls)
	fmt.Fprintf(&b, "# recorded %s to %s\n", f.First.UTC().Format(time.RFC3339), f.Last.UTC().Format(time.RFC3339))
	if src.Command != "" {
		fmt.Fprintf(&b, "# regenerate: %s\n", src.Command)
	}
	b.WriteString("#\n")
	for _, line := range strings.Split(strings.TrimRight(f.Report(), "\n"), "\n") {
		b.WriteString("# " + line + "\n")
	}
	fmt.Fprintf(&b, "ttft: {dist: lognormal, median: %s, p99: %s}\n", FormatDuration(f.TTFT.Median), FormatDuration(f.TTFT.P99))
	fmt.Fprintf(&b, "per_input_token: %s\n", FormatSeconds(f.PerInputToken))
	if f.TPOT != nil {
		fmt.Fprintf(&b, "tpot: {dist: lognormal, median: %s, p99: %s}\n", FormatDuration(f.TPOT.Median), FormatDuration(f.TPOT.P99))
	}
	return []byte(b.String())
}

// Report describes the fit's quality in a few lines of text.
func (f *Fit) Report() string {
	var b strings.Builder
	q := f.TTFTQuality
	switch {
	case !f.InputVaried:
		fmt.Fprintf(&b, "ttft = base + per_input_token × input: input sizes did not vary, so per_input_token is not fitted (0)\n")
	case f.RawPerInputToken < 0:
		fmt.Fprintf(&b, "ttft = base + per_input_token × input: R² %.3f; the slope came out negative (%s per token) and is clamped to 0\n",
			f.R2, FormatSeconds(-f.RawPerInputToken))
	default:
		fmt.Fprintf(&b, "ttft = base + per_input_token × input: R² %.3f; per_input_token %s ± %s (standard error)\n",
			f.R2, FormatSeconds(f.PerInputToken), FormatSeconds(f.PerInputTokenSE))
	}
	fmt.Fprintf(&b, "ttft base: lognormal, %s\n", quality(q))
	if f.TPOT == nil {
		fmt.Fprintf(&b, "tpot: not fitted (no call had two output tokens)\n")
	} else {
		fmt.Fprintf(&b, "tpot (per call, after the first token): lognormal, %s\n", quality(f.TPOTQuality))
	}
	fmt.Fprintf(&b, "load_factor: not fitted (a recording does not show how busy the deployment was); set it in the scenario\n")
	return b.String()
}

func quality(q Quality) string {
	how := "p99 from the data"
	if !q.Empirical {
		how = "p99 from the interquartile range (n < 100)"
	}
	if q.Clamped {
		how += ", p99/median clamped to [1.01, 50]"
	}
	return fmt.Sprintf("n %d, %s; KS distance %.3f; quantile errors p50 %+.1f%%, p90 %+.1f%%, p99 %+.1f%%",
		q.N, how, q.KS, 100*q.P50, 100*q.P90, 100*q.P99)
}

// ErrNoDeployment is returned by Choose when a recording holds several
// deployments and none was named.
var ErrNoDeployment = errors.New("the recording holds several deployments; name one")

// Choose picks the deployment to fit: name if given (it must be in the
// recording), else the recording's only deployment.
func Choose(calls []record.Call, name string) (string, error) {
	deps := Deployments(calls)
	list := func() string {
		var names []string
		for _, d := range deps {
			names = append(names, fmt.Sprintf("%s (%s, %d calls, %d usable)", d.Name, d.Provider, d.Calls, d.Usable))
		}
		return strings.Join(names, "; ")
	}
	switch {
	case len(deps) == 0:
		return "", errors.New("the recording holds no calls")
	case name != "":
		for _, d := range deps {
			if d.Name == name {
				return name, nil
			}
		}
		return "", fmt.Errorf("no deployment or model %q in the recording; it has: %s", name, list())
	case len(deps) > 1:
		return "", fmt.Errorf("%w: %s", ErrNoDeployment, list())
	}
	return deps[0].Name, nil
}
