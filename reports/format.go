package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mcbench/mcbench/results"
)

// Cell constructors. Text is for people; Val is the typed value CSV and
// Parquet write (see Value): seconds, US dollars, fractions, counts.

func txt(s string) Cell { return Cell{Text: s} }

func intc(n int64) Cell {
	return Cell{Text: grouped(n), Num: true, Val: Value{Kind: ValInt, I: n, Unit: "count"}}
}

// floatVal is a number in a unit, with no bounds; a non-finite number (an
// undefined statistic, or ∞) is missing for machines.
func floatVal(x float64, unit string) Value {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Value{Kind: ValNull, F: x, Unit: unit}
	}
	return Value{Kind: ValFloat, F: x, Unit: unit}
}

// valCell is a numeric cell with its own text: x in unit for machines.
func valCell(text string, x float64, unit string) Cell {
	return Cell{Text: text, Num: true, Val: floatVal(x, unit)}
}

// nac is a numeric column's placeholder ("n/a", "not within the window"):
// missing for machines.
func nac(text string) Cell {
	return Cell{Text: text, Num: true, Val: Value{Kind: ValNull}}
}

// rangec is a range with no point value (a p5–p95 spread, a time window):
// machines get its bounds.
func rangec(text string, lo, hi float64, unit string) Cell {
	v := Value{Kind: ValNull, F: math.NaN(), Bounded: true, Lo: lo, Hi: hi, Unit: unit}
	if !math.IsNaN(lo) || !math.IsNaN(hi) {
		v.Kind = ValFloat
	}
	return Cell{Text: text, Num: true, Val: v}
}

// usdc formats dollars with precision that keeps small amounts visible.
func usdc(x float64) Cell { return valCell(usd(x), x, "USD") }

func usd(x float64) string {
	a := math.Abs(x)
	sign := ""
	if x < 0 {
		sign = "-"
	}
	switch {
	case math.IsNaN(x):
		return "-"
	case math.IsInf(x, 0):
		return sign + "∞" // never "$+Inf"
	case a == 0:
		return "$0"
	case a < 1:
		// Three significant figures in fixed notation: $0.0000267, not $2.67e-05.
		dec := max(2, 2-int(math.Floor(math.Log10(a))))
		return sign + "$" + strconv.FormatFloat(a, 'f', dec, 64)
	case a < 100:
		return fmt.Sprintf("%s$%.2f", sign, a)
	default:
		return sign + "$" + groupedFloat(a, 0)
	}
}

// secc formats seconds.
func secc(s float64) Cell { return valCell(secs(s), s, "s") }

// sloc formats an objective: zero means none (missing for machines).
func sloc(s float64) Cell {
	if s == 0 {
		c := nac("none")
		c.Val.Unit = "s"
		return c
	}
	return secc(s)
}

func secs(s float64) string {
	switch {
	case math.IsNaN(s):
		return "-"
	case math.IsInf(s, 1):
		return "∞"
	case math.IsInf(s, -1):
		return "-∞"
	case s == 0:
		return "0"
	case math.Abs(s) < 1e-3:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case math.Abs(s) < 1:
		return fmt.Sprintf("%.0f ms", s*1e3)
	case math.Abs(s) < 100:
		return fmt.Sprintf("%.3g s", s)
	default:
		return fmt.Sprintf("%.0f s", s)
	}
}

// pctc formats a 0–1 ratio as a percentage; machines get the fraction.
func pctc(r float64) Cell { return valCell(pct(r), r, "fraction") }

func pct(r float64) string {
	a := math.Abs(r)
	switch {
	case math.IsNaN(r):
		return "-"
	case math.IsInf(r, 1):
		return "∞"
	case math.IsInf(r, -1):
		return "-∞"
	case a == 1 || a == 0:
		return fmt.Sprintf("%.0f%%", 100*r)
	case a >= 10:
		return groupedFloat(100*r, 0) + "%"
	case (a > 0.999 && a < 1) || a < 0.001:
		return fmt.Sprintf("%.3f%%", 100*r)
	default:
		return fmt.Sprintf("%.2f%%", 100*r)
	}
}

// numc formats a plain number with the given decimals (grouped thousands);
// its unit is the column's.
func numc(x float64, dec int) Cell { return valCell(num(x, dec), x, "") }

func num(x float64, dec int) string {
	if math.IsNaN(x) {
		return "-"
	}
	if math.IsInf(x, 1) {
		return "∞"
	}
	if math.IsInf(x, -1) {
		return "-∞"
	}
	return groupedFloat(x, dec)
}

// ivc formats a mean with its 95% interval half-width; machines get the
// mean and the interval's bounds.
func ivc(iv results.Interval, f func(float64) string) Cell {
	c := Cell{Text: f(iv.Mean), Num: true, Val: floatVal(iv.Mean, "")}
	if iv.Defined() {
		c.Text += " ± " + f(iv.HalfWidth())
		c.Val.Bounded, c.Val.Lo, c.Val.Hi = true, iv.Lo, iv.Hi
	}
	return c
}

// diffc formats a difference with its interval [lo, hi]; machines get the
// difference and the interval's bounds.
func diffc(iv results.Interval, f func(float64) string) Cell {
	c := Cell{Text: f(iv.Mean), Num: true, Val: floatVal(iv.Mean, "")}
	if math.IsNaN(iv.Mean) {
		return c
	}
	if iv.Mean > 0 {
		c.Text = "+" + c.Text
	}
	if iv.Defined() {
		c.Text += " [" + f(iv.Lo) + ", " + f(iv.Hi) + "]"
		c.Val.Bounded, c.Val.Lo, c.Val.Hi = true, iv.Lo, iv.Hi
	}
	return c
}

func grouped(n int64) string { return groupedFloat(float64(n), 0) }

func groupedFloat(x float64, dec int) string {
	s := strconv.FormatFloat(math.Abs(x), 'f', dec, 64)
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	var b strings.Builder
	if x < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + frac
}

func days(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Hour:
		return fmt.Sprintf("%.0f min", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	default:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	}
}

func gb(x float64) string {
	switch {
	case x >= 1e6:
		return num(x/1e6, 2) + " PB"
	case x >= 1e3:
		return num(x/1e3, 2) + " TB"
	case x >= 1:
		return num(x, 2) + " GB"
	case x > 0:
		return num(x*1e3, 2) + " MB"
	}
	return "0"
}
