package queueing

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mat"
)

// The reference values below were computed from the closed forms and are
// printed rounded to 6 or 4 decimals (docs/references.md [2]); a value
// matches when it rounds to the printed digits (|x − ref| ≤ half a unit in
// the last place, plus a hair for the binary representation of the
// reference).
const (
	tol6 = 0.5e-6 + 1e-12
	tol4 = 0.5e-4 + 1e-12
)

func TestErlangBReference(t *testing.T) {
	for _, tc := range []struct {
		c    int
		a, b float64
	}{
		{1, 0.5, 0.333333},
		{5, 3, 0.110054},
		{10, 8, 0.121661},
		{10, 10, 0.214582},
		{50, 45, 0.054104},
		{100, 90, 0.026957},
	} {
		assert.InDelta(t, tc.b, ErlangB(tc.c, tc.a), tol6, "B(%d, %g)", tc.c, tc.a)
	}
	// The recursion is the factorial form a^c/c! / Σ a^k/k!; check one case
	// directly, and the trivial ends.
	a := 3.0
	num, den, term := 0.0, 0.0, 1.0
	for k := 0; k <= 5; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		den += term
		num = term
	}
	assert.InDelta(t, num/den, ErlangB(5, a), 1e-15)
	assert.Equal(t, 1.0, ErlangB(0, 2))
	assert.Equal(t, 0.0, ErlangB(3, 0))
	// Large c stays finite (the factorial form would overflow).
	b := ErlangB(10000, 9500)
	assert.True(t, b > 0 && b < 0.01, "B(10000, 9500) = %g", b)
}

func TestMMcReference(t *testing.T) {
	// λ, c, C, Wq, W, Lq, Wq p95, Wq p99, T p50, T p95, T p99 with μ = 1.
	rows := [][11]float64{
		{0.5, 1, 0.500000, 1.000000, 2.000000, 0.500000, 4.6052, 7.8240, 1.3863, 5.9915, 9.2103},
		{0.8, 1, 0.800000, 4.000000, 5.000000, 3.200000, 13.8629, 21.9101, 3.4657, 14.9787, 23.0259},
		{0.9, 1, 0.900000, 9.000000, 10.000000, 8.100000, 28.9037, 44.9981, 6.9315, 29.9573, 46.0517},
		{0.95, 1, 0.950000, 19.000000, 20.000000, 18.050000, 58.8888, 91.0775, 13.8629, 59.9146, 92.1034},
		{2, 3, 0.444444, 0.444444, 1.444444, 0.888889, 2.1848, 3.7942, 1.0874, 4.0207, 5.8912},
		{8, 10, 0.409180, 0.204590, 1.204590, 1.636721, 1.0511, 1.8558, 0.9121, 3.3283, 4.9461},
		{9, 10, 0.668732, 0.668732, 1.668732, 6.018584, 2.5934, 4.2028, 1.3291, 4.3609, 6.2499},
		{9.5, 10, 0.825586, 1.651171, 2.651171, 15.686126, 5.6081, 8.8270, 2.0908, 6.9701, 10.2085},
		{45, 50, 0.363864, 0.072773, 1.072773, 3.274780, 0.3970, 0.7188, 0.7765, 3.0828, 4.6922},
		{90, 100, 0.216940, 0.021694, 1.021694, 1.952464, 0.1468, 0.3077, 0.7169, 3.0196, 4.6290},
		{95, 100, 0.506457, 0.101291, 1.101291, 9.622680, 0.4631, 0.7850, 0.8079, 3.1149, 4.7244},
	}
	for _, r := range rows {
		q := MMc{Lambda: r[0], Mu: 1, C: int(r[1])}
		require.True(t, q.Stable())
		assert.InDelta(t, r[2], q.PWait(), tol6, "C λ=%g c=%d", q.Lambda, q.C)
		assert.InDelta(t, r[3], q.Wq(), tol6, "Wq λ=%g c=%d", q.Lambda, q.C)
		assert.InDelta(t, r[4], q.W(), tol6, "W λ=%g c=%d", q.Lambda, q.C)
		assert.InDelta(t, r[5], q.Lq(), tol6, "Lq λ=%g c=%d", q.Lambda, q.C)
		assert.InDelta(t, r[6], q.WaitQuantile(0.95), tol4, "Wq p95 λ=%g c=%d", q.Lambda, q.C)
		assert.InDelta(t, r[7], q.WaitQuantile(0.99), tol4, "Wq p99 λ=%g c=%d", q.Lambda, q.C)
		assert.InDelta(t, r[8], q.SojournQuantile(0.50), tol4, "T p50 λ=%g c=%d", q.Lambda, q.C)
		assert.InDelta(t, r[9], q.SojournQuantile(0.95), tol4, "T p95 λ=%g c=%d", q.Lambda, q.C)
		assert.InDelta(t, r[10], q.SojournQuantile(0.99), tol4, "T p99 λ=%g c=%d", q.Lambda, q.C)
		// Little's law between the means, and the quantiles invert the tails.
		assert.InDelta(t, q.Lambda*q.W(), q.L(), 1e-12*q.L())
		for _, p := range []float64{0.5, 0.9, 0.99, 0.999} {
			x := q.SojournQuantile(p)
			assert.InDelta(t, 1-p, q.SojournTail(x), 1e-12, "T tail at its %g-quantile", p)
			if w := q.WaitQuantile(p); w > 0 {
				assert.InDelta(t, 1-p, q.WaitTail(w), 1e-12, "Wq tail at its %g-quantile", p)
			}
		}
	}
}

