package behavior

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/scenarios"
)

// TestTokenBucketWindowBound drives a bucket with bursty random demand and
// checks the hard invariant: in every window of length τ the admitted amount
// is at most burst + rate·τ.
func TestTokenBucketWindowBound(t *testing.T) {
	const rate, burst = 1000.0, 5000.0 // per second
	b := NewTokenBucket(rate, burst)
	r := scenarios.NewRand(7, 0, "test", "bucket")
	type adm struct {
		at int64
		n  float64
	}
	var admitted []adm
	now := int64(0)
	for range 200_000 {
		now += int64(r.ExpFloat64() * 2e6) // mean 2 ms between offers
		n := 1 + math.Floor(r.Float64()*20)
		if ok, _ := b.Take(now, n); ok {
			admitted = append(admitted, adm{now, n})
		}
	}
	require.NotEmpty(t, admitted)
	// Demand (~5,250/s) exceeds the rate, so the bucket must bind.
	total := 0.0
	for _, a := range admitted {
		total += a.n
	}
	assert.Less(t, total, 5250*float64(now)/1e9*0.99)
	for _, tau := range []int64{1e6, 1e8, 1e9, 10e9, 60e9} {
		j, sum := 0, 0.0
		for i := range admitted {
			sum += admitted[i].n
			for admitted[i].at-admitted[j].at > tau {
				sum -= admitted[j].n
				j++
			}
			bound := burst + rate*float64(tau)/1e9
			require.LessOrEqual(t, sum, bound+1e-9, "window %dns ending at %d", tau, admitted[i].at)
		}
	}
}

func TestTokenBucketRetryAfter(t *testing.T) {
	b := NewTokenBucket(100, 10) // 100/s, burst 10
	ok, _ := b.Take(0, 10)
	require.True(t, ok)
	ok, wait := b.Take(0, 5)
	require.False(t, ok)
	assert.Equal(t, int64(50e6), wait, "5 tokens at 100/s take 50 ms")
	ok, _ = b.Take(wait, 5)
	assert.True(t, ok, "admitted exactly when retry-after says")
	ok, wait = b.Take(wait, 11)
	assert.False(t, ok)
	assert.Equal(t, int64(-1), wait, "more than the burst is never admitted")
}

func TestQuotaAzureReservesMaxTokens(t *testing.T) {
	q := NewQuota(&scenarios.Quota{Tokens: 10, TokenWindow: scenarios.Duration(60e9)}, scenarios.KindAzure) // 10/s, bucket 600
	_, why, _ := q.Admit(0, 100, 500)
	require.Equal(t, Admitted, why)
	q.Settle(0, 600, 100, 1) // Azure keeps the reservation
	_, why, ra := q.Admit(0, 1, 0)
	assert.Equal(t, OverTokens, why)
	assert.Equal(t, int64(1e8), ra)
}

func TestQuotaBedrockBurnAndSettle(t *testing.T) {
	q := NewQuota(&scenarios.Quota{Tokens: 100, TokenWindow: scenarios.Duration(60e9), OutputBurn: 5}, scenarios.KindBedrock) // bucket 6000
	res, why, _ := q.Admit(0, 1000, 1000)
	require.Equal(t, Admitted, why)
	assert.Equal(t, 6000.0, res, "reserves input + max_tokens × burn")
	_, why, _ = q.Admit(0, 1, 0)
	assert.Equal(t, OverTokens, why)
	q.Settle(0, res, 1000, 200) // actual 1000 + 200×5 = 2000: refund 4000
	tok, _ := q.Remaining(0)
	assert.InDelta(t, 4000, tok, 1e-9)
}

func TestQuotaRequestLimitAndScale(t *testing.T) {
	q := NewQuota(&scenarios.Quota{Requests: 6, RequestWindow: scenarios.Duration(10e9)}, scenarios.KindAzure) // 6/s, bucket 60
	n := 0
	for range 100 {
		if _, why, _ := q.Admit(0, 1, 1); why == Admitted {
			n++
		}
	}
	assert.Equal(t, 60, n)
	q.Scale(0, 0.5)
	_, why, ra := q.Admit(0, 1, 1)
	assert.Equal(t, OverRequests, why)
	assert.Equal(t, int64(math.Ceil(1e9/3)), ra, "a throttle halves the refill rate")
}

func TestLatencyService(t *testing.T) {
	l := NewLatency(&scenarios.Latency{
		TTFT:          scenarios.TimeDist{Dist: scenarios.ConstDist(0.2)},
		PerInputToken: scenarios.Duration(1000), // 1 µs
		TPOT:          scenarios.TimeDist{Dist: scenarios.ConstDist(0.01)},
		LoadFactor:    2,
	})
	ttft, total := l.Service(0.5, 0.5, 1000, 100, 1, 10, 1)
	assert.Equal(t, int64(201e6), ttft)
	assert.Equal(t, int64(201e6+1.1e9), total, "TPOT scales from 1× idle to 2× at full load: 1 of 10 slots → 1.1×")
	ttft2, total2 := l.Service(0.5, 0.5, 1000, 100, 10, 10, 3)
	assert.Equal(t, 3*ttft, ttft2)
	assert.Equal(t, int64(3*(201e6+2e9)), total2)
	assert.InDelta(t, 0.201+1.0, l.MeanService(1000, 100), 1e-12)
}
