package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a length of time written the human way in YAML ("250ms", "2m",
// "1h30m", or "1.5d" for days). A bare number is rejected: a unit must be given,
// because "5" could mean seconds or milliseconds and both are common.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Seconds returns d in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

// String formats d the way time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// ParseDuration parses a duration with a unit. It accepts everything
// time.ParseDuration accepts, plus a trailing "d" for days.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if strings.HasSuffix(s, "d") && !strings.HasSuffix(s, "nd") {
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64)
		if err == nil {
			if f < 0 || math.IsNaN(f) || f > 1e5 {
				return 0, fmt.Errorf("duration %q out of range", s)
			}
			return Duration(f * 24 * float64(time.Hour)), nil
		}
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("duration %q needs a unit (ns, us, ms, s, m, h, d)", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (examples: 250ms, 2m, 1h30m)", s)
	}
	return Duration(d), nil
}

// UnmarshalYAML decodes a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, "expected a duration such as 250ms or 2m")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return nodeError(n, err.Error())
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration in Go notation.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalText writes the duration in Go notation (used by JSON output).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Rate is an event rate in events per second, written with a time unit in YAML:
// "200/s", "12000/min", "5/h". A bare number means per second.
type Rate float64

// PerSecond returns the rate in events per second.
func (r Rate) PerSecond() float64 { return float64(r) }

// ParseRate parses "N/s", "N/min", "N/m", "N/h", "N/d" or a bare number (per second).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	num, unit, hasUnit := strings.Cut(s, "/")
	f, err := parseAmount(strings.TrimSpace(num))
	if err != nil {
		return 0, fmt.Errorf("%q is not a rate (examples: 200/s, 12000/min)", s)
	}
	div := 1.0
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "s", "sec", "second":
			div = 1
		case "m", "min", "minute":
			div = 60
		case "h", "hr", "hour":
			div = 3600
		case "d", "day":
			div = 86400
		default:
			return 0, fmt.Errorf("rate %q has unknown unit %q (use /s, /min, /h or /d)", s, unit)
		}
	}
	if f < 0 {
		return 0, fmt.Errorf("rate %q must not be negative", s)
	}
	return Rate(f / div), nil
}

// UnmarshalYAML decodes a rate scalar.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, "expected a rate such as 200/s or 12000/min")
	}
	v, err := ParseRate(n.Value)
	if err != nil {
		return nodeError(n, err.Error())
	}
	*r = v
	return nil
}

// MarshalText writes the rate per second.
func (r Rate) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s"), nil
}

// Count is a non-negative quantity such as a token count, written plainly
// ("1500") or with a metric suffix ("2k", "2M", "1.5G").
type Count float64

// ParseCount parses a number with an optional k, M or G suffix.
func ParseCount(s string) (Count, error) {
	f, err := parseAmount(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a count (examples: 1500, 2k, 2M)", s)
	}
	if f < 0 {
		return 0, fmt.Errorf("count %q must not be negative", s)
	}
	return Count(f), nil
}

// UnmarshalYAML decodes a count scalar.
func (c *Count) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, "expected a number such as 1500 or 2M")
	}
	v, err := ParseCount(n.Value)
	if err != nil {
		return nodeError(n, err.Error())
	}
	*c = v
	return nil
}

// parseAmount parses a float with an optional metric suffix.
func parseAmount(s string) (float64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1e6, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1e9, s[:len(s)-1]
	}
	s = strings.ReplaceAll(s, "_", "")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a number")
	}
	return f * mult, nil
}

// Fraction is a number in [0, 1], written as "0.1" or "10%".
type Fraction float64

// ParseFraction parses "0.1" or "10%".
func ParseFraction(s string) (Fraction, error) {
	f, err := parsePercent(s)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a fraction (examples: 0.1, 10%%)", strings.TrimSpace(s))
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("fraction %q must lie between 0 and 1 (0%% and 100%%)", strings.TrimSpace(s))
	}
	return Fraction(f), nil
}

// parsePercent reads a number, or a percentage ("10%", the number over
// 100). It is the one reading of "%" in a scenario: fractions, the
// warm-up and routing weights all go through it, so "20%" means the same
// everywhere.
func parsePercent(s string) (float64, error) {
	s = strings.TrimSpace(s)
	div := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, div = t, 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	return f / div, nil
}

// UnmarshalYAML decodes a fraction scalar.
func (f *Fraction) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return nodeError(n, "expected a fraction such as 0.1 or 10%")
	}
	v, err := ParseFraction(n.Value)
	if err != nil {
		return nodeError(n, err.Error())
	}
	*f = v
	return nil
}

// UnmarshalText parses the form MarshalText writes, so a resolved scenario
// saved as JSON (run.json) reads back.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err == nil {
		*d = v
	}
	return err
}

// UnmarshalText parses the form MarshalText writes ("5/s").
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err == nil {
		*r = v
	}
	return err
}