// The M/M/1 specials agree with the general M/M/c forms at c = 1.
func TestMM1Specials(t *testing.T) {
	for _, lam := range []float64{0.1, 0.5, 0.9, 0.99} {
		q := MM1(lam, 1)
		assert.InDelta(t, q.Wq(), MM1Wq(lam, 1), 1e-12)
		assert.InDelta(t, q.W(), MM1W(lam, 1), 1e-12)
		assert.InDelta(t, lam, q.PWait(), 1e-15)
		for _, p := range []float64{0.5, 0.95, 0.99} {
			assert.InDelta(t, MM1SojournQuantile(lam, 1, p), q.SojournQuantile(p), 1e-9*MM1SojournQuantile(lam, 1, p))
		}
		for _, x := range []float64{0, 1, 10} {
			assert.InDelta(t, MM1WaitTail(lam, 1, x), q.WaitTail(x), 1e-15)
			assert.InDelta(t, math.Exp(-(1-lam)*x), q.SojournTail(x), 1e-14)
		}
	}
	// Cross-check by hand (docs/references.md [2]): M/M/1 λ=0.9 T p99 = ln 100/0.1.
	assert.InDelta(t, math.Log(100)/0.1, MM1SojournQuantile(0.9, 1, 0.99), 1e-12)
	// Scaling: with mean service 2 s every time doubles.
	assert.InDelta(t, 2*MM1SojournQuantile(0.9, 1, 0.99), MM1SojournQuantile(0.45, 0.5, 0.99), 1e-9)
}

// The sojourn tail is checked against an independent computation by
// quadrature: T = W + S with S ~ Exp(μ) and W = 0 w.p. 1−C, else X ~ Exp(θ),
// so P(T>t) = (1−C)·e^{−μt} + C·P(X+S>t) and
// P(X+S>t) = P(X>t) + ∫₀ᵗ θe^{−θx}·e^{−μ(t−x)} dx.
func TestSojournTailQuadrature(t *testing.T) {
	for _, q := range []MMc{
		{Lambda: 9, Mu: 1, C: 10},  // θ = 1 = μ exactly: the 0/0 case
		{Lambda: 1, Mu: 1, C: 2},   // θ = 1 = μ again, small c
		{Lambda: 8, Mu: 1, C: 10},  // θ = 2 > μ
		{Lambda: 0.9, Mu: 1, C: 1}, // θ = 0.1 < μ
		{Lambda: 3.5, Mu: 0.5, C: 8},
	} {
		th := float64(q.C)*q.Mu - q.Lambda
		c := q.PWait()
		for _, x := range []float64{0.01, 0.5, 1, 3, 10} {
			conv := quad.Fixed(func(s float64) float64 {
				return th * math.Exp(-th*s) * math.Exp(-q.Mu*(x-s))
			}, 0, x, 200, nil, 0)
			want := (1-c)*math.Exp(-q.Mu*x) + c*(math.Exp(-th*x)+conv)
			assert.InDelta(t, want, q.SojournTail(x), 1e-10, "λ=%g μ=%g c=%d t=%g", q.Lambda, q.Mu, q.C, x)
		}
	}
	// Continuity through θ = μ: the closed form on either side converges to
	// the θ = μ value.
	at := MMc{Lambda: 9, Mu: 1, C: 10}.SojournTail(4)
	for _, eps := range []float64{1e-4, 1e-7, -1e-7, -1e-4} {
		q := MMc{Lambda: 9 + eps, Mu: 1, C: 10}
		th, c := 10-q.Lambda, q.PWait()
		raw := (1-c)*math.Exp(-4) + c*(th*math.Exp(-4)-math.Exp(-th*4))/(th-1)
		assert.InDelta(t, raw, q.SojournTail(4), 1e-8)
		assert.InDelta(t, at, q.SojournTail(4), 1e-3)
	}
}

