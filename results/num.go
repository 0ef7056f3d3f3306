package results

import (
	"encoding/json"
	"math"
)

// CI is a confidence interval [low, high]. It encodes as JSON null when it is
// undefined (fewer than two replications), never as a made-up number.
type CI [2]float64

// MarshalJSON implements json.Marshaler.
func (c CI) MarshalJSON() ([]byte, error) {
	if math.IsNaN(c[0]) || math.IsNaN(c[1]) {
		return []byte("null"), nil
	}
	return json.Marshal([2]float64(c))
}

// Contains reports whether x lies in the closed interval.
func (c CI) Contains(x float64) bool { return c[0] <= x && x <= c[1] }

// HalfWidth returns half the interval's width.
func (c CI) HalfWidth() float64 { return (c[1] - c[0]) / 2 }

var nan = math.NaN()

// UnmarshalJSON implements json.Unmarshaler; null reads as an undefined
// interval (both bounds NaN).
func (c *CI) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*c = CI{nan, nan}
		return nil
	}
	var v [2]float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = v
	return nil
}

// Defined reports whether the interval has bounds.
func (c CI) Defined() bool { return !math.IsNaN(c[0]) && !math.IsNaN(c[1]) }

// NoCI is the undefined interval.
var NoCI = CI{nan, nan}

// Unknown is the Num of a quantity that could not be measured.
var Unknown = Num(nan)

// Num is a number that encodes as JSON null when it is NaN: a quantity that
// could not be measured, rather than a made-up zero.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// Known reports whether n was measured (is not NaN).
func (n Num) Known() bool { return !math.IsNaN(float64(n)) }

// UnmarshalJSON implements json.Unmarshaler; null reads as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}
