package scenarios

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// erfinvQuantile is the reference standard normal inverse CDF, built on
// math.Erfinv. Its argument 2u-1 is exact for u in [¼, 1], and so is 1-2u
// for u < ¼ when u is a multiple of 2^-53, which the grids below ensure:
// the reference is then as good as Erfinv itself.
func erfinvQuantile(u float64) float64 {
	if u < 0.5 {
		return -math.Sqrt2 * math.Erfinv(1-2*u)
	}
	return math.Sqrt2 * math.Erfinv(2*u-1)
}

// quantileGrid returns probabilities from 1e-12 to 1-1e-12: log-spaced in
// both tails, evenly spaced in between, plus the edges of AS 241's regions
// and random draws, each rounded to a multiple of 2^-53.
func quantileGrid() []float64 {
	var us []float64
	for e := -12.0; e <= -1; e += 0.125 {
		p := math.Pow(10, e)
		us = append(us, p, 1-p)
	}
	for i := 1; i < 1000; i++ {
		us = append(us, float64(i)/1000)
	}
	for _, p := range []float64{0.075, 0.0749999, 0.0750001, math.Exp(-25), math.Exp(-25) * 1.001, math.Exp(-25) * 0.999} {
		us = append(us, p, 1-p)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		us = append(us, r.Float64())
	}
	for i, u := range us {
		us[i] = math.Round(u*0x1p53) * 0x1p-53
	}
	return us
}

// relErr is |got-want| relative to |want| (absolute near zero).
func relErr(got, want float64) float64 {
	return math.Abs(got-want) / max(math.Abs(want), 1e-300)
}

// TestNormQuantileMatchesErfinv: AS 241 agrees with the Erfinv-based
// inverse to 1e-12 relative from u = 1e-12 to 1-1e-12 (in practice to a
// few ulps: both are AS 241 underneath, differently arranged).
func TestNormQuantileMatchesErfinv(t *testing.T) {
	worst, at := 0.0, 0.0
	for _, u := range quantileGrid() {
		if u == 0.5 {
			if z := normQuantile(u); z != 0 {
				t.Fatalf("normQuantile(0.5) = %g, want 0", z)
			}
			continue
		}
		got, want := normQuantile(u), erfinvQuantile(u)
		if e := relErr(got, want); e > worst {
			worst, at = e, u
		}
		if e := relErr(got, want); !(e <= 1e-12) {
			t.Errorf("normQuantile(%.17g) = %.17g, Erfinv gives %.17g (relative error %.3g)", u, got, want, e)
		}
	}
	t.Logf("worst relative difference %.3g at u = %.17g", worst, at)
}

// TestNormQuantileRoundTrip checks the far tails against the normal CDF
// (through math.Erfc, accurate in relative terms there), down to the
// smallest positive draw Rand.Float64 can make, 2^-53, where the
// Erfinv-based reference cannot go.
func TestNormQuantileRoundTrip(t *testing.T) {
	for e := -53.0; e <= -2; e += 0.25 {
		p := math.Round(math.Exp2(e)*0x1p53) * 0x1p-53
		for _, u := range []float64{p, 1 - p} {
			z := normQuantile(u)
			tail := 0.5 * math.Erfc(math.Abs(z)/math.Sqrt2) // min(u, 1-u) as z gives it
			if want := min(u, 1-u); relErr(tail, want) > 1e-12 {
				t.Errorf("Φ(normQuantile(%.17g)) tail = %.17g, want %.17g", u, tail, want)
			}
			if (u < 0.5) != (z < 0) {
				t.Errorf("normQuantile(%g) = %g: wrong sign", u, z)
			}
		}
	}
}

func TestNormQuantileSpecialValues(t *testing.T) {
	cases := []struct{ u, want float64 }{
		{0, math.Inf(-1)}, {1, math.Inf(1)}, {0.5, 0},
	}
	for _, c := range cases {
		if got := normQuantile(c.u); got != c.want {
			t.Errorf("normQuantile(%g) = %g, want %g", c.u, got, c.want)
		}
	}
	for _, u := range []float64{math.NaN(), -0.1, 1.1, math.Inf(1), math.Inf(-1)} {
		if got := normQuantile(u); !math.IsNaN(got) {
			t.Errorf("normQuantile(%g) = %g, want NaN", u, got)
		}
	}
	// z99 fits lognormals to a median and a p99.
	if relErr(z99, 2.3263478740408408) > 1e-15 {
		t.Errorf("z99 = %.17g", z99)
	}
}

// bigExp is e^x to far more than double precision, as a reference:
// the Taylor series of e^(x/2^12), squared twelve times.
func bigExp(x float64) *big.Float {
	const prec = 200
	y := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(x), -12)
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	for k := int64(1); k < 60; k++ {
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetInt64(k))
		sum.Add(sum, term)
	}
	for range 12 {
		sum.Mul(sum, sum)
	}
	return sum
}

// ulpErr is |got - want| in units of the last place of want's double.
func ulpErr(got float64, want *big.Float) float64 {
	w, _ := want.Float64()
	d := new(big.Float).Sub(new(big.Float).SetFloat64(got), want)
	df, _ := d.Float64()
	return math.Abs(df) / (math.Nextafter(w, math.Inf(1)) - w)
}

