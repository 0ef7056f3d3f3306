// Package behavior models how a deployment behaves: how long it takes to
// answer (latency), what its quota admits (token buckets counted the way each
// provider counts) and how faults change both. The simulator steps these
// models in virtual time; the fake servers run them against the wall clock.
// Times are int64 nanoseconds on whatever clock the caller uses.
package behavior

import (
	"math"

	"github.com/mcbench/mcbench/scenarios"
)

// Latency is a deployment's service-time model.
type Latency struct {
	// TTFT is the time to first token at the deployment (seconds), queueing excluded.
	TTFT scenarios.Sampler
	// PerInputToken is the prefill cost added to TTFT per input token (seconds).
	PerInputToken float64
	// TPOT is the time per output token (seconds).
	TPOT scenarios.Sampler
	// LoadFactor is the TPOT multiplier at full concurrency (1 = no load effect).
	LoadFactor float64
}

// NewLatency compiles a scenario latency model.
func NewLatency(l *scenarios.Latency) Latency {
	lf := l.LoadFactor
	if lf < 1 {
		lf = 1
	}
	return Latency{TTFT: scenarios.NewSampler(l.TTFT.Dist), PerInputToken: l.PerInputToken.Seconds(),
		TPOT: scenarios.NewSampler(l.TPOT.Dist), LoadFactor: lf}
}

// Service returns the time to first token and the total service time, in
// nanoseconds, for a request with the given token counts, served while busy
// of concurrency slots are in use (the request's own included). uTTFT and
// uTPOT are the request's uniform draws; slow multiplies both (a brownout).
// One TPOT draw covers the whole response: it is the request's decode speed.
func (l *Latency) Service(uTTFT, uTPOT float64, input, output int32, busy, concurrency int, slow float64) (ttft, total int64) {
	first := l.TTFT.Quantile(uTTFT) + l.PerInputToken*float64(input)
	decode := 0.0
	if output > 0 && !l.TPOT.IsZero() {
		load := 1.0
		if l.LoadFactor > 1 && concurrency > 0 {
			load = 1 + (l.LoadFactor-1)*float64(busy)/float64(concurrency)
		}
		decode = l.TPOT.Quantile(uTPOT) * load * float64(output)
	}
	ttft = int64(first * slow * 1e9)
	return ttft, ttft + int64(decode*slow*1e9)
}

// MeanService returns the mean service time in seconds for the given token
// counts at idle, the 1/μ of queueing formulas.
func (l *Latency) MeanService(input, output int32) float64 {
	return l.TTFT.Mean() + l.PerInputToken*float64(input) + l.TPOT.Mean()*float64(output)
}

// TokenBucket admits amounts at a sustained rate with a burst: in any window
// of length τ it admits at most Burst + Rate·τ. It refills lazily from the
// time of the last call, so it needs no timer events.
type TokenBucket struct {
	rate   float64 // per nanosecond
	burst  float64
	tokens float64
	last   int64
}

// NewTokenBucket returns a full bucket refilling at ratePerSec with capacity burst.
func NewTokenBucket(ratePerSec, burst float64) TokenBucket {
	return TokenBucket{rate: ratePerSec / 1e9, burst: burst, tokens: burst}
}

func (b *TokenBucket) refill(now int64) {
	if now > b.last {
		b.tokens = min(b.burst, b.tokens+b.rate*float64(now-b.last))
		b.last = now
	}
}

// Take removes n tokens at time now if they are available. Otherwise it
// removes nothing and returns how long until they would be (the retry-after);
// an amount above the burst can never be admitted and returns -1.
func (b *TokenBucket) Take(now int64, n float64) (ok bool, wait int64) {
	b.refill(now)
	if n <= b.tokens {
		b.tokens -= n
		return true, 0
	}
	if n > b.burst || b.rate <= 0 {
		return false, -1
	}
	return false, int64(math.Ceil((n - b.tokens) / b.rate))
}

// Give returns n tokens (a refund), never above the burst.
func (b *TokenBucket) Give(now int64, n float64) {
	b.refill(now)
	b.tokens = min(b.burst, b.tokens+n)
}

// Available returns the tokens in the bucket at time now.
func (b *TokenBucket) Available(now int64) float64 {
	b.refill(now)
	return b.tokens
}