func TestErlangCEdges(t *testing.T) {
	assert.Equal(t, 1.0, ErlangC(10, 10))
	assert.Equal(t, 1.0, ErlangC(10, 12))
	assert.InDelta(t, 0.5, ErlangC(1, 0.5), 1e-15)
	q := MMc{Lambda: 10, Mu: 1, C: 10}
	assert.False(t, q.Stable())
	assert.True(t, math.IsInf(q.Wq(), 1))
	assert.True(t, math.IsNaN(q.SojournQuantile(0.99)))
	// When fewer than 1−p of arrivals wait, the wait quantile is 0.
	assert.Equal(t, 0.0, MMc{Lambda: 8, Mu: 1, C: 10}.WaitQuantile(0.5))
}

func TestPollaczekKhinchineReference(t *testing.T) {
	// Wq with E[S] = 1 for M/D/1, M/E2/1, M/M/1 and M/G/1 with Cs² = 4.
	for _, tc := range []struct {
		rho  float64
		want [4]float64
	}{
		{0.5, [4]float64{0.5, 0.75, 1.0, 2.5}},
		{0.8, [4]float64{2.0, 3.0, 4.0, 10.0}},
		{0.9, [4]float64{4.5, 6.75, 9.0, 22.5}},
		{0.95, [4]float64{9.5, 14.25, 19.0, 47.5}},
	} {
		for i, cs2 := range []float64{0, 0.5, 1, 4} {
			assert.InDelta(t, tc.want[i], MG1Wq(tc.rho, 1, cs2), 1e-9, "ρ=%g Cs²=%g", tc.rho, cs2)
			assert.InDelta(t, tc.want[i], PKWq(tc.rho, 1, SecondMoment(1, cs2)), 1e-9)
		}
		assert.InDelta(t, tc.want[0], MD1Wq(tc.rho, 1), 1e-9)
		assert.InDelta(t, tc.want[2], MM1Wq(tc.rho, 1), 1e-9)
	}
	// Units: mean service 2 s, λ = 0.45/s (ρ = 0.9) doubles the M/D/1 wait.
	assert.InDelta(t, 9.0, MD1Wq(0.45, 0.5), 1e-9)
	assert.True(t, math.IsInf(PKWq(1, 1, 1), 1))
}

func TestMMPP2Reference(t *testing.T) {
	for _, tc := range []struct {
		m         MMPP2
		mean, idc float64
	}{
		{MMPP2{10, 1, 0.1, 0.1}, 5.5, 37.818182},
		{MMPP2{20, 2, 0.05, 0.2}, 16.4, 26.287805},
		{MMPP2{100, 10, 1, 1}, 55, 37.818182},
	} {
		assert.InDelta(t, tc.mean, tc.m.MeanRate(), 1e-12)
		assert.InDelta(t, tc.idc, tc.m.IDCInf(), tol6)
		// IDC(t) rises from 1 to IDC(∞).
		assert.InDelta(t, 1, tc.m.IDC(1e-9), 1e-6)
		assert.InDelta(t, tc.m.IDCInf(), tc.m.IDC(1e12), 1e-9*tc.m.IDCInf())
		assert.Less(t, tc.m.IDC(10), tc.m.IDC(100))
	}
	// Sojourns are reciprocal switching rates: 20 s in state 1 means σ1 = 0.05.
	m := MMPP2FromSojourns(20, 2, 20, 5)
	assert.Equal(t, MMPP2{20, 2, 0.05, 0.2}, m)
	assert.InDelta(t, 0.8, m.P1(), 1e-15)
	// The scenarios package's own long-run rate uses sojourns: same number.
	assert.InDelta(t, (20*20+2*5)/25.0, m.MeanRate(), 1e-12)
}

// IDC(t) is checked against a direct numerical double integral of the
// modulating rate's covariance: Var N(t) = λ̄t + ∫₀ᵗ∫₀ᵗ Cov(λ(u), λ(v)) du dv.
func TestMMPP2IDCFiniteWindow(t *testing.T) {
	m := MMPP2{Lambda1: 12, Lambda2: 4, Sigma1: 0.1, Sigma2: 0.1}
	p1 := m.P1()
	varLam := p1 * (1 - p1) * (m.Lambda1 - m.Lambda2) * (m.Lambda1 - m.Lambda2)
	s := m.Sigma1 + m.Sigma2
	for _, w := range []float64{1, 10, 60, 600} {
		// ∫∫ Var(λ)e^{−s|u−v|} = 2∫₀ʷ (w−x)·Var(λ)e^{−sx} dx.
		cov := quad.Fixed(func(x float64) float64 { return 2 * (w - x) * varLam * math.Exp(-s*x) }, 0, w, 400, nil, 0)
		lt := m.MeanRate() * w
		assert.InDelta(t, (lt+cov)/lt, m.IDC(w), 1e-9*m.IDC(w), "window %g", w)
	}
}

