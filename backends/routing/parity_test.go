package routing

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mcbench/mcbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 5, item 4: one sequence of outcomes fed to a policy under the
// simulated clock and under the wall clock gives the same decisions. The
// policies see time only as the now argument, so this holds as long as no
// decision boundary (a cooldown's end, an ejection tick, a quota refill)
// falls between where an event is scripted and where the wall clock
// actually runs it. The script keeps those boundaries at least 5 units
// (50 ms) away from every event, and the test checks that margin itself by
// replaying the script on simulated clocks that run every event late by up
// to 50 ms.

// Clock is the time source an engine drives a policy with: nanoseconds
// since the clock started.
type Clock interface {
	// Now is the current time.
	Now() int64
	// SleepUntil returns at or after time t.
	SleepUntil(t int64)
}

// simClock is the simulator's: time moves only when an event is due.
type simClock struct{ now int64 }

func (c *simClock) Now() int64 { return c.now }

func (c *simClock) SleepUntil(t int64) { c.now = max(c.now, t) }

// lateClock is a simulated clock whose events run late by up to maxLate,
// as a busy machine's would.
type lateClock struct {
	simClock
	rng     *rand.Rand
	maxLate int64
}

func (c *lateClock) SleepUntil(t int64) { c.now = max(c.now, t+c.rng.Int64N(c.maxLate)) }

// wallClock is the load generator's.
type wallClock struct{ start time.Time }

func (c *wallClock) Now() int64 { return int64(time.Since(c.start)) }

func (c *wallClock) SleepUntil(t int64) {
	if d := t - c.Now(); d > 0 {
		time.Sleep(time.Duration(d))
	}
}

// unit is the script's time unit.
const unit = 10 * time.Millisecond

// pev is one scripted event: a pick for request req (its first attempt
// or, if it has had one, its next), or the answer to its latest attempt.
type pev struct {
	at       int64 // in units
	req      int
	pick     bool
	u        float64
	answer   string // ok, outage, throttle, timeout, auth
	deadline int64  // units after the first pick (0: none)
}

func parityScript() []pev {
	p := func(at int64, req int, u float64) pev { return pev{at: at, req: req, pick: true, u: u} }
	a := func(at int64, req int, answer string) pev { return pev{at: at, req: req, answer: answer} }
	dl := func(e pev, d int64) pev { e.deadline = d; return e }
	return []pev{
		// Healthy traffic.
		p(0, 1, 0.10), a(2, 1, "ok"), p(4, 2, 0.55), a(6, 2, "ok"), p(8, 3, 0.90), a(10, 3, "ok"),
		// A burst of failures: ejections, trips, cooldowns (ending 50-60).
		p(20, 4, 0.20), a(21, 4, "outage"), p(22, 4, 0), a(23, 4, "outage"),
		p(24, 5, 0.40), a(25, 5, "outage"), p(26, 6, 0.70), a(27, 6, "outage"),
		// Inside the cooldowns; a throttle (retry-after 20: ends 56-61).
		p(35, 7, 0.30), a(36, 7, "ok"), p(37, 8, 0.80), a(38, 8, "throttle"), p(39, 8, 0), a(40, 8, "ok"),
		// After them: half-open probes, recoveries; an auth error (cools to 115-135).
		p(75, 9, 0.10), a(76, 9, "ok"), p(77, 10, 0.50), a(78, 10, "ok"), p(79, 11, 0.90), a(80, 11, "auth"),
		p(81, 11, 0), a(82, 11, "ok"),
		// Throttles again (retry-after 20: ends 111-116) and a timeout.
		p(95, 12, 0.20), a(96, 12, "throttle"), p(97, 12, 0), a(98, 12, "ok"),
		p(99, 13, 0.60), a(100, 13, "timeout"), p(101, 13, 0), a(102, 13, "ok"),
		p(150, 14, 0.30), a(151, 14, "ok"),
		// Deadlines: a retry-after that does not fit (15) and one that does (200).
		dl(p(160, 15, 0.50), 15), a(161, 15, "throttle"), p(162, 15, 0), a(163, 15, "ok"),
		dl(p(170, 16, 0.50), 200), a(171, 16, "throttle"), p(172, 16, 0), a(173, 16, "ok"),
		p(215, 17, 0.95), a(216, 17, "outage"), p(217, 17, 0), a(218, 17, "ok"),
	}
}