// SetRate changes the refill rate from time now on (a throttling fault).
func (b *TokenBucket) SetRate(now int64, ratePerSec float64) {
	b.refill(now)
	b.rate = ratePerSec / 1e9
}

// Rejection says which limit refused a request.
type Rejection uint8

// Quota outcomes.
const (
	Admitted Rejection = iota
	// OverTokens: the token limit refused the request.
	OverTokens
	// OverRequests: the request limit refused the request.
	OverRequests
)

// String names the rejection as records do.
func (r Rejection) String() string {
	switch r {
	case OverTokens:
		return "quota_tokens"
	case OverRequests:
		return "quota_requests"
	}
	return "admitted"
}

// Quota is a deployment's rate limit as its provider enforces it. Azure
// reserves prompt + max_tokens against the token limit when the request
// arrives and keeps it; Bedrock reserves prompt + max_tokens × burn and, when
// the response ends, settles to prompt + output × burn.
type Quota struct {
	tokens, requests       TokenBucket
	hasTokens, hasRequests bool
	tokenRate, reqRate     float64 // nominal rates per second, before faults
	settle                 bool
	burn                   float64
}

// NewQuota compiles a scenario quota for a provider kind.
func NewQuota(q *scenarios.Quota, providerKind string) Quota {
	burn := q.OutputBurn
	if burn <= 0 {
		burn = 1
	}
	out := Quota{burn: burn, settle: providerKind == scenarios.KindBedrock}
	if r := q.Tokens.PerSecond(); r > 0 {
		out.hasTokens, out.tokenRate = true, r
		out.tokens = NewTokenBucket(r, r*window(q.TokenWindow, 60))
	}
	if r := q.Requests.PerSecond(); r > 0 {
		out.hasRequests, out.reqRate = true, r
		out.requests = NewTokenBucket(r, math.Max(1, r*window(q.RequestWindow, 10)))
	}
	return out
}

func window(d scenarios.Duration, def float64) float64 {
	if d > 0 {
		return d.Seconds()
	}
	return def
}

// Cost returns the quota tokens a request reserves when it is admitted.
func (q *Quota) Cost(input, maxTokens int32) float64 {
	return float64(input) + float64(maxTokens)*q.burn
}

// Admit checks a request against the limits at time now. On success it
// returns the tokens reserved (pass them to Settle when the response ends); on
// refusal, which limit refused and the retry-after in nanoseconds (-1: never).
func (q *Quota) Admit(now int64, input, maxTokens int32) (reserved float64, why Rejection, retryAfter int64) {
	if q.hasRequests {
		if ok, wait := q.requests.Take(now, 1); !ok {
			return 0, OverRequests, wait
		}
	}
	if q.hasTokens {
		cost := q.Cost(input, maxTokens)
		if ok, wait := q.tokens.Take(now, cost); !ok {
			if q.hasRequests {
				q.requests.Give(now, 1)
			}
			return 0, OverTokens, wait
		}
		return cost, Admitted, 0
	}
	return 0, Admitted, 0
}

// Settle ends a request that reserved tokens: on Bedrock the unused part of
// the max_tokens reservation is refunded; Azure keeps the reservation.
func (q *Quota) Settle(now int64, reserved float64, input, output int32) {
	if !q.settle || !q.hasTokens || reserved == 0 {
		return
	}
	if actual := float64(input) + float64(output)*q.burn; actual < reserved {
		q.tokens.Give(now, reserved-actual)
	}
}

// Scale multiplies both limits' rates by f from time now on (1 restores them).
func (q *Quota) Scale(now int64, f float64) {
	if q.hasTokens {
		q.tokens.SetRate(now, q.tokenRate*f)
	}
	if q.hasRequests {
		q.requests.SetRate(now, q.reqRate*f)
	}
}

// Limited reports whether the quota limits anything.
func (q *Quota) Limited() bool { return q.hasTokens || q.hasRequests }

// Remaining returns the tokens and requests left at time now (for rate-limit
// headers); a limit that is not set reports -1.
func (q *Quota) Remaining(now int64) (tokens, requests float64) {
	tokens, requests = -1, -1
	if q.hasTokens {
		tokens = q.tokens.Available(now)
	}
	if q.hasRequests {
		requests = q.requests.Available(now)
	}
	return tokens, requests
}
