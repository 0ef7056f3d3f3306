// Package queueing holds the closed forms the simulator is validated against:
// Erlang B and C, the M/M/c queue (waiting probability, means, waiting-time
// and sojourn-time tails and quantiles), the M/M/1 special case, the
// Pollaczek–Khinchine formula for M/G/1, the two-state Markov-modulated
// Poisson process (mean rate, index of dispersion of counts, and the exact
// MMPP-2/M/c queue by the matrix-geometric method) and a Student-t confidence
// interval over per-replication values.
//
// Conventions: λ is the arrival rate, μ the service rate of one server, c the
// number of servers, a = λ/μ the offered load in Erlangs and ρ = a/c the
// utilisation. Times are in the reciprocal unit of the rates (seconds when
// rates are per second). The formulas and how they are checked are in
// docs/references.md [1].
package queueing

import (
	"math"
)

// ErlangB returns the blocking probability of an M/G/c/c loss system offered a
// Erlangs: the probability that an arrival finds all c servers busy and is
// lost. By insensitivity it holds for any service-time distribution with
// mean 1/μ. It uses the recursion B(0) = 1, B(k) = a·B(k−1)/(k + a·B(k−1)),
// which is numerically stable for any c (unlike the factorial form).
func ErlangB(c int, a float64) float64 {
	if c < 0 || a < 0 || math.IsNaN(a) {
		return math.NaN()
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC returns the probability that an arrival to an M/M/c queue offered a
// Erlangs has to wait: C = c·B/(c − a(1 − B)) with B = ErlangB(c, a). An
// unstable queue (a ≥ c) makes every arrival wait eventually, so it returns 1.
func ErlangC(c int, a float64) float64 {
	if c <= 0 || a < 0 || math.IsNaN(a) {
		return math.NaN()
	}
	if a >= float64(c) {
		return 1
	}
	b := ErlangB(c, a)
	return float64(c) * b / (float64(c) - a*(1-b))
}

// MMc is an M/M/c queue with an unbounded FCFS queue: Poisson arrivals at rate
// Lambda, C servers each serving at rate Mu (exponential service times with
// mean 1/Mu). Its methods return +Inf (or NaN for probabilities that do not
// exist) when the queue is unstable, Lambda ≥ C·Mu.
type MMc struct {
	Lambda float64
	Mu     float64
	C      int
}

// MM1 returns the M/M/1 queue with arrival rate lambda and service rate mu.
func MM1(lambda, mu float64) MMc { return MMc{Lambda: lambda, Mu: mu, C: 1} }

// Offered returns the offered load a = λ/μ in Erlangs.
func (q MMc) Offered() float64 { return q.Lambda / q.Mu }

// Rho returns the server utilisation ρ = λ/(cμ).
func (q MMc) Rho() float64 { return q.Lambda / (float64(q.C) * q.Mu) }

// Stable reports whether the queue has a steady state (ρ < 1).
func (q MMc) Stable() bool {
	return q.C > 0 && q.Mu > 0 && q.Lambda >= 0 && q.Rho() < 1
}

// theta is the decay rate cμ − λ of the conditional waiting time: given that
// an arrival waits, its wait is exponential with this rate.
func (q MMc) theta() float64 { return float64(q.C)*q.Mu - q.Lambda }

// PWait returns the probability that an arrival waits (Erlang C); by PASTA it
// is also the long-run fraction of time all servers are busy.
func (q MMc) PWait() float64 { return ErlangC(q.C, q.Offered()) }

// Wq returns the mean time in queue, C/(cμ − λ).
func (q MMc) Wq() float64 {
	if !q.Stable() {
		return math.Inf(1)
	}
	return q.PWait() / q.theta()
}

// W returns the mean sojourn time (queue plus service), Wq + 1/μ.
func (q MMc) W() float64 { return q.Wq() + 1/q.Mu }

// Lq returns the mean number waiting, λ·Wq (Little's law).
func (q MMc) Lq() float64 { return q.Lambda * q.Wq() }

// L returns the mean number in the system, λ·W (Little's law).
func (q MMc) L() float64 { return q.Lambda * q.W() }

// WaitTail returns P(Wq > t) = C·e^{−(cμ−λ)t} for t ≥ 0: the wait is zero with
// probability 1 − C and otherwise exponential with rate cμ − λ.
func (q MMc) WaitTail(t float64) float64 {
	if !q.Stable() {
		return math.NaN()
	}
	if t < 0 {
		return 1
	}
	return q.PWait() * math.Exp(-q.theta()*t)
}

// WaitQuantile returns the p-quantile of the waiting time,
// ln(C/(1−p))/(cμ − λ) when 1 − p < C, and 0 otherwise (more than a fraction
// p of arrivals do not wait at all).
func (q MMc) WaitQuantile(p float64) float64 {
	if !q.Stable() || p < 0 || p >= 1 {
		return math.NaN()
	}
	c := q.PWait()
	if 1-p >= c {
		return 0
	}
	return math.Log(c/(1-p)) / q.theta()
}

// SojournTail returns P(T > t) for the sojourn time T = Wq + S of an FCFS
// arrival. With θ = cμ − λ the closed form is
//
//	P(T>t) = (1−C)e^{−μt} + C·(θe^{−μt} − μe^{−θt})/(θ−μ),
//
// which is 0/0 at θ = μ (where T given a wait is Erlang-2). It is evaluated
// in the equivalent form e^{−μt}·(1 + C·μt·φ((θ−μ)t)) with
// φ(x) = (1 − e^{−x})/x and φ(0) = 1, which is exact at θ = μ and free of
// cancellation near it.
func (q MMc) SojournTail(t float64) float64 {
	if !q.Stable() {
		return math.NaN()
	}
	if t <= 0 {
		return 1
	}
	x := (q.theta() - q.Mu) * t
	phi := 1.0
	if x != 0 {
		phi = -math.Expm1(-x) / x
	}
	return math.Exp(-q.Mu*t) * (1 + q.PWait()*q.Mu*t*phi)
}

// SojournQuantile returns the p-quantile of the sojourn time, found by
// bisection on the strictly decreasing SojournTail to full float64
// precision. For c = 1 it equals −ln(1−p)/(μ−λ).
func (q MMc) SojournQuantile(p float64) float64 {
	if !q.Stable() || p < 0 || p >= 1 {
		return math.NaN()
	}
	if p == 0 {
		return 0
	}
	target := 1 - p
	// Bracket: the tail is at least e^{−μt}, so the quantile is at least
	// −ln(1−p)/μ; double the upper end until the tail falls below 1−p.
	lo, hi := 0.0, -math.Log(target)/q.Mu
	for q.SojournTail(hi) > target {
		lo, hi = hi, 2*hi
	}
	return bisect(func(t float64) bool { return q.SojournTail(t) > target }, lo, hi)
}

// bisect returns the boundary in [lo, hi] where above switches from true (at
// lo) to false (at hi), to within one or two ulps.
func bisect(above func(float64) bool, lo, hi float64) float64 {
	for range 200 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if above(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// MM1Wq returns the M/M/1 mean time in queue, ρ/(μ−λ).
func MM1Wq(lambda, mu float64) float64 {
	if lambda >= mu {
		return math.Inf(1)
	}
	return lambda / mu / (mu - lambda)
}

// MM1W returns the M/M/1 mean sojourn time, 1/(μ−λ).
func MM1W(lambda, mu float64) float64 {
	if lambda >= mu {
		return math.Inf(1)
	}
	return 1 / (mu - lambda)
}

// MM1SojournQuantile returns the p-quantile of the M/M/1 sojourn time, which
// is exponential with rate μ−λ: −ln(1−p)/(μ−λ).
func MM1SojournQuantile(lambda, mu, p float64) float64 {
	if lambda >= mu || p < 0 || p >= 1 {
		return math.NaN()
	}
	return -math.Log1p(-p) / (mu - lambda)
}

// MM1WaitTail returns the M/M/1 P(Wq > t) = ρ·e^{−(μ−λ)t} for t ≥ 0.
func MM1WaitTail(lambda, mu, t float64) float64 {
	if lambda >= mu {
		return math.NaN()
	}
	if t < 0 {
		return 1
	}
	return lambda / mu * math.Exp(-(mu-lambda)*t)
}

// PKWq returns the Pollaczek–Khinchine mean time in queue of an M/G/1 FCFS
// queue with arrival rate lambda and service time S with E[S] = es and
// E[S²] = es2: Wq = λE[S²]/(2(1−ρ)), ρ = λE[S]. It returns +Inf when ρ ≥ 1.
func PKWq(lambda, es, es2 float64) float64 {
	rho := lambda * es
	if rho >= 1 {
		return math.Inf(1)
	}
	return lambda * es2 / (2 * (1 - rho))
}

// MG1Wq returns the M/G/1 mean time in queue for service times with the given
// mean and squared coefficient of variation cs2 = Var(S)/E[S]²:
// ρ(1+cs2)·E[S]/(2(1−ρ)). It is PKWq with E[S²] = E[S]²(1+cs2).
func MG1Wq(lambda, mean, cs2 float64) float64 {
	return PKWq(lambda, mean, SecondMoment(mean, cs2))
}

// MD1Wq returns the M/D/1 mean time in queue with service time 1/mu:
// ρ/(2μ(1−ρ)), half the M/M/1 value.
func MD1Wq(lambda, mu float64) float64 { return MG1Wq(lambda, 1/mu, 0) }

// SecondMoment returns E[S²] = E[S]²(1 + cs2) for a distribution with the
// given mean and squared coefficient of variation. For a lognormal given by
// mean and cv, cs2 = cv².
func SecondMoment(mean, cs2 float64) float64 { return mean * mean * (1 + cs2) }
