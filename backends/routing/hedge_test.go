package routing

import (
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hedgeCands() []Candidate {
	return []Candidate{cand("aoai-east", "azure", "eastus2"), cand("aoai-west", "azure", "westus3"), cand("bedrock", "bedrock", "us-east-1")}
}

func TestHedgeDelayFromQuantile(t *testing.T) {
	h, err := NewHedged(DefaultHedgeConfig(), hedgeCands())
	require.NoError(t, err)
	r := first(0.5)
	d, ok := h.HedgeDelay(0, r, 0)
	assert.True(t, ok)
	assert.Equal(t, 2*sec, d, "2 s until 20 TTFTs are known")
	for i := range 100 {
		o := okObs(0, 0, int64(i+1)*10*ms) // 10 ms … 1000 ms
		h.Observe(0, &o)
	}
	d, _ = h.HedgeDelay(0, r, 0)
	assert.Equal(t, 950*ms, d, "p95 of the primary's recent TTFTs (nearest rank)")
	d, _ = h.HedgeDelay(0, r, 2)
	assert.Equal(t, 2*sec, d, "per deployment: Bedrock has no samples yet")
	// Cancelled losers and failures teach nothing.
	for range 100 {
		o := failObs(0, results.StatusFailed, ClassCancelled, 0)
		h.Observe(0, &o)
	}
	d, _ = h.HedgeDelay(0, r, 0)
	assert.Equal(t, 950*ms, d)

	_, ok = h.HedgeDelay(0, &Request{Attempt: 2, Hedge: true, Prev: 0}, 2)
	assert.False(t, ok, "hedges are not hedged")
	single, _ := NewHedged(DefaultHedgeConfig(), cands("only"))
	_, ok = single.HedgeDelay(0, r, 0)
	assert.False(t, ok, "nothing to hedge to")

	cfg := DefaultHedgeConfig()
	cfg.Delay = 700 * ms
	fixed, _ := NewHedged(cfg, hedgeCands())
	d, _ = fixed.HedgeDelay(0, r, 0)
	assert.Equal(t, 700*ms, d)
}

func TestHedgeGoesToTheOtherCloud(t *testing.T) {
	h, err := NewHedged(DefaultHedgeConfig(), hedgeCands())
	require.NoError(t, err)
	assert.Equal(t, 0, h.Pick(0, first(0.5)))
	assert.Equal(t, 2, h.Pick(0, &Request{Attempt: 2, Prev: 0, Hedge: true}), "skips aoai-west: same provider kind as the primary")
	assert.Equal(t, 0, h.Pick(0, &Request{Attempt: 2, Prev: 2, Hedge: true}))
	assert.Equal(t, 1, h.Pick(0, retry(2, 0, outage(0, 0))), "an ordinary retry is plain failover")
	same, _ := NewHedged(DefaultHedgeConfig(), cands("a", "b"))
	assert.Equal(t, 1, same.Pick(0, &Request{Attempt: 2, Prev: 0, Hedge: true}), "one provider: the next candidate")
}

// hedgeEngine runs one request as the contract describes: the primary is
// sent at 0 with first token at ttft; a hedge is sent at the delay if the
// primary has no first token by then.
func hedgeEngine(h *Hedged, ttft int64) (hedgeAt int64, hedgeDep int) {
	r := first(0.5)
	primary := h.Pick(0, r)
	delay, ok := h.HedgeDelay(0, r, primary)
	if !ok || ttft <= delay { // first token at or before the timer: no hedge
		return -1, -1
	}
	hr := &Request{Attempt: 2, Prev: primary, Hedge: true, U: 0.7}
	return delay, h.Pick(delay, hr)
}

func TestHedgeOnlyAfterDelayWithoutFirstToken(t *testing.T) {
	cfg := DefaultHedgeConfig()
	cfg.Delay = 800 * ms
	h, err := NewHedged(cfg, hedgeCands())
	require.NoError(t, err)
	at, dep := hedgeEngine(h, 500*ms)
	assert.Equal(t, int64(-1), at, "the primary produced its first token before the delay: no hedge")
	assert.Equal(t, -1, dep)
	at, dep = hedgeEngine(h, 800*ms)
	assert.Equal(t, int64(-1), at, "a first token exactly at the delay wins")
	assert.Equal(t, -1, dep)
	at, dep = hedgeEngine(h, 3*sec)
	assert.Equal(t, 800*ms, at, "hedged exactly at the delay")
	assert.Equal(t, 2, dep)
}

// With a fixed delay the TTFT window is never read, so Observe keeps none.
func TestHedgeFixedDelayKeepsNoWindow(t *testing.T) {
	cfg := DefaultHedgeConfig()
	cfg.Delay = 700 * ms
	h, err := NewHedged(cfg, hedgeCands())
	require.NoError(t, err)
	for i := range 50 {
		o := okObs(0, 0, int64(i+1)*10*ms)
		h.Observe(0, &o)
	}
	assert.Zero(t, h.ttft[0].len())
	d, _ := h.HedgeDelay(0, first(0.5), 0)
	assert.Equal(t, 700*ms, d)
}
