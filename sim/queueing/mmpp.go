package queueing

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// MMPP2 is a two-state Markov-modulated Poisson process: arrivals come at rate
// Lambda1 while the modulating chain is in state 1 and at Lambda2 in state 2;
// the chain leaves state 1 at rate Sigma1 and state 2 at rate Sigma2.
//
// The switching rates are rates OUT of a state, the reciprocals of the mean
// sojourn times a scenario writes (arrival.sojourn); use MMPP2FromSojourns to
// build one from those.
type MMPP2 struct {
	Lambda1, Lambda2 float64
	Sigma1, Sigma2   float64
}

// MMPP2FromSojourns returns the MMPP-2 with state rates l1, l2 and mean
// sojourn times soj1, soj2 in each state: Sigma1 = 1/soj1, Sigma2 = 1/soj2.
func MMPP2FromSojourns(l1, l2, soj1, soj2 float64) MMPP2 {
	return MMPP2{Lambda1: l1, Lambda2: l2, Sigma1: 1 / soj1, Sigma2: 1 / soj2}
}

// P1 returns the stationary probability of state 1, σ2/(σ1+σ2).
func (m MMPP2) P1() float64 { return m.Sigma2 / (m.Sigma1 + m.Sigma2) }

// MeanRate returns the long-run arrival rate λ̄ = (σ2λ1 + σ1λ2)/(σ1+σ2).
func (m MMPP2) MeanRate() float64 {
	return (m.Sigma2*m.Lambda1 + m.Sigma1*m.Lambda2) / (m.Sigma1 + m.Sigma2)
}

// burst returns 2σ1σ2(λ1−λ2)²/((σ1+σ2)³λ̄), the excess of IDC(∞) over 1.
func (m MMPP2) burst() float64 {
	s := m.Sigma1 + m.Sigma2
	d := m.Lambda1 - m.Lambda2
	return 2 * m.Sigma1 * m.Sigma2 * d * d / (s * s * s * m.MeanRate())
}

// IDCInf returns the asymptotic index of dispersion of counts,
// lim Var N(t)/E N(t) = 1 + 2σ1σ2(λ1−λ2)²/((σ1+σ2)³·λ̄).
func (m MMPP2) IDCInf() float64 { return 1 + m.burst() }

// IDC returns the index of dispersion of counts over a window of length t for
// the stationary process (the chain started in its stationary law):
//
//	IDC(t) = 1 + (IDC(∞) − 1)·(1 − (1 − e^{−st})/(st)),  s = σ1 + σ2.
//
// It follows from Var N(t) = E Λ(t) + Var Λ(t), Λ(t) = ∫₀ᵗ λ(u) du, with the
// modulating rate's covariance Var(λ)·e^{−s·u}. Finite windows approach
// IDC(∞) only like 1 − 1/(st), so tests on finite windows compare with this.
func (m MMPP2) IDC(t float64) float64 {
	x := (m.Sigma1 + m.Sigma2) * t
	if x <= 0 {
		return 1
	}
	return 1 + m.burst()*(1+math.Expm1(-x)/x)
}

// MMPP2Queue is the steady state of an MMPP-2/M/c queue with an unbounded FCFS
// queue. Probabilities and waits are as seen by arrivals (which, unlike
// Poisson arrivals, do not see time averages: arrivals come more often in
// the busy state).
type MMPP2Queue struct {
	// PWait is the probability that an arrival finds all servers busy.
	PWait float64
	// PBusy is the long-run fraction of time all servers are busy.
	PBusy float64
	// Lq and L are the time-average numbers waiting and in the system.
	Lq, L float64
	// Wq and W are the mean time in queue and sojourn time (Little's law).
	Wq, W float64
}

