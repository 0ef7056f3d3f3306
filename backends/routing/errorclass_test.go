package routing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

func ecCands() []Candidate {
	return []Candidate{cand("aoai-east", "azure", "eastus2"), cand("aoai-west", "azure", "westus3"), cand("bedrock", "bedrock", "us-east-1")}
}

func TestErrorClassDefaultTable(t *testing.T) {
	e, err := NewErrorClassRouter(DefaultErrorClassConfig(), ecCands())
	require.NoError(t, err)
	cases := []struct {
		name  string
		o     Observation
		pick  int
		retry bool
		delay int64
	}{
		{"content filter: no retry", failObs(0, results.StatusClientError, ClassContentFilter, 0), -1, false, 0},
		{"other 4xx: fail fast", failObs(0, results.StatusClientError, "http_422", 0), -1, false, 0},
		{"context length: another deployment, never the same", failObs(0, results.StatusClientError, ClassContextLength, 0), 1, true, 0},
		{"5xx: another deployment at once", outage(0, 0), 1, true, 0},
		{"timeout: another deployment at once", failObs(0, results.StatusTimedOut, ClassTTFTTimeout, 0), 1, true, 0},
		{"429 with retry-after: fail over at once", throttled(0, 0, 3*sec), 1, true, 0},
	}
	for _, c := range cases {
		r := retry(2, 0, c.o)
		delay, ok := e.Retry(0, r, &c.o)
		assert.Equal(t, c.retry, ok, c.name)
		assert.Equal(t, c.delay, delay, c.name)
		assert.Equal(t, c.pick, e.Pick(0, r), c.name)
	}
	// 429 without retry-after: jittered backoff (0.5 s × (0.75, 1]) first.
	o := throttled(0, 0, 0)
	delay, ok := e.Retry(0, retry(1, -1, Observation{}), &o)
	assert.True(t, ok)
	assert.InDelta(t, 0.4375*float64(sec), float64(delay), 0.0625*float64(sec))
}

func TestErrorClassAuthCooldown(t *testing.T) {
	e, err := NewErrorClassRouter(DefaultErrorClassConfig(), ecCands())
	require.NoError(t, err)
	o := failObs(0, results.StatusClientError, "http_401", 0)
	e.Observe(0, &o)
	d, ok := e.Retry(0, retry(1, -1, Observation{}), &o)
	assert.True(t, ok)
	assert.Zero(t, d)
	assert.Equal(t, 1, e.Pick(0, retry(2, 0, o)))
	assert.Equal(t, 1, e.Pick(4*60*sec, first(0.5)), "auth errors cool for 5 min")
	assert.Equal(t, 0, e.Pick(5*60*sec, first(0.5)))
}

func TestErrorClassCustomTable(t *testing.T) {
	cfg := DefaultErrorClassConfig()
	cfg.Actions = map[string]Action{KindContentFilter: RetryOtherProvider, KindServer: RetrySame, KindThrottle: Cooldown}
	e, err := NewErrorClassRouter(cfg, ecCands())
	require.NoError(t, err)

	o := failObs(0, results.StatusClientError, ClassContentFilter, 0)
	_, ok := e.Retry(0, retry(1, -1, Observation{}), &o)
	assert.True(t, ok)
	assert.Equal(t, 2, e.Pick(0, retry(2, 0, o)), "content filter: only another provider (Bedrock) may try")
	o = failObs(2, results.StatusClientError, ClassContentFilter, 0)
	assert.Equal(t, 0, e.Pick(0, retry(3, 2, o)))

	o = outage(1, 0)
	r := &Request{Attempt: 2, Prev: 1, U: 0.5, Last: o}
	d, ok := e.Retry(0, &Request{Attempt: 2, U: 0.5}, &o)
	assert.True(t, ok)
	assert.InDelta(t, 0.875*float64(sec), float64(d), 0.125*float64(sec), "retry-same backs off: 1 s × jitter before the third attempt")
	assert.Equal(t, 1, e.Pick(0, r))

	o = throttled(0, 0, 20*sec)
	e.Observe(0, &o)
	assert.Equal(t, 1, e.Pick(0, first(0.5)), "the 429 cooled aoai-east")
	assert.Equal(t, 0, e.Pick(20*sec, first(0.5)), "for its retry-after (20 s > the 5 s cooldown)")

	cfg.Actions = map[string]Action{"meteor": Fail}
	_, err = NewErrorClassRouter(cfg, ecCands())
	assert.ErrorContains(t, err, "unknown error kind")
	cfg.Actions = map[string]Action{KindServer: "pray"}
	_, err = NewErrorClassRouter(cfg, ecCands())
	assert.ErrorContains(t, err, "unknown action")
}

func TestErrorClassRetryOtherProviderWithoutOne(t *testing.T) {
	cfg := DefaultErrorClassConfig()
	cfg.Actions = map[string]Action{KindContentFilter: RetryOtherProvider}
	e, err := NewErrorClassRouter(cfg, []Candidate{cand("a", "azure", "r1"), cand("b", "azure", "r2")})
	require.NoError(t, err)
	o := failObs(0, results.StatusClientError, ClassContentFilter, 0)
	_, ok := e.Retry(0, retry(1, -1, Observation{}), &o)
	assert.False(t, ok, "no other provider: the request ends")
}

func TestErrorKindsAgreeWithScenarios(t *testing.T) {
	assert.Equal(t, scenarios.ErrorKinds, ErrorKinds())
	var acts []string
	for _, a := range Actions() {
		acts = append(acts, string(a))
	}
	assert.Equal(t, scenarios.RoutingActions, acts)
}