// parityCands: an Azure PTU and a pay-as-you-go Azure deployment in two
// regions, and Bedrock; with quotas and prices for the policies that read them.
func parityCands() []Candidate {
	ptu := cand("aoai-ptu", "azure", "eastus2")
	ptu.Provisioned, ptu.Concurrency = true, 3
	ptu.RequestsPerMinute, ptu.RequestWindow = 6, 100*sec // 10 requests, refilling 0.1/s
	ptu.PriceInputPerMTok, ptu.PriceOutputPerMTok = 2.5, 10
	west := cand("aoai-west", "azure", "westus3")
	west.PriceInputPerMTok, west.PriceOutputPerMTok = 2.5, 10
	claude := cand("bedrock", "bedrock", "us-east-1")
	claude.PriceInputPerMTok, claude.PriceOutputPerMTok = 3, 15
	return []Candidate{ptu, west, claude}
}

// parityPolicies builds every stateful policy with its time constants
// scaled to the script's unit.
func parityPolicies(t *testing.T) map[string]Policy {
	u := int64(unit)
	cs := parityCands()
	must := func(p Policy, err error) Policy {
		t.Helper()
		require.NoError(t, err)
		return p
	}
	out := map[string]Policy{}
	oc := OutlierConfig{Consecutive5xx: 2, Interval: 5 * u, BaseEjection: 30 * u, MaxEjectionTime: 100 * u, MaxEjectionPercent: 1, Domain: DomainRegion}
	out["primary-secondary"] = must(NewPrimarySecondary(oc, cs))
	bc := BreakerConfig{Failures: 2, FailureRate: 0.5, MinRequests: 10, Window: 100 * u, Open: 30 * u, MaxOpen: 240 * u, Probes: 1, Successes: 1, Domain: DomainProvider}
	out["circuit-breaker"] = must(NewCircuitBreaker(bc, cs))
	fc := DefaultFallbackConfig()
	fc.Cooldown = 30 * u
	out["fallback"] = must(NewFallback(fc, cs))
	lc := DefaultLiteLLMConfig()
	lc.CooldownTime = 30 * u
	out["fallback-litellm"] = must(NewLiteLLM(lc, cs))
	lc.Groups, lc.AllowedFails = GroupsOne, 1
	out["fallback-litellm-one"] = must(NewLiteLLM(lc, cs))
	la := LatencyConfig{HalfLife: 50 * u, Buffer: 0, Epsilon: 0, Penalty: 30 * u}
	out["latency"] = must(NewLatencyAware(la, cs))
	out["least-outstanding"] = must(NewLeastOutstanding(cs))
	out["p2c"] = must(NewPowerOfTwo(cs))
	out["quota-aware"] = must(NewQuotaAware(QuotaConfig{Headroom: 0.15}, cs))
	out["ptu-first"] = must(NewPTUFirst(PTUConfig{Utilization: 0.95, Hold: 20 * u}, cs))
	cc := DefaultCostConfig()
	cc.Memory = 1000 * u
	out["cost-aware"] = must(NewCostAware(cc, cs))
	ec := ErrorClassConfig{Actions: map[string]Action{KindThrottle: Cooldown}, Cooldown: 30 * u, AuthCooldown: 40 * u,
		Backoff: 5 * u, MaxBackoff: 40 * u, Domain: DomainRegion}
	out["error-class"] = must(NewErrorClassRouter(ec, cs))
	hc := HedgeConfig{Quantile: 0.95, Window: 16, MinSamples: 3, InitialDelay: 20 * u}
	out["hedged"] = must(NewHedged(hc, cs))
	dc := DeadlineConfig{TTFTTimeout: 50 * u, Backoff: 5 * u, MaxBackoff: 40 * u, MaxRetryAfter: 100 * u}
	out["deadline"] = must(NewDeadline(dc, cs))
	return out
}

