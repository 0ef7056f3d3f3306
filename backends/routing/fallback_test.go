package routing

import (
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFallbackCoolsOn429ForRetryAfter(t *testing.T) {
	f, err := NewFallback(DefaultFallbackConfig(), cands("a", "b", "c"))
	require.NoError(t, err)
	o := throttled(0, sec, 20*sec)
	f.Observe(sec, &o)
	assert.Equal(t, 1, f.Pick(sec, retry(2, 0, o)), "the retry goes to the next deployment")
	assert.Equal(t, 1, f.Pick(sec, first(0.5)), "first attempts skip the cooled one")
	assert.Equal(t, 1, f.Pick(20*sec, first(0.5)), "the retry-after (20 s) outlasts the 5 s cooldown")
	assert.Equal(t, 0, f.Pick(21*sec, first(0.5)))

	// A deployment alone is cooled too (no LiteLLM exemption); when all are
	// cooling the request has nowhere to go.
	f, err = NewFallback(DefaultFallbackConfig(), cands("only"))
	require.NoError(t, err)
	o = throttled(0, 0, 0)
	f.Observe(0, &o)
	assert.Equal(t, -1, f.Pick(sec, first(0.5)))
	assert.Equal(t, 0, f.Pick(5*sec, first(0.5)))
}

func TestFallbackFailureRateAndAllowedFails(t *testing.T) {
	f, err := NewFallback(DefaultFallbackConfig(), cands("a", "b"))
	require.NoError(t, err)
	now := int64(0)
	for range 2 {
		o := okObs(0, now, ms)
		f.Observe(now, &o)
	}
	for i := range 2 {
		o := outage(0, now)
		f.Observe(now, &o)
		assert.False(t, f.Cooling(now, 0), "failure %d: fewer than 5 requests this minute", i+1)
	}
	o := outage(0, now)
	f.Observe(now, &o)
	assert.True(t, f.Cooling(now, 0), "3 of 5 > 50 %")
	assert.False(t, f.Cooling(now+5*sec, 0))

	// A new minute starts a new count.
	f, _ = NewFallback(DefaultFallbackConfig(), cands("a", "b"))
	for range 2 {
		o := okObs(0, 59*sec, ms)
		f.Observe(59*sec, &o)
		o = outage(0, 59*sec)
		f.Observe(59*sec, &o)
	}
	o = outage(0, 60*sec)
	f.Observe(60*sec, &o)
	assert.False(t, f.Cooling(60*sec, 0), "the failures of minute 0 do not count in minute 1")

	cfg := DefaultFallbackConfig()
	cfg.AllowedFails = 2
	f, _ = NewFallback(cfg, cands("a", "b"))
	for i, at := range []int64{0, 4 * sec, 12 * sec, 13 * sec} {
		o := outage(0, at)
		f.Observe(at, &o)
		// The count forgets itself 5 s after the last failure: 0 and 4 s
		// count together, 12 s starts over.
		assert.False(t, f.Cooling(at, 0), "failure %d", i)
	}
	o = outage(0, 14*sec)
	f.Observe(14*sec, &o)
	assert.True(t, f.Cooling(14*sec, 0), "the third failure within the TTL exceeds allowed_fails = 2")
}

func TestFallbackAuthCoolsClientErrorsDoNot(t *testing.T) {
	f, err := NewFallback(DefaultFallbackConfig(), cands("a", "b"))
	require.NoError(t, err)
	o := failObs(0, results.StatusClientError, "http_400", 0)
	f.Observe(0, &o)
	assert.False(t, f.Cooling(0, 0))
	o = failObs(0, results.StatusClientError, "http_401", 0)
	f.Observe(0, &o)
	assert.True(t, f.Cooling(0, 0))
}

func TestFallbackRegionDomain(t *testing.T) {
	cfg := DefaultFallbackConfig()
	cfg.Domain = DomainRegion
	cs := []Candidate{cand("a1", "azure", "eastus2"), cand("a2", "azure", "eastus2"), cand("b", "bedrock", "us-east-1")}
	f, err := NewFallback(cfg, cs)
	require.NoError(t, err)
	o := throttled(0, 0, 0)
	f.Observe(0, &o)
	assert.Equal(t, 2, f.Pick(0, retry(2, 0, o)), "the cooldown of a1 cools eastus2")
}

// The single-deployment quirk (BerriAI/litellm#40405): with one deployment
// per model group and no allowed_fails, a primary in an outage is never
// cooled, so every request pays three failed attempts and their backoff
// before its fallback.
func TestLiteLLMSingleDeploymentQuirk(t *testing.T) {
	l, err := NewLiteLLM(DefaultLiteLLMConfig(), cands("azure-gpt", "bedrock-claude"))
	require.NoError(t, err)
	down := func(_, dep int, at int64) Observation {
		if dep == 0 {
			o := outage(0, at)
			o.Done = at + 50*ms
			return o
		}
		return okObs(dep, at, 400*ms)
	}
	for i := range 20 {
		now := int64(i) * 2 * sec
		steps := drive(l, now, Request{ID: uint64(i), U: 0.3}, 6, down)
		require.Equal(t, []int{0, 0, 0, 1}, deps(steps), "request %d", i)
		// 0.5 s then 1 s, each × jitter in (0.75, 1]; the fallback is at once.
		assert.InDelta(t, 0.4375*float64(sec), float64(steps[0].delay), 0.0625*float64(sec))
		assert.InDelta(t, 0.875*float64(sec), float64(steps[1].delay), 0.125*float64(sec))
		assert.Zero(t, steps[2].delay)
		assert.False(t, l.Cooling(steps[3].at, 0), "never cooled: alone in its group")
	}

	// Setting allowed_fails (v1) is the documented fix: the fourth failure
	// cools the primary and later requests go straight to the fallback.
	cfg := DefaultLiteLLMConfig()
	cfg.AllowedFails = 3
	l, err = NewLiteLLM(cfg, cands("azure-gpt", "bedrock-claude"))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 0, 0, 1}, deps(drive(l, 0, Request{U: 0.3}, 6, down)))
	assert.Equal(t, []int{0, 1}, deps(drive(l, 3*sec, Request{U: 0.3}, 6, down)), "cooled on its 4th failure: fallback at once")
	assert.Equal(t, []int{1}, deps(drive(l, 4*sec, Request{U: 0.3}, 6, down)))
}