// TestExpAccurate: the table-driven exp is within 0.52 ulp of e^x, so
// nearly always correctly rounded (math.Exp's amd64 assembly, for
// comparison, is off by up to about 1.6 ulp), from e^-708 to e^708.
func TestExpAccurate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var xs []float64
	for range 3000 {
		xs = append(xs, (2*r.Float64()-1)*708, (2*r.Float64()-1)*30, (2*r.Float64()-1)*1e-3)
	}
	for k := -1021; k <= 1021; k += 17 { // both sides of powers of two
		x := float64(k) * math.Ln2
		xs = append(xs, math.Nextafter(x, math.Inf(-1)), math.Nextafter(x, math.Inf(1)))
	}
	xs = append(xs, 708, -708, 1e-300, -1e-300, 0x1p-30, 1.5*math.Ln2/128)
	worst, at := 0.0, 0.0
	for _, x := range xs {
		got := exp(x)
		e := ulpErr(got, bigExp(x))
		if e > worst {
			worst, at = e, x
		}
		if e > 0.52 {
			t.Errorf("exp(%.17g) = %.17g is %.3g ulp from e^x", x, got, e)
		}
	}
	t.Logf("worst error %.3g ulp at x = %.17g", worst, at)
}

// TestExpMatchesMath: exp agrees with math.Exp to 2 ulp (their errors
// added) wherever it does the work itself, and defers to it elsewhere.
func TestExpMatchesMath(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 200000 {
		for _, x := range []float64{(2*r.Float64() - 1) * 708, (2*r.Float64() - 1) * 30} {
			got, want := exp(x), math.Exp(x)
			if math.Abs(got-want) > 2*(math.Nextafter(want, math.Inf(1))-want) {
				t.Fatalf("exp(%.17g) = %.17g, math.Exp gives %.17g", x, got, want)
			}
		}
	}
	for _, x := range []float64{0, math.Copysign(0, -1)} {
		if exp(x) != 1 {
			t.Errorf("exp(%g) = %.17g, want 1", x, exp(x))
		}
	}
	for _, x := range []float64{709, -709, 710, -746, -800, 1000, math.Inf(1), math.Inf(-1)} {
		if got, want := exp(x), math.Exp(x); got != want {
			t.Errorf("exp(%g) = %g, want %g", x, got, want)
		}
	}
	if !math.IsNaN(exp(math.NaN())) {
		t.Error("exp(NaN) is not NaN")
	}
}

// TestLogNormalQuantile: a lognormal draw is e^(mu + sigma·Φ⁻¹(u)) to
// 1e-12 relative, against the Erfinv-based inverse and math.Exp.
func TestLogNormalQuantile(t *testing.T) {
	for _, d := range []Dist{
		{Kind: LogNormal, A: math.Log(0.35), B: math.Log(1.8/0.35) / z99},
		{Kind: LogNormal, A: math.Log(1500) - 0.5*math.Log(2), B: math.Sqrt(math.Log(2))},
		{Kind: LogNormal, A: -9, B: 3},
	} {
		for _, u := range quantileGrid() {
			got, want := d.Quantile(u), math.Exp(d.A+d.B*erfinvQuantile(u))
			if relErr(got, want) > 1e-12 {
				t.Errorf("%+v.Quantile(%.17g) = %.17g, want %.17g", d, u, got, want)
			}
		}
		if got := d.Quantile(0); got != 0 {
			t.Errorf("%+v.Quantile(0) = %g, want 0", d, got)
		}
	}
}

var sink float64

// benchUniforms are draws in [0, 1) as the simulator makes them.
func benchUniforms() []float64 {
	r := NewRand(1, 0, "bench", "")
	us := make([]float64, 4096)
	for i := range us {
		us[i] = r.Float64()
	}
	return us
}

// BenchmarkLogNormalQuantile is one lognormal draw; ...Erfinv is the same
// draw as math.Exp and math.Erfcinv make it, for comparison.
func BenchmarkLogNormalQuantile(b *testing.B) {
	us := benchUniforms()
	d := Dist{Kind: LogNormal, A: math.Log(0.35), B: 0.7}
	s := 0.0
	for i := range b.N {
		s += d.Quantile(us[i&4095])
	}
	sink = s
}

func BenchmarkLogNormalQuantileErfinv(b *testing.B) {
	us := benchUniforms()
	d := Dist{Kind: LogNormal, A: math.Log(0.35), B: 0.7}
	s := 0.0
	for i := range b.N {
		s += math.Exp(d.A + d.B*(-math.Sqrt2*math.Erfcinv(2*us[i&4095])))
	}
	sink = s
}

// BenchmarkLogNormalChain feeds each draw into the next one's argument, so
// it measures latency (as in the simulator, where a draw's value is needed
// at once) rather than throughput.
func BenchmarkLogNormalChain(b *testing.B) {
	us := benchUniforms()
	d := Dist{Kind: LogNormal, A: math.Log(0.35), B: 0.7}
	s := 0.0
	for i := range b.N {
		s = d.Quantile(us[i&4095] + s*1e-300)
	}
	sink = s
}

func BenchmarkLogNormalChainErfinv(b *testing.B) {
	us := benchUniforms()
	d := Dist{Kind: LogNormal, A: math.Log(0.35), B: 0.7}
	s := 0.0
	for i := range b.N {
		s = math.Exp(d.A + d.B*(-math.Sqrt2*math.Erfcinv(2*(us[i&4095]+s*1e-300))))
	}
	sink = s
}