// SolveMMPP2MMc returns the exact steady state of the MMPP-2/M/c queue with
// service rate mu per server, by the matrix-geometric method: above level c
// the chain (number in system, phase) is a quasi-birth–death process whose
// stationary vector is π_{c+k} = π_c·R^k, with R the minimal non-negative
// solution of A0 + R·A1 + R²·A2 = 0; the boundary levels 0..c are solved as a
// linear system with the normalisation. It needs λ̄ < cμ.
func SolveMMPP2MMc(m MMPP2, mu float64, c int) (MMPP2Queue, error) {
	lbar := m.MeanRate()
	if c <= 0 || mu <= 0 || m.Sigma1 <= 0 || m.Sigma2 <= 0 || m.Lambda1 < 0 || m.Lambda2 < 0 {
		return MMPP2Queue{}, errors.New("queueing: MMPP-2/M/c needs c ≥ 1, μ > 0, σ > 0 and λ ≥ 0")
	}
	if lbar >= float64(c)*mu {
		return MMPP2Queue{}, fmt.Errorf("queueing: MMPP-2/M/c unstable: λ̄ = %g ≥ cμ = %g", lbar, float64(c)*mu)
	}
	cmu := float64(c) * mu
	lam := mat.NewDiagDense(2, []float64{m.Lambda1, m.Lambda2})
	// Q is the generator of the modulating chain.
	q := mat.NewDense(2, 2, []float64{-m.Sigma1, m.Sigma1, m.Sigma2, -m.Sigma2})

	// Repeating blocks above level c: up (A0), local (A1), down (A2).
	a0 := mat.DenseCopyOf(lam)
	a1 := mat.NewDense(2, 2, nil)
	a1.Sub(q, lam)
	a1.Sub(a1, scaledIdentity(cmu))
	a2 := scaledIdentity(cmu)

	r, err := solveR(a0, a1, a2)
	if err != nil {
		return MMPP2Queue{}, err
	}

	// Boundary: unknown row vectors π_0..π_c stacked into x (length 2(c+1)),
	// with x·G = 0 where G is the generator restricted to levels 0..c and
	// level c's local block absorbs the flow down from level c+1 (π_c·R·A2).
	n := 2 * (c + 1)
	g := mat.NewDense(n, n, nil)
	setBlock := func(i, j int, b mat.Matrix) {
		for r := range 2 {
			for s := range 2 {
				g.Set(2*i+r, 2*j+s, g.At(2*i+r, 2*j+s)+b.At(r, s))
			}
		}
	}
	for lvl := 0; lvl <= c; lvl++ {
		local := mat.NewDense(2, 2, nil)
		local.Sub(q, lam)
		local.Sub(local, scaledIdentity(float64(lvl)*mu))
		if lvl == c {
			ra2 := mat.NewDense(2, 2, nil)
			ra2.Mul(r, a2)
			local.Add(local, ra2)
		}
		setBlock(lvl, lvl, local)
		if lvl < c {
			setBlock(lvl, lvl+1, lam)
		}
		if lvl > 0 {
			setBlock(lvl, lvl-1, scaledIdentity(float64(lvl)*mu))
		}
	}
	// Solve Gᵀ·xᵀ = 0 with the last equation replaced by the normalisation
	// Σ_{n<c} π_n·1 + π_c·(I−R)⁻¹·1 = 1.
	var imr, imrInv mat.Dense
	imr.Sub(eye2(), r)
	if err := imrInv.Inverse(&imr); err != nil {
		return MMPP2Queue{}, fmt.Errorf("queueing: I−R is singular: %w", err)
	}
	geo := mat.NewVecDense(2, nil) // (I−R)⁻¹·1
	geo.MulVec(&imrInv, mat.NewVecDense(2, []float64{1, 1}))
	var gt mat.Dense
	gt.CloneFrom(g.T())
	for j := range n {
		v := 1.0
		if j >= 2*c {
			v = geo.AtVec(j - 2*c)
		}
		gt.Set(n-1, j, v)
	}
	rhs := mat.NewVecDense(n, nil)
	rhs.SetVec(n-1, 1)
	var x mat.VecDense
	if err := x.SolveVec(&gt, rhs); err != nil {
		return MMPP2Queue{}, fmt.Errorf("queueing: boundary equations: %w", err)
	}

	pic := mat.NewVecDense(2, []float64{x.AtVec(2 * c), x.AtVec(2*c + 1)}) // π_c as a column
	// Σ_{k≥0} π_c R^k = π_c (I−R)⁻¹ is the mass at levels ≥ c by phase.
	var busy mat.VecDense
	busy.MulVec(imrInv.T(), pic)
	// Lq = Σ_{k≥1} k·π_c R^k·1 = π_c·R(I−R)⁻²·1.
	var rimr2 mat.Dense
	rimr2.Mul(r, &imrInv)
	rimr2.Mul(&rimr2, &imrInv)
	var lqv mat.VecDense
	lqv.MulVec(rimr2.T(), pic)

	var res MMPP2Queue
	res.PBusy = busy.AtVec(0) + busy.AtVec(1)
	res.PWait = (busy.AtVec(0)*m.Lambda1 + busy.AtVec(1)*m.Lambda2) / lbar
	res.Lq = lqv.AtVec(0) + lqv.AtVec(1)
	res.Wq = res.Lq / lbar
	res.W = res.Wq + 1/mu
	res.L = lbar * res.W
	return res, nil
}

// solveR finds the minimal non-negative solution of A0 + R·A1 + R²·A2 = 0 by
// the iteration R ← A0·(−A1 − R·A2)⁻¹ from R = 0, which increases
// monotonically to the minimal solution. Its convergence is linear and slows
// as the load nears 1, so it runs until the iterate stops changing and then
// checks the residual.
func solveR(a0, a1, a2 *mat.Dense) (*mat.Dense, error) {
	r := mat.NewDense(2, 2, nil)
	var u, uinv, next, ra2 mat.Dense
	for it := 0; it < 10_000_000; it++ {
		ra2.Mul(r, a2)
		u.Add(a1, &ra2)
		u.Scale(-1, &u)
		if err := uinv.Inverse(&u); err != nil {
			return nil, fmt.Errorf("queueing: R iteration: %w", err)
		}
		next.Mul(a0, &uinv)
		var diff mat.Dense
		diff.Sub(&next, r)
		r.Copy(&next)
		if mat.Norm(&diff, math.Inf(1)) <= 1e-15*math.Max(1, mat.Norm(r, math.Inf(1))) {
			break
		}
	}
	// Residual A0 + R·A1 + R²·A2, relative to the size of the blocks.
	var res, t mat.Dense
	res.Mul(r, a1)
	res.Add(&res, a0)
	t.Mul(r, r)
	t.Mul(&t, a2)
	res.Add(&res, &t)
	scale := mat.Norm(a1, math.Inf(1))
	if e := mat.Norm(&res, math.Inf(1)); e > 1e-10*scale {
		return nil, fmt.Errorf("queueing: R did not converge (residual %g)", e)
	}
	return r, nil
}

func eye2() *mat.Dense { return scaledIdentity(1) }

func scaledIdentity(v float64) *mat.Dense {
	return mat.NewDense(2, 2, []float64{v, 0, 0, v})
}