func TestLiteLLMHighTrafficSingleDeploymentCools(t *testing.T) {
	cfg := DefaultLiteLLMConfig()
	cfg.SingleDeploymentThreshold = 10 // 1000 by default; the rule is the same
	l, err := NewLiteLLM(cfg, cands("azure-gpt", "bedrock-claude"))
	require.NoError(t, err)
	for i := range 9 {
		o := outage(0, int64(i)*ms)
		l.Observe(int64(i)*ms, &o)
	}
	assert.False(t, l.Cooling(10*ms, 0))
	o := outage(0, 10*ms)
	l.Observe(10*ms, &o)
	assert.True(t, l.Cooling(10*ms, 0), "100 %% failures with at least the threshold this minute")
}

func TestLiteLLMGroupOf429Cooldown(t *testing.T) {
	cfg := DefaultLiteLLMConfig()
	cfg.Groups = GroupsOne
	l, err := NewLiteLLM(cfg, cands("east", "west"))
	require.NoError(t, err)
	steps := drive(l, 0, Request{U: 0.3}, 3, func(_, dep int, at int64) Observation {
		if dep == 0 {
			return throttled(0, at, 2*sec)
		}
		return okObs(dep, at, 400*ms)
	})
	assert.Equal(t, []int{0, 1}, deps(steps), "a 429 cools a deployment that is not alone in its group")
	assert.Equal(t, 2*sec, steps[0].delay, "one healthy deployment left: LiteLLM sleeps the retry-after first")
	assert.True(t, l.Cooling(sec, 0))
	assert.False(t, l.Cooling(5*sec, 0), "cooldown_time 5 s")

	// Alone in its group, the same 429 cools nothing; a retry-after over
	// 60 s is not honoured (exponential backoff instead).
	l, _ = NewLiteLLM(DefaultLiteLLMConfig(), cands("east", "west"))
	steps = drive(l, 0, Request{U: 0.3}, 6, func(_, dep int, at int64) Observation {
		if dep == 0 {
			return throttled(0, at, 90*sec)
		}
		return okObs(dep, at, 400*ms)
	})
	assert.Equal(t, []int{0, 0, 0, 1}, deps(steps))
	assert.Less(t, steps[0].delay, sec)
	assert.False(t, l.Cooling(sec, 0))
}

func TestLiteLLMStatusRules(t *testing.T) {
	l, err := NewLiteLLM(DefaultLiteLLMConfig(), cands("a", "b", "c"))
	require.NoError(t, err)
	// 401: cooled even alone in its group (non-retryable), and not retried
	// in a one-deployment group.
	steps := drive(l, 0, Request{U: 0.3}, 6, func(_, dep int, at int64) Observation {
		if dep == 0 {
			return failObs(0, results.StatusClientError, "http_401", at)
		}
		return okObs(dep, at, 400*ms)
	})
	assert.Equal(t, []int{0, 1}, deps(steps))
	assert.Zero(t, steps[0].delay)
	assert.True(t, l.Cooling(0, 0))

	// Connection errors never cool; 400s are retried but never cool.
	l, _ = NewLiteLLM(DefaultLiteLLMConfig(), cands("a", "b"))
	for _, cls := range []string{"connection", "http_400"} {
		st := results.StatusFailed
		if cls == "http_400" {
			st = results.StatusClientError
		}
		for range 1200 {
			o := failObs(0, st, cls, 0)
			l.Observe(0, &o)
		}
		assert.False(t, l.Cooling(0, 0), cls)
	}
}

func TestLiteLLMMaxFallbacks(t *testing.T) {
	cfg := DefaultLiteLLMConfig()
	cfg.MaxFallbacks, cfg.NumRetries = 1, 0
	l, err := NewLiteLLM(cfg, cands("a", "b", "c"))
	require.NoError(t, err)
	steps := drive(l, 0, Request{U: 0.3}, 10, func(_, dep int, at int64) Observation { return outage(dep, at) })
	assert.Equal(t, []int{0, 1}, deps(steps), "one fallback group only")
	assert.False(t, steps[1].retry, "nothing left: Retry says stop")
}

func TestLiteLLMWithoutMemo(t *testing.T) {
	// An engine that does not carry Memo: each retry assumes all earlier
	// attempts were in Prev's group, which for one-deployment groups is a
	// faithful reading up to the first fallback.
	l, err := NewLiteLLM(DefaultLiteLLMConfig(), cands("a", "b"))
	require.NoError(t, err)
	o := outage(0, 0)
	assert.Equal(t, 0, l.Pick(0, &Request{Attempt: 2, Prev: 0, Last: o}))
	assert.Equal(t, 0, l.Pick(0, &Request{Attempt: 3, Prev: 0, Last: o}))
	assert.Equal(t, 1, l.Pick(0, &Request{Attempt: 4, Prev: 0, Last: o}))
}