// runParity plays the script against p on clock c and returns its
// decisions: every pick, retry verdict and hedge delay, in order.
func runParity(p Policy, c Clock) []string {
	u := int64(unit)
	ttft := []int64{5 * u, 2 * u, 12 * u} // per candidate, exact whatever the clock
	type live struct {
		r    Request
		dep  int
		sent int64
	}
	reqs := map[int]*live{}
	var out []string
	st, _ := p.(Starter)
	re, _ := p.(Retrier)
	he, _ := p.(Hedger)
	for _, e := range parityScript() {
		c.SleepUntil(e.at * u)
		now := c.Now()
		l := reqs[e.req]
		if e.pick {
			if l == nil {
				l = &live{r: Request{ID: uint64(e.req), Attempt: 1, Prev: -1, U: e.u, InputTokens: 1000, MaxTokens: 500}}
				if e.deadline > 0 {
					l.r.Deadline = now + e.deadline*u
				}
				reqs[e.req] = l
			} else {
				l.r = Request{ID: l.r.ID, Attempt: l.r.Attempt + 1, Prev: l.dep, U: l.r.U, InputTokens: l.r.InputTokens,
					MaxTokens: l.r.MaxTokens, Deadline: l.r.Deadline, Memo: l.r.Memo, Last: l.r.Last}
			}
			l.dep, l.sent = p.Pick(now, &l.r), now
			out = append(out, fmt.Sprintf("r%d.%d pick %d", e.req, l.r.Attempt, l.dep))
			if l.dep >= 0 && st != nil {
				st.Started(now, l.dep)
			}
			if l.dep >= 0 && he != nil {
				d, ok := he.HedgeDelay(now, &l.r, l.dep)
				out = append(out, fmt.Sprintf("r%d.%d hedge %v %d", e.req, l.r.Attempt, ok, d))
			}
			continue
		}
		if l.dep < 0 {
			continue
		}
		o := Observation{Dep: l.dep, Sent: l.sent, Done: now, RemainingTokens: -1, RemainingRequests: -1, InputTokens: 1000, MaxTokens: 500}
		switch e.answer {
		case "ok":
			o.Status, o.FirstToken, o.OutputTokens = results.StatusOK, o.Sent+ttft[l.dep], 100
		case "outage":
			o.Status, o.ErrorClass = results.StatusFailed, "outage"
		case "throttle":
			o.Status, o.ErrorClass, o.RetryAfter = results.StatusThrottled, "quota_requests", 20*u
		case "timeout":
			o.Status, o.ErrorClass = results.StatusTimedOut, "timeout"
		case "auth":
			o.Status, o.ErrorClass = results.StatusClientError, "http_401"
		}
		p.Observe(now, &o)
		l.r.Last = o
		if re != nil && o.Status != results.StatusOK {
			d, ok := re.Retry(now, &l.r, &o)
			out = append(out, fmt.Sprintf("r%d.%d retry %v %d", e.req, l.r.Attempt, ok, d))
		}
	}
	return out
}

func TestParitySimulatedAndWallClock(t *testing.T) {
	want := map[string][]string{}
	for name, p := range parityPolicies(t) {
		want[name] = runParity(p, &simClock{})
	}
	// The margin: late events (0-50 ms) decide the same as punctual ones.
	for seed := range uint64(20) {
		for name, p := range parityPolicies(t) {
			late := &lateClock{rng: rand.New(rand.NewPCG(seed, 1)), maxLate: int64(5 * unit)}
			require.Equal(t, want[name], runParity(p, late), "%s: a decision boundary lies within 50 ms of an event (seed %d)", name, seed)
		}
	}
	// The wall clock, every policy at once (the script takes 2.2 s, mostly
	// asleep, so goroutines rather than t.Parallel, which is capped at
	// GOMAXPROCS).
	policies := parityPolicies(t)
	got := make(map[string][]string, len(policies))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, p := range policies {
		wg.Go(func() {
			d := runParity(p, &wallClock{start: time.Now()})
			mu.Lock()
			got[name] = d
			mu.Unlock()
		})
	}
	wg.Wait()
	for name := range policies {
		assert.Equal(t, want[name], got[name], "%s decides differently on the wall clock", name)
	}
}

// The script must exercise what the policies decide on: guard against a
// script edit that leaves a policy with nothing to do.
func TestParityScriptExercisesPolicies(t *testing.T) {
	for name, p := range parityPolicies(t) {
		picks := map[string]bool{}
		for _, d := range runParity(p, &simClock{}) {
			var req, att, dep int
			if _, err := fmt.Sscanf(d, "r%d.%d pick %d", &req, &att, &dep); err == nil {
				picks[fmt.Sprint(dep)] = true
			}
		}
		assert.GreaterOrEqual(t, len(picks), 2, "%s picks only %v", name, picks)
	}
}