// With equal state rates the MMPP is Poisson and the MMPP-2/M/c queue is M/M/c.
func TestMMPP2QueueReducesToMMc(t *testing.T) {
	for _, tc := range []struct {
		lam float64
		c   int
	}{{0.9, 1}, {9, 10}, {8, 10}, {2, 3}} {
		res, err := SolveMMPP2MMc(MMPP2{tc.lam, tc.lam, 0.3, 0.7}, 1, tc.c)
		require.NoError(t, err)
		q := MMc{Lambda: tc.lam, Mu: 1, C: tc.c}
		assert.InDelta(t, q.PWait(), res.PWait, 1e-9)
		assert.InDelta(t, q.PWait(), res.PBusy, 1e-9)
		assert.InDelta(t, q.Wq(), res.Wq, 1e-8*q.Wq())
		assert.InDelta(t, q.Lq(), res.Lq, 1e-8*q.Lq())
		assert.InDelta(t, q.L(), res.L, 1e-8*q.L())
	}
	_, err := SolveMMPP2MMc(MMPP2{12, 9, 0.1, 0.1}, 1, 10)
	assert.Error(t, err, "λ̄ = 10.5 > cμ = 10 is unstable")
}

// The matrix-geometric solution agrees with a brute-force solve of the
// generator truncated at a level the queue practically never reaches.
func TestMMPP2QueueMatchesTruncatedCTMC(t *testing.T) {
	for _, tc := range []struct {
		m  MMPP2
		mu float64
		c  int
	}{
		{MMPP2{2, 0.4, 1, 0.5}, 1, 2},
		{MMPP2{1.4, 0.2, 1, 1}, 1, 1},
		{MMPP2{12, 4, 1, 1}, 1, 10},
	} {
		got, err := SolveMMPP2MMc(tc.m, tc.mu, tc.c)
		require.NoError(t, err)
		want := truncatedMMPP2MMc(t, tc.m, tc.mu, tc.c, 400)
		assert.InDelta(t, want.PWait, got.PWait, 1e-9, "%+v", tc)
		assert.InDelta(t, want.PBusy, got.PBusy, 1e-9, "%+v", tc)
		assert.InDelta(t, want.Lq, got.Lq, 1e-8*want.Lq, "%+v", tc)
		assert.InDelta(t, want.L, got.L, 1e-8*want.L, "%+v", tc)
	}
}

// truncatedMMPP2MMc solves πQ = 0 for the MMPP-2/M/c chain cut at level n
// (arrivals at level n are lost; n is chosen so that this never matters).
func truncatedMMPP2MMc(t *testing.T, m MMPP2, mu float64, c, n int) MMPP2Queue {
	t.Helper()
	size := 2 * (n + 1)
	qm := mat.NewDense(size, size, nil)
	lam := [2]float64{m.Lambda1, m.Lambda2}
	sig := [2]float64{m.Sigma1, m.Sigma2}
	add := func(i, j int, r float64) {
		qm.Set(i, j, qm.At(i, j)+r)
		qm.Set(i, i, qm.At(i, i)-r)
	}
	for lvl := 0; lvl <= n; lvl++ {
		for ph := range 2 {
			i := 2*lvl + ph
			add(i, 2*lvl+1-ph, sig[ph])
			if lvl < n {
				add(i, i+2, lam[ph])
			}
			if lvl > 0 {
				add(i, i-2, float64(min(lvl, c))*mu)
			}
		}
	}
	var qt mat.Dense
	qt.CloneFrom(qm.T())
	for j := range size {
		qt.Set(size-1, j, 1)
	}
	rhs := mat.NewVecDense(size, nil)
	rhs.SetVec(size-1, 1)
	var pi mat.VecDense
	require.NoError(t, pi.SolveVec(&qt, rhs))
	var res MMPP2Queue
	var arr float64
	for lvl := 0; lvl <= n; lvl++ {
		for ph := range 2 {
			p := pi.AtVec(2*lvl + ph)
			res.L += float64(lvl) * p
			if lvl >= c {
				res.PBusy += p
				res.PWait += p * lam[ph]
				res.Lq += float64(lvl-c) * p
			}
			arr += p * lam[ph]
		}
	}
	require.Less(t, pi.AtVec(size-1)+pi.AtVec(size-2), 1e-13, "truncation level too low")
	res.PWait /= arr
	return res
}
